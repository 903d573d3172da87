"""A local stand-in for an ECS blue/green release: two target groups of real app processes behind a real HAProxy.

The ALB side of a release is two listener rules that forward to two target groups by weight: the test rule (matched
by the stack's test header, evaluated first) and the production rule. ECS drives a release by rewriting those
weights. Here each rule is a HAProxy backend with two servers, `blue` and `green`, that forward to the two target
groups (HAProxy backends of app processes, health-checked like the target groups), and the weights are rewritten the
same way, at run time, with `set weight` over HAProxy's admin socket. The schedule of a release comes from the
generated project's own timing model (`infra/timing.py` `traffic_schedule`), with its minutes scaled to seconds.
Health checks keep the stack's path and thresholds but run every second (`CHECK_SECONDS`): how fast a target is
noticed is proven in test_local_cluster.py; here it only delays the release, which must stay a matter of seconds.
Everything listens on 127.0.0.1 only.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cluster import (
    GRACEFUL_SHUTDOWN,
    HEALTH_PATH,
    HEALTHY,
    UNHEALTHY,
    HealthChecks,
    alb_like_preamble,
    free_port,
    haproxy_admin,
    haproxy_stats,
    wait_for,
)
from conftest import no_bytecode_beside_sources

GROUPS = ("blue", "green")
RULES = ("production", "test")
CHECK_SECONDS = 1


def start_app(app_dir: Path, port: int, replica_id: str) -> subprocess.Popen[bytes]:
    """One task: the generated app as a process, configured as the task definition configures it."""
    checks = HealthChecks(interval=CHECK_SECONDS, timeout=CHECK_SECONDS)
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "REPLICA_ID": replica_id,
        "RELEASE_LABEL": replica_id.rstrip("0123456789"),  # the revision: blue or green
        "HEALTH_CHECK_PATH": HEALTH_PATH,
        "GRACEFUL_SHUTDOWN_SECONDS": str(GRACEFUL_SHUTDOWN),
        "SHUTDOWN_DRAIN_SECONDS": str(checks.drain),
        **no_bytecode_beside_sources(),
    }
    return subprocess.Popen(
        [sys.executable, "server.py"], cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


class Revisions:
    """The tasks of two revisions, `replicas` each, running as processes (started once: a Python app takes seconds)."""

    def __init__(self, app_dir: Path, replicas: int) -> None:
        self.replicas = replicas
        self.ports = {group: [free_port() for _ in range(replicas)] for group in GROUPS}
        self.processes = {
            group: [start_app(app_dir, port, f"{group}{index}") for index, port in enumerate(self.ports[group])]
            for group in GROUPS
        }
        for port in [*self.ports["blue"], *self.ports["green"]]:
            wait_for(lambda port=port: answers(port), 30, "task start")

    def stop(self) -> None:
        for process in [*self.processes["blue"], *self.processes["green"]]:
            process.kill()
            process.wait()


class ReleaseCluster:
    def __init__(self, revisions: Revisions, test_header: tuple[str, str]) -> None:
        self.replicas = revisions.replicas
        self.task_ports = revisions.ports
        self.test_header = test_header
        self.workdir = Path(tempfile.mkdtemp(prefix="release-"))
        self.socket_path = self.workdir / "admin.sock"
        self.port = free_port()
        self.group_ports = {group: free_port() for group in GROUPS}
        self.haproxy: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "ReleaseCluster":
        config = self.workdir / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stderr=subprocess.DEVNULL)
        wait_for(lambda: self.socket_path.exists(), 10, "HAProxy start")
        self.wait_healthy("blue")
        return self

    def __exit__(self, *_: object) -> None:
        if self.haproxy:
            self.haproxy.terminate()
            self.haproxy.wait()

    def haproxy_config(self) -> str:
        header, value = self.test_header
        every = f"{CHECK_SECONDS}s"
        checks = f"check inter {every} fastinter {every} downinter {every} rise {HEALTHY} fall {UNHEALTHY}"
        rules = "".join(
            f"backend {rule}_rule\n    balance roundrobin\n"
            + "".join(
                f"    server {group} 127.0.0.1:{self.group_ports[group]} weight {100 if group == 'blue' else 0}\n"
                for group in GROUPS
            )
            for rule in RULES
        )
        groups = "".join(
            f"frontend {group}_group\n    bind 127.0.0.1:{self.group_ports[group]}\n    default_backend {group}\n"
            f"backend {group}\n    balance roundrobin\n    option httpchk GET {HEALTH_PATH}\n"
            f"    http-check expect status 200\n    default-server {checks}\n"
            + "".join(
                # The green group is empty until a release starts its tasks: no server, as no registered target.
                f"    server {group}{index} 127.0.0.1:{port}{' disabled' if group == 'green' else ''}\n"
                for index, port in enumerate(self.task_ports[group])
            )
            for group in GROUPS
        )
        return (
            alb_like_preamble(self.socket_path, CHECK_SECONDS)
            + f"""frontend web
    bind 127.0.0.1:{self.port}
    # The test rule comes first, like its lower priority number on the ALB; ALB header matching is case-insensitive.
    use_backend test_rule if {{ req.hdr({header}) -m str -i {value} }}
    default_backend production_rule
{rules}{groups}"""
        )

    def register(self, group: str) -> None:
        """ECS registers the new revision's tasks in the empty group: out of rotation until `rise` checks pass."""
        self.admin(
            "; ".join(
                f"set server {group}/{group}{index} state ready; set server {group}/{group}{index} health down"
                for index in range(self.replicas)
            )
        )

    def deregister(self, group: str) -> None:
        """After the bake (or a rollback) ECS deregisters the old revision's tasks: draining, then out."""
        servers = [f"{group}/{group}{index}" for index in range(self.replicas)]
        self.admin("; ".join(f"set server {server} state drain" for server in servers))
        wait_for(lambda: all(row["scur"] == "0" for row in self.stats(group).values()), 10, "draining")
        self.admin("; ".join(f"set server {server} state maint" for server in servers))

    def wait_healthy(self, group: str) -> None:
        expected = {f"{group}{index}" for index in range(self.replicas)}
        wait_for(
            lambda: {name for name, row in self.stats(group).items() if row["status"].startswith("UP")} >= expected,
            CHECK_SECONDS * (HEALTHY + 1) + 10,
            f"the {group} target group's health",
        )

    def shift(self, rule: str, new_percent: float, new: str = "green") -> None:
        """Rewrite a rule's weights as ECS does: `new_percent` to the new revision's group, the rest to the old."""
        old = "blue" if new == "green" else "green"
        weights = {new: round(new_percent), old: 100 - round(new_percent)}
        self.admin("; ".join(f"set weight {rule}_rule/{group} {weight}" for group, weight in weights.items()))

    def admin(self, command: str) -> str:
        return haproxy_admin(self.socket_path, command)

    def new_percent(self, rule: str = "production", new: str = "green") -> float:
        """The share of `rule`'s weight on the new revision's group, as HAProxy holds it now ("get weight")."""
        weights = {group: int(self.admin(f"get weight {rule}_rule/{group}").split()[0]) for group in GROUPS}
        return 100.0 * weights[new] / max(1, sum(weights.values()))

    def stats(self, proxy: str) -> dict[str, dict[str, str]]:
        """HAProxy's statistics rows of one proxy, by server name (BACKEND for the proxy's own totals)."""
        rows = haproxy_stats(self.socket_path)
        return {row["svname"]: row for row in rows if row["pxname"] == proxy}

    def served(self) -> dict[str, int]:
        """Responses each target group has sent so far (both rules together)."""
        return {group: int(self.stats(group)["BACKEND"]["hrsp_2xx"]) for group in GROUPS}

    def share_while(self, seconds: float, settle: float = 0.3) -> tuple[float, int]:
        """The new (green) group's share of the responses served during `seconds`, after `settle` for in-flight ones."""
        time.sleep(settle)
        before = self.served()
        time.sleep(max(0.0, seconds - settle))
        after = self.served()
        blue, green = (after[group] - before[group] for group in GROUPS)
        return 100 * green / max(1, blue + green), blue + green


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def replica_behind(url: str, headers: dict[str, str]) -> str:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(json.load(response)["replica"])
