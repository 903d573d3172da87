"""Install requirements into this venv with uv, from the registries pip is configured with.

uv reads neither pip.conf nor PIP_* variables (https://docs.astral.sh/uv/pip/compatibility/): on a machine whose pip
is pointed at a mirror, a wheel folder, a constraints file or a company CA, plain `uv pip install` would look
elsewhere. `pip config list` prints pip's settings from every config file and PIP_* variable; the ones that say
where packages come from become uv's flags. On a machine without pip settings (GitHub Actions) uv uses PyPI, as pip
would. Usage (the Makefile): .venv/bin/python scripts/install.py -r requirements-dev.txt
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

# pip setting -> uv flag, given once per value (pip's values are space- or newline-separated lists)
FLAGS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraints",
    "trusted-host": "--allow-insecure-host",
}
# pip setting -> the environment variables uv reads for it
ENVIRONMENT = {
    "cert": ["SSL_CERT_FILE"],
    "proxy": ["HTTPS_PROXY", "HTTP_PROXY"],
    "timeout": ["UV_HTTP_TIMEOUT"],
    "default-timeout": ["UV_HTTP_TIMEOUT"],
}


def pip_settings() -> dict[str, str]:
    """pip's settings by name: PIP_* variables (listed as `:env:.name`) override its config files, as in pip."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line.partition("=") for line in listed.splitlines()]
    settings: dict[str, str] = {}
    # pip's own order of the listing differs by version, so the variables go last here explicitly.
    for key, _, value in sorted(lines, key=lambda line: line[0].startswith(":env:")):
        settings[key.rpartition(".")[2]] = str(ast.literal_eval(value))
    return settings


def uv_flags(settings: dict[str, str]) -> list[str]:
    flags = ["--index-strategy", "unsafe-best-match"]  # as pip does: the best version found on any index
    for name, flag in FLAGS.items():
        for value in settings.get(name, "").split():
            flags += [flag, value]
    if settings.get("no-index", "").lower() in {"1", "true", "yes", "on"}:
        flags.append("--no-index")
    return flags


def uv_environment(settings: dict[str, str]) -> dict[str, str]:
    return {
        variable: settings[name]
        for name, variables in ENVIRONMENT.items()
        if name in settings
        for variable in variables
    }


def main() -> None:
    settings = pip_settings()
    uv = Path(sys.executable).parent / "uv"
    command = [str(uv), "pip", "install", "--quiet", "--python", sys.executable, *uv_flags(settings), *sys.argv[1:]]
    sys.exit(subprocess.run(command, check=False, env={**os.environ, **uv_environment(settings)}).returncode)


if __name__ == "__main__":
    main()
