"""Bakes the template (each variant once per session) and runs tools inside the baked project with this same venv."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.main import cookiecutter

pytest.register_assert_rewrite("rendered")
from variants import VARIANTS  # noqa: E402

TEMPLATE = Path(__file__).resolve().parent.parent
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
BIN = Path(sys.executable).parent


def project_module(relative_path: str) -> ModuleType:
    """Import a module of the project template (plain Python, no Jinja) by its path; `infra` resolves there too."""
    if str(PROJECT_TEMPLATE) not in sys.path:
        sys.path.append(str(PROJECT_TEMPLATE))
        if not sys.pycache_prefix:  # a .pyc inside the template would be rendered into every project
            sys.dont_write_bytecode = True
    path = PROJECT_TEMPLATE / relative_path
    spec = importlib.util.spec_from_file_location(f"project_template.{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def defaults() -> dict[str, object]:
    return {key: value for key, value in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()}


def menus() -> set[str]:
    """The questions asked as numbered menus (cookiecutter choice variables)."""
    return {key for key, value in defaults().items() if isinstance(value, list) and not key.startswith("_")}


def refused_by_cookiecutter(field: str, exception: BaseException | None) -> bool:
    """Cookiecutter's own refusal of a value outside a menu: raised while it reads the answers, before any hook."""
    return isinstance(exception, ValueError) and f"provided for choice variable {field}," in str(exception)


def bake(cookies, **answers: object) -> Path:
    """Generate a project with these answers (the rest default); fail the test if generation fails."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


def no_bytecode_beside_sources() -> dict[str, str]:
    """For a process started in a baked project: no `__pycache__` written there, unless bytecode goes to the run's own
    cache outside the source trees (`make test` sets PYTHONPYCACHEPREFIX, or `-X pycache_prefix`), where its replicas
    share what it compiles."""
    return {"PYTHONPYCACHEPREFIX": sys.pycache_prefix} if sys.pycache_prefix else {"PYTHONDONTWRITEBYTECODE": "1"}


def project_env() -> dict[str, str]:
    """This environment for a command in a generated project, without PYTEST_ADDOPTS: options meant for the template's
    pytest (`-n4`, `--durations`) are not the project's, whose pytest may not know them."""
    return {key: value for key, value in os.environ.items() if key != "PYTEST_ADDOPTS"}


def run_in(project: Path, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command in the baked project with this venv's tools; fail with its output if it fails."""
    # One mypy cache for every bake: pulumi_aws's stubs are checked once per test session, not once per project.
    env = {
        **project_env(),
        "MYPY_CACHE_DIR": str(TEMPLATE / ".mypy_cache" / "baked"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed in {project}:\n{done.stdout}\n{done.stderr}"
    return done


CACHES = ("__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", ".venv")


@pytest.fixture(scope="session", autouse=True)
def clean_project_template() -> None:
    """Cookiecutter renders every file of the template, caches too: drop any a tool left in it."""
    for name in CACHES:
        for cache in PROJECT_TEMPLATE.rglob(name):
            shutil.rmtree(cache)


@pytest.fixture(scope="session")
def variant_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Bake a variant of tests/variants.py by its id, once per session: its tests all read that one bake."""
    projects: dict[str, Path] = {}

    def baked(name: str) -> Path:
        if name not in projects:
            output = tmp_path_factory.mktemp("variant")
            projects[name] = Path(
                cookiecutter(str(TEMPLATE), no_input=True, extra_context=VARIANTS[name], output_dir=str(output))
            )
        return projects[name]

    return baked


@pytest.fixture(scope="session")
def default_project(variant_project: Callable[[str], Path]) -> Path:
    return variant_project("defaults")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deal the tests out longest first, each to the worker with the least work dealt so far, so the long ones spread
    over the workers and the one that gets the longest (the generated suite, ~2 minutes) fills up with short ones.

    Under `--dist worksteal` each worker starts with one contiguous share of this order, the shares of equal counts
    (the shorter share first), and runs it in order; an idle worker takes the tail of a busy one's queue, but never the
    test after the running one: so behind a long test comes a short one, not another long test that would wait for it.
    `@pytest.mark.takes(seconds)` marks the long ones (seconds on a loaded machine); the rest count as one second.
    """
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    counts = sorted(len(range(worker, len(items), workers)) for worker in range(workers))
    shares: list[list[pytest.Item]] = [[] for _ in counts]
    dealt = [0.0] * workers
    for item in sorted(items, key=lambda item: -expected_seconds(item)):
        worker = min((w for w in range(workers) if len(shares[w]) < counts[w]), key=lambda w: dealt[w])
        shares[worker].append(item)
        dealt[worker] += expected_seconds(item)
    items[:] = [item for share in shares for item in share]


def expected_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("takes")
    return float(marker.args[0]) if marker else 1.0


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A shell's environment for a person running cookiecutter in `tmp_path`: this venv's tools on PATH, and a
    cookiecutter config of their own (replay files and clones in tmp_path, `gh:` pointing at local git repositories
    under tmp_path/github, so `gh:org/name` is cloned as from GitHub)."""
    config = tmp_path / "cookiecutterrc.yaml"
    config.write_text(
        f"replay_dir: {tmp_path / 'replay'}\n"
        f"cookiecutters_dir: {tmp_path / 'clones'}\n"
        f"abbreviations:\n  gh: file://{tmp_path / 'github'}/{{0}}\n"
    )
    return {
        **os.environ,
        "COOKIECUTTER_CONFIG": str(config),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "PWD": str(tmp_path),
        "NO_COLOR": "1",
        "TERM": "xterm",
        "COLUMNS": "250",  # no label wrapped
    }


def printed_command(output: str) -> str:
    """The command a refused generation prints to run it again (after an empty line, up to the next one)."""
    lines = output.replace("\r\n", "\n").splitlines()
    start = (
        lines.index("Nothing was generated. Your answers as one command: fix the ones at its end, then paste it.") + 2
    )
    return "\n".join(lines[start : lines.index("", start)])
