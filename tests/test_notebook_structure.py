"""Every chapter keeps the course's shape: titles, navigation that resolves, exercises, hidden solutions."""
import re
from pathlib import Path

import nbformat
import pytest

import sys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import nbtool  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def cells(path, kind=None):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if kind is None or c.cell_type == kind]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_has_number_and_the_articles_chinese_heading(path):
    first = cells(path)[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith(f"# {path.name[:2]} · ")
    assert CJK.search(first.source.splitlines()[0]), "the title keeps the article's Chinese heading"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_navigation_links_resolve(path):
    text = "\n".join(c.source for c in cells(path, "markdown"))
    links = re.findall(r"\]\(([^)#\s]+\.ipynb)", text)
    assert links, "a chapter has navigation links"
    for link in links:
        assert (path.parent / link).exists(), f"{path.name} links to missing {link}"
    assert "Contents" in cells(path)[0].source and "Contents" in cells(path)[-1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_have_hidden_solutions_and_self_checks(path):
    tagged = {}
    for c in cells(path, "code"):
        for tag in c.metadata.get("tags", []):
            tagged.setdefault(tag, []).append(c)
    minimum = 1 if path.name.startswith("00") else 2
    assert len(tagged.get("exercise", [])) >= minimum
    assert len(tagged.get("solution", [])) >= minimum
    assert len(tagged.get("self-check", [])) >= minimum
    for c in tagged["solution"]:
        assert c.metadata.get("jupyter", {}).get("source_hidden") is True


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_committed_traceback_and_nothing_left_running(path):
    code = cells(path, "code")
    for c in code:
        assert not any(o.output_type == "error" for o in c.outputs), "no committed tracebacks"
        assert "KeyboardInterrupt" not in str(c.outputs)
    assert "helpers.leftovers()" in code[-1].source


def test_clean_collapses_solutions_and_drops_noise():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.cells[0].metadata = {"tags": ["solution"], "execution": {"iopub.status.busy": "2026"}, "collapsed": False}
    nb.metadata["widgets"] = {"state": {}}
    nbtool.clean(nb)
    assert nb.cells[0].metadata == {"tags": ["solution"], "jupyter": {"source_hidden": True}}
    assert "widgets" not in nb.metadata
