"""Time the whole suite as CI runs it: a clean clone, `CI=true bash .ci/run`, with fresh package caches.

Prints the venv step and the pytest step apart, the CPU time of every process they ran (the floor for the wall time
on this many cores), the slowest tests (pytest --durations) and the result line.
The clone is of this repository's HEAD (commit first). Usage: .venv/bin/python bench/suite.py [--durations 15]
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-5000:]}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--durations", type=int, default=15, help="how many of the slowest tests to list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(TEMPLATE), str(clone)], check=True)
        env = {
            **os.environ,
            "CI": "true",
            # A fresh machine: nothing downloaded before, for uv or pip (here and in the README path test).
            "UV_CACHE_DIR": f"{scratch}/uv-cache",
            "PIP_CACHE_DIR": f"{scratch}/pip-cache",
            "PYTEST_ADDOPTS": f"--durations={args.durations}",
        }
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        venv_seconds, _ = timed(["make", "install"], clone, env)
        # .ci/run: the system packages are there already (it checks), then `make test`, which now runs only pytest.
        suite_seconds, output = timed(["bash", ".ci/run"], clone, env)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(cpu_after, field) - getattr(cpu_before, field) for field in ("ru_utime", "ru_stime"))

    print(f"clean clone, CI=true bash .ci/run, on {os.cpu_count()} cores")
    print(f"venv (make install):  {venv_seconds:6.1f} s")
    print(f"pytest (make test):   {suite_seconds:6.1f} s")
    print(f"total:                {venv_seconds + suite_seconds:6.1f} s")
    cores = os.cpu_count() or 1
    floor = cpu / cores
    print(
        f"CPU, every process:   {cpu:6.1f} s (user + system: on {cores} cores the wall time is {floor:.1f} s at least)"
    )
    durations = re.findall(r"^(\d+\.\d+)s (call|setup|teardown) +(\S+)$", output, re.MULTILINE)
    print(f"\nslowest {len(durations)} steps:")
    for seconds, phase, test in durations:
        print(f"{float(seconds):7.1f} s  {phase:8} {test}")
    print("\n" + output.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
