"""The README's Figures section: every figure comes from a bench you can rerun, and the modelled ones are current."""

import importlib.util
import re

from conftest import TEMPLATE


def figures_section() -> str:
    readme = (TEMPLATE / "README.md").read_text()
    return readme.split("### Figures", 1)[1].split("\n#", 1)[0]


def test_every_figure_names_the_bench_that_prints_it() -> None:
    bullets = re.findall(r"^- (.*?)(?=^- |\Z)", figures_section(), re.MULTILINE | re.DOTALL)
    assert bullets
    for bullet in bullets:
        bench = re.match(r"`(bench/\w+\.py)[` ]", bullet)
        assert bench, f"this figure does not start with the bench that prints it: {bullet[:80]}"
        assert (TEMPLATE / bench[1]).is_file(), bench[1]


def test_readme_quotes_the_deploy_model_as_it_prints_today() -> None:
    spec = importlib.util.spec_from_file_location("deploy_model", TEMPLATE / "bench" / "deploy_model.py")
    assert spec and spec.loader
    deploy_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(deploy_model)
    assert deploy_model.readme_sentence() in " ".join(figures_section().split())


def test_no_merge_conflict_is_left_in_the_docs() -> None:
    marker = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)
    documents = [TEMPLATE / "README.md", *sorted((TEMPLATE / "docs").glob("*.md"))]
    assert [str(path.relative_to(TEMPLATE)) for path in documents if marker.search(path.read_text())] == []
