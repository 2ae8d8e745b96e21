"""The eval suite: known facts (question, expected answer patterns, gold sources) scored end to end.

Metrics (answerable / unanswerable per ARCHITECTURE.md's case format):
- accuracy: answerable cases that did not abstain and whose answer matches every `expect` pattern;
- abstention_recall: unanswerable cases that abstained; false_abstention: answerable ones that did;
- hit@1, hit@5, mrr: rank of the first retrieved passage from a gold source (answerable cases);
- citation_precision: citations whose document is a gold source of an answerable case;
- citation_faithfulness: citations whose quote is verbatim in the cited document at start:end;
- quotes_without_markup: citations whose quote holds no markup (Markdown links or emphasis, HTML
  tags, URLs): documents are quoted by their readable text (app.readable);
- latency_p50_ms, latency_p95_ms: wall time of `ask` per question.
With an LLM configured (`ragqa eval --llm`), the citation metrics of app.evaluate_llm are added.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError, model_validator

from app.errors import RagqaError
from app.evaluate_llm import METRICS as LLM_METRICS

HEADLINE = ("accuracy", "abstention_recall", "false_abstention", "hit@5", "citation_precision", "citation_faithfulness",
            "quotes_without_markup")
# what a reader's text never holds: Markdown links, emphasis and headings, HTML tags, URLs, code marks
MARKUP = re.compile(r"\]\(|\*\*|__\w|</?[A-Za-z][^<>]*>|https?://|\bwww\.|^\s*#{1,6}\s|`", re.M)
LOWER_IS_BETTER = {"false_abstention", "latency_p50_ms", "latency_p95_ms"}


class EvalCase(BaseModel, extra="forbid"):
    id: str
    question: str
    answerable: bool = True
    expect: list[str] = []
    sources: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> "EvalCase":
        if self.answerable and not (self.expect and self.sources):
            raise ValueError("an answerable case needs `expect` and `sources`")
        for pattern in self.expect:
            re.compile(pattern)
        return self


def load_cases(path: Path) -> list[EvalCase]:
    if not path.is_file():
        raise RagqaError(f"no such cases file: {path}")
    cases, ids = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = EvalCase.model_validate_json(line)
        except (ValidationError, re.error) as problem:
            first = problem.errors()[0]["msg"] if isinstance(problem, ValidationError) else str(problem)
            raise RagqaError(f"{path}:{number}: not a valid case ({first})") from None
        if case.id in ids:
            raise RagqaError(f"{path}:{number}: duplicate case id {case.id!r}")
        ids.add(case.id)
        cases.append(case)
    if not cases:
        raise RagqaError(f"{path} holds no cases")
    return cases


def spread(cases: list[EvalCase], limit: int | None) -> list[EvalCase]:
    """`limit` of the cases, evenly spaced in their order (cases are grouped by document, so the
    chosen ones come from across the file), or all of them when `limit` is None or not smaller."""
    if limit is not None and limit < 1:
        raise RagqaError("--limit must be at least 1")
    if limit is None or limit >= len(cases):
        return cases
    return [cases[i * len(cases) // limit] for i in range(limit)]


def gold_rank(doc_ids: list[str], sources: list[str]) -> int | None:
    """The rank (from 1) of the first of `doc_ids` that is a gold source, None when none is."""
    return next((rank for rank, doc_id in enumerate(doc_ids, start=1) if doc_id in sources), None)


@dataclass
class CaseResult:
    case: EvalCase
    answer: dict
    retrieved_docs: list[str]
    seconds: float
    faithful: list[bool]
    passages: list = field(default_factory=list)  # what the answer was chosen from (LLM metrics check against them)

    def gold_rank(self) -> int | None:
        return gold_rank(self.retrieved_docs, self.case.sources)

    def answer_correct(self) -> bool:
        text = self.answer["answer"]
        return not self.answer["abstained"] and all(re.search(p, text, re.I) for p in self.case.expect)

    def citation_hits(self) -> list[bool]:
        return [self.case.answerable and c["doc_id"] in self.case.sources for c in self.answer["citations"]]

    def passed(self) -> dict[str, bool]:
        if not self.case.answerable:
            return {"abstention": self.answer["abstained"], "faithful": all(self.faithful)}
        rank = self.gold_rank()
        return {
            "answer": self.answer_correct(),
            "hit@1": rank == 1,
            "hit@5": rank is not None and rank <= 5,
            "citations": all(self.citation_hits()),
            "faithful": all(self.faithful),
        }


def run_cases(assistant, cases: list[EvalCase], retriever: str | None = None) -> list[CaseResult]:
    results = []
    for case in cases:
        started = time.perf_counter()
        answer, passages = assistant.ask_with_passages(case.question, retriever=retriever)
        seconds = time.perf_counter() - started
        faithful = [
            (assistant.document_text(c.doc_id) or "")[c.start:c.end] == c.quote for c in answer.citations
        ]
        results.append(CaseResult(case, answer.model_dump(), [p.doc_id for p in passages], seconds, faithful, passages))
    return results


def _share(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 1.0


def summarize(results: list[CaseResult]) -> dict[str, float]:
    answerable = [r for r in results if r.case.answerable]
    unanswerable = [r for r in results if not r.case.answerable]
    ranks = [r.gold_rank() for r in answerable]
    citations = [hit for r in results for hit in r.citation_hits()]
    latencies = sorted(r.seconds * 1000 for r in results)
    return {
        "cases": len(results),
        "accuracy": _share([r.answer_correct() for r in answerable]),
        "abstention_recall": _share([r.answer["abstained"] for r in unanswerable]),
        "false_abstention": _share([r.answer["abstained"] for r in answerable]) if answerable else 0.0,
        "hit@1": _share([rank == 1 for rank in ranks]),
        "hit@5": _share([rank is not None and rank <= 5 for rank in ranks]),
        "mrr": sum(1.0 / rank for rank in ranks if rank) / len(ranks) if ranks else 1.0,
        "citation_precision": _share(citations),
        "citation_faithfulness": _share([ok for r in results for ok in r.faithful]),
        "quotes_without_markup": _share([not MARKUP.search(c["quote"]) for r in results for c in r.answer["citations"]]),
        "latency_p50_ms": statistics.median(latencies),
        "latency_p95_ms": latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))],
    }


def load_thresholds(path: Path, eval_set: str | None = None) -> dict[str, dict[str, float]]:
    """{"minimums": {metric: bound}, "maximums": {metric: bound}} from a TOML file: its top-level
    tables, or those under [`eval_set`] when the file has a section per eval set."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as problem:
        raise RagqaError(f"cannot read thresholds {path}: {problem}") from None
    if eval_set is not None and eval_set in data:
        data = data[eval_set]
    elif "minimums" not in data and "maximums" not in data:
        raise RagqaError(f"{path} has no thresholds{f' for {eval_set}' if eval_set else ''} "
                         f"(sections: {', '.join(data) or 'none'})")
    return {"minimums": data.get("minimums", {}), "maximums": data.get("maximums", {})}


def gate_failures(summary: dict[str, float], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Metrics outside their thresholds, as readable lines (empty = the gate passes)."""
    failures = [f"{name} = {summary[name]:.3f} < {bound}"
                for name, bound in thresholds["minimums"].items() if summary[name] < bound]
    failures += [f"{name} = {summary[name]:.3f} > {bound}"
                 for name, bound in thresholds["maximums"].items() if summary[name] > bound]
    return failures


def results_json(summary: dict[str, float], results: list[CaseResult]) -> dict:
    return {
        "summary": summary,
        "cases": [{"id": r.case.id, "passed": r.passed(), "result": r.answer} for r in results],
    }


def format_table(summaries: dict[str, dict[str, float]]) -> str:
    """Metrics as rows, one column per run (e.g. dense | bm25 | hybrid)."""
    names = list(summaries)
    metrics = list(next(iter(summaries.values())))
    width = max(len(m) for m in metrics) + 2
    column = max(12, *(len(n) + 2 for n in names))
    lines = ["metric".ljust(width) + "".join(n.rjust(column) for n in names)]
    for metric in metrics:
        cells = []
        for name in names:
            value = summaries[name][metric]
            cells.append((f"{value:.0f}" if metric == "cases" or metric.startswith("latency") else f"{value:.3f}").rjust(column))
        lines.append(metric.ljust(width) + "".join(cells))
    return "\n".join(lines)


def format_markdown(summaries: dict[str, dict[str, float]], title: str) -> str:
    names = list(summaries)
    metrics = list(next(iter(summaries.values())))
    rows = [f"# {title}", "", "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for metric in metrics:
        rows.append(f"| {metric} | " + " | ".join(f"{summaries[n][metric]:.3f}" for n in names) + " |")
    return "\n".join(rows) + "\n"


def headline(name: str, summary: dict[str, float]) -> str:
    parts = " ".join(f"{metric}={summary[metric]:.3f}" for metric in HEADLINE + tuple(LLM_METRICS) if metric in summary)
    return f"eval[{name}]: {parts} p50={summary['latency_p50_ms']:.0f}ms cases={summary['cases']:.0f}"


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")


def distractor_settings(settings):
    """Settings of the second index that holds the corpus plus distractor documents."""
    return settings.model_copy(update={"index_dir": settings.index_dir.with_name(settings.index_dir.name + "-distractors")})


def evaluate(settings, cases: list[EvalCase], retrievers: list[str], distractors: Path | None = None):
    """Run the cases once per retriever (and once more over corpus + distractors when given).

    Returns ({column name: summary}, results of the last plain run) — the columns are what
    `format_table` prints side by side.
    """
    from app.assistant import Assistant
    from app.ingest import ingest

    assistant = Assistant.load(settings)
    summaries: dict[str, dict[str, float]] = {}
    main_results: list[CaseResult] = []
    for name in retrievers:
        results = run_cases(assistant, cases, name)
        summaries[name] = _summary(assistant, results)
        main_results = results
    if distractors is not None:
        if not distractors.is_dir():
            raise RagqaError(f"no such folder: {distractors}")
        mixed = distractor_settings(settings)
        ingest(mixed, [settings.corpus_dir, distractors], exclusive=True)
        mixed_assistant = Assistant.load(mixed)
        for name in retrievers:
            summaries[f"{name}+distractors"] = _summary(mixed_assistant, run_cases(mixed_assistant, cases, name))
            summaries[f"{name} drop"] = {
                metric: summaries[name][metric] - summaries[f"{name}+distractors"][metric] for metric in summaries[name]
            }
    return summaries, main_results


def _summary(assistant, results: list[CaseResult]) -> dict[str, float]:
    """`summarize`, plus the citation metrics of generated answers when the assistant has an LLM."""
    summary = summarize(results)
    if assistant.generator is not None:
        from app.evaluate_llm import generation_metrics
        from app.schema import Answer

        summary |= generation_metrics(assistant.generator.checker,
                                      [(Answer.model_validate(r.answer), r.passages) for r in results])
    return summary
