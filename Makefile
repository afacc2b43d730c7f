# WikiFlow: two commands on a fresh machine.
#   make run   - install what is missing, start the local farm stack and run the worker in the foreground
#   make test  - start the stack the same way and run every test (unit, integration, browser)
#   make unit  - only the unit and replay tests (with -race); needs no stack
#   make run-cluster - the stack in cluster mode (PostgreSQL, the real Temporal server, its Web UI)
#                and two workers in the foreground (docs/cluster.md)
# Both are safe to re-run. `make stop` stops the stack. `make test` and `make bench` run on a
# farm instance of their own (.stack-test, the TEST_* ports below) and leave `make run`'s alone;
# `make stop-test` stops that one (`make stack-test`, `make status-test`).

SHELL := /bin/bash
GO ?= go
STACK := farm/bin/stack
BIN := bin

.PHONY: run stack stop status test test-dev test-cluster unit bench build vet clean run-cluster stack-cluster \
	stack-test stop-test status-test

build:
	$(GO) build -o $(BIN)/worker ./worker
	$(GO) build -o $(BIN)/starter ./starter

stack:
	$(STACK) up

run: stack build
	@farm/bin/run-worker $(BIN)/worker

stack-cluster:
	$(STACK) up --cluster

# Two workers on one task queue: Temporal shares the work between them.
run-cluster: stack-cluster build
	@farm/bin/run-workers $(BIN)/worker 2

stop:
	$(STACK) down

status:
	$(STACK) status

# workflowcheck is the SDK's determinism linter: no time.Now, goroutines,
# map ranges or I/O in workflow code.
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

# Linters, run with `go run` at fixed versions (built once into the Go build
# cache). The integration tests carry the `integration` build tag, so the
# type-checking tools get -tags integration and revive gets their files by
# name. errcheck_excludes.txt lists the cleanup calls whose error nobody can
# act on; revive.toml is revive's default rules less two (see the file).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
ERRCHECK := github.com/kisielk/errcheck@v1.30.0
REVIVE := github.com/mgechev/revive@v1.17.0
# exhaustive: a switch over a named type of constants (process.State,
# StepState, Decision, Right, failure.Failure...) names every value, or
# has a default that says what the others mean. reflect.Kind is not ours.
EXHAUSTIVE := github.com/nishanths/exhaustive/cmd/exhaustive@v0.17.1

vet:
	$(GO) vet -tags integration ./...
	$(GO) run $(WORKFLOWCHECK) ./...
	$(GO) run $(STATICCHECK) -tags integration ./...
	$(GO) run $(ERRCHECK) -tags integration -exclude errcheck_excludes.txt ./...
	$(GO) run $(REVIVE) -config revive.toml -set_exit_status ./... tests/integration/*.go
	$(GO) run $(EXHAUSTIVE) -d -typeignore '^reflect\.Kind$$' ./...

.PHONY: lint
lint: vet

# Test tiers: the unit and replay tests build without tags and need nothing
# running; tests/integration builds only with -tags integration and runs
# against the real stack.
INTEGRATION := ./tests/integration/

# The test instance: the integration tests and the benchmarks run on a farm of
# their own, beside the one `make run` uses (a worker of `make run` keeps its
# ports and its processes; a test never stops it). Its state folder is
# .stack-test; its ports clash with nothing of the default stack in either mode
# (3306, 5432, 7233 with the cluster server's 7234, 7235, 7239, 7243 and
# 6933-6939, 8080, 8233, the workers' 8091-8094, NATS's 4222), nor with the second-checkout
# example in README (13306, 17233...), and lie below the kernel's ephemeral
# range (32768-60999), so no free port a test asks for can take one of them.
# In cluster mode the Temporal server also takes 27234, 27235, 27239, 27243 and
# 26933-26939; MediaWiki calls the hook on TEST_WORKER_PORT + 1 (28092).
TEST_STATE := $(CURDIR)/.stack-test
TEST_DB_PORT := 23306
TEST_TEMPORAL_PORT := 27233
TEST_UI_PORT := 28233
TEST_MW_PORT := 28080
TEST_PG_PORT := 25432
TEST_WORKER_PORT := 28091
TEST_NATS_PORT := 24222
TEST_ENV := WIKIFLOW_STATE_DIR=$(TEST_STATE) WIKIFLOW_DB_PORT=$(TEST_DB_PORT) \
	WIKIFLOW_TEMPORAL_PORT=$(TEST_TEMPORAL_PORT) WIKIFLOW_UI_PORT=$(TEST_UI_PORT) \
	WIKIFLOW_MW_PORT=$(TEST_MW_PORT) WIKIFLOW_PG_PORT=$(TEST_PG_PORT) WIKIFLOW_WORKER_PORT=$(TEST_WORKER_PORT) \
	WIKIFLOW_NATS_PORT=$(TEST_NATS_PORT)
TEST_STACK := $(TEST_ENV) $(STACK)
# Put before `go test`: the test instance's variables, then the worker settings
# `stack env` prints for its ports and state folder (config.Load reads them, and
# the scripts and worker processes the tests start inherit them).
TEST_GOENV := export $(TEST_ENV) && eval "$$($(STACK) env)" &&
# Where the tests leave files for people (WIKIFLOW_ARTIFACTS moves them).
TEST_ARTIFACTS := $${WIKIFLOW_ARTIFACTS:-$(TEST_STATE)/artifacts}

# The race detector needs cgo and a C compiler; install gcc if it is missing.
unit:
	@command -v gcc >/dev/null || { echo "gcc: missing (the race detector needs it): installing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y --no-install-recommends gcc libc6-dev >/dev/null 2>&1 || \
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends gcc libc6-dev; }; }
	$(GO) test -count=1 -race -timeout 20m ./...

# The test instance uses MariaDB's throwaway durability flags (they only
# apply when MariaDB is not running yet). The integration suite runs twice:
# on the dev server, then in cluster mode (the real Temporal server on
# PostgreSQL, docs/cluster.md), where its fault tests restart the cluster's
# services; the test instance is back on the dev server at the end. Every
# `stack` call here and in the tests (they inherit TEST_ENV) acts on the
# test instance only.
test: vet unit test-dev test-cluster

test-dev:
	farm/bin/install-browser
	farm/bin/install-prometheus
	@if $(TEST_STACK) status 2>/dev/null | grep -q '^mode: cluster'; then $(TEST_STACK) down; fi
	WIKIFLOW_FAST_DB=1 $(TEST_STACK) up
	$(TEST_GOENV) $(GO) test -count=1 -tags integration -timeout 60m $(INTEGRATION)
	@cat "$(TEST_ARTIFACTS)/hostile-input.txt" 2>/dev/null || true

test-cluster:
	$(TEST_STACK) down
	WIKIFLOW_CLUSTER=1 WIKIFLOW_FAST_DB=1 $(TEST_STACK) up
	($(TEST_GOENV) WIKIFLOW_CLUSTER=1 $(GO) test -count=1 -tags integration -timeout 60m $(INTEGRATION)); \
		status=$$?; $(TEST_STACK) down && WIKIFLOW_FAST_DB=1 $(TEST_STACK) up && exit $$status

bench:
	WIKIFLOW_FAST_DB=1 $(TEST_STACK) up
	$(TEST_GOENV) $(GO) test -count=1 -tags integration -run '^$$' -bench . -benchtime 1x -timeout 120m $(INTEGRATION)

# The test instance by hand: start it as the tests do, stop it, show it.
stack-test:
	WIKIFLOW_FAST_DB=1 $(TEST_STACK) up

stop-test:
	$(TEST_STACK) down

status-test:
	$(TEST_STACK) status

clean:
	rm -rf $(BIN)
