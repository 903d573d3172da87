"""Every variant of the matrix: generated, free of template syntax, lint-clean, and its own tests pass."""

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from conftest import BIN, bake, run_in, unrendered_files
from variants import VARIANTS

# The defaults variant gets all of this and more in test_default_project.py, from the session's shared bake.
OPTION_VARIANTS = {name: answers for name, answers in VARIANTS.items() if answers}


@pytest.mark.parametrize("answers", OPTION_VARIANTS.values(), ids=OPTION_VARIANTS.keys())
def test_variant_generates_lints_and_passes_its_tests(cookies, answers: dict[str, object]) -> None:
    project = bake(cookies, **answers)
    assert unrendered_files(project) == []
    stack_name = str(answers.get("stack_name", "dev"))
    config = yaml.safe_load((project / f"Pulumi.{stack_name}.yaml").read_text())["config"]
    for key, value in answers.items():
        if key not in {"project_name", "stack_name", "aws_region"}:
            assert str(config[f"{project.name}:{key}"]).lower() == str(value).lower(), key
    run_in(project, str(BIN / "ruff"), "check", ".")
    run_in(project, str(BIN / "ruff"), "format", "--check", ".")
    run_in(project, str(BIN / "actionlint"), *map(str, (project / ".github/workflows").glob("*.yml")))
    for path in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path
    if shutil.which("haproxy"):  # CI installs it
        run_in(project, "haproxy", "-c", "-f", "local/haproxy.cfg")
    run_in(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


def python_sources(project: Path) -> dict[str, bytes]:
    return {str(path.relative_to(project)): path.read_bytes() for path in sorted(project.rglob("*.py"))}


def test_python_is_byte_identical_across_variants(cookies) -> None:
    """Options are stack config: the code of the simplest and the fullest variant is the same, byte for byte."""
    defaults = python_sources(bake(cookies))
    everything = python_sources(bake(cookies, **VARIANTS["everything-on"]))
    assert defaults.keys() == everything.keys()
    assert [name for name in defaults if defaults[name] != everything[name]] == []
