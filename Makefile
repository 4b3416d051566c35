# Entry points of jetstream-py. Every target sets up what it needs itself.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SCHEMAS ?= ../shared/schemas/jsm.go/caea3c5
ERRORS  ?= ../shared/schemas/nats-server/1787eee/errors.json
PYTEST_ARGS ?=

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

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
