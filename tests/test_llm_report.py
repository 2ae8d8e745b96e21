"""scripts/llm_report.py: the figures it writes from `ragqa eval --llm --json` runs, the sample to judge by
hand and the count of judgements, on runs built from our own Answer and Citation types."""

from __future__ import annotations

import json
import subprocess
import sys

from app.schema import Answer, Citation, DroppedSentence
from scripts.llm_report import END, SAMPLE_SIZE, START, figures, kept_sentences, sample
from tests.conftest import ROOT


def citation(n: int) -> Citation:
    return Citation(n=n, doc_id=f"doc-{n}", title=f"Document {n}", quote=f"Quoted sentence {n}.", start=0, end=19)


def generated(i: int) -> dict:
    return Answer(question=f"Question {i}?", answer=f"The order was signed in May {2000 + i}. [1] It covers 12 "
                  "agencies. [1][2]", abstained=False, citations=[citation(1), citation(2)], mode="generative",
                  dropped=[DroppedSentence(text="It began in 1999 [1].", cited=[1], reason="missing: 1999")]).model_dump()


def run(answers: list[dict]) -> dict:
    summary = {"llm_unsupported_claim_rate": 0.0, "llm_fallback_rate": 0.25, "llm_citation_recall": 0.5,
               "llm_citation_precision": 0.75, "accuracy": 0.5, "latency_p50_ms": 12_300.0, "latency_p95_ms": 20_000.0}
    return {"summary": summary, "cases": [{"id": f"case-{i}", "passed": {}, "result": a} for i, a in enumerate(answers)]}


FALLBACK = Answer(question="q?", answer="Extractive quote. [1]", abstained=False, citations=[citation(1)],
                  note="Generation failed (cannot reach the LLM server); this is the extractive answer.").model_dump()
REFUSED = Answer(question="q?", answer="The corpus does not say.", abstained=True, mode="generative").model_dump()


def test_kept_sentences_are_read_with_their_citations():
    sentences = kept_sentences(generated(1))
    assert [text for text, _ in sentences] == ["The order was signed in May 2001.", "It covers 12 agencies."]
    assert [[c["n"] for c in cited] for _, cited in sentences] == [[1], [1, 2]]
    late_markers = Answer(question="q?", answer="Signed in May [1]. Covers 12 agencies [1][2].", abstained=False,
                          citations=[citation(1), citation(2)], mode="generative").model_dump()
    assert [text for text, _ in kept_sentences(late_markers)] == ["Signed in May.", "Covers 12 agencies."]
    assert kept_sentences(FALLBACK) == [] and kept_sentences(REFUSED) == []  # quotes and refusals are no sentences


def test_figures_count_kept_dropped_fallbacks_and_refusals():
    shown = figures(run([generated(1), generated(2), FALLBACK, REFUSED]))
    assert shown["generated sentences kept"] == "0.667 (4 of 6)"
    assert shown["fallback rate (the extractive answer shown)"] == "0.250 (1)"
    assert shown["fallbacks: nothing supported / generation failed"] == "0 / 1"
    assert shown["answers the model refused (abstained)"] == "0.250 (1)"
    assert shown["dropped sentences by reason"] == "missing 2"
    assert shown["latency per answer, p50 / p95 (s)"] == "12.3 / 20.0"
    assert figures(run([FALLBACK]))["generated sentences kept"] == "none written"


def test_sample_is_seeded_and_capped():
    many = run([generated(i) for i in range(40)])
    drawn = sample(many)
    assert len(drawn) == SAMPLE_SIZE and drawn == sample(many)
    assert len({(item["case"], item["sentence"]) for item in drawn}) == SAMPLE_SIZE
    assert len(sample(run([generated(1)]))) == 2  # fewer kept sentences than the sample: all of them


def test_report_writes_the_block_and_counts_judgements(tmp_path):
    readme, sample_file, runs = tmp_path / "README.md", tmp_path / "llm_sample.md", tmp_path / "wh.json"
    readme.write_text(f"before\n{START}\nold figures\n{END}\nafter\n")
    runs.write_text(json.dumps(run([generated(i) for i in range(3)])))
    script = [sys.executable, str(ROOT / "scripts" / "llm_report.py"), "--readme", str(readme), "--sample", str(sample_file)]
    done = subprocess.run(script + ["--run", f"whitehouse={runs}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old figures" not in text
    assert "| generated sentences kept | 0.667 (6 of 9) |" in text
    assert "6 kept sentences (all the run had, fewer than 30), not judged yet" in text
    judged = sample_file.read_text().replace("Judgement (yes/no): ", "Judgement (yes/no): yes", 4)
    sample_file.write_text(judged.replace("Judgement (yes/no): \n", "Judgement (yes/no): no\n"))
    assert subprocess.run(script + ["--judged"], capture_output=True, timeout=120).returncode == 0
    assert "of 6 kept sentences (all the run had, fewer than 30), 4 truly supported, 2 not." in readme.read_text()
    missing = subprocess.run(script + ["--run", f"whitehouse={runs}", "--sample-from", "coverage"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and "no such --run" in missing.stderr
