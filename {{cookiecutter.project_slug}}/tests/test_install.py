"""scripts/install.py (`make install`): uv installs from where pip is configured to, since uv reads no pip settings."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import install

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def test_the_sections_pip_install_reads_override_in_pips_order() -> None:
    listed = (
        "global.index-url='https://global.example/simple'\n"
        "global.find-links='/global-wheels'\n"
        "install.index-url='https://install.example/simple'\n"
        "wheel.index-url='https://wheel-only.example/simple'\n"
        "list.find-links='/list-only'\n"
        ":env:.find-links='/from-variable'\n"
    )
    assert install.parse_settings(listed) == {
        "index-url": "https://install.example/simple",
        "find-links": "/from-variable",
    }


def test_every_setting_becomes_uv_variables_and_no_secret_reaches_the_command_line() -> None:
    settings = {
        "index-url": "https://user:secret@mirror.example/simple",
        "extra-index-url": "file:///a/simple\nfile:///b/simple",
        "find-links": "/wheels /more-wheels",
        "constraint": "/etc/constraints.txt",
        "trusted-host": "mirror.example other.example",
        "cert": "/etc/ca.pem",
        "proxy": "http://proxy.example:3128",
        "timeout": "60",
    }
    assert install.uv_environment(settings) == {
        "UV_INDEX_STRATEGY": "unsafe-best-match",
        "UV_INDEX_URL": "https://user:secret@mirror.example/simple",
        "UV_EXTRA_INDEX_URL": "file:///a/simple file:///b/simple",
        "UV_FIND_LINKS": "/wheels,/more-wheels",
        "UV_CONSTRAINT": "/etc/constraints.txt",
        "UV_INSECURE_HOST": "mirror.example other.example",
        "SSL_CERT_FILE": "/etc/ca.pem",
        "HTTPS_PROXY": "http://proxy.example:3128",
        "HTTP_PROXY": "http://proxy.example:3128",
        "UV_HTTP_TIMEOUT": "60",
    }
    assert install.uv_flags(settings) == []
    assert install.uv_flags({"no-index": "true"}) == ["--no-index"]


def test_without_pip_settings_uv_gets_only_pips_index_strategy() -> None:
    assert install.uv_environment({}) == {"UV_INDEX_STRATEGY": "unsafe-best-match"}
    assert install.uv_flags({}) == []


def test_pips_own_listing_of_its_variables_is_read() -> None:
    """Through `pip config list` itself, with no config file (os.devnull: pip then reads none) and PIP_* variables."""
    variables = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env = {
        **variables,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": "https://mirror.example/simple",
        "PIP_FIND_LINKS": "/wheels",
        "PYTHONPATH": str(SCRIPTS),
    }
    listed = subprocess.run(
        [sys.executable, "-c", "import install; print(install.pip_settings())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ast.literal_eval(listed) == {
        "config-file": os.devnull,  # PIP_CONFIG_FILE is listed too; no uv variable reads it
        "index-url": "https://mirror.example/simple",
        "find-links": "/wheels",
    }
