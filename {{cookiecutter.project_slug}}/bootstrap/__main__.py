"""The bootstrap Pulumi program (bootstrap/program.py), run by `make bootstrap` from this folder."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project: `infra` and `bootstrap` import from it

from bootstrap.program import main

main()
