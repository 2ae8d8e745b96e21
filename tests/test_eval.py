"""The eval suite: the gates over the test splits of both eval sets, the sets' design, the scoring
itself, and the command."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import evaluate as ev
from app.errors import RagqaError
from app.eval_sets import SPLITS, eval_sets, listed_documents

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = ROOT / "eval" / "thresholds.toml"
SETS = eval_sets()


@pytest.fixture(scope="module")
def cases():
    """Every coverage case (both splits), for the tests of the scoring and the command."""
    return [case for path in SETS["coverage"].case_files() for case in ev.load_cases(path)]


def test_gate_holds_on_the_coverage_test_split(assistant):
    summary = ev.summarize(ev.run_cases(assistant, ev.load_cases(SETS["coverage"].cases("test")), "hybrid"))
    failures = ev.gate_failures(summary, ev.load_thresholds(THRESHOLDS, "coverage"))
    assert failures == [], f"{failures}\n{ev.format_table({'hybrid': summary})}"


def test_gate_holds_on_the_whitehouse_test_split(whitehouse_assistant):
    summary = ev.summarize(ev.run_cases(whitehouse_assistant, ev.load_cases(SETS["whitehouse"].cases("test")), "hybrid"))
    failures = ev.gate_failures(summary, ev.load_thresholds(THRESHOLDS, "whitehouse"))
    assert failures == [], f"{failures}\n{ev.format_table({'hybrid': summary})}"


def test_whitehouse_cases_are_many_split_by_document_and_from_the_allowed_folders():
    listing = dict(listed_documents(SETS["whitehouse"].listing))
    splits = {split: ev.load_cases(SETS["whitehouse"].cases(split)) for split in SPLITS}
    every = [case for cases in splits.values() for case in cases]
    cited = {doc for case in every for doc in case.sources}
    assert len(every) >= 300 and len(cited) >= 150
    assert sum(not case.answerable for case in every) >= 0.2 * len(every)
    assert all(doc.split("/")[0] in ("presidential-actions", "articles") for doc in cited)
    for split, cases in splits.items():  # a document's cases are all in its own split
        assert {listing[case.sources[0]] for case in cases if case.sources} == {split}
    assert sum(role == "distractor" for role in listing.values()) >= 500


def test_coverage_cases_are_split_by_document():
    """A case belongs to its first source (others are alternatives that state the same fact)."""
    dev, test = (ev.load_cases(SETS["coverage"].cases(split)) for split in SPLITS)
    assert not {c.sources[0] for c in dev if c.sources} & {c.sources[0] for c in test if c.sources}
    assert len(test) >= 40 and sum(not c.answerable for c in test) >= 8


def test_thresholds_are_read_per_eval_set(tmp_path):
    assert ev.load_thresholds(THRESHOLDS, "whitehouse")["minimums"]["quotes_without_markup"] == 1.0
    with pytest.raises(RagqaError, match="no thresholds"):
        ev.load_thresholds(THRESHOLDS)


def test_quotes_with_markup_are_counted():
    results = [case_result("In May. [1]", ["doc-a"])]
    results[0].answer["citations"][0]["quote"] = "In [May](https://example.com/2025/05) it said"
    assert ev.summarize(results)["quotes_without_markup"] == 0.0
    results[0].answer["citations"][0]["quote"] = "In May it said"
    assert ev.summarize(results)["quotes_without_markup"] == 1.0


def test_gate_fails_when_retrieval_is_broken(assistant, cases, monkeypatch):
    """Swap in a retriever that returns the same off-topic passage for everything."""
    real = assistant.retriever.retrieve

    def off_topic(query, k, method="hybrid", filters=None):
        passages = real("National Security Memorandum War College students", k, method, filters)
        return [p for p in passages if p.doc_id.startswith("whitehouse-sullivan")][:k]

    monkeypatch.setattr(assistant.retriever, "retrieve", off_topic)
    summary = ev.summarize(ev.run_cases(assistant, cases[:30], "hybrid"))
    failures = ev.gate_failures(summary, ev.load_thresholds(THRESHOLDS, "coverage"))
    assert any(f.startswith("hit@5") for f in failures)
    assert any(f.startswith("accuracy") for f in failures)


def test_cases_file_meets_the_suite_design(cases):
    answerable = [c for c in cases if c.answerable]
    assert len(cases) >= 60
    assert len(cases) - len(answerable) >= 15


def case_result(answer_text, citations, sources=("doc-a",), answerable=True, retrieved=("doc-b", "doc-a")):
    case = ev.EvalCase(id="x", question="q?", answerable=answerable,
                       expect=["\\bMay\\b"] if answerable else [], sources=list(sources) if answerable else [])
    answer = {"answer": answer_text, "abstained": not citations,
              "citations": [{"doc_id": d, "quote": answer_text} for d in citations]}
    return ev.CaseResult(case, answer, list(retrieved), 0.01, [True] * len(citations))


def test_metrics_are_computed_as_documented():
    results = [
        case_result("In May. [1]", ["doc-a"]),                          # correct, gold at rank 2
        case_result("In June. [1]", ["doc-b"], retrieved=("doc-a",)),   # wrong answer, wrong citation
        case_result("does not say", [], answerable=False),             # right abstention
        case_result("In May. [1]", ["doc-c"], answerable=False),        # should have abstained
    ]
    summary = ev.summarize(results)
    assert summary["accuracy"] == 0.5
    assert summary["abstention_recall"] == 0.5
    assert summary["false_abstention"] == 0.0
    assert summary["hit@1"] == 0.5 and summary["hit@5"] == 1.0
    assert summary["mrr"] == pytest.approx((0.5 + 1.0) / 2)
    assert summary["citation_precision"] == pytest.approx(1 / 3)
    assert results[0].passed() == {"answer": True, "hit@1": False, "hit@5": True, "citations": True, "faithful": True}


@pytest.mark.parametrize("line, message", [
    ('{"id": "a", "question": "q"', "not a valid case"),
    ('{"id": "a", "question": "q", "answerable": true}', "needs `expect`"),
    ('{"id": "a", "question": "q", "expect": ["("], "sources": ["d"]}', "not a valid case"),
    ('{"id": "a", "question": "q", "answerable": false, "colour": 1}', "not a valid case"),
])
def test_bad_case_files_are_rejected_with_the_line(tmp_path, line, message):
    path = tmp_path / "cases.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(RagqaError, match=message) as problem:
        ev.load_cases(path)
    assert "cases.jsonl:1" in str(problem.value)


def test_limit_spreads_the_chosen_cases_over_the_file():
    cases = [ev.EvalCase(id=f"c{i}", question="q?", answerable=False) for i in range(10)]
    assert [c.id for c in ev.spread(cases, 4)] == ["c0", "c2", "c5", "c7"]
    assert ev.spread(cases, None) == cases and ev.spread(cases, 10) == cases and ev.spread(cases, 50) == cases
    with pytest.raises(RagqaError, match="at least 1"):
        ev.spread(cases, 0)


def test_duplicate_ids_are_rejected(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "question": "q", "answerable": false}\n' * 2)
    with pytest.raises(RagqaError, match="duplicate"):
        ev.load_cases(path)


def test_eval_command_all_retrievers_json_report_and_distractors(coverage_settings, cases, tmp_path):
    small = tmp_path / "small.jsonl"
    picked = [c for c in cases if c.answerable][:3] + [c for c in cases if not c.answerable][:2]
    small.write_text("".join(c.model_dump_json() + "\n" for c in picked))
    distractors = tmp_path / "distractors"
    distractors.mkdir()
    for i in range(3):
        (distractors / f"other-{i}.md").write_text(f"---\ntitle: Other {i}\n---\nThe President signed a proclamation on trade {i}.")
    env = {**os.environ, "RAGQA_INDEX_DIR": str(coverage_settings.index_dir), "RAGQA_CORPUS_DIR": str(coverage_settings.corpus_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", "--cases", str(small), "--retriever", "all",
         "--json", str(tmp_path / "out.json"), "--report", str(tmp_path / "out.md"), "--distractors", str(distractors)],
        capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    header = done.stdout.splitlines()[0].split()
    assert header[:4] == ["metric", "dense", "bm25", "hybrid"] and "hybrid+distractors" in header
    assert done.stdout.strip().splitlines()[-1].startswith("eval[hybrid]: accuracy=")
    written = json.loads((tmp_path / "out.json").read_text())
    assert len(written["cases"]) == 5 and {"summary", "cases", "runs"} <= set(written)
    assert set(written["cases"][0]) == {"id", "passed", "result"}
    assert "| hit@5 |" in (tmp_path / "out.md").read_text()
    shutil.rmtree(ev.distractor_settings(coverage_settings).index_dir)


def test_eval_command_exits_non_zero_below_thresholds(coverage_settings, cases, tmp_path):
    small = tmp_path / "small.jsonl"
    small.write_text("".join(c.model_dump_json() + "\n" for c in cases[:2]))
    strict = tmp_path / "strict.toml"
    strict.write_text("[minimums]\naccuracy = 1.01\n")
    env = {**os.environ, "RAGQA_INDEX_DIR": str(coverage_settings.index_dir)}
    done = subprocess.run([sys.executable, "-m", "app.cli", "eval", "--cases", str(small), "--thresholds", str(strict)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1
    assert "below threshold: accuracy" in done.stderr
