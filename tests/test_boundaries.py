"""Every validation rule at its edges, at generation: accepted just inside, refused just outside naming the field."""

import pytest
from conftest import menus, project_module, refused_by_cookiecutter

boundaries = project_module("tests/boundaries.py")


@pytest.mark.parametrize("case", boundaries.GENERATION_CASES, ids=[case.id for case in boundaries.GENERATION_CASES])
def test_rule_edge_at_generation(cookies, capfd: pytest.CaptureFixture[str], case) -> None:
    result = cookies.bake(extra_context=case.answers)
    errors = [
        line.removeprefix("error: ") for line in capfd.readouterr().err.splitlines() if line.startswith("error: ")
    ]
    if case.accepted:
        assert result.exit_code == 0, errors
    else:
        assert result.exit_code != 0
        assert result.project_path is None or not result.project_path.exists()
        if case.field in menus():
            assert refused_by_cookiecutter(case.field, result.exception), result.exception
        else:
            assert errors and errors[0].startswith(f"{case.field}="), errors
