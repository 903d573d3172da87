"""The generated README's path from scratch: a fresh clone of the project, `make test` in a new venv.

On the everything-on variant: this is where its own tests run (tests/test_default_project.py runs the defaults').
"""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import project_env


@pytest.mark.slow
@pytest.mark.takes(90)
def test_make_test_passes_in_a_fresh_clone_of_the_generated_project(
    variant_project: Callable[[str], Path], tmp_path: Path
) -> None:
    project = variant_project("everything-on")
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
