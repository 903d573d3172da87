"""How often the keep-alive race answers 502: requests sent as the app closes an idle pooled connection.

Behind HAProxy configured like the ALB (idle target connections shared and kept for the idle timeout, no retries),
each of N lanes (its own backend, so its own pooled connection) sends a request, waits a gap, and sends another;
the gaps sweep across the app's keep-alive. Run once with uvicorn's old 5 s keep-alive and once with the stack's
(idle timeout + 5 s). The race is timing-dependent, so the counts vary from run to run; with the stack's keep-alive
they are 0, since the app never closes first. The test suite asserts the deterministic part instead
(tests/test_keep_alive.py).
Usage: .venv/bin/python bench/keep_alive_race.py [--lanes 60] [--runs 3]   (needs haproxy)
"""

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
APP_DIR = TEMPLATE / "{{cookiecutter.project_slug}}" / "app"
sys.path.insert(0, str(TEMPLATE / "tests"))
from cluster import Slot, alb_like_preamble, answers, free_port, wait_for  # noqa: E402
from conftest import project_module  # noqa: E402

OLD_KEEP_ALIVE = 5  # uvicorn's default
FIRST_GAP, STEP = 4.97, 0.002


def sweep(keep_alive: int, lanes: int, workdir: Path) -> int:
    """Failed second requests out of `lanes`, with the app's keep-alive set to `keep_alive` seconds."""
    idle = project_module("infra/validation.py").DEFAULTS["alb_idle_timeout_seconds"]
    app_port = free_port()
    ports = [free_port() for _ in range(lanes)]
    config = alb_like_preamble(workdir / f"admin-{keep_alive}.sock", connection_seconds=idle + 10)
    for lane, port in enumerate(ports):
        config += f"frontend f{lane}\n    bind 127.0.0.1:{port}\n    default_backend b{lane}\n"
        config += f"backend b{lane}\n    http-reuse always\n"
        config += f"    server t{lane} 127.0.0.1:{app_port} pool-purge-delay {idle}s\n"
    (workdir / "haproxy.cfg").write_text(config)
    environment = {**os.environ, "HOST": "127.0.0.1", "PORT": str(app_port), "KEEP_ALIVE_SECONDS": str(keep_alive)}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    app = subprocess.Popen([sys.executable, "server.py"], cwd=APP_DIR, env=environment, stdout=subprocess.DEVNULL)
    haproxy = None
    statuses: dict[int, int] = {}
    try:
        wait_for(lambda: answers(Slot("app", app_port)), 20, "app start")
        haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(workdir / "haproxy.cfg")], stderr=subprocess.DEVNULL)
        time.sleep(1)

        def lane(index: int) -> None:
            for gap in (0.0, FIRST_GAP + index * STEP):
                time.sleep(gap)
                client = http.client.HTTPConnection("127.0.0.1", ports[index], timeout=10)
                client.request("GET", "/")
                response = client.getresponse()
                response.read()
                statuses[index] = response.status

        threads = [threading.Thread(target=lane, args=(index,)) for index in range(lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        if haproxy:
            haproxy.terminate()
            haproxy.wait()
        app.terminate()
        app.wait()
    return sum(status != 200 for status in statuses.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lanes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    stack_keep_alive = project_module("infra/validation.py").parse_settings({}).app_keep_alive_seconds
    workdir = Path(tempfile.mkdtemp(prefix="keepalive-race-"))
    last = FIRST_GAP + (args.lanes - 1) * STEP
    print(f"{args.lanes} lanes, second request {FIRST_GAP:.3f}..{last:.3f} s after the first, {args.runs} runs")
    for keep_alive in (OLD_KEEP_ALIVE, stack_keep_alive):
        failures = [sweep(keep_alive, args.lanes, workdir) for _ in range(args.runs)]
        print(f"app keep-alive {keep_alive} s: failed requests per run {failures}")


if __name__ == "__main__":
    main()
