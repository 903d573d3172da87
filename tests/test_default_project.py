"""The default variant in detail, and the generated project's whole quality gate on the defaults and everything-on.

The gate (ruff, mypy --strict, hadolint, actionlint, the generated tests) runs on two variants: every variant's `.py`
files are the template's, byte for byte (tests/rendered.py), so one run of the code covers them all. The generated
suite runs once in full, on the defaults from a fresh clone in a new venv (tests/test_readme_path.py). On
everything-on run only its tests that read the project's own files, the ones the answers can change
(rendered.READ_THE_PROJECTS_FILES, kept complete by a scan here); the others deploy the settings they name under mocks,
the same in every variant, and test_every_setting.py sets every setting to a non-default value within that one run.
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
from rendered import (
    CHECKED_HERE,
    CHECKED_ON_EVERYTHING_ON,
    PROJECTS_FILES,
    READ_THE_PROJECTS_FILES,
    UNRENDERED,
    reads_the_projects_files,
)

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


@pytest.mark.takes(30)
def test_mypy_strict_is_clean_against_pulumi_aws(variant_project: Callable[[str], Path]) -> None:
    """`make typecheck`: the program, then the policy pack. One test, so the variants run one after the other and
    only the first pays for analysing pulumi_aws (about a minute); the others read the shared cache."""
    for name in GATED:
        run_in(variant_project(name), str(BIN / "mypy"))
        run_in(variant_project(name), str(BIN / "mypy"), "policy/__main__.py")


@pytest.mark.parametrize("name", GATED)
def test_hadolint_is_clean(variant_project: Callable[[str], Path], name: str) -> None:
    run_in(variant_project(name), str(BIN / "hadolint"), "app/Dockerfile")


@pytest.mark.takes(65)
def test_everything_on_passes_its_tests_of_its_own_files(variant_project: Callable[[str], Path]) -> None:
    """The generated tests whose outcome the answers can change, on everything-on (test_variants.py runs
    CHECKED_HERE on it in-process); the whole generated suite runs on the defaults in tests/test_readme_path.py."""
    modules = [f"tests/{name}" for name in CHECKED_ON_EVERYTHING_ON]
    done = run_in(
        variant_project("everything-on"), sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *modules
    )
    assert re.search(r"\b\d+ passed\b", done.stdout) and " failed" not in done.stdout


def test_every_generated_test_that_reads_the_projects_own_files_runs_on_both_gated_variants() -> None:
    """A module naming a file the answers render (or using a stack-file reader) must be in READ_THE_PROJECTS_FILES,
    or everything-on would skip it. The generated conftest is left out: it reads Pulumi.yaml for the project's name,
    which every test uses as a name (long names are deployed on purpose in test_options.py and test_release.py)."""
    tests = PROJECT_TEMPLATE / "tests"
    reading = {
        path.name for path in tests.glob("*.py") if path.name != "conftest.py" and reads_the_projects_files(path)
    }
    assert sorted(reading - set(READ_THE_PROJECTS_FILES)) == [], "add to READ_THE_PROJECTS_FILES in tests/rendered.py"
    # ...and no other: a module listed that reads nothing rendered would run on everything-on for nothing.
    assert sorted(set(READ_THE_PROJECTS_FILES) - reading) == [], "drop from READ_THE_PROJECTS_FILES"
    assert all((tests / name).is_file() for name in READ_THE_PROJECTS_FILES)
    assert set(CHECKED_HERE) <= set(READ_THE_PROJECTS_FILES)
    # A helper module the tests import would hide its readers from this scan: only test modules may read them.
    assert {name for name in reading if not name.startswith("test_")} == set()
    # The names scanned for cover every file the template renders (any other is copied, the same in every variant).
    rendered = [
        str(path.relative_to(PROJECT_TEMPLATE))
        for path in PROJECT_TEMPLATE.rglob("*")
        if path.is_file() and path.suffix != ".py" and UNRENDERED.search(path.read_text(errors="replace"))
    ]
    assert rendered and [path for path in rendered if not PROJECTS_FILES.search(path)] == []


def test_the_scan_sees_a_read_of_the_projects_files_and_ignores_docstrings(tmp_path: Path) -> None:
    module = tmp_path / "test_x.py"
    module.write_text('"""Reads README.md."""\n\ndef test_x() -> None:\n    """Makefile."""\n    deploy(replicas=3)\n')
    assert reads_the_projects_files(module) == set()
    module.write_text('from conftest import ROOT\n\nSTACK = sorted(ROOT.glob("Pulumi.*.yaml"))\n')
    assert reads_the_projects_files(module) == {"Pulumi."}
    module.write_text(
        'from conftest import stack_file_config\n\ndef test_x() -> None:\n    (ROOT / f"{DIR}/Makefile")\n'
    )
    assert reads_the_projects_files(module) == {"stack_file_config", "Makefile"}


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
