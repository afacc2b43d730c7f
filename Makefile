# WikiFlow: two commands on a fresh machine.
#   make run   - install what is missing, start the local farm stack and run the worker in the foreground
#   make test  - start the stack the same way and run every test (unit, integration, browser)
#   make unit  - only the unit and replay tests (with -race); needs no stack
#   make run-cluster - the stack in cluster mode (PostgreSQL, the real Temporal server, its Web UI)
#                and two workers in the foreground (docs/cluster.md)
# Both are safe to re-run. `make stop` stops the stack.

SHELL := /bin/bash
GO ?= go
STACK := farm/bin/stack
BIN := bin

.PHONY: run stack stop status test test-dev test-cluster unit bench build vet clean run-cluster stack-cluster

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

# The race detector needs cgo and a C compiler; install gcc if it is missing.
unit:
	@command -v gcc >/dev/null || { echo "gcc: missing (the race detector needs it): installing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y --no-install-recommends gcc libc6-dev >/dev/null 2>&1 || \
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends gcc libc6-dev; }; }
	$(GO) test -count=1 -race -timeout 20m ./...

# The stack for tests uses MariaDB's throwaway durability flags when the
# tests start it (they only apply when MariaDB is not running yet). The
# integration suite runs twice: on the dev server, then in cluster mode
# (the real Temporal server on PostgreSQL, docs/cluster.md), where its
# fault tests restart the cluster's services; the dev stack is up again
# at the end.
test: vet unit test-dev test-cluster

test-dev:
	farm/bin/install-browser
	farm/bin/install-prometheus
	@if $(STACK) status 2>/dev/null | grep -q '^mode: cluster'; then $(STACK) down; fi
	WIKIFLOW_FAST_DB=1 $(STACK) up
	$(GO) test -count=1 -tags integration -timeout 60m $(INTEGRATION)
	@cat .stack/artifacts/hostile-input.txt 2>/dev/null || true

test-cluster:
	$(STACK) down
	WIKIFLOW_CLUSTER=1 WIKIFLOW_FAST_DB=1 $(STACK) up
	WIKIFLOW_CLUSTER=1 $(GO) test -count=1 -tags integration -timeout 60m $(INTEGRATION); \
		status=$$?; $(STACK) down && WIKIFLOW_FAST_DB=1 $(STACK) up && exit $$status

bench:
	WIKIFLOW_FAST_DB=1 $(STACK) up
	$(GO) test -count=1 -tags integration -run '^$$' -bench . -benchtime 1x -timeout 60m $(INTEGRATION)

clean:
	rm -rf $(BIN)
