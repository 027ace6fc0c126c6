# Two commands on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ST     := $(VENV)/bin/scaletime

.PHONY: setup demo test lint data bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install torch==2.13.0   # the CPU wheel; a bare `torch` pulls a CUDA build
	$(PY) -m pip install -e '.[dev,ray]'
	touch $@

setup: $(VENV)/.installed

data: setup
	$(ST) data fetch mnist fashion-mnist cifar10 mnist1d digits

demo: setup
	$(ST) demo

test: setup data
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

bench: setup data
	$(PY) benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) build *.egg-info
