# fargate-template: `make project` generates a project with the defaults, `make test` runs the whole suite.
VENV := .venv
PYTHON := $(VENV)/bin/python
PROJECT_TEMPLATE := {{cookiecutter.project_slug}}
# One bytecode cache for the hundreds of Python processes a run starts (pytest's workers, cookiecutter's hooks, the
# app's replicas, the generated suite and its subprocesses), outside the source trees (PYTHONPYCACHEPREFIX): where
# PYTHONDONTWRITEBYTECODE is set, as on our machines, each process would compile everything it imports again.
BYTECODE := PYTHONPYCACHEPREFIX="$(CURDIR)/.pycache" PYTHONDONTWRITEBYTECODE=
# What a run compiled of its temporary projects (bakes, the fresh clone, mutants) is of no use to the next one.
FORGET_TEMPORARY_BYTECODE := rm -rf "$(CURDIR)/.pycache$${TMPDIR:-/tmp}"

.PHONY: install project test bench mutants clean

# pip installs uv, and uv the rest (seconds, not a minute: docs/design-decisions.md), from pip's registry settings
# (the generated project's own installer).
$(VENV)/.installed: requirements-dev.txt $(PROJECT_TEMPLATE)/requirements-dev.txt $(PROJECT_TEMPLATE)/requirements.txt $(PROJECT_TEMPLATE)/app/requirements.txt $(PROJECT_TEMPLATE)/scripts/install.py
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet uv==0.13.9
	$(PYTHON) "$(PROJECT_TEMPLATE)/scripts/install.py" -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

project: install  ## generate build/hello-fargate with the default answers
	$(VENV)/bin/cookiecutter --no-input --overwrite-if-exists --output-dir build .
	@echo "Generated build/hello-fargate: cd build/hello-fargate && make test"

test: install  ## every template test: bakes, lint, types, generated tests, the README path from scratch
	$(FORGET_TEMPORARY_BYTECODE)
	$(BYTECODE) $(PYTHON) -m pytest

clean:
	rm -rf $(VENV) build .pytest_cache .pycache

bench: install  ## time the variant matrix (bench/matrix.py) and the deploy timing model
	$(FORGET_TEMPORARY_BYTECODE)
	$(BYTECODE) $(PYTHON) bench/matrix.py

mutants: install  ## one-line program mutations (bench/mutants.py), each must fail the generated tests
	$(FORGET_TEMPORARY_BYTECODE)
	$(BYTECODE) $(PYTHON) bench/mutants.py
