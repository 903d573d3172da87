"""Time the variant matrix: baking alone, then baking plus everything the template tests run per variant.

Both are measured in this run, one variant after the other on one core, so the ratio says what the checks cost
against cookiecutter's own work. Usage: .venv/bin/python bench/matrix.py [--only SUBSTRING]
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
from variants import VARIANTS  # noqa: E402

BIN = Path(sys.executable).parent


def bake(answers: dict[str, object], output: Path) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output)))


def check(project: Path) -> None:
    """The tools tests/test_variants.py runs in each baked project (less its millisecond YAML and haproxy checks)."""
    workflows = [str(path) for path in (project / ".github/workflows").glob("*.yml")]
    for command in (
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "actionlint"), *workflows],
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
    ):
        subprocess.run(command, cwd=project, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="run only the variants whose id contains this")
    variants = {name: answers for name, answers in VARIANTS.items() if parser.parse_args().only in name}
    bake_seconds: dict[str, float] = {}
    full_seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, answers) in enumerate(variants.items()):
            started = time.perf_counter()
            bake(answers, Path(scratch) / f"bake-{index}")
            bake_seconds[name] = time.perf_counter() - started
        for index, (name, answers) in enumerate(variants.items()):
            started = time.perf_counter()
            check(bake(answers, Path(scratch) / f"full-{index}"))
            full_seconds[name] = time.perf_counter() - started

    width = max(len(name) for name in variants)
    print(f"{'variant':<{width}}  bake s  bake+checks s  ratio")
    for name in variants:
        ratio = full_seconds[name] / bake_seconds[name]
        print(f"{name:<{width}}  {bake_seconds[name]:6.2f}  {full_seconds[name]:13.2f}  {ratio:5.0f}x")
    count, bake_total, full_total = len(variants), sum(bake_seconds.values()), sum(full_seconds.values())
    print(f"\nvariants: {count}")
    print(f"bake alone:       total {bake_total:7.1f} s, {bake_total / count:6.2f} s per variant")
    print(f"bake plus checks: total {full_total:7.1f} s, {full_total / count:6.2f} s per variant")
    print(f"ratio (checks+bake / bake alone): {full_total / bake_total:.0f}x")


if __name__ == "__main__":
    main()
