"""What differs between variants, checked per variant: the files the answers render, and the stack they describe.

The `.py` files are the template's own, byte for byte, in every variant (checked here first), so the type check,
the lint and the generated project's ~200 tests that run on the defaults and the everything-on variant cover
every variant's code. What the answers change is the stack file, the README, the workflows, compose/HAProxy, the
Makefile and pyproject.toml: each variant proves those parse and lint, and deploys its own stack file under
mocks once, with the policy pack and its README diagram checked against that one deployment.
tests/test_variants.py runs this for every variant of tests/variants.py; bench/matrix.py times the same function.
"""

import ast
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
BIN = Path(sys.executable).parent
UNRENDERED = re.compile(r"{{\s*cookiecutter|{%-?\s|\s-?%}")
# Keys the template writes elsewhere than the project's namespace of the stack file.
NOT_IN_STACK_CONFIG = {"project_name", "stack_name", "aws_region"}
# The generated project's tests that read the project's own files (its stack file, README, workflows, Makefile...),
# which the answers change: the only ones whose outcome depends on the variant. Every other generated test deploys the
# settings it names under mocks, the same in every variant. tests/test_default_project.py fails when a module reads
# such a file and is not listed here (`reads_the_projects_files`).
READ_THE_PROJECTS_FILES = [
    "test_acceptance_files.py",
    "test_bootstrap.py",
    "test_bootstrap_policy.py",
    "test_existing_vpc.py",
    "test_guardrails.py",
    "test_readme.py",
    "test_rollout.py",
    "test_second_stack.py",
    "test_stack_file.py",
    "test_stack_files.py",
    "test_timing.py",
    "test_typecheck_config.py",
    "test_workflows.py",
]
# Of those, the tests of the stack file, README diagram and bootstrap policy, run per variant against its one mocked
# deployment.
CHECKED_HERE = ["test_stack_files.py", "test_readme.py", "test_bootstrap_policy.py"]
# The rest run on the everything-on variant (tests/test_default_project.py); the defaults run the whole suite.
CHECKED_ON_EVERYTHING_ON = [name for name in READ_THE_PROJECTS_FILES if name not in CHECKED_HERE]


def unrendered_files(project: Path) -> list[str]:
    """Files of a baked project that still hold template syntax. A `.git` folder is not the template's: the README-path
    test commits the shared default project, and compressed objects can hold `{%` by chance (it failed a run once)."""
    return [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.relative_to(project).parts
        and UNRENDERED.search(path.read_text(errors="replace"))
    ]


# How a generated test names the files the answers render (tests/test_default_project.py checks that every rendered
# file of the template matches), and the generated conftest's readers of a stack file.
PROJECTS_FILES = re.compile(
    r"Pulumi\.|README\.md|\.github|workflows|Makefile|pyproject\.toml|compose\.yaml|haproxy\.cfg"
)
STACK_FILE_READERS = {"stack_file_config", "deploy_stack_file", "read_stack_config"}


def reads_the_projects_files(module: Path) -> set[str]:
    """What a generated test module reads of the files the answers render: file names in its strings (docstrings
    aside), and the stack-file readers it uses. Empty for a test that only deploys the settings it names."""
    tree = ast.parse(module.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.update(PROJECTS_FILES.findall(node.value))
        name = node.id if isinstance(node, ast.Name) else node.name if isinstance(node, ast.alias) else None
        if name in STACK_FILE_READERS:
            found.add(name)
    return found


def python_sources(project: Path) -> dict[str, bytes]:
    return {str(path.relative_to(project)): path.read_bytes() for path in sorted(project.rglob("*.py"))}


def tool(name: str) -> str | None:
    """A system tool's path; None where it is missing, except in CI (CI=true), which installs every one we use."""
    found = shutil.which(name)
    assert found or os.environ.get("CI") != "true", f"{name} is not installed; .ci/run installs it"
    return found


def run(project: Path, *command: str) -> None:
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)} failed in {project}:\n{done.stdout}\n{done.stderr}"


def check_files(project: Path, answers: dict[str, object]) -> None:
    """Every rendered file: no template syntax left, parses, lints; the code is the template's, byte for byte."""
    assert unrendered_files(project) == []
    sources, template_sources = python_sources(project), python_sources(PROJECT_TEMPLATE)
    assert sources.keys() == template_sources.keys()
    assert [name for name in sources if sources[name] != template_sources[name]] == [], "Python differs by variant"

    [stack_file] = project.glob("Pulumi.*.yaml")
    assert stack_file.name == f"Pulumi.{answers.get('stack_name', 'dev')}.yaml"
    config = yaml.safe_load(stack_file.read_text())["config"]
    for key, value in answers.items():
        if key not in NOT_IN_STACK_CONFIG:
            assert str(config[f"{project.name}:{key}"]).lower() == str(value).lower(), key
    assert yaml.safe_load((project / "Pulumi.yaml").read_text())["name"] == project.name
    for path in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == project.name
    readme = (project / "README.md").read_text()
    assert "<!-- cost estimate -->" not in readme, "the post-generation hook did not run"
    assert "<!-- acceptance cost -->" not in readme, "the post-generation hook did not write the cost of a run"

    run(project, str(BIN / "actionlint"), *map(str, sorted((project / ".github/workflows").glob("*.yml"))))
    if haproxy := tool("haproxy"):
        run(project, haproxy, "-c", "-q", "-f", "local/haproxy.cfg")
    # make parses the whole Makefile and, with -n, prints every recipe with the answers expanded without running it.
    phony = re.search(r"^\.PHONY:(.*)$", (project / "Makefile").read_text(), re.MULTILINE)
    assert phony, "the Makefile declares its targets .PHONY"
    run(project, "make", "--dry-run", "--always-make", *phony[1].split())


@contextmanager
def importable(*folders: Path) -> Iterator[None]:
    sys.path[:0] = map(str, folders)
    try:
        yield
    finally:
        del sys.path[: len(folders)]


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calls(test: Callable[..., None]) -> list[dict[str, Any]]:
    """The arguments pytest would call a test with, one set per combination of its `parametrize` marks."""
    combinations: list[dict[str, Any]] = [{}]
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize":
            names = (
                [name.strip() for name in mark.args[0].split(",")] if isinstance(mark.args[0], str) else mark.args[0]
            )
            rows = [getattr(row, "values", row) for row in mark.args[1]]  # pytest.param(...) keeps its values apart
            rows = [row if len(names) > 1 else (row,) for row in rows]
            combinations = [{**done, **dict(zip(names, row, strict=True))} for done in combinations for row in rows]
    given = {name for arguments in combinations for name in arguments}
    fixtures = set(inspect.signature(test).parameters) - given
    assert not fixtures, (
        f"{test.__name__} needs pytest fixtures {sorted(fixtures)}, which tests/rendered.py cannot give"
    )
    return combinations


def check_deployment(project: Path) -> None:
    """The project's own tests of its stack file and README diagram, run here against one mocked deployment.

    Every test of its tests/test_stack_files.py and tests/test_readme.py, loaded from this project with its own
    conftest, so they read its own stack file, Pulumi.yaml, README and __main__.py; their conftest deploys each stack
    file once and they all read that run. A test that needs a pytest fixture fails here loudly (they take none).
    In this process the `infra` package is the first variant's: the same code as every other's (check_files proves it).
    Loading the generated conftest also applies its process-wide settings here (moto's kept boto3 session, no default
    AMIs in `os.environ`), which the subprocesses of this worker inherit; none of them depends on either.
    """
    if not sys.pycache_prefix:  # no __pycache__ written into the baked projects
        sys.dont_write_bytecode = True
    with importable(project, project / "policy", project / "scripts", project / "tests"):
        generated_conftest = load(project / "tests" / "conftest.py", f"generated_conftest_{id(project)}")
        # The generated tests import their helpers `from conftest`; under pytest this process's is the template's.
        templates_conftest = sys.modules.get("conftest")
        sys.modules["conftest"] = generated_conftest
        try:
            modules = [load(project / "tests" / name, f"generated_{id(project)}_{name[:-3]}") for name in CHECKED_HERE]
        finally:
            del sys.modules["conftest"]
            if templates_conftest:
                sys.modules["conftest"] = templates_conftest
        for module in modules:
            tests = [test for name, test in vars(module).items() if name.startswith("test_") and callable(test)]
            assert tests, f"no tests in {module.__file__}"
            for test in tests:
                for arguments in calls(test):
                    test(**arguments)


def check_variant(project: Path, answers: dict[str, object]) -> None:
    check_files(project, answers)
    check_deployment(project)
