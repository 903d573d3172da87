"""Refuse invalid answers before anything is written, with the generated project's own rules.

The answers arrive as JSON data (never pasted into this source), and the rules are those of
infra/validation.py in the template, the module the Pulumi program uses at deploy time.
"""

import json
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
PROJECT_TEMPLATE = Path(ANSWERS["_repo_dir"]) / "{% raw %}{{cookiecutter.project_slug}}{% endraw %}"
sys.path.insert(0, str(PROJECT_TEMPLATE))
sys.dont_write_bytecode = True  # a .pyc inside the template would be rendered into every project


from infra.validation import check_answers  # noqa: E402

errors = check_answers(ANSWERS)
for error in errors:
    print(f"error: {error}", file=sys.stderr)
if errors:
    print("Nothing was generated. Run cookiecutter again with these answers fixed.", file=sys.stderr)
    sys.exit(1)
