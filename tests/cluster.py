"""A local stand-in for the ALB and ECS: replicas of the generated app as real processes behind a real HAProxy.

HAProxy health-checks the replicas like the target group (same path, interval, thresholds and timeout as the
stack's defaults), and `rolling_replace` replaces them the way ECS does with minimum 100 % / maximum 200 %: start
all new tasks, wait until the load balancer sees them healthy, drain the old ones (until their requests are done,
at most the deregistration delay), then SIGTERM them. Load comes from wrk, a second process. Everything listens on
127.0.0.1 only.
"""

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import no_bytecode_beside_sources, project_module

VALIDATION = project_module("infra/validation.py")
DEFAULTS: dict[str, Any] = VALIDATION.DEFAULTS
HEALTH_PATH = str(DEFAULTS["health_check_path"])
INTERVAL = int(DEFAULTS["health_check_interval_seconds"])
TIMEOUT = int(DEFAULTS["health_check_timeout_seconds"])
HEALTHY = int(DEFAULTS["healthy_threshold"])
UNHEALTHY = int(DEFAULTS["unhealthy_threshold"])
DEREGISTRATION_DELAY = int(DEFAULTS["deregistration_delay_seconds"])
GRACEFUL_SHUTDOWN = int(DEFAULTS["graceful_shutdown_seconds"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alb_like_preamble(socket_path: Path, check_timeout: float | None = None, connection_seconds: int = 30) -> str:
    """HAProxy's global and defaults sections set up like the ALB, with an admin socket for the tests to drive it.

    No retries and no redispatch: a request sent to a dead task fails, as it would behind the ALB. Client and server
    connections time out after `connection_seconds`; `check_timeout` is the health checks' (when they run).
    """
    check = f"    timeout check {check_timeout}s\n" if check_timeout is not None else ""
    return f"""global
    stats socket {socket_path} mode 600 level admin
defaults
    mode http
    retries 0
    timeout connect 2s
    timeout client {connection_seconds}s
    timeout server {connection_seconds}s
{check}"""


def haproxy_admin(socket_path: Path, command: str) -> str:
    """Send one command to HAProxy's admin socket; its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(socket_path))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def haproxy_stats(socket_path: Path) -> list[dict[str, str]]:
    """HAProxy's statistics rows (`show stat`), one per proxy and server (`pxname`, `svname`)."""
    return list(csv.DictReader(io.StringIO(haproxy_admin(socket_path, "show stat").lstrip("# "))))


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until `condition` holds; the seconds it took. Fails after `timeout` seconds."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


@dataclass
class Slot:
    """A target-group slot: a HAProxy server line and, while a task runs there, its process."""

    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None


def answers(slot: Slot) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{slot.port}{HEALTH_PATH}", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class LoadResult:
    requests: int
    failures: int
    requests_per_second: float
    p99_ms: float


@dataclass(frozen=True)
class HealthChecks:
    """The target group's health-check timing (the stack's defaults unless a test shortens them)."""

    interval: int = INTERVAL
    timeout: int = TIMEOUT
    healthy: int = HEALTHY
    unhealthy: int = UNHEALTHY

    @property
    def drain(self) -> int:
        """What the stack passes the app as SHUTDOWN_DRAIN_SECONDS for these checks."""
        return int(VALIDATION.shutdown_drain_seconds(self.interval, self.unhealthy))


class LocalCluster:
    def __init__(
        self, app_dir: Path, replicas: int, sticky: bool = False, checks: HealthChecks = HealthChecks()
    ) -> None:
        self.app_dir = app_dir
        self.replicas = replicas
        self.sticky = sticky
        self.checks = checks
        self.workdir = Path(tempfile.mkdtemp(prefix="cluster-"))
        self.socket_path = self.workdir / "admin.sock"
        self.port = free_port()
        # Twice the replicas, as ECS's maximum 200 %: the spare half takes the new tasks of a rolling deploy.
        self.slots = [Slot(f"task{index}", free_port()) for index in range(2 * replicas)]
        # The revision the tasks started now run (the app answers with it); each rolling replacement is the next.
        self.revision = 1
        self.haproxy: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "LocalCluster":
        for slot in self.slots[: self.replicas]:
            self.start_task(slot)
        for slot in self.slots[: self.replicas]:
            wait_for(lambda slot=slot: answers(slot), 20, f"{slot.name} start")
        config = self.workdir / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stderr=subprocess.DEVNULL)
        wait_for(lambda: self.socket_path.exists(), 10, "HAProxy start")
        wait_for(
            lambda: len(self.healthy()) == self.replicas,
            self.checks.interval * self.checks.healthy + 10,
            "the first replicas' health",
        )
        return self

    def __exit__(self, *_: object) -> None:
        for slot in self.slots:
            if slot.process and slot.process.poll() is None:
                slot.process.kill()
                slot.process.wait()
        if self.haproxy:
            self.haproxy.terminate()
            self.haproxy.wait()

    def haproxy_config(self) -> str:
        cookie = "    cookie SERVERID insert indirect nocache\n" if self.sticky else ""
        servers = "".join(
            f"    server {slot.name} 127.0.0.1:{slot.port}"
            + (f" cookie {slot.name}" if self.sticky else "")
            + ("" if index < self.replicas else " disabled")
            + "\n"
            for index, slot in enumerate(self.slots)
        )
        interval = self.checks.interval
        checks = (
            f"check inter {interval}s fastinter {interval}s downinter {interval}s "
            f"rise {self.checks.healthy} fall {self.checks.unhealthy}"
        )
        return (
            alb_like_preamble(self.socket_path, self.checks.timeout)
            + f"""frontend web
    bind 127.0.0.1:{self.port}
    default_backend tasks
backend tasks
    balance roundrobin
    option httpchk GET {HEALTH_PATH}
    http-check expect status 200
{cookie}    default-server {checks}
{servers}"""
        )

    def start_task(self, slot: Slot) -> None:
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(slot.port),
            "REPLICA_ID": slot.name,
            "HEALTH_CHECK_PATH": HEALTH_PATH,
            "GRACEFUL_SHUTDOWN_SECONDS": str(GRACEFUL_SHUTDOWN),
            "SHUTDOWN_DRAIN_SECONDS": str(self.checks.drain),
            **no_bytecode_beside_sources(),
            "RELEASE_LABEL": f"r{self.revision}",
        }
        slot.process = subprocess.Popen(
            [sys.executable, "server.py"],
            cwd=self.app_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def admin(self, command: str) -> str:
        return haproxy_admin(self.socket_path, command)

    def server_stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's statistics row of each server: `status` (UP, DOWN, MAINT, DRAIN...), `scur` (open sessions)."""
        rows = haproxy_stats(self.socket_path)
        return {row["svname"]: row for row in rows if row["pxname"] == "tasks" and row["svname"] != "BACKEND"}

    def states(self) -> dict[str, str]:
        return {name: row["status"] for name, row in self.server_stats().items()}

    def healthy(self) -> list[str]:
        return [name for name, status in self.states().items() if status.startswith("UP")]

    def running(self) -> list[Slot]:
        return [slot for slot in self.slots if slot.process and slot.process.poll() is None]

    def rolling_replace(self) -> None:
        """Replace every running task the way ECS does (minimum healthy 100 %, maximum 200 %)."""
        old = self.running()
        new = [slot for slot in self.slots if slot not in old][: len(old)]
        self.revision += 1
        for slot in new:
            self.start_task(slot)
            # Registered as a new ALB target is: out of rotation until `rise` checks pass (one command, no gap).
            self.admin(f"set server tasks/{slot.name} state ready; set server tasks/{slot.name} health down")
        new_names = {slot.name for slot in new}
        wait_for(
            lambda: new_names <= set(self.healthy()),
            self.checks.interval * (self.checks.healthy + 1) + 10,
            "the new tasks' health",
        )
        for slot in old:
            self.admin(f"set server tasks/{slot.name} state drain")
        # Like the ALB, deregistration ends when the delay is over or the target has no request left, if sooner.
        old_names = {slot.name for slot in old}
        wait_for(
            lambda: all(row["scur"] == "0" for name, row in self.server_stats().items() if name in old_names),
            DEREGISTRATION_DELAY,
            "draining",
        )
        for slot in old:
            assert slot.process
            slot.process.send_signal(signal.SIGTERM)
        for slot in old:
            assert slot.process
            slot.process.wait(timeout=self.checks.drain + GRACEFUL_SHUTDOWN + 10)
            self.admin(f"set server tasks/{slot.name} state maint")

    def kill(self, slot: Slot) -> float:
        """SIGKILL a task; the seconds until the load balancer marks it down."""
        assert slot.process
        slot.process.kill()
        slot.process.wait()
        return self.wait_until_down(slot)

    def wait_until_down(self, slot: Slot) -> float:
        """The seconds until the load balancer marks `slot` down."""
        checks = self.checks
        return wait_for(
            lambda: self.states()[slot.name].startswith("DOWN"),
            checks.interval * (checks.unhealthy + 1) + checks.timeout,
            "down",
        )


class Load:
    """wrk against the cluster from a second process: bounded connections, stopped with SIGINT, as wrk allows.

    In the tests each connection pauses `pause_ms` between requests (tests/paced.lua): about 300 requests a second
    from 8, steady through every transition, where unpaced wrk and the replicas take both cores (about 5,000 a second)
    and the rest of the suite waits. A failure window of a few milliseconds is hit less often at this rate; the
    defects these tests are for fail requests for seconds (docs/design-decisions.md). The benches run unpaced
    (`pause_ms=None`).
    """

    def __init__(self, url: str, connections: int = 8, max_seconds: int = 300, pause_ms: int | None = 25) -> None:
        paced = ["--script", str(Path(__file__).with_name("paced.lua"))] if pause_ms is not None else []
        self.process = subprocess.Popen(
            [
                "wrk",
                "--threads",
                "2",
                "--connections",
                str(connections),
                "--duration",
                f"{max_seconds}s",
                "--latency",
                *paced,
                url,
                *(["--", str(pause_ms)] if pause_ms is not None else []),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> LoadResult:
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return parse_wrk(output)


def parse_wrk(output: str) -> LoadResult:
    requests = int(re.search(r"(\d+) requests in", output)[1])
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failures = (sum(map(int, socket_errors.groups())) if socket_errors else 0) + (int(non_2xx[1]) if non_2xx else 0)
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    return LoadResult(requests, failures, rate, p99_ms)
