"""bench/mutants.py still applies: every line it mutates is in the generated program exactly once.

The mutation check itself bakes and runs the generated tests once per mutant (`make mutants`, about 3 minutes);
this keeps its list in step with the code, so a refactor that moves one of those lines fails here and updates it.
"""

import importlib.util
import sys

import pytest
from conftest import PROJECT_TEMPLATE, TEMPLATE

spec = importlib.util.spec_from_file_location("mutants", TEMPLATE / "bench" / "mutants.py")
assert spec and spec.loader
mutants = importlib.util.module_from_spec(spec)
sys.modules["mutants"] = mutants  # dataclasses look their module up while the file runs
spec.loader.exec_module(mutants)


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=[mutant.name for mutant in mutants.MUTANTS])
def test_mutated_line_is_in_the_program_once(mutant: "mutants.Mutant") -> None:
    lines = (PROJECT_TEMPLATE / mutant.path).read_text().splitlines()
    assert [line.strip() for line in lines].count(mutant.line) == 1, f"update bench/mutants.py: {mutant.name}"
    assert mutant.replacement != mutant.line
    assert all((PROJECT_TEMPLATE / test).is_file() for test in mutant.tests)
