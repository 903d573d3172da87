"""The default variant in detail, and the generated project's whole quality gate on the defaults and everything-on.

The gate (ruff, mypy --strict, hadolint, the generated tests) runs on two variants only: every variant's `.py` files
are the template's, byte for byte (tests/rendered.py), so one run covers them all. The everything-on variant's own
tests run in tests/test_readme_path.py, from a fresh clone in a new venv.
"""

import re
import shutil
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import BIN, PROJECT_TEMPLATE, TEMPLATE, defaults, project_module, run_in

GATED = ["defaults", "everything-on"]


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


def test_pulumi_project_and_stack_config_parse(default_project: Path) -> None:
    project = yaml.safe_load((default_project / "Pulumi.yaml").read_text())
    assert project["name"] == "hello-fargate"
    assert project["runtime"]["name"] == "python"
    config = yaml.safe_load((default_project / "Pulumi.dev.yaml").read_text())["config"]
    assert config["aws:region"] == "us-east-1"
    asked = {k: v for k, v in defaults().items() if not k.startswith("_")}
    project_fields = {"project_name", "project_slug", "description", "stack_name", "aws_region"}
    for key in asked.keys() - project_fields:
        default = asked[key][0] if isinstance(asked[key], list) else asked[key]  # a menu's default is its first entry
        assert str(config[f"hello-fargate:{key}"]).lower() == str(default).lower(), key


def test_workflow_and_pyproject_parse(default_project: Path) -> None:
    workflow = yaml.safe_load((default_project / ".github/workflows/ci.yml").read_text())
    assert workflow["jobs"]["check"]["steps"][-1]["run"] == "make check"
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "hello-fargate"


@pytest.mark.parametrize("name", GATED)
def test_ruff_is_clean(variant_project: Callable[[str], Path], name: str) -> None:
    run_in(variant_project(name), str(BIN / "ruff"), "check", ".")
    run_in(variant_project(name), str(BIN / "ruff"), "format", "--check", ".")


@pytest.mark.takes(60)
def test_mypy_strict_is_clean_against_pulumi_aws(variant_project: Callable[[str], Path]) -> None:
    """`make typecheck`: the program, then the policy pack. One test, so the variants run one after the other and
    only the first pays for analysing pulumi_aws (about a minute); the others read the shared cache."""
    for name in GATED:
        run_in(variant_project(name), str(BIN / "mypy"))
        run_in(variant_project(name), str(BIN / "mypy"), "policy/__main__.py")


@pytest.mark.parametrize("name", GATED)
def test_hadolint_is_clean(variant_project: Callable[[str], Path], name: str) -> None:
    run_in(variant_project(name), str(BIN / "hadolint"), "app/Dockerfile")


@pytest.mark.takes(45)
def test_generated_tests_pass(default_project: Path) -> None:
    done = run_in(default_project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert re.search(r"\b\d+ passed\b", done.stdout) and " failed" not in done.stdout


def test_readme_carries_the_cost_estimate_of_the_answers(default_project: Path) -> None:
    readme = (default_project / "README.md").read_text()
    assert "<!-- cost estimate -->" not in readme
    assert "| **total** | **$129.60** |" in readme
    assert "make cost" in readme


def test_workflows_pass_actionlint(default_project: Path) -> None:
    workflows = sorted(str(path) for path in (default_project / ".github/workflows").glob("*.yml"))
    assert [Path(path).name for path in workflows] == [
        "acceptance.yml",
        "ci.yml",
        "deploy.yml",
        "preview-env.yml",
        "preview.yml",
    ]
    run_in(default_project, str(BIN / "actionlint"), *workflows, str(TEMPLATE / ".github/workflows/ci.yml"))


def test_deploy_workflow_uses_oidc_pinned_actions_and_one_deploy_at_a_time(default_project: Path) -> None:
    deploy = yaml.safe_load((default_project / ".github/workflows/deploy.yml").read_text())
    assert deploy["permissions"] == {"contents": "read", "id-token": "write"}
    assert deploy["concurrency"] == {"group": "deploy-dev", "cancel-in-progress": False}
    assert deploy["jobs"]["up"]["needs"] == ["check", "stack"]
    steps = [step for job in deploy["jobs"].values() for step in job["steps"]]
    assert all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]) for step in steps if "uses" in step)
    assert any("role-to-assume" in step.get("with", {}) for step in steps)
    # ECS's verdict (and its reason for a rollback) is printed after the deploy, also when the deploy failed.
    names = [step.get("name") for step in deploy["jobs"]["up"]["steps"]]
    verdict = deploy["jobs"]["up"]["steps"][names.index("ECS's verdict on the release")]
    assert names.index("ECS's verdict on the release") == names.index("Deploy") + 1
    assert verdict["run"].startswith(".venv/bin/python scripts/rollout.py")
    assert verdict["if"] == "${{ success() || steps.up.outcome == 'failure' }}"


def test_dependabot_and_pre_commit_configs_parse(default_project: Path) -> None:
    dependabot = yaml.safe_load((default_project / ".github/dependabot.yml").read_text())
    assert {update["package-ecosystem"] for update in dependabot["updates"]} == {"pip", "docker", "github-actions"}
    hooks = yaml.safe_load((default_project / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert {hook["id"] for hook in hooks} == {"ruff-check", "ruff-format", "hadolint"}
    assert (default_project / ".editorconfig").is_file()


def test_local_compose_runs_the_replicas_behind_a_load_balancer_checking_like_the_alb(default_project: Path) -> None:
    compose = yaml.safe_load((default_project / "compose.yaml").read_text())
    assert compose["services"]["app"]["deploy"]["replicas"] == 3
    assert compose["services"]["app"]["read_only"] is True
    task = project_module("infra/task.py")
    tmp = f"{task.TMP_PATH}:size={task.TMP_SIZE_MIB}m,{','.join(task.TMP_MOUNT_OPTIONS)}"
    assert compose["services"]["app"]["tmpfs"] == [tmp], "compose's /tmp is the task definition's"
    assert compose["services"]["lb"]["ports"] == ["8080:8080"]
    config = (default_project / "local/haproxy.cfg").read_text()
    checks = project_module("infra/validation.py").DEFAULTS
    assert f"option httpchk GET {checks['health_check_path']}" in config
    assert (
        f"check inter {checks['health_check_interval_seconds']}s rise {checks['healthy_threshold']} "
        f"fall {checks['unhealthy_threshold']}"
    ) in config
    assert f"timeout check {checks['health_check_timeout_seconds']}s" in config
    drain = project_module("infra/validation.py").shutdown_drain_seconds(
        checks["health_check_interval_seconds"], checks["unhealthy_threshold"]
    )
    assert compose["services"]["app"]["environment"]["SHUTDOWN_DRAIN_SECONDS"] == str(drain)
    assert compose["services"]["app"]["stop_grace_period"] == f"{checks['stop_timeout_seconds']}s"
    # Idle connections as behind the ALB: shared and kept for the idle timeout, the app's keep-alive longer.
    settings = project_module("infra/validation.py").parse_settings({})
    assert "http-reuse always" in config and f"pool-purge-delay {checks['alb_idle_timeout_seconds']}s" in config
    assert compose["services"]["app"]["environment"]["KEEP_ALIVE_SECONDS"] == str(settings.app_keep_alive_seconds)
    if shutil.which("haproxy"):  # CI installs it; HAProxy's own parser validates the file
        run_in(default_project, "haproxy", "-c", "-f", "local/haproxy.cfg")


def test_the_template_installs_with_the_uv_its_projects_pin() -> None:
    """Both Makefiles have pip install one uv, then run the project's scripts/install.py with it."""
    pins = [re.findall(r"uv==[\d.]+", (folder / "Makefile").read_text()) for folder in (TEMPLATE, PROJECT_TEMPLATE)]
    assert pins[0] == pins[1] and len(pins[0]) == 1, pins
