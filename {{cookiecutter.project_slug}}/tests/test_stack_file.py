"""The stack's files as the scripts and CI read them (infra/stack_file.py): as `pulumi` would, or loudly not at all.

Secure values are present but unknown, YAML reads as Pulumi's (1.2: `on` is text), Pulumi.yaml's project config
counts, and a stack importing Pulumi ESC environments must name the runner's architecture and region itself.
"""

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import release_preflight
import yaml
from ci_stack import workflow_outputs
from verify import environment_report

from conftest import PROJECT, ROOT
from infra.stack_file import read_stack_file, stack_file_settings
from infra.validation import InvalidSettings

SECURE = {"secure": "v1:AAAAc2VjcmV0"}


def project_with(tmp_path: Path, config: Mapping[str, object], **stack_file: object) -> Path:
    """A project directory holding Pulumi.yaml (with `project_config`, if given) and Pulumi.dev.yaml."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    if "project_config" in stack_file:
        project["config"] = stack_file.pop("project_config")
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config, **stack_file}))
    return tmp_path


def test_secure_values_are_present_but_unknown_not_a_crash(tmp_path: Path) -> None:
    root = project_with(
        tmp_path,
        {
            f"{PROJECT}:alarm_email": SECURE,
            f"{PROJECT}:environment": {"DOWNSTREAM_URL": "https://x", "PARTNER_ID": SECURE},
        },
    )
    settings = stack_file_settings("dev", root)
    assert (settings.alarm_email, settings.environment) == ("", (("DOWNSTREAM_URL", "https://x"),))
    assert read_stack_file("dev", root).secure_settings() == ["alarm_email", "environment.PARTNER_ID"]
    deployed = {"DOWNSTREAM_URL": "https://x", "PARTNER_ID": "p-1"}
    shown, problems = environment_report(dict(settings.environment), deployed, ("PARTNER_ID",))
    assert problems == []
    assert "PARTNER_ID=(secure in the stack file, not compared)" in shown


def test_cost_reads_a_stack_file_with_a_secure_value(tmp_path: Path) -> None:
    for name in ("infra", "scripts"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    project_with(tmp_path, {f"{PROJECT}:alarm_email": SECURE, f"{PROJECT}:replicas": 4})
    command = [sys.executable, "scripts/cost.py", "dev"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "estimated at their defaults: alarm_email" in done.stdout


def test_yaml_reads_as_pulumi_does_on_is_text(tmp_path: Path) -> None:
    """PyYAML (YAML 1.1) reads `on` as true; Pulumi hands the program "on", which is what the task gets."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(
        f"config:\n  {PROJECT}:environment:\n    FEATURE_X: on\n    LEGACY: no\n    STRICT: true\n"
    )
    environment = dict(stack_file_settings("dev", tmp_path).environment)
    assert environment == {"FEATURE_X": "on", "LEGACY": "no", "STRICT": "true"}


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("12:30", "12:30"),  # YAML 1.1's base 60 (750): text in 1.2, a time of day in an environment variable
        ("0o17", 15),  # 1.2's octal (text in 1.1)
        ("1e3", 1000.0),  # 1.2's float needs no dot (text in 1.1)
        ("2026-01-02", "2026-01-02"),  # a date in PyYAML; yaml.v3 keeps an untyped timestamp as text
        ("0x1F", 31),
        ("-12", -12),
        ("1.5", 1.5),
        ("1.2.3", "1.2.3"),
    ],
)
def test_numbers_read_as_yaml_1_2_core_does_like_pulumi(written: str, read: object, tmp_path: Path) -> None:
    """Pulumi reads config with yaml.v3 (YAML 1.2 core schema numbers); PyYAML's defaults are YAML 1.1's."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(f"config:\n  {PROJECT}:environment:\n    VALUE: {written}\n")
    value = read_stack_file("dev", tmp_path).config[f"{PROJECT}:environment"]["VALUE"]  # type: ignore[index]
    assert (type(value), value) == (type(read), read)


def test_project_level_config_counts_and_the_stack_file_overrides_it(tmp_path: Path) -> None:
    project_config = {"aws:region": "eu-west-1", "cpu_architecture": {"default": "ARM64"}, f"{PROJECT}:replicas": 5}
    root = project_with(tmp_path, {f"{PROJECT}:replicas": 4}, project_config=project_config)
    assert workflow_outputs("dev", root) == {"runner": "ubuntu-24.04-arm", "region": "eu-west-1"}
    assert stack_file_settings("dev", root).replicas == 4


def test_a_stack_importing_esc_must_name_the_runner_and_region_itself(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"aws:region": "eu-west-1"}, environment=["payments/prod"])
    with pytest.raises(InvalidSettings, match=f"{PROJECT}:cpu_architecture is not readable here"):
        workflow_outputs("dev", root)
    # A project-level default is no answer either: an imported environment overrides it.
    project_config = {"cpu_architecture": {"default": "ARM64"}}
    esc = {"environment": ["payments/prod"], "project_config": project_config}
    root = project_with(tmp_path, {"aws:region": "eu-west-1"}, **esc)
    with pytest.raises(InvalidSettings, match=f"{PROJECT}:cpu_architecture is not readable here"):
        workflow_outputs("dev", root)
    named = {"aws:region": "eu-west-1", f"{PROJECT}:cpu_architecture": "X86_64"}
    root = project_with(tmp_path, named, environment=["payments/prod"])
    assert workflow_outputs("dev", root) == {"runner": "ubuntu-24.04", "region": "eu-west-1"}


def test_the_preflight_never_passes_silently_when_it_cannot_read_the_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(stack: str) -> None:
        raise InvalidSettings(["replicas=1 is out of range"])

    monkeypatch.setattr(release_preflight, "stack_settings", refused)
    monkeypatch.setattr(sys, "argv", ["release_preflight.py", "dev"])
    assert release_preflight.main() == 1
    assert "checked nothing" in capsys.readouterr().err
