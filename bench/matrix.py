"""Time the variant matrix: baking alone, then the answer-dependent checks each variant gets, and the whole suite.

Per variant, one after the other on one core: the bake alone, then the checks tests/test_variants.py runs on it
(tests/rendered.py: the same function, in this process as there). The ratio says what the checks cost against
cookiecutter's own work. The first variant also pays for importing the Pulumi program once (as each test worker
does), so it is reported apart. Then, unless --no-suite, the whole suite (`pytest`, as `make test` runs it) is timed.
Usage: .venv/bin/python bench/matrix.py [--only SUBSTRING] [--no-suite]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE / "tests"))
from rendered import check_variant  # noqa: E402
from variants import VARIANTS  # noqa: E402


def bake(answers: dict[str, object], output: Path) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="time only the variants whose id contains this")
    parser.add_argument("--no-suite", action="store_true", help="do not time the whole suite")
    args = parser.parse_args()
    variants = {name: answers for name, answers in VARIANTS.items() if args.only in name}
    bake_seconds: dict[str, float] = {}
    check_seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, answers) in enumerate(variants.items()):
            started = time.perf_counter()
            project = bake(answers, Path(scratch) / str(index))
            bake_seconds[name] = time.perf_counter() - started
            started = time.perf_counter()
            check_variant(project, answers)
            check_seconds[name] = time.perf_counter() - started

    width = max(len(name) for name in variants)
    print(f"{'variant':<{width}}  bake s  checks s  ratio")
    for name in variants:
        ratio = check_seconds[name] / bake_seconds[name]
        print(f"{name:<{width}}  {bake_seconds[name]:6.2f}  {check_seconds[name]:8.2f}  {ratio:4.1f}x")
    first, *rest = variants
    count, bake_total = len(rest), sum(bake_seconds[name] for name in rest)
    check_total = sum(check_seconds[name] for name in rest)
    print(f"\nfirst variant ({first}), importing the program once: checks {check_seconds[first]:.2f} s")
    if rest:
        print(
            f"the other {count}: bake alone {bake_total / count:.2f} s, checks {check_total / count:.2f} s per variant"
        )
        print(f"ratio (checks / bake alone): {check_total / bake_total:.1f}x")
    if not args.no_suite:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=TEMPLATE, capture_output=True, text=True)
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
        print(f"whole suite (pytest, three workers): {time.perf_counter() - started:.1f} s: {summary}")


if __name__ == "__main__":
    main()
