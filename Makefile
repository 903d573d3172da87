# fargate-template: `make project` generates a project with the defaults, `make test` runs the whole suite.
VENV := .venv
PYTHON := $(VENV)/bin/python
PROJECT_TEMPLATE := {{cookiecutter.project_slug}}

.PHONY: install project test bench mutants clean

# pip installs uv, and uv the rest (seconds, not a minute: docs/design-decisions.md), from pip's registry settings
# (the generated project's own installer). Then bytecode for what the suite's many short-lived processes import (the
# app's replicas, cookiecutter, cruft, pytest): where PYTHONDONTWRITEBYTECODE is set, as on our machines, each of
# them would compile it again. The large packages only a few long-lived processes import (pulumi_aws alone is 119 MB
# of Python) compile on import, which is cheaper than compiling all of them here.
$(VENV)/.installed: requirements-dev.txt $(PROJECT_TEMPLATE)/requirements-dev.txt $(PROJECT_TEMPLATE)/requirements.txt $(PROJECT_TEMPLATE)/app/requirements.txt $(PROJECT_TEMPLATE)/scripts/install.py
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet uv==0.13.9
	$(PYTHON) "$(PROJECT_TEMPLATE)/scripts/install.py" -r requirements-dev.txt
	$(PYTHON) -m compileall -q -j 0 -x 'site-packages/(pulumi_aws|moto|mypy|mypyc|debugpy|pip|pygments)/' $(VENV)/lib
	touch $@

install: $(VENV)/.installed

project: install  ## generate build/hello-fargate with the default answers
	$(VENV)/bin/cookiecutter --no-input --overwrite-if-exists --output-dir build .
	@echo "Generated build/hello-fargate: cd build/hello-fargate && make test"

test: install  ## every template test: bakes, lint, types, generated tests, the README path from scratch
	$(PYTHON) -m pytest

clean:
	rm -rf $(VENV) build .pytest_cache

bench: install  ## time the variant matrix (bench/matrix.py) and the deploy timing model
	$(PYTHON) bench/matrix.py

mutants: install  ## one-line program mutations (bench/mutants.py), each must fail the generated tests
	$(PYTHON) bench/mutants.py
