# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export AIRFLOW_HOME ?= $(CURDIR)/.airflow

.PHONY: venv demo test bench sandbox matrix constraints schema clean

# pyproject.toml declares ranges; constraints.txt holds the exact versions that make, CI and the image use.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' -c constraints.txt
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

# The unit tests and one dag.test() on each supported Airflow minor, each installed the way a user would.
matrix:
	bash ci/airflow_matrix.sh

# Newest versions the ranges allow, all extras, in a fresh virtualenv; review the diff before committing.
constraints:
	rm -rf .constraints-venv && $(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/pip install -q --upgrade pip
	.constraints-venv/bin/pip install -q -e '.[test,celery,postgres,ui-test]'
	{ echo "# Exact versions for make, CI and the Docker image (pyproject.toml declares ranges). Rebuild: make constraints"; \
	  .constraints-venv/bin/pip freeze --exclude-editable | grep -v '^-e'; } > constraints.txt
	rm -rf .constraints-venv

# The JSON Schema of sync.yaml and vat_codes.yaml, generated from the models load_config validates with.
schema: venv
	$(PY) -m twinfield.domain.config_schema include/mappings

clean:
	rm -rf $(VENV) .airflow out
