"""Refuse invalid answers before anything is written, with the generated project's own rules, and give them back.

The answers arrive as JSON data (never pasted into this source as code). The rules are those of
infra/validation.py in the template (located through local_extensions.py): the module the Pulumi program
runs at deploy time. A refused run prints every answer as one command to paste once the bad ones are fixed, so
nobody types every answer twice.
"""

import json
import os
import re
import shlex
import sys
from pathlib import Path

# Jinja's tojson escapes quotes, so no answer can close this raw string.
HOOK_INPUT = json.loads(r"""{"answers": {{ cookiecutter | tojson }}, "template_dir": {{ template_dir | tojson }}}""")
ANSWERS = HOOK_INPUT["answers"]
TEMPLATE_DIR = Path(HOOK_INPUT["template_dir"])
PROJECT_TEMPLATE = TEMPLATE_DIR / "{% raw %}{{cookiecutter.project_slug}}{% endraw %}"
sys.path.insert(0, str(PROJECT_TEMPLATE))
if not sys.pycache_prefix:  # a .pyc inside the template would be rendered into every project
    sys.dont_write_bytecode = True

from infra.validation import check_answers  # noqa: E402

# The questions in the order they are asked (tojson above sorts the keys), with their raw defaults.
QUESTIONS = {
    key: value for key, value in json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text()).items() if key[0] != "_"
}
LINE_WIDTH = 100


def template_source() -> str:
    """The template as the user named it, when that name works from any folder; else its absolute path.

    For a local folder cookiecutter's `_repo_dir` is the very path typed (relative to a folder this hook does not
    know); for a git URL, a `gh:` abbreviation or a zip the name is resolved again by cookiecutter wherever it runs.
    """
    typed = str(ANSWERS["_template"])
    return str(TEMPLATE_DIR) if ANSWERS["_repo_dir"] == typed else typed


def where_to(output_dir: str) -> list[str]:
    """Options that make a command generate from the same template version into the same folder."""
    options = ["--checkout", str(ANSWERS["_checkout"])] if ANSWERS.get("_checkout") else []
    here = os.environ.get("PWD", "")  # the shell's folder: cookiecutter runs this hook inside the project folder
    if not here or os.path.realpath(here) != os.path.realpath(output_dir):
        options += ["--output-dir", output_dir]
    return options


def derived(key: str) -> bool:
    """An answer equal to the default cookiecutter computes from other answers (the slug from the name): left out of
    the command, so that fixing the name fixes the slug too."""
    raw = QUESTIONS[key]
    if not isinstance(raw, str):
        return False
    from jinja2 import Environment  # here, not at the top: an accepted run needs no Jinja (a tenth of a second)

    environment = Environment(extensions=["cookiecutter.extensions.SlugifyExtension"])
    computed = environment.from_string(raw).render(cookiecutter=ANSWERS)
    return computed != raw and computed == ANSWERS[key]


def answer(key: str) -> str:
    value = ANSWERS[key]
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"{key}={shlex.quote(text)}"


def wrapped(words: list[str], indent: str) -> list[str]:
    """Words in lines of about LINE_WIDTH characters (a long word gets a line of its own)."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= LINE_WIDTH:
            lines[-1] += " " + word
        else:
            lines.append(indent + word)
    return lines


def retry_command(errors: list[str]) -> str:
    """Every answer as one command for a POSIX shell, the refused ones at its end."""
    refused = {match[1] for match in map(re.compile(r"([a-z_]+)=").match, errors) if match}
    kept = [key for key in QUESTIONS if key not in refused and not derived(key)]
    to_fix = [key for key in QUESTIONS if key in refused]
    if "_repo_dir" not in ANSWERS:  # cruft runs cookiecutter's steps itself: no _repo_dir, _output_dir or replay file
        start = ["cruft", "create", "--no-input", *where_to(str(Path.cwd().parent)), str(ANSWERS["_template"])]
        answers = json.dumps({key: ANSWERS[key] for key in kept + to_fix}, indent=4)
        return f"  {shlex.join(start)} --extra-context {shlex.quote(answers)}"
    start = ["cookiecutter", "--no-input", *where_to(ANSWERS["_output_dir"]), template_source()]
    lines = [shlex.join(start), *wrapped(list(map(answer, kept)), "    "), "    " + " ".join(map(answer, to_fix))]
    return " \\\n".join(["  " + lines[0], *lines[1:]])


def replay_file() -> Path | None:
    """Cookiecutter's record of these answers, if it wrote one: it does so before any hook runs, in its replay_dir,
    named after the template's folder. With a --config-file this hook cannot see, it is not found: nothing is said."""
    from cookiecutter.config import get_user_config  # here, not at the top: an accepted run needs none of it
    from cookiecutter.exceptions import CookiecutterException

    try:
        replay_dir = Path(get_user_config()["replay_dir"])
    except (CookiecutterException, OSError):
        return None
    path = replay_dir / f"{TEMPLATE_DIR.name}.json"
    try:
        recorded = json.loads(path.read_text()).get("cookiecutter")
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict):
        return None
    same = all(recorded.get(key) == ANSWERS.get(key) for key in [*QUESTIONS, "_output_dir", "_template"])
    return path if same else None


errors = check_answers(ANSWERS)
for error in errors:
    print(f"error: {error}", file=sys.stderr)
if errors:
    print(
        "Nothing was generated. Your answers as one command: fix the ones at its end, then paste it.\n\n"
        + retry_command(errors)
        + "\n",
        file=sys.stderr,
    )
    replay = replay_file() if "_repo_dir" in ANSWERS else None
    if replay:
        again = ["cookiecutter", "--replay-file", str(replay), *where_to(ANSWERS["_output_dir"]), template_source()]
        print(f"Cookiecutter also saved them in {replay}; edited there, they run with:", file=sys.stderr)
        print("  " + shlex.join(again) + "\n", file=sys.stderr)
    sys.exit(1)
