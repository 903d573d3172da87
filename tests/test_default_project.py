"""The default variant: generated cleanly, parses, lints, type-checks, and its own tests pass."""

import re
import sys
import tomllib
from pathlib import Path

import yaml
from conftest import BIN, defaults, run_in, unrendered_files


def test_generates_the_whole_project(default_project: Path) -> None:
    assert default_project.name == "hello-fargate"
    for path in [
        "Pulumi.yaml",
        "Pulumi.dev.yaml",
        "__main__.py",
        "Makefile",
        "README.md",
        "pyproject.toml",
        "requirements.txt",
        "app/Dockerfile",
        "app/.dockerignore",
        "app/main.py",
        "infra/validation.py",
        "tests/test_stack.py",
        ".github/workflows/ci.yml",
    ]:
        assert (default_project / path).is_file(), path


def test_no_template_syntax_is_left(default_project: Path) -> None:
    assert unrendered_files(default_project) == []


def test_pulumi_project_and_stack_config_parse(default_project: Path) -> None:
    project = yaml.safe_load((default_project / "Pulumi.yaml").read_text())
    assert project["name"] == "hello-fargate"
    assert project["runtime"]["name"] == "python"
    config = yaml.safe_load((default_project / "Pulumi.dev.yaml").read_text())["config"]
    assert config["aws:region"] == "us-east-1"
    asked = {k: v for k, v in defaults().items() if not k.startswith("_")}
    project_fields = {"project_name", "project_slug", "description", "stack_name", "aws_region"}
    for key in asked.keys() - project_fields:
        assert str(config[f"hello-fargate:{key}"]).lower() == str(asked[key]).lower(), key


def test_workflow_and_pyproject_parse(default_project: Path) -> None:
    workflow = yaml.safe_load((default_project / ".github/workflows/ci.yml").read_text())
    assert workflow["jobs"]["check"]["steps"][-1]["run"] == "make check"
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "hello-fargate"


def test_ruff_is_clean(default_project: Path) -> None:
    run_in(default_project, str(BIN / "ruff"), "check", ".")
    run_in(default_project, str(BIN / "ruff"), "format", "--check", ".")


def test_mypy_strict_is_clean_against_pulumi_aws(default_project: Path) -> None:
    run_in(default_project, str(BIN / "mypy"))


def test_hadolint_is_clean(default_project: Path) -> None:
    run_in(default_project, str(BIN / "hadolint"), "app/Dockerfile")


def test_generated_tests_pass(default_project: Path) -> None:
    done = run_in(default_project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert re.search(r"\b\d+ passed\b", done.stdout) and " failed" not in done.stdout


def test_readme_carries_the_cost_estimate_of_the_answers(default_project: Path) -> None:
    readme = (default_project / "README.md").read_text()
    assert "<!-- cost estimate -->" not in readme
    assert "| **total** | **$129.60** |" in readme
    assert "make cost" in readme
