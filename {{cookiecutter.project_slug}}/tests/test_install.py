"""scripts/install.py (`make install`): uv installs from where pip is configured to, since uv reads no pip settings."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import install

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def test_pip_settings_from_its_config_file_and_variables_become_uv_flags(tmp_path: Path) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\nindex-url = https://mirror.example/simple\nextra-index-url =\n  file:///a/simple\n  file:///b/simple\n"
        "find-links = /from-file\ncert = /etc/ca.pem\nconstraint = /etc/constraints.txt\n"
    )
    variables = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    # A variable overrides the file, as in pip.
    env = {**variables, "PIP_CONFIG_FILE": str(config), "PIP_FIND_LINKS": "/wheels"}
    listed = subprocess.run(
        [sys.executable, "-c", "import install; print(install.pip_settings())"],
        cwd=SCRIPTS,
        env={**env, "PYTHONPATH": str(SCRIPTS)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    settings = ast.literal_eval(listed)
    assert install.uv_flags(settings) == [
        "--index-strategy",
        "unsafe-best-match",
        "--index-url",
        "https://mirror.example/simple",
        "--extra-index-url",
        "file:///a/simple",
        "--extra-index-url",
        "file:///b/simple",
        "--find-links",
        "/wheels",
        "--constraints",
        "/etc/constraints.txt",
    ]
    assert install.uv_environment(settings) == {"SSL_CERT_FILE": "/etc/ca.pem"}


def test_without_pip_settings_uv_gets_only_pips_index_strategy() -> None:
    assert install.uv_flags({}) == ["--index-strategy", "unsafe-best-match"]
    assert install.uv_environment({}) == {}
