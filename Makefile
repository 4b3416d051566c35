# Entry points of jetstream-py. Every target sets up what it needs itself.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Upstream inputs of codegen. Empty: the refs in schemas/lock.toml, found under $JETSTREAM_SCHEMAS or in
# .cache/schemas (`make schemas` fetches them). Set them to generate from other folders.
SCHEMAS ?=
ERRORS  ?=
CODEGEN_INPUTS = $(if $(SCHEMAS),--schemas $(SCHEMAS)) $(if $(ERRORS),--errors $(ERRORS))
PYTEST_ARGS ?=
BENCH_ARGS ?=
# The official nats-jetstream client needs Python >= 3.13; every bench client then runs on it, so that
# all columns share one interpreter. Without one, the bench runs in $(VENV) without that column.
BENCH_PYTHON ?= $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python; do \
	"$$p" -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null && { command -v "$$p"; break; }; done)
BENCH_VENV ?= .venv-bench
OFFICIAL_VENV ?= .venv-bench-official

.PHONY: all venv demo test schemas generate check-generated codegen-checks lint typecheck pytest bench diff clean

all: test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[testing]' --group dev
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) examples/demo.py

# Every schema set schemas/lock.toml names, sha256-checked: found under $JETSTREAM_SCHEMAS or in
# .cache/schemas, else downloaded from GitHub into .cache/schemas.
schemas: venv
	$(PY) -m codegen schemas

generate: venv $(if $(SCHEMAS),,schemas)
	$(PY) -m codegen generate $(CODEGEN_INPUTS)

check-generated: venv $(if $(SCHEMAS),,schemas)
	$(PY) -m codegen check $(CODEGEN_INPUTS)

# check-generated when the locked schemas are at hand; otherwise one line says it was skipped.
codegen-checks: venv
	@$(PY) -m codegen check --skip-if-absent $(CODEGEN_INPUTS)

# `make diff OLD=v0.4.1 NEW=caea3c5` writes docs/schema-diffs/OLD..NEW.md (refs, or schema set folders);
# without OLD and NEW it rewrites every file already there.
diff: venv schemas
	$(PY) -m codegen diff --write $(OLD) $(NEW)

lint: venv
	$(VENV)/bin/ruff check src codegen tests examples bench $(wildcard docs/*.py)
	$(VENV)/bin/ruff format --check src codegen tests examples bench $(wildcard docs/*.py)

typecheck: venv
	$(VENV)/bin/mypy
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/pyright --pythonpath $(PY) src

pytest: venv
	$(PY) -m pytest -q $(PYTEST_ARGS)

test: codegen-checks lint typecheck pytest

# pyright's type completeness of the public API: fails below 100 %.
.PHONY: verifytypes
verifytypes: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/pyright --verifytypes jetstream --ignoreexternal

# The docs site into site/: guides and the API reference (mkdocs-material + mkdocstrings), strict.
.PHONY: docs
docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet --group docs
	touch $@

# The unit, typing and real-server smoke tests on every supported Python (3.10-3.13) that this machine
# has, each in its own venv (.venv-py3.X); the full suite runs in `make test`.
.PHONY: pythons
pythons:
	.ci/pythons

$(BENCH_VENV)/.installed: pyproject.toml
	$(BENCH_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[server]' --group bench
	touch $@

# nats-jetstream installs a top-level `nats` package, as nats-py does: it gets a venv of its own.
$(OFFICIAL_VENV)/.installed: bench/requirements-official.txt
	$(BENCH_PYTHON) -m venv $(OFFICIAL_VENV)
	$(OFFICIAL_VENV)/bin/python -m pip install --quiet -r bench/requirements-official.txt
	touch $@

ifeq ($(strip $(BENCH_PYTHON)),)
bench: venv
	@echo "no Python 3.13 found (set BENCH_PYTHON): running without the nats-jetstream column"
	$(PY) -m pip install --quiet --group bench
	$(PY) bench/run.py --write $(BENCH_ARGS)
else
bench: $(BENCH_VENV)/.installed $(OFFICIAL_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/run.py --write --official-python $(OFFICIAL_VENV)/bin/python $(BENCH_ARGS)
endif

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(OFFICIAL_VENV) .venv-py3.* site .mypy_cache .ruff_cache .pytest_cache
