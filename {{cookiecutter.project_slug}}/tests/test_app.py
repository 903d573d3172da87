"""The app, run for real as a process: what the load balancer and the users see."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parent.parent / "app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, timeout: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


@contextmanager
def running_app(**environment: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The app server on a free loopback port, ready to answer; stopped afterwards."""
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **environment}
    process = subprocess.Popen(
        [sys.executable, "server.py"], cwd=APP_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get_json(base + environment.get("HEALTH_CHECK_PATH", "/health"), timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"the app did not start: {process.communicate()[0]}") from None
                time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_root_names_the_replica_and_the_release_that_answered() -> None:
    with running_app(SERVICE_NAME="hello", RELEASE_LABEL="2") as (_, base):
        assert get_json(base + "/") == {"service": "hello", "replica": socket.gethostname(), "release": "2"}


def test_health_check_answers_on_the_configured_path() -> None:
    with running_app(HEALTH_CHECK_PATH="/ready") as (_, base):
        assert get_json(base + "/ready") == {"status": "ok"}


def test_health_check_path_with_a_query_string_answers() -> None:
    # The ALB sends the configured path verbatim, query string included; the route matches on the path part.
    with running_app(HEALTH_CHECK_PATH="/health?full=1") as (_, base):
        assert get_json(base + "/health?full=1") == {"status": "ok"}


def test_sigterm_finishes_in_flight_requests_then_exits() -> None:
    with running_app(GRACEFUL_SHUTDOWN_SECONDS="10") as (process, base):
        results: list[Any] = []
        slow = threading.Thread(target=lambda: results.append(get_json(base + "/?delay_ms=1500")))
        slow.start()
        time.sleep(0.5)  # the request is in flight (a margin for a loaded CI machine)
        process.send_signal(signal.SIGTERM)
        slow.join(timeout=10)
        # uvicorn exits by re-raising the SIGTERM it handled, once the in-flight request is answered.
        assert process.wait(timeout=10) == -signal.SIGTERM
        assert len(results) == 1
        assert results[0]["replica"] == socket.gethostname()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_sigterm_fails_the_health_check_at_once_and_keeps_serving_until_drained() -> None:
    """A Spot reclaim's SIGTERM can come while the load balancer still sends requests: keep answering them."""
    with running_app(SHUTDOWN_DRAIN_SECONDS="2", GRACEFUL_SHUTDOWN_SECONDS="5") as (process, base):
        assert status_of(base + "/health") == 200
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert status_of(base + "/health") == 503
        assert status_of(base + "/") == 200  # a request arriving during the drain is still served
        time.sleep(1)
        assert status_of(base + "/") == 200
        assert process.wait(timeout=10) == -signal.SIGTERM
        assert 2 <= time.monotonic() - sent < 5


def test_sigterm_stops_waiting_after_the_graceful_window() -> None:
    with running_app(GRACEFUL_SHUTDOWN_SECONDS="1") as (process, base):
        slow = threading.Thread(target=lambda: _ignore_errors(lambda: get_json(base + "/?delay_ms=5000")))
        slow.start()
        time.sleep(0.5)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        assert time.monotonic() - sent < 4, "the app must exit inside the container's stopTimeout"
        slow.join(timeout=10)


def _ignore_errors(call: Any) -> None:
    with suppress(OSError):
        call()


def test_logs_are_one_json_object_per_line() -> None:
    with running_app() as (process, base):
        get_json(base + "/")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert entries, "the app logged nothing"
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert not [entry for entry in entries if "trace_id" in entry]  # tracing is off: tests/test_tracing_app.py
    assert any('"GET / HTTP/1.1" 200' in entry["message"] for entry in entries)
