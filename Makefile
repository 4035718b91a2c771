# Two commands set everything up on a fresh machine: `make run` (the live system on the simulator) and
# `make test` (install and run the whole suite). uv is bootstrapped with pip when missing; it never
# downloads a Python build.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export PYTHONUNBUFFERED := 1

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv
PY := $(VENV)/bin/python
# Settings of `make run` / `make demo` (README, Set up): ports checked before anything starts.
UI_PORT ?= 3000
SIM_PORT ?= 8765
PUSH_PORT ?= 8766
HISTORY_DAYS ?= 2
DEMO_DAYS ?= 2
# Options of `jimi-sim serve`, one string: passed through the environment, so any value (a lone `--exact`,
# several options, quotes) reaches the launcher as it was typed.
SIM_ARGS ?=
export SIM_ARGS
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run demo test test-fast bench backfill notebook lint clean accounts account-add account-reset warehouse-upgrade

help:  ## list the targets (this)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  settings: UI_PORT=$(UI_PORT) SIM_PORT=$(SIM_PORT) PUSH_PORT=$(PUSH_PORT) HISTORY_DAYS=$(HISTORY_DAYS) DEMO_DAYS=$(DEMO_DAYS) SIM_ARGS=\"$$SIM_ARGS\""

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --all-extras
	$(PY) -m sources.duckdb_setup
	cd transform && JIMI_DUCKDB_EXTENSIONS=$(CURDIR)/$(VENV)/duckdb-extensions ../$(VENV)/bin/dbt parse --quiet --profiles-dir .
	@touch $@

install: $(VENV)/.installed  ## create .venv with every dependency (uv) and parse the dbt project

run: install  ## simulator + push + Dagster UI on http://127.0.0.1:UI_PORT, the first history a run in it; Ctrl-C stops all
	$(PY) -m orchestration.launch.live --ui-port $(UI_PORT) --sim-port $(SIM_PORT) --push-port $(PUSH_PORT) \
		--history-days $(HISTORY_DAYS) --sim-args="$$SIM_ARGS"

demo: install  ## the same pipeline headless over the last DEMO_DAYS days; prints the mart and exits
	$(PY) -m orchestration.launch.demo --days $(DEMO_DAYS) --sim-args="$$SIM_ARGS"

test: install  ## the whole suite
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install  ## the fast tier (under 2 minutes, no servers): the source, simulator and receiver units
	$(PY) -m pytest -m "not slow" tests/source tests/sim tests/push tests/test_imports.py $(PYTEST_ARGS)

bench: install  ## every benchmark in bench/ (each prints `<name>: <value> (target ...)` last); fails naming those that failed
	@failed=""; for script in bench/*.py; do echo "== $$script"; $(PY) $$script || failed="$$failed $$script"; done; \
	if [ -n "$$failed" ]; then echo "make bench: failed:$$failed" >&2; exit 1; fi

# Queue a backfill of a partitioned polling job for the running `make run` (its daemon executes it), e.g.
# make backfill JOB=poll_track_points FROM=2026-08-27 TO=2026-11-24
JOB ?= poll_history
backfill: install  ## queue a backfill for the running `make run`: JOB=poll_history FROM=YYYY-MM-DD TO=YYYY-MM-DD
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/data/dagster} $(VENV)/bin/dagster job backfill -m orchestration.definitions \
		-j $(JOB) --from $(FROM) --to $(TO) --noprompt

accounts: install  ## the Jimi accounts this warehouse was loaded from, and the configured one
	$(PY) -m orchestration.launch.accounts show

account-add: install  ## record the configured Jimi account in this warehouse (both fleets load into it)
	$(PY) -m orchestration.launch.accounts add

account-reset: install  ## drop every account's polled data and the marts built from it (asks first)
	$(PY) -m orchestration.launch.accounts reset

# With the system stopped: carry a warehouse (and published marts) written by DuckDB 2.0 over to DuckDB 1.5.5,
# keeping each original as <name>.duckdb2.bak (README: Upgrading a warehouse written by DuckDB 2.0).
warehouse-upgrade: install  ## carry a warehouse written by DuckDB 2.0 over to 1.5.5 (keeps the original as .duckdb2.bak)
	$(PY) -m orchestration.launch.upgrade

# The kernel is the venv's own python3 (marts, duckdb, folium importable); root (containers) needs --allow-root.
notebook: install  ## JupyterLab on 127.0.0.1 over the published marts
	$(VENV)/bin/jupyter lab --ip 127.0.0.1 --no-browser --notebook-dir notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# Every check runs, so one pass shows every problem; the target fails naming the checks that failed.
LINT_PATHS := sources orchestration tests bench notebooks
lint: install  ## ruff check, ruff format --check, mypy (the packages in pyproject's [tool.mypy]); names failures
	@failed=""; \
	$(VENV)/bin/ruff check $(LINT_PATHS) || failed="$$failed ruff-check"; \
	$(VENV)/bin/ruff format --check $(LINT_PATHS) || failed="$$failed ruff-format"; \
	$(PY) -m mypy || failed="$$failed mypy"; \
	if [ -n "$$failed" ]; then echo "make lint: failed:$$failed" >&2; exit 1; fi

clean:  ## delete data/ (warehouse, marts, cursors, Dagster home) and dbt's build output
	rm -rf data transform/target transform/logs
