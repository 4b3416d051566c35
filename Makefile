# Entry points of jetstream-py. Every target sets up what it needs itself.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SCHEMAS ?= ../shared/schemas/jsm.go/caea3c5
ERRORS  ?= ../shared/schemas/nats-server/1787eee/errors.json
PYTEST_ARGS ?=
BENCH_ARGS ?=
# The official nats-jetstream client needs Python >= 3.13; every bench client then runs on it, so that
# all columns share one interpreter. Without one, the bench runs in $(VENV) without that column.
BENCH_PYTHON ?= $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python; do \
	"$$p" -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null && { command -v "$$p"; break; }; done)
BENCH_VENV ?= .venv-bench
OFFICIAL_VENV ?= .venv-bench-official

.PHONY: all venv demo test generate check-generated lint typecheck pytest bench diff clean

all: test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) examples/demo.py

generate: venv
	$(PY) -m codegen generate --schemas $(SCHEMAS) --errors $(ERRORS)

check-generated: venv
	$(PY) -m codegen check --schemas $(SCHEMAS) --errors $(ERRORS)

diff: venv
	$(PY) -m codegen diff ../shared/schemas/jsm.go/v0.2.0 ../shared/schemas/jsm.go/v0.4.1 > docs/schema-diffs/v0.2.0..v0.4.1.md
	$(PY) -m codegen diff ../shared/schemas/jsm.go/v0.4.1 ../shared/schemas/jsm.go/caea3c5 > docs/schema-diffs/v0.4.1..caea3c5.md

lint: venv
	$(VENV)/bin/ruff check src codegen tests examples bench
	$(VENV)/bin/ruff format --check src codegen tests examples bench

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv
	$(PY) -m pytest -q $(PYTEST_ARGS)

test: check-generated lint typecheck pytest

$(BENCH_VENV)/.installed: pyproject.toml
	$(BENCH_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	touch $@

# nats-jetstream installs a top-level `nats` package, as nats-py does: it gets a venv of its own.
$(OFFICIAL_VENV)/.installed: bench/requirements-official.txt
	$(BENCH_PYTHON) -m venv $(OFFICIAL_VENV)
	$(OFFICIAL_VENV)/bin/python -m pip install --quiet -r bench/requirements-official.txt
	touch $@

ifeq ($(strip $(BENCH_PYTHON)),)
bench: venv
	@echo "no Python 3.13 found (set BENCH_PYTHON): running without the nats-jetstream column"
	$(PY) -m pip install --quiet matplotlib
	$(PY) bench/run.py --write $(BENCH_ARGS)
else
bench: $(BENCH_VENV)/.installed $(OFFICIAL_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/run.py --write --official-python $(OFFICIAL_VENV)/bin/python $(BENCH_ARGS)
endif

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(OFFICIAL_VENV) .mypy_cache .ruff_cache .pytest_cache
