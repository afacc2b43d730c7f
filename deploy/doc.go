// Package deploy holds what runs WikiFlow in containers, and the test that keeps it honest.
//
// The folder has no Go code to import. It holds:
//   - Dockerfile (+ Dockerfile.dockerignore): the worker image, with the starter CLI and the
//     MariaDB client tools used for backups. Built by the `worker-1` and `worker-2` services of
//     docker-compose.yml (one image, one task queue).
//   - mariadb/: SQL run once when the MariaDB container initialises its data directory.
//   - temporal/: the Temporal server's dynamic config, read by the compose file's server and by
//     cluster mode's (`farm/bin/stack up --cluster`), and the scripts of the two one-shot setup
//     jobs (databases and schemas on PostgreSQL, namespace and search attributes).
//   - prometheus/: the Prometheus configuration, scraping each worker's /metrics.
//   - secrets/: development-only passwords for the compose stack, mounted as compose secrets.
//
// docker-compose.yml at the repository root is kept valid but is not run by any test: no
// Docker engine is available where WikiFlow is developed, and `farm/bin/stack up` is the
// tested way to run the stack. compose_test.go checks the file statically instead: the
// expected services exist, ports are published on 127.0.0.1 only, every mounted host path,
// build context, Dockerfile and secret file exists, images carry a pinned tag, depends_on
// names defined services, and the workers' WIKIFLOW_* variables are known configuration keys.
// It also keeps the file in step with cluster mode, read from farm/bin/stack and the Makefile:
// the server, admin tools, UI and PostgreSQL versions, the SQL plugin, the dynamic config file,
// the start order, as many workers as `make run-cluster` on one task queue at its ports, and
// Prometheus scraping each of them.
package deploy
