# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The restate-server under test, from the npm package (pinned), installed into a git-ignored folder.
RESTATE_SERVER_VERSION := 1.7.12
SERVER_DIR := .restate-server
SERVER_STAMP := $(SERVER_DIR)/.installed-$(RESTATE_SERVER_VERSION)
VENV_STAMP := $(VENV)/.installed
FRAMEWORK ?= fastapi
PYTEST_ARGS ?=

.PHONY: test demo sample install install-python install-server install-postgres install-valgrind lint typecheck unit bench clean

test: install lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

# The checkout sample end-to-end on an embedded restate-server (FRAMEWORK=fastapi|flask|django).
demo: install
	$(BIN)/python -m sample_apps.demo --framework $(FRAMEWORK)

# The same stack, kept running with ready-to-paste curl commands, until Ctrl-C.
sample: install
	$(BIN)/python -m sample_apps.demo --framework $(FRAMEWORK) --serve

install: install-python install-server install-postgres

install-python: $(VENV_STAMP)
$(VENV_STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (3.10 or newer)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $@

install-server: $(SERVER_STAMP)
$(SERVER_STAMP):
	@command -v npm >/dev/null || { echo "need npm (Node.js) to install @restatedev/restate-server"; exit 1; }
	mkdir -p $(SERVER_DIR)
	npm install --prefix $(SERVER_DIR) --no-audit --no-fund --loglevel=error \
		@restatedev/restate-server@$(RESTATE_SERVER_VERSION)
	touch $@

# PostgreSQL for the outbox tests (started by restate_web.testing.PostgresServer on a free port):
# Debian's package when no initdb is found (as root; the tests run it as the postgres user).
install-postgres:
	@if command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL: found"; \
	elif command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	else \
		echo "need PostgreSQL (initdb, postgres): install it, or set RESTATE_WEB_POSTGRES_BIN"; exit 1; \
	fi

# valgrind for bench.adapter_instructions (instruction counts of the adapters): Debian's package
# when it is missing.
install-valgrind:
	@if command -v valgrind >/dev/null; then \
		echo "valgrind: found"; \
	elif command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; \
	else \
		echo "need valgrind for bench.adapter_instructions: install it"; exit 1; \
	fi

lint: install-python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-python
	$(BIN)/mypy

bench: install install-valgrind
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) $(SERVER_DIR) .pytest_cache .mypy_cache .ruff_cache
