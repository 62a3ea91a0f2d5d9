# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export AIRFLOW_HOME ?= $(CURDIR)/.airflow

.PHONY: venv demo test bench sandbox clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m sandbox.demo

test: venv
	$(PY) -m pytest

bench: venv
	$(PY) -m sandbox.bench

sandbox: venv
	$(PY) -m sandbox serve

clean:
	rm -rf $(VENV) .airflow out
