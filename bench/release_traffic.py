"""Canary and linear releases on HAProxy under wrk load: the share of responses the new revision served at each step.

The schedule is the generated project's own (infra/timing.py), bake minutes run as seconds (--seconds-per-minute).
Usage: .venv/bin/python bench/release_traffic.py [--replicas 2] [--seconds-per-minute 3]   (needs haproxy and wrk)
"""

import argparse
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE / "tests"))
sys.path.insert(0, str(TEMPLATE / "{{cookiecutter.project_slug}}"))
if not sys.pycache_prefix:  # a .pyc inside the template would be rendered into every project
    sys.dont_write_bytecode = True
from cluster import Load  # noqa: E402
from infra.timing import traffic_schedule  # noqa: E402
from infra.validation import parse_settings  # noqa: E402
from release_cluster import ReleaseCluster, Revisions  # noqa: E402

RELEASES = {
    "canary": {"deployment_strategy": "canary", "canary_percent": 10, "canary_bake_minutes": 2},
    "linear": {"deployment_strategy": "linear", "linear_step_percent": 25, "linear_step_bake_minutes": 1},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--seconds-per-minute", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as output:
        app = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=output)) / "app"
        revisions = Revisions(app, args.replicas)
        try:
            for name, answers in RELEASES.items():
                settings = parse_settings({**answers, "deployment_bake_minutes": 1})
                with ReleaseCluster(revisions, settings.test_header) as cluster:
                    load = Load(f"http://127.0.0.1:{cluster.port}/", pause_ms=None)
                    cluster.register("green")
                    cluster.wait_healthy("green")
                    steps = []
                    for shift in traffic_schedule(settings):
                        cluster.shift("production", shift.new_percent)
                        share, served = cluster.share_while(shift.bake_minutes * args.seconds_per_minute)
                        steps.append(f"{shift.new_percent:g} % -> {share:.1f} % of {served}")
                    cluster.shift("production", 0)  # and a rollback at the end
                    rolled_back, served = cluster.share_while(args.seconds_per_minute)
                    result = load.stop()
                print(f"{name}: scheduled -> measured share of responses: {'; '.join(steps)}")
                print(f"  rollback: {rolled_back:.1f} % of {served}; {result.failures} failed of {result.requests}")
        finally:
            revisions.stop()


if __name__ == "__main__":
    main()
