"""Generated projects stay updatable: one made from an older commit of this template updates to HEAD with cruft."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import BIN, TEMPLATE, printed_command

COMMITS_BACK = 3
# Answers that are not the defaults, two of them menus since; a project keeps them through an update.
ANSWERS = {"cpu_architecture": "ARM64", "networking": "public-subnets", "replicas": 4}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.takes(5)
def test_project_from_an_older_commit_updates_to_head_without_conflicts_keeping_its_answers(tmp_path: Path) -> None:
    """The older commit is the last one where cpu_architecture and networking were typed words (else HEAD~3)."""
    template = tmp_path / "template"
    git("clone", "--quiet", str(TEMPLATE), str(template), cwd=tmp_path)
    if int(git("rev-list", "--count", "HEAD", cwd=template)) <= COMMITS_BACK:
        # A shallow checkout (actions/checkout's default depth of 1) has no older commit to start from.
        reason = f"the clone has {COMMITS_BACK} commits of history or fewer: fetch the full history (fetch-depth: 0)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # CI must run every test: .github/workflows/ci.yml fetches the full history
        pytest.skip(reason)
    menus = git("log", "--reverse", "--format=%H", "-S", '"networking": [', "--", "cookiecutter.json", cwd=template)
    older = git("rev-parse", f"{menus.split()[0]}^" if menus else f"HEAD~{COMMITS_BACK}", cwd=template)
    head = git("rev-parse", "HEAD", cwd=template)
    cruft = str(BIN / "cruft")
    create = [cruft, "create", "--no-input", "--checkout", older, "--extra-context", json.dumps(ANSWERS)]
    subprocess.run([*create, "--output-dir", str(tmp_path / "out"), str(template)], check=True, capture_output=True)
    project = tmp_path / "out" / "hello-fargate"
    git("init", "--quiet", cwd=project)
    git("add", "--all", cwd=project)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "generated", cwd=project)

    subprocess.run(
        [cruft, "update", "--skip-apply-ask", "--checkout", head, "-y"], cwd=project, check=True, capture_output=True
    )

    assert json.loads((project / ".cruft.json").read_text())["commit"] == head
    assert list(project.rglob("*.rej")) == []
    conflicted = [
        p
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.parts and "<<<<<<<" in p.read_text(errors="replace")
    ]
    assert conflicted == []
    assert subprocess.run([cruft, "check"], cwd=project, capture_output=True).returncode == 0
    stack = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())["config"]
    assert {key: stack[f"hello-fargate:{key}"] for key in ANSWERS} == ANSWERS


@pytest.mark.takes(5)
def test_a_refused_cruft_create_prints_a_cruft_command_that_generates_once_fixed(
    tmp_path: Path, user_env: dict[str, str]
) -> None:
    """Under cruft there is no replay file and no cookiecutter command line: the answers come back as cruft's
    --extra-context, the refused one last."""
    answers = json.dumps({"replicas": 1, "cpu_architecture": "ARM64"})
    create = [str(BIN / "cruft"), "create", "--no-input", "--extra-context", answers, str(TEMPLATE)]
    done = subprocess.run(create, cwd=tmp_path, env=user_env, capture_output=True, text=True)
    assert done.returncode != 0
    command = printed_command(done.stderr).splitlines()
    assert command[0] == f"  cruft create --no-input {TEMPLATE} --extra-context '{{"
    assert command[-2:] == ['    "replicas": "1"', "}'"]

    fixed = "\n".join([*command[:-2], '    "replicas": "2"', "}'"])
    done = subprocess.run(["sh", "-c", fixed], cwd=tmp_path, env=user_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stack = yaml.safe_load((tmp_path / "hello-fargate" / "Pulumi.dev.yaml").read_text())["config"]
    assert (stack["hello-fargate:replicas"], stack["hello-fargate:cpu_architecture"]) == (2, "ARM64")
    assert (tmp_path / "hello-fargate" / ".cruft.json").exists()
