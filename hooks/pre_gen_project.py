"""Refuse invalid answers before anything is written, with the generated project's own rules.

The answers arrive as JSON data (never pasted into this source as code). The rules are those of
infra/validation.py in the template (located through local_extensions.py): the module the Pulumi program
runs at deploy time.
"""

import json
import sys
from pathlib import Path

# Jinja's tojson escapes quotes, so no answer can close this raw string.
HOOK_INPUT = json.loads(r"""{"answers": {{ cookiecutter | tojson }}, "template_dir": {{ template_dir | tojson }}}""")
ANSWERS = HOOK_INPUT["answers"]
PROJECT_TEMPLATE = Path(HOOK_INPUT["template_dir"]) / "{% raw %}{{cookiecutter.project_slug}}{% endraw %}"
sys.path.insert(0, str(PROJECT_TEMPLATE))
sys.dont_write_bytecode = True  # a .pyc inside the template would be rendered into every project

from infra.validation import check_answers  # noqa: E402

errors = check_answers(ANSWERS)
for error in errors:
    print(f"error: {error}", file=sys.stderr)
if errors:
    print("Nothing was generated. Run cookiecutter again with these answers fixed.", file=sys.stderr)
    sys.exit(1)
