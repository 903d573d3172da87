"""Every variant of tests/variants.py: its rendered files parse and lint, and its own stack file deploys under mocks.

Only what the answers change is checked per variant (tests/rendered.py): its `.py` files are the template's, byte
for byte, so the type check, lint and full generated suite of tests/test_default_project.py (run on the defaults and
on everything-on) hold for every variant's code. Adding a variant to tests/variants.py adds one test here.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from rendered import check_variant
from variants import VARIANTS


@pytest.mark.parametrize("name", VARIANTS, ids=VARIANTS)
def test_variant_renders_valid_files_and_deploys_its_stack_file(
    variant_project: Callable[[str], Path], name: str
) -> None:
    check_variant(variant_project(name), VARIANTS[name])
