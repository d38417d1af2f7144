# Doorstep — the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run run-year test lint bench clean

$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error   # bpmn-js for the diagram pages, exactly as package-lock.json pins it
	touch $(STAMP)

install: $(STAMP)

## Set up, create (or upgrade) the SQLite database with the demo county, and serve the app on the real clock.
run: install
	$(BIN)/doorstep init --demo
	$(BIN)/doorstep serve

YEAR_DB := sqlite:///$(CURDIR)/instance/year.db
## The same with a simulated county year of cases (2025, seed 1; a few minutes the first time), for the reports.
run-year: install
	@if [ ! -f instance/year.db ]; then \
	  DOORSTEP_DATABASE_URL=$(YEAR_DB) $(BIN)/doorstep init --demo --simulated-clock 2025-01-01T08:00:00+08:00 && \
	  DOORSTEP_DATABASE_URL=$(YEAR_DB) $(BIN)/doorstep simulate --months 12 --seed 1; fi
	DOORSTEP_DATABASE_URL=$(YEAR_DB) $(BIN)/doorstep serve

## Set up and run the whole test suite (PostgreSQL tests run when DOORSTEP_TEST_DATABASE_URL is set).
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check engine workflows web doorstep tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/engine_step.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) instance .pytest_cache
