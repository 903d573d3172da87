"""Write the monthly cost estimate, the cost of an acceptance run and the modelled release times of the chosen
settings into the generated README.

Runs inside the generated project and uses its own infra/cost.py (the code `make cost` runs later) and infra/timing.py.
"""

import json
import sys
from pathlib import Path

# Jinja's tojson escapes quotes, so no answer can close this raw string.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
MARKER = "<!-- cost estimate -->"
RELEASE_MARKER = "<!-- release times -->"
ACCEPTANCE_MARKER = "<!-- acceptance cost -->"
sys.path.insert(0, str(Path.cwd()))
if not sys.pycache_prefix:  # no __pycache__ left in the new project
    sys.dont_write_bytecode = True

from infra.cost import acceptance_markdown, markdown  # noqa: E402
from infra.timing import release_markdown  # noqa: E402
from infra.validation import parse_settings  # noqa: E402

settings = parse_settings(ANSWERS)
readme = Path("README.md")
text = readme.read_text().replace(MARKER, markdown(settings))
text = text.replace(RELEASE_MARKER, release_markdown(settings))
readme.write_text(text.replace(ACCEPTANCE_MARKER, acceptance_markdown(settings)))
