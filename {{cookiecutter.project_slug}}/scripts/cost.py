"""Print the monthly cost estimate of a stack's current config: python scripts/cost.py STACK (or `make cost`)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.cost import markdown  # noqa: E402
from infra.stack_file import read_stack_file, stack_file_settings  # noqa: E402
from infra.validation import InvalidSettings  # noqa: E402


def main() -> None:
    stack = sys.argv[1]
    try:
        settings = stack_file_settings(stack)
    except InvalidSettings as invalid:
        sys.exit("\n".join(["invalid stack config:", *invalid.errors]))
    print(markdown(settings))
    if secure := read_stack_file(stack).secure_settings():
        print(f"\n(secure in the stack file, so estimated at their defaults: {', '.join(secure)})")


if __name__ == "__main__":
    main()
