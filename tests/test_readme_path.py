"""The generated README's path from scratch: a fresh clone of the project, `make test` in a new venv.

On the defaults, the project `make project` generates: the one full run of the generated suite. The install path is
the same in every variant (the requirements files are copied as they are; no answer reaches the Makefile's install).
tests/test_default_project.py runs, on everything-on, the generated tests that read the project's own files.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import project_env


@pytest.mark.slow
@pytest.mark.takes(150)
def test_make_test_passes_in_a_fresh_clone_of_the_generated_project(default_project: Path, tmp_path: Path) -> None:
    project = default_project  # every generated test, once
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "generated"],
        cwd=project,
        check=True,
    )
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    assert not (clone / ".venv").exists()
    done = subprocess.run(["make", "test"], cwd=clone, env=project_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
    shutil.rmtree(clone / ".venv")
