"""Print the monthly cost estimate of a stack's current config: python scripts/cost.py STACK (or `make cost`)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.cost import markdown  # noqa: E402
from infra.stack_file import stack_file_settings  # noqa: E402


def main() -> None:
    print(markdown(stack_file_settings(sys.argv[1])))


if __name__ == "__main__":
    main()
