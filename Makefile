# `make demo` and `make test` each set up a local virtual environment (.venv) on first use,
# install the project into it, then run. Needs Python >= 3.11 (Snakemake 9).
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(BIN):$(PATH)

.PHONY: demo test bench clean-demo

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: $(PYTHON) is older than 3.11; Snakemake 9 needs 3.11+: run make PYTHON=python3.11 ..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## the toy suite end to end at smoke scale, report included
	snakemake --cores all --configfile workflow/config/smoke.yaml
	@echo "demo done: open results/smoke/report/index.html"

test: $(STAMP)  ## the test suite, one pytest worker per core (each test file on one worker: its fixtures run once;
	## the longest files first, in tests/conftest.py's order)
	$(BIN)/python -m pytest -ra -n auto --dist loadfile --no-loadscope-reorder

bench: $(STAMP)  ## training-step benchmark against a straightforward baseline
	$(BIN)/python benchmarks/train_step.py

clean-demo:
	rm -rf results/smoke
