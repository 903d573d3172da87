"""The generated app behind HAProxy under wrk load: throughput and p99 per replica, and what rollouts and crashes cost.

Baseline, measured in the same run: one replica served directly, without the load balancer.
Usage: .venv/bin/python bench/local_cluster.py [--replicas 3] [--seconds 10]   (needs haproxy and wrk)
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE / "tests"))
from cluster import INTERVAL, TIMEOUT, UNHEALTHY, Load, LocalCluster  # noqa: E402


def measure(url: str, seconds: int) -> tuple[float, float, int]:
    load = Load(url, pause_ms=None)
    time.sleep(seconds)
    result = load.stop()
    return result.requests_per_second, result.p99_ms, result.failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as output:
        app = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=output)) / "app"
        with LocalCluster(app, args.replicas) as cluster:
            direct_rate, direct_p99, _ = measure(f"http://127.0.0.1:{cluster.running()[0].port}/", args.seconds)
            rate, p99, steady_failures = measure(f"http://127.0.0.1:{cluster.port}/", args.seconds)

            load = Load(f"http://127.0.0.1:{cluster.port}/", pause_ms=None)
            started = time.monotonic()
            cluster.rolling_replace()
            rollout_seconds = time.monotonic() - started
            rollout = load.stop()

            load = Load(f"http://127.0.0.1:{cluster.port}/", pause_ms=None)
            time.sleep(1)
            detection = cluster.kill(cluster.running()[0])
            crash = load.stop()

    print(f"replicas: {args.replicas}, wrk 2 threads x 8 connections, {args.seconds} s per measurement")
    print(f"baseline, one replica direct:  {direct_rate:8.0f} req/s   p99 {direct_p99:6.2f} ms")
    print(
        f"through HAProxy, per replica:   {rate / args.replicas:8.0f} req/s   p99 {p99:6.2f} ms"
        f"   ({rate:.0f} req/s in all, {steady_failures} failed)"
    )
    print(f"per-replica throughput vs baseline: {rate / args.replicas / direct_rate:.2f}x, p99 {p99 / direct_p99:.2f}x")
    print(f"rolling replacement: {rollout.failures} failed of {rollout.requests} requests in {rollout_seconds:.1f} s")
    print(
        f"SIGKILL of one replica: marked down after {detection:.1f} s (model: {UNHEALTHY} x {INTERVAL} s = "
        f"{UNHEALTHY * INTERVAL} s, + {TIMEOUT} s check timeout at most); "
        f"{crash.failures} failed of {crash.requests} requests meanwhile"
    )


if __name__ == "__main__":
    main()
