"""The app behind a real HAProxy that reuses idle connections to its targets as the ALB does.

The ALB keeps idle connections to a target for its idle timeout and sends later requests, from any client, down
them. A target that closes an idle connection sooner races the ALB's next request on it: a request sent as the
target closes fails (502). HAProxy here pools server connections (`http-reuse always`) for the stack's
`alb_idle_timeout_seconds` and never retries, and the app gets the keep-alive the stack derives from that timeout.
Requests spaced just past uvicorn's default keep-alive (5 s) must all travel down the one pooled connection: when
the app closes it first, every spaced request meets a connection the app closed, each one a chance of that 502.
"""

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from cluster import Slot, alb_like_preamble, answers, free_port, haproxy_stats, wait_for
from conftest import no_bytecode_beside_sources, project_module

pytestmark = pytest.mark.skipif(
    not shutil.which("haproxy") and os.environ.get("CI") != "true", reason="needs haproxy (apt-get install haproxy)"
)
SETTINGS = project_module("infra/validation.py").parse_settings({})
OLD_KEEP_ALIVE_SECONDS = 5  # uvicorn's default, which the app used before the stack passed one
SPACED_REQUESTS = 4


def haproxy_config(port: int, app_port: int, socket_path: Path) -> str:
    idle = SETTINGS.alb_idle_timeout_seconds
    return (
        alb_like_preamble(socket_path, connection_seconds=idle + 10)
        + f"""frontend web
    bind 127.0.0.1:{port}
    default_backend tasks
backend tasks
    # Like the ALB: idle target connections are shared by all clients and kept for the idle timeout.
    http-reuse always
    server task0 127.0.0.1:{app_port} pool-purge-delay {idle}s
"""
    )


def server_counters(socket_path: Path) -> dict[str, int]:
    """HAProxy's count of connections opened to the app and of requests sent down an already open one."""
    [row] = [row for row in haproxy_stats(socket_path) if row["svname"] == "task0"]
    return {"connect": int(row["connect"]), "reuse": int(row["reuse"])}


def test_spaced_requests_reuse_the_pooled_connection_and_none_fails(default_project: Path) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="keepalive-"))
    app_port, port, socket_path = free_port(), free_port(), workdir / "admin.sock"
    environment = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(app_port),
        "KEEP_ALIVE_SECONDS": str(SETTINGS.app_keep_alive_seconds),
        **no_bytecode_beside_sources(),
    }
    app = subprocess.Popen(
        [sys.executable, "server.py"], cwd=default_project / "app", env=environment, stdout=subprocess.DEVNULL
    )
    (workdir / "haproxy.cfg").write_text(haproxy_config(port, app_port, socket_path))
    haproxy = None
    try:
        wait_for(lambda: answers(Slot("task0", app_port)), 20, "app start")
        haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(workdir / "haproxy.cfg")], stderr=subprocess.DEVNULL)
        wait_for(lambda: socket_path.exists(), 10, "HAProxy start")
        statuses = []
        for request in range(SPACED_REQUESTS):
            if request:
                time.sleep(OLD_KEEP_ALIVE_SECONDS + 0.5)
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            client.request("GET", "/")  # a new client each time: the ALB shares its target connections
            response = client.getresponse()
            response.read()
            statuses.append(response.status)
        counters = server_counters(socket_path)
    finally:
        if haproxy:
            haproxy.terminate()
            haproxy.wait()
        app.terminate()
        app.wait()
    assert statuses == [200] * SPACED_REQUESTS
    assert SETTINGS.app_keep_alive_seconds > SETTINGS.alb_idle_timeout_seconds
    # One connection to the app, reused by every later request: the app never closed it under the load balancer.
    assert counters == {"connect": 1, "reuse": SPACED_REQUESTS - 1}
