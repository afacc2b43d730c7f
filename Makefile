# WikiFlow: two commands on a fresh machine.
#   make run   - install what is missing, start the local farm stack and run the worker in the foreground
#   make test  - start the stack the same way and run every test (unit, integration, browser)
# Both are safe to re-run. `make stop` stops the stack.

SHELL := /bin/bash
GO ?= go
STACK := farm/bin/stack
BIN := bin

.PHONY: run stack stop status test bench build vet clean

build:
	$(GO) build -o $(BIN)/worker ./worker
	$(GO) build -o $(BIN)/starter ./starter

stack:
	$(STACK) up

run: stack build
	@farm/bin/run-worker $(BIN)/worker

stop:
	$(STACK) down

status:
	$(STACK) status

# workflowcheck is the SDK's determinism linter: no time.Now, goroutines,
# map ranges or I/O in workflow code.
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

vet:
	$(GO) vet ./...
	$(GO) run $(WORKFLOWCHECK) ./...

# The stack for tests uses MariaDB's throwaway durability flags when the
# tests start it (they only apply when MariaDB is not running yet).
test: vet
	farm/bin/install-browser
	WIKIFLOW_FAST_DB=1 $(STACK) up
	$(GO) test -count=1 -timeout 60m ./...
	@cat .stack/artifacts/hostile-input.txt 2>/dev/null || true

bench:
	WIKIFLOW_FAST_DB=1 $(STACK) up
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 60m ./tests/integration/

clean:
	rm -rf $(BIN)
