"""mypy follows every pulumi_aws module the code uses (pyproject.toml); it skips the rest of the package.

A skipped module is typed Any, so code using it would pass `make typecheck` unchecked: a new `aws.<service>` in the
code must be added to the follow list. The scan reads `aws.<name>` after `import pulumi_aws as aws` (or any alias, or
`pulumi_aws.<name>` after `import pulumi_aws.<module>`) and `from pulumi_aws... import`; a service reached only
through another one's types (iam, through cloudwatch's policy arguments) is kept in the list by hand.
"""

import ast
import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pulumi_aws

ROOT = Path(__file__).resolve().parent.parent


def sources() -> list[Path]:
    return [path for path in ROOT.rglob("*.py") if not {".venv", "build"} & set(path.relative_to(ROOT).parts)]


def module_of(name: str) -> str:
    """The module that defines `pulumi_aws.<name>`: a service package (`aws.ecs`) or a top-level function's file."""
    found = getattr(pulumi_aws, name)
    return found.__name__ if isinstance(found, ModuleType) else str(found.__module__)


def modules_used(source: str) -> set[str]:
    """The pulumi_aws modules a source file reaches: `aws.<name>` after `import pulumi_aws as aws`, and imports."""
    tree = ast.parse(source)
    aliases: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "pulumi_aws":
                    aliases.add(alias.asname or alias.name)
                elif alias.name.startswith("pulumi_aws."):
                    used.add(alias.name)
                    aliases.add(alias.asname or "pulumi_aws")  # `import pulumi_aws.ecs` binds `pulumi_aws`
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pulumi_aws":
            used |= {module_of(alias.name) if node.module == "pulumi_aws" else node.module for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            used.add(module_of(node.attr))
    return used


def mypy_overrides() -> dict[str, list[str]]:
    """follow_imports setting -> the pulumi_aws module patterns pyproject.toml gives it (other overrides aside)."""
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    found: dict[str, list[str]] = {}
    for override in overrides:
        patterns = [pattern for pattern in override["module"] if pattern.split(".")[0] == "pulumi_aws"]
        if patterns and "follow_imports" in override:
            found.setdefault(override["follow_imports"], []).extend(patterns)
    return found


def package_of(module: str) -> str:
    """The follow-list entry for a module: a service package with its submodules, or a top-level module alone."""
    top = ".".join(module.split(".")[:2])
    spec = importlib.util.find_spec(top)
    return f"{top}.*" if spec and spec.submodule_search_locations is not None else module


def test_mypy_skips_pulumi_aws_except_the_modules_the_code_uses() -> None:
    used = {package_of(module) for path in sources() for module in modules_used(path.read_text())}
    assert "pulumi_aws.ecs.*" in used and "pulumi_aws.get_caller_identity" in used  # the scan finds both kinds
    overrides = mypy_overrides()
    assert overrides["skip"] == ["pulumi_aws.*"]
    required = {"pulumi_aws", "pulumi_aws._utilities", *used}
    missing = sorted(required - set(overrides["normal"]))
    assert not missing, f"add to the mypy follow list in pyproject.toml (the code uses them): {missing}"


def test_the_scan_finds_services_functions_and_imports() -> None:
    source = (
        "import pulumi_aws as cloud\nfrom pulumi_aws import sqs\nimport pulumi_aws.kms\n"
        "cloud.sagemaker.Domain\ncloud.get_region_output()\npulumi_aws.sfn.StateMachine\n"
    )
    used = {"pulumi_aws.sagemaker", "pulumi_aws.sqs", "pulumi_aws.kms", "pulumi_aws.get_region", "pulumi_aws.sfn"}
    assert modules_used(source) == used
    assert {package_of(module) for module in modules_used(source)} == {
        "pulumi_aws.sagemaker.*",
        "pulumi_aws.sqs.*",
        "pulumi_aws.kms.*",
        "pulumi_aws.get_region",
        "pulumi_aws.sfn.*",
    }
