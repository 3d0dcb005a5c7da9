# `make demo` and `make test` work on a fresh machine with only python3 (>= 3.10) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
QS     := examples/quickstart

.PHONY: demo test test-fast lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	rm -rf $(QS)/data $(QS)/warehouse.duckdb
	$(BIN)/python $(QS)/generate.py --day 1
	$(BIN)/loaders run $(QS)/marts.yaml
	$(BIN)/python $(QS)/generate.py --day 2
	$(BIN)/loaders plan $(QS)/marts.yaml --mart dim_customer --no-sql
	$(BIN)/loaders run $(QS)/marts.yaml
	$(BIN)/python $(QS)/show.py

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check loaders tests
	$(BIN)/mypy

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(QS)/data $(QS)/warehouse.duckdb .pytest_cache .hypothesis
