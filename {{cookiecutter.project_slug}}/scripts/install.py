"""Install requirements into this venv with uv, from the registries pip is configured with.

uv reads neither pip.conf nor PIP_* variables (https://docs.astral.sh/uv/pip/compatibility/): on a machine whose pip
is pointed at a mirror, a wheel folder, a constraints file or a company CA, plain `uv pip install` would look
elsewhere. `pip config list` prints pip's settings from every config file and PIP_* variable; the ones `pip install`
reads that say where packages come from become uv's environment variables (not flags: an index URL may carry a
password, and a command line is visible to every user of the machine). On a machine without pip settings (GitHub
Actions) uv uses PyPI, as pip would. Usage (the Makefile): .venv/bin/python scripts/install.py -r requirements-dev.txt
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

# The sections of pip's settings that `pip install` reads, each overriding the one before (PIP_* variables last).
SECTIONS = ("global", "install", ":env:")
# pip setting -> the uv variable for it, and how uv separates the values of a list (pip: spaces or newlines)
VARIABLES = {
    "index-url": ("UV_INDEX_URL", " "),
    "extra-index-url": ("UV_EXTRA_INDEX_URL", " "),
    "find-links": ("UV_FIND_LINKS", ","),
    "constraint": ("UV_CONSTRAINT", " "),
    "trusted-host": ("UV_INSECURE_HOST", " "),
    "cert": ("SSL_CERT_FILE", " "),
    "proxy": ("HTTPS_PROXY", " "),
    "timeout": ("UV_HTTP_TIMEOUT", " "),
    "default-timeout": ("UV_HTTP_TIMEOUT", " "),
}


def parse_settings(listed: str) -> dict[str, str]:
    """`pip config list` output (`section.name='value'` lines) -> the values `pip install` uses, by name."""
    found: dict[tuple[str, str], str] = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        section, _, name = key.rpartition(".")
        found[section, name] = str(ast.literal_eval(value))
    return {name: value for section in SECTIONS for (where, name), value in found.items() if where == section}


def pip_settings() -> dict[str, str]:
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    return parse_settings(listed)


def uv_environment(settings: dict[str, str]) -> dict[str, str]:
    environment = {"UV_INDEX_STRATEGY": "unsafe-best-match"}  # as pip does: the best version found on any index
    for name, (variable, separator) in VARIABLES.items():
        if name in settings:
            environment[variable] = separator.join(settings[name].split())
    if "HTTPS_PROXY" in environment:
        environment["HTTP_PROXY"] = environment["HTTPS_PROXY"]
    return environment


def uv_flags(settings: dict[str, str]) -> list[str]:
    """The one setting uv takes only as a flag (it holds no secret)."""
    return ["--no-index"] if settings.get("no-index", "").lower() in {"1", "true", "yes", "on"} else []


def main() -> None:
    settings = pip_settings()
    uv = Path(sys.executable).parent / "uv"
    command = [str(uv), "pip", "install", "--quiet", "--python", sys.executable, *uv_flags(settings), *sys.argv[1:]]
    environment = {**os.environ, **uv_environment(settings)}
    sys.exit(subprocess.run(command, check=False, env=environment).returncode)


if __name__ == "__main__":
    main()
