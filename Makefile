# Two commands for a fresh machine: `make demo` and `make test`. Each builds its own venv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO_OUT ?= build/demo

.PHONY: demo test bench lint clean chromium wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.run-installed

# `make demo SERVE=0`: the analysis and its files only, without serving the dashboard.
SERVE ?= 1
demo: $(VENV)/.run-installed
	$(BIN)/sobriete demo --out $(DEMO_OUT) $(if $(filter 0 no,$(SERVE)),--no-serve,--serve)

# The dashboard tests drive Debian's Chromium (installed here when missing, as root).
chromium:
	@command -v chromium >/dev/null || (apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core)

test: $(VENV)/.dev-installed chromium
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@

# The service benchmark's load generator (benchmarks/service/wrk.py), when missing.
wrk:
	@command -v wrk >/dev/null || (apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk)

bench: $(VENV)/.bench-installed wrk
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) build .pytest_cache
