"""Jinja extension for the hooks: the template's own folder, wherever cookiecutter was started from.

Cookiecutter's `_repo_dir` is the path as the user typed it (`.` or `../fargate-template`), relative to a working
directory the hook no longer has; this module's own location is absolute once resolved at import.
"""

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

TEMPLATE_DIR = Path(__file__).resolve().parent


class TemplateDirExtension(Extension):
    """Adds `template_dir`, the absolute path of this template, to the Jinja globals."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["template_dir"] = str(TEMPLATE_DIR)
