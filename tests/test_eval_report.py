"""scripts/eval_report.py: README's table of the eval sets is the one counted from the case files, and a
written block replaces only what stands between its markers."""

from __future__ import annotations

import json

from app.eval_sets import EvalSet, composition
from scripts.eval_report import SETS_END, SETS_START, read_block, replace_block, sets_table
from tests.conftest import ROOT


def test_readme_holds_the_sets_table_counted_from_the_case_files():
    # Fails when cases are added or moved without `scripts/eval_report.py --sets-only`: the counts are never typed
    assert read_block(ROOT / "README.md", SETS_START, SETS_END) == sets_table()


def test_composition_counts_cases_cited_documents_and_the_listing(tmp_path, monkeypatch):
    monkeypatch.setattr("app.eval_sets.EVAL", tmp_path)
    (tmp_path / "sample").mkdir()
    cases = {"dev": [("a", ["doc/one"], True), ("b", ["doc/one", "doc/two"], True), ("c", [], False)],
             "test": [("d", ["doc/three"], True)]}
    for split, rows in cases.items():
        (tmp_path / "sample" / f"{split}.jsonl").write_text("".join(
            json.dumps({"id": i, "question": "What?", "expect": ["x"] if answerable else [], "sources": sources,
                        "answerable": answerable}) + "\n" for i, sources, answerable in rows))
    listing = tmp_path / "documents.tsv"
    listing.write_text("doc/one\tdev\ndoc/two\tdev\ndoc/three\ttest\ndoc/four\tdistractor\n")
    found = composition(EvalSet("sample", tmp_path, listing))
    assert (found.documents, found.distractors, found.unanswerable) == (4, 1, 1)
    assert found.cases == {"dev": 3, "test": 1} and found.case_documents == {"dev": 2, "test": 1}


def test_a_block_is_replaced_between_its_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{SETS_START}\nold table\n{SETS_END}\nafter\n")
    replace_block(readme, SETS_START, SETS_END, "new table")
    assert readme.read_text() == f"before\n{SETS_START}\nnew table\n{SETS_END}\nafter\n"
    assert read_block(readme, SETS_START, SETS_END) == "new table"
