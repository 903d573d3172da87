"""A stack's settings read from its Pulumi.<stack>.yaml, for the scripts and CI jobs that run outside `pulumi`.

Only PyYAML and the stdlib: the workflows' first job reads the stack file with nothing else installed.
"""

from pathlib import Path

import yaml

from infra.validation import Settings, stack_settings

ROOT = Path(__file__).resolve().parent.parent


def stack_file_config(stack: str, root: Path = ROOT) -> tuple[str, dict[str, object]]:
    """The project's name and the stack file's config, `namespace:key` -> value as written (secrets stay encrypted)."""
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())["name"]
    config = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()).get("config") or {}
    return project, config


def stack_file_settings(stack: str, root: Path = ROOT) -> Settings:
    """The settings `pulumi up --stack STACK` would apply, by the program's own rules (unknown keys refused too)."""
    return stack_settings(*stack_file_config(stack, root))
