// Package deploy holds what runs WikiFlow in containers, and the test that keeps it honest.
//
// The folder has no Go code to import. It holds:
//   - Dockerfile (+ Dockerfile.dockerignore): the worker image, with the starter CLI and the
//     MariaDB client tools used for backups. Built by the `worker` service of docker-compose.yml.
//   - mariadb/: SQL run once when the MariaDB container initialises its data directory.
//   - temporal/: the Temporal server's dynamic config and the scripts of the two one-shot
//     setup jobs (schema setup, namespace and search attributes).
//   - secrets/: development-only passwords for the compose stack, mounted as compose secrets.
//
// docker-compose.yml at the repository root is kept valid but is not run by any test: no
// Docker engine is available where WikiFlow is developed, and `farm/bin/stack up` is the
// tested way to run the stack. compose_test.go checks the file statically instead: the
// expected services exist, ports are published on 127.0.0.1 only, every mounted host path,
// build context, Dockerfile and secret file exists, images carry a pinned tag, depends_on
// names defined services, and the worker's WIKIFLOW_* variables are known configuration keys.
package deploy
