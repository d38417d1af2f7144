# Doorstep — the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test test-pg lint bench clean

$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error   # bpmn-js for the diagram pages, exactly as package-lock.json pins it
	touch $(STAMP)

install: $(STAMP)

## Set up, create the SQLite database with demo data on a simulated clock, and serve the app.
run: install
	$(BIN)/doorstep init --demo
	$(BIN)/doorstep serve

## Set up and run the whole test suite (PostgreSQL tests run when DOORSTEP_TEST_DATABASE_URL is set).
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check engine workflows web doorstep tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/engine_step.py

clean:
	rm -rf $(VENV) instance .pytest_cache
