"""The app's Python run the way Fargate runs the task definition, in a bubblewrap sandbox built from it.

The container definition comes from the program under mocks: its root filesystem (read-only or not), its mounts
(a task volume is an empty directory owned by root with mode 0755, as the ECS bind-mount documentation says; a
`linuxParameters.tmpfs` entry is a tmpfs of its size and mode), its environment and its user, to which the sandbox
drops with setpriv before starting the app. The app is what the image would hold: app/ filtered by its .dockerignore,
then copied by the Dockerfile's COPY instructions (tests/image_contents.py), mounted read-only at the Dockerfile's
WORKDIR and started with its CMD. Needs root (to switch to the task's user), bwrap and setpriv; the template's CI has
all three.
"""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from image_contents import Image, assemble

from conftest import ROOT, Deployment, deploy

pytestmark = pytest.mark.skipif(
    not (shutil.which("bwrap") and shutil.which("setpriv") and os.geteuid() == 0),
    reason="needs root, bwrap and setpriv (apt-get install bubblewrap util-linux)",
)
TMPFS_DEFAULT_MODE = "1777"  # the kernel's mode for a tmpfs root when no mode= option is given
# Writes a temporary file as the task's user, then runs the image's CMD (its arguments follow this script's).
ENTRYPOINT = (
    "import os, sys, tempfile\n"
    "with tempfile.NamedTemporaryFile() as scratch:\n"
    "    scratch.write(b'scratch'); scratch.flush()\n"
    "    print('tempfile written:', scratch.name, flush=True)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
)


def container(deployment: Deployment) -> dict[str, Any]:
    """The app's container (with enable_tracing the collector's is beside it: tests/test_tracing.py)."""
    definitions = json.loads(deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    [app] = [definition for definition in definitions if definition["name"] == "app"]
    return dict(app)


def exposed(paths: list[Path], mounted: list[Path]) -> list[str]:
    """bwrap arguments that let any user reach these paths (a Python under /root, a venv in a private temporary
    directory) and nothing else there: a tmpfs over the first directory others may not enter, then 0755 directories
    down to each path, bound read-only (bwrap would copy the host's modes to directories it creates). Directories
    that the sandbox already covers with a tmpfs (the task's /tmp, holding a venv made in /tmp) are tops too: bwrap
    creates the directories down to a bind inside them with mode 0700."""

    def blocked(path: Path) -> Path | None:
        return next((a for a in reversed(list(path.parents)[:-1]) if not a.stat().st_mode & stat.S_IXOTH), None)

    tops = sorted({top for path in paths if (top := blocked(path))}, key=lambda top: len(top.parts))
    tops = [top for top in tops if not any(other in top.parents for other in tops)]
    arguments = [argument for top in tops for argument in ("--perms", "0755", "--tmpfs", str(top))]
    tops += [top for top in mounted if any(top in path.parents for path in paths)]
    for path in paths:
        top = next((top for top in tops if top in path.parents), None)
        if top:
            between = [a for a in reversed(list(path.parents)) if top in a.parents]
            arguments += [argument for a in between for argument in ("--perms", "0755", "--dir", str(a))]
        arguments += ["--ro-bind", str(path), str(path)]
    return arguments


def fargate_sandbox(definition: dict[str, Any], image_root: Path, image: Image, port: int) -> list[str]:
    """The bwrap + setpriv command line that runs the image's CMD (after ENTRYPOINT's write) as Fargate would run
    this container definition, with the app files laid out under `image_root`."""
    root = "--ro-bind" if definition["readonlyRootFilesystem"] else "--bind"
    command = ["bwrap", "--die-with-parent", "--unshare-pid", root, "/", "/", "--proc", "/proc", "--dev", "/dev"]
    mounted = []
    for mount in definition.get("mountPoints", []):  # a task volume: empty, root-owned, 0755 (ECS bind mounts)
        command += ["--perms", "0755", "--tmpfs", mount["containerPath"]]
        mounted.append(Path(mount["containerPath"]))
    for tmpfs in definition.get("linuxParameters", {}).get("tmpfs", []):
        options = dict(option.partition("=")[::2] for option in tmpfs.get("mountOptions", []))
        command += ["--perms", options.get("mode") or TMPFS_DEFAULT_MODE, "--size", str(tmpfs["size"] * 2**20)]
        command += ["--tmpfs", tmpfs["containerPath"]]
        mounted.append(Path(tmpfs["containerPath"]))
    # The image's Python: this one, wherever it is (symlinks resolved: bwrap cannot bind over a symlink).
    command += exposed(sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}), mounted)
    assert all(path.startswith(image.workdir + "/") for path in image.files), "app files outside the WORKDIR"
    command += ["--ro-bind", str(image_root / image.workdir.lstrip("/")), image.workdir, "--chdir", image.workdir]
    command += ["--clearenv"]
    environment = {entry["name"]: entry["value"] for entry in definition["environment"]}
    for name, value in {**environment, "HOST": "127.0.0.1", "PORT": str(port), "PATH": "/usr/bin:/bin"}.items():
        command += ["--setenv", name, value]
    uid, _, gid = definition["user"].partition(":")
    user = [f"--reuid={uid}", f"--regid={gid or uid}", "--clear-groups"]
    python, *arguments = image.command
    assert python == "python", f"the image's CMD {image.command} does not start with python"
    return [*command, "--", "setpriv", *user, sys.executable, "-c", ENTRYPOINT, *arguments]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_as_fargate(
    definition: dict[str, Any], app_dir: Path = ROOT / "app"
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The app as its image would hold it, run as the task definition runs the container."""
    port = free_port()
    with tempfile.TemporaryDirectory() as image_root:
        image = assemble(app_dir, Path(image_root))
        (Path(image_root) / image.workdir.lstrip("/")).chmod(0o755)
        command = fargate_sandbox(definition, Path(image_root), image, port)
        app = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            yield app, f"http://127.0.0.1:{port}"
        finally:
            app.kill()
            app.wait()


def served(app: subprocess.Popen[str], url: str) -> bytes:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bytes(response.read())
        except OSError:
            if app.poll() is not None or time.monotonic() > deadline:
                app.kill()
                raise AssertionError(f"the app did not serve: {app.communicate()[0]}") from None
            time.sleep(0.1)


# The app with ECS exec (a writable root), and with tracing (OpenTelemetry loaded, its exporter aimed at a collector
# that is not there: health checks make no span, so nothing is sent).
SETTINGS = {
    "defaults": {},
    "exec": {"enable_exec": True},
    "tracing": {"enable_tracing": True, "memory": 1024},
}


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_app_writes_a_temporary_file_and_serves_as_the_task_definition_runs_it(settings: dict[str, Any]) -> None:
    definition = container(deploy(**settings))
    with running_as_fargate(definition) as (app, base):
        body = served(app, base + definition_environment(definition)["HEALTH_CHECK_PATH"])
        app.kill()
        output = app.communicate()[0]
    assert json.loads(body) == {"status": "ok"}
    assert "tempfile written: /tmp/" in output


def test_the_sandbox_fails_on_a_tmp_mounted_like_a_plain_task_volume() -> None:
    """The check above can fail: /tmp as an ECS bind-mount volume (root, 0755) is not writable by the task's user."""
    definition = {
        **container(deploy()),
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "linuxParameters": {},
    }
    with running_as_fargate(definition) as (app, _):
        output = app.communicate(timeout=20)[0]
    assert app.returncode != 0
    assert "No usable temporary directory" in output


def app_with_a_new_module(tmp_path: Path) -> Path:
    """A copy of app/ whose main.py imports a module the team just added, as a first route file would be."""
    app_dir = tmp_path / "app"
    shutil.copytree(ROOT / "app", app_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (app_dir / "routes.py").write_text('GREETING = "hello from a new module"\n')
    main = app_dir / "main.py"
    main.write_text("from routes import GREETING\n" + main.read_text())
    return app_dir


def test_a_new_module_reaches_the_image_without_a_dockerfile_edit(tmp_path: Path) -> None:
    definition = container(deploy())
    with running_as_fargate(definition, app_with_a_new_module(tmp_path)) as (app, base):
        body = served(app, base + definition_environment(definition)["HEALTH_CHECK_PATH"])
    assert json.loads(body) == {"status": "ok"}


def test_a_module_left_out_of_the_image_fails_the_task(tmp_path: Path) -> None:
    """The test above can fail: a module the app imports but the image lacks stops the container at start, as an
    allow-list .dockerignore or a Dockerfile naming its files would on the first new module."""
    app_dir = app_with_a_new_module(tmp_path)
    with (app_dir / ".dockerignore").open("a") as ignore:
        ignore.write("routes.py\n")
    with running_as_fargate(container(deploy()), app_dir) as (app, _):
        output = app.communicate(timeout=20)[0]
    assert app.returncode != 0
    assert "ModuleNotFoundError: No module named 'routes'" in output


def definition_environment(definition: dict[str, Any]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in definition["environment"]}
