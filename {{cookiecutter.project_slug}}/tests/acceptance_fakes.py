"""The fake Pulumi CLI and the outputs of a deployment that `make acceptance`'s tests run against
(tests/test_acceptance.py, tests/test_acceptance_files.py): the stand-in itself is tests/fake_pulumi.py."""

import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from conftest import PROJECT

SOURCE = "dev"
NAME = "acceptance-0a1b2c3d"
SOURCE_CONFIG: dict[str, Any] = {"aws_region": "us-east-1", "replicas": 4}


def outputs(url: str = "http://127.0.0.1:9") -> dict[str, Any]:
    """What `pulumi stack output --json` prints after a deployment of this program (names as Pulumi auto-names)."""
    dashboard = f"{PROJECT}-{NAME}"
    return {
        "url": url,
        "alb_dns_name": f"{PROJECT}-alb-3f2a9c1-1234567890.us-east-1.elb.amazonaws.com",
        "cluster_name": f"{PROJECT}-cluster-8e21b0d",
        "service_name": f"{PROJECT}-svc-51c7e2a",
        "task_definition_arn": f"arn:aws:ecs:us-east-1:123456789012:task-definition/{PROJECT}-app-0d9f1e3:2",
        "repository_url": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{PROJECT}-repo-6a0b3c2",
        "image_ref": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{PROJECT}-repo-6a0b3c2@sha256:{'ab' * 32}",
        "log_group_name": f"{PROJECT}-logs-7c1d2e9",
        "dashboard_url": "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        f"#dashboards/dashboard/{dashboard}",
        "release_traffic": {},
        "alarm_names": [f"{PROJECT}-target-5xx-rate-1a2b3c4", f"{PROJECT}-latency-p99-5d6e7f8"],
    }


@contextmanager
def fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`pulumi` on PATH is tests/fake_pulumi.py; its state (calls, stacks, outputs) lives in the folder it gives."""
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    executable = bin_dir / "pulumi"
    # -S: no site-packages to scan at each of the ~10 starts a run makes (the fake needs only the standard library).
    executable.write_text(f"#!{sys.executable} -S\n" + (Path(__file__).with_name("fake_pulumi.py")).read_text())
    executable.chmod(executable.stat().st_mode | stat.S_IEXEC)
    (state / "outputs.json").write_text(json.dumps(outputs()))
    (state / "stacks.json").write_text(json.dumps([{"name": SOURCE, "current": True, "resourceCount": 60}]))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_DIR", str(state))
    save_config(state, SOURCE, {key: str(value) for key, value in SOURCE_CONFIG.items()})
    with mock_aws():  # the cleanup's own AWS calls (delete_leftovers) reach moto
        yield state


def save_config(state: Path, stack: str, values: dict[str, str]) -> None:
    (state / "config").mkdir(exist_ok=True)
    (state / "config" / f"{stack}.json").write_text(json.dumps(values))


def calls(state: Path) -> list[str]:
    return [" ".join(json.loads(line)) for line in (state / "calls.jsonl").read_text().splitlines()]


def cleaned_up(state: Path) -> bool:
    """destroy, the pending-operations check, then stack rm of the copy, as the last three commands, and the copy is
    gone from `stack ls`."""
    made = calls(state)
    return (
        made[-3].startswith(f"destroy --stack {NAME} --yes")
        and made[-2] == f"stack export --stack {NAME}"
        and made[-1] == f"stack rm {NAME} --yes"
        and NAME not in {stack["name"] for stack in json.loads((state / "stacks.json").read_text())}
    )
