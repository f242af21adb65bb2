# certhall: two commands, `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY_FOR_VENV = $(shell scripts/find-python)
# Four workers on CI's two cores: most of the slow tests wait on processes of their own (killed
# commands, servers, Chromium) rather than compute. Whole modules per worker, heavy ones first
# (tests/conftest.py): docs/performance.md section 8.
PYTEST_WORKERS ?= -n 4 --dist loadscope --no-loadscope-reorder

.PHONY: run test lint typecheck pytest bench system-deps-run system-deps-test system-deps-bench clean

$(BIN)/python:
	"$(PY_FOR_VENV)" -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.base: $(BIN)/python requirements/base.lock pyproject.toml
	$(BIN)/pip install -q --require-hashes -r requirements/base.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.lock
	$(BIN)/pip install -q --require-hashes -r requirements/dev.lock
	touch $@

system-deps-run:
	scripts/system-deps run

system-deps-test:
	scripts/system-deps test

system-deps-bench:
	scripts/system-deps bench

run: system-deps-run $(VENV)/.base
	$(BIN)/certhall setup --demo
	$(BIN)/certhall serve --host 127.0.0.1 --port 8000 --ocsp-port 8001

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/pytest $(PYTEST_WORKERS)
	@if [ -n "$${CERTHALL_TEST_POSTGRES_URL:-}" ]; then \
	  echo "== database tests again on PostgreSQL ($$CERTHALL_TEST_POSTGRES_URL)"; \
	  CERTHALL_DATABASE_URL="$$CERTHALL_TEST_POSTGRES_URL" $(BIN)/pytest $(PYTEST_WORKERS) -m "database and not pages_again"; \
	fi

test: system-deps-test lint typecheck pytest

# Installs what it measures with (wrk, nginx) and fails on any measurement it cannot make.
bench: system-deps-bench $(VENV)/.dev
	$(BIN)/python -m bench

# Regenerate the lock files after a change to pyproject.toml.
lock: $(BIN)/python
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile -q --custom-compile-command "uv pip compile (see Makefile: make lock)" --generate-hashes --python-version 3.12 pyproject.toml -o requirements/base.lock
	$(BIN)/uv pip compile -q --custom-compile-command "uv pip compile (see Makefile: make lock)" --generate-hashes --python-version 3.12 --extra dev pyproject.toml -o requirements/dev.lock

clean:
	rm -rf $(VENV) .venv-bootstrap
