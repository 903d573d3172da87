"""A stack's settings read from its files, for the scripts and CI jobs that run outside `pulumi`.

Only PyYAML and the stdlib: the workflows' first job reads the stack file with nothing else installed.

What `pulumi` would hand the program, as far as the files say it: Pulumi.yaml's project-level `config:` (a value, or
a `default`), overridden by Pulumi.<stack>.yaml's. Read the way Pulumi reads them (YAML 1.2: `on`, `yes` and `no`
are text, not booleans). Two things the files cannot tell: a `secure:` value (its plaintext needs the stack's
secrets provider), which is kept apart as present-but-unknown; and values from Pulumi ESC environments the stack
file imports (`environment:`), which `uses_esc` reports so a caller can refuse to guess.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.validation import InvalidSettings, Settings, stack_settings

ROOT = Path(__file__).resolve().parent.parent


class _PulumiYaml(yaml.SafeLoader):
    """YAML as Pulumi's Go YAML library (yaml.v3) reads config into untyped values, the YAML 1.2 core schema's way:
    only true/false are booleans, and numbers are 1.2's. PyYAML's YAML 1.1 would read `FEATURE: on` as true (and
    `make verify` would compare "true" with the "on" the task was given), `12:30` as the base-60 int 750, `0o17` and
    `1e3` as text, and `2026-01-02` as a date (yaml.v3 keeps a timestamp text when the target is untyped)."""


_YAML_1_1_ONLY = {f"tag:yaml.org,2002:{kind}" for kind in ("bool", "int", "float", "timestamp")}
_PulumiYaml.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML_1_1_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PulumiYaml.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# yaml.v3's resolve.go: strconv.ParseInt(base 0) with `_` removed (decimal, 0x, 0o, 0b, and 0777 kept as octal), no
# base 60; PyYAML's constructor reads each of these forms (int("0o17", 8) == 15).
_PulumiYaml.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0|[1-9][0-9_]*|0b[01_]+|0o[0-7_]+|0[0-7_]+|0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
# yaml.v3's yamlStyleFloat (the 1.2 core schema's float: `1e3` is one, no dot needed) and its .inf/.nan spellings.
_PulumiYaml.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _load(path: Path) -> dict[str, Any]:
    loaded = yaml.load(path.read_text(), Loader=_PulumiYaml)  # noqa: S506 (a SafeLoader)
    return loaded if isinstance(loaded, dict) else {}


def _is_secure(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _plain(key: str, value: object, secure: set[str]) -> object:
    """`value` without its `secure:` parts, whose dotted paths go to `secure` (a map's own, as `--path` sets them)."""
    if isinstance(value, dict):
        kept = {}
        for name, item in value.items():
            if _is_secure(item):
                secure.add(f"{key}.{name}")
            else:
                kept[name] = item
        return kept
    return value


@dataclass
class StackFile:
    project: str
    config: dict[str, object]  # `namespace:key` -> value, secure values left out
    secure: set[str] = field(default_factory=set)  # `namespace:key` (or `namespace:key.NAME`) of each secure value
    uses_esc: bool = False  # the stack file imports Pulumi ESC environments
    in_stack_file: set[str] = field(default_factory=set)  # keys the stack file itself sets (ESC cannot override them)

    def secure_settings(self) -> list[str]:
        """The project's settings (or map entries) whose value is secret here, without the namespace."""
        return sorted(key.removeprefix(f"{self.project}:") for key in self.secure)


def read_stack_file(stack: str, root: Path = ROOT) -> StackFile:
    """The stack's config as its files give it: project-level defaults, then the stack file's values."""
    project_file = _load(root / "Pulumi.yaml")
    project = str(project_file["name"])
    config: dict[str, object] = {}
    for key, declared in (project_file.get("config") or {}).items():
        full_key = key if ":" in key else f"{project}:{key}"  # a bare key is the project's own
        if isinstance(declared, dict):
            if "value" in declared or "default" in declared:
                config[full_key] = declared.get("value", declared.get("default"))
        else:
            config[full_key] = declared
    stack_file = _load(root / f"Pulumi.{stack}.yaml")
    secure: set[str] = set()
    for key, value in (stack_file.get("config") or {}).items():
        if _is_secure(value):
            secure.add(key)
            config.pop(key, None)
        else:
            config[key] = _plain(key, value, secure)
    stack_keys = set((stack_file.get("config") or {}).keys())
    return StackFile(project, config, secure, uses_esc=bool(stack_file.get("environment")), in_stack_file=stack_keys)


def stack_file_config(stack: str, root: Path = ROOT) -> tuple[str, dict[str, object]]:
    """The project's name and the config its files give (`namespace:key` -> value; secure values left out)."""
    found = read_stack_file(stack, root)
    return found.project, found.config


def stack_file_settings(stack: str, root: Path = ROOT) -> Settings:
    """The settings `pulumi up --stack STACK` would apply, by the program's own rules (unknown keys refused too).
    A setting whose value is secure reads as its default; when that makes the config invalid, the error says so."""
    found = read_stack_file(stack, root)
    try:
        return stack_settings(found.project, found.config)
    except InvalidSettings as invalid:
        if not found.secure:
            raise
        note = f"(read without the secure values of {', '.join(found.secure_settings())}, which need `pulumi`)"
        raise InvalidSettings([*invalid.errors, note]) from invalid
