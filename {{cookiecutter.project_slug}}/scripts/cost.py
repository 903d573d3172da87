"""Print the monthly cost estimate of a stack's current config: python scripts/cost.py STACK (or `make cost`)."""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.cost import markdown  # noqa: E402
from infra.validation import parse_settings  # noqa: E402


def main() -> None:
    stack = sys.argv[1]
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    settings = {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}
    print(markdown(parse_settings({**settings, "aws_region": config["aws:region"]})))


if __name__ == "__main__":
    main()
