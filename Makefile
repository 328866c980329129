# Two commands for a fresh machine (see README):  make run   |   make test
# Both create .venv and install the pinned dependencies first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test lint deps dev-deps services clean

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

deps: $(VENV)/.runtime
dev-deps: $(VENV)/.dev

## run: the supervisor on the embedded default (SQLite + simulator unless .env says otherwise)
run: deps
	$(PY) supervisor.py $(ARGS)

## test: the whole suite, with the real MariaDB and Prometheus tools it needs
test: dev-deps services
	$(PY) -m ruff check .
	$(PY) -m pytest $(ARGS)

## services: start MariaDB if it is down; install promtool/prometheus if missing
services:
	@scripts/ensure-test-services

lint: dev-deps
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
