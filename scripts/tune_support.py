"""Tune `llm_support_threshold` on the eval suite, then probe the support check with corrupted sentences.

Works on every answerable case the extractive answerer gets right (its quote is a true, cited fact).

Tuning: a claim is written the way a model would state the fact — the question turned into a
statement plus the expected answer as the quote words it ("Rebecca Arcesati study Chinese technology:
Mercator Institute for China Studies").
- positive: the claim checked against the passage its quote comes from;
- negative: the same claim against the best-ranked retrieved passage of another document (a
  plausible but misplaced citation: same topic, different source);
- hard negative: the claim without its answer words against that passage (nothing for the
  number/date/name rule to catch, so only the threshold decides).
It prints, per threshold, the share of positives kept and of negatives let through, and the
threshold that keeps the most positives while letting at most 5% of negatives (10% of hard ones) through.

Probe (as a hostile LLM server would answer): the true quoted sentence, then corrupted copies — a
year moved by one, another figure changed, the month replaced by the next, a name replaced by an
invented one, and the true sentence citing another document's passage — checked at the configured
threshold; it prints how many of each kind got through (the goal is none).

Usage: RAGQA_INDEX_DIR=index .venv/bin/python scripts/tune_support.py [eval/coverage/dev.jsonl] [-v]
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from app.answer.lexicon import MONTH, MONTHS
from app.answer.support import SupportChecker
from app.assistant import Assistant
from app.config import Settings
from app.embedding import load_embedder
from app.evaluate import load_cases

WH_LEAD = re.compile(r"^.*?\b(?:did|does|do|is|was|are|were|has|have|had|will|would|can|could|should)\s+", re.I)
VERBOSE = "-v" in sys.argv


def statement(question: str, answer: str) -> str:
    """The question as a statement with the answer appended (grammar is rough, wording is the model's kind)."""
    body = WH_LEAD.sub("", question.rstrip("?")) if WH_LEAD.search(question) else question.rstrip("?")
    return f"{body[:1].upper()}{body[1:]}: {answer}."


def corruptions(sentence: str, is_name) -> dict[str, str]:
    found = {}
    if year := re.search(r"\b(19|20)\d\d\b", sentence):
        found["year"] = sentence[:year.start()] + str(int(year.group(0)) + 1) + sentence[year.end():]
    if number := re.search(r"(?<![\w.])(?!(?:19|20)\d\d\b)\d+(?:,\d{3})*", sentence):
        value = int(number.group(0).replace(",", ""))
        found["number"] = sentence[:number.start()] + f"{value * 3 + 7:,}" + sentence[number.end():]
    if month := MONTH.search(sentence):
        following = MONTHS[(MONTHS.index(month.group(0)) + 1) % 12]
        found["month"] = sentence[:month.start()] + following + sentence[month.end():]
    names = [m for m in re.finditer(r"\b[A-Z][a-z]{3,}\b", sentence) if is_name(m.group(0))]
    if names:
        found["name"] = sentence[:names[-1].start()] + "Halvorsen" + sentence[names[-1].end():]
    return found


def main(path: Path) -> None:
    settings = Settings().model_copy(update={"llm": "none"})
    assistant = Assistant.load(settings)
    stats = assistant.answerer.stats
    scorer = SupportChecker(load_embedder(settings), stats, threshold=0.0)
    checker = SupportChecker(load_embedder(settings), stats, settings.llm_support_threshold)
    positives, negatives, hard = [], [], []
    tried, passed = Counter(), Counter()
    for case in load_cases(path):
        if not case.answerable:
            continue
        answer, passages = assistant.ask_with_passages(case.question)
        if answer.abstained or not all(re.search(p, answer.answer, re.I) for p in case.expect):
            continue
        citation = answer.citations[0]
        found = [re.search(p, citation.quote, re.I) for p in case.expect]
        gold = next(p for p in passages if p.doc_id == citation.doc_id and p.start <= citation.start < p.end)
        other = next((p for p in passages if p.doc_id not in case.sources and p.doc_id != citation.doc_id), None)
        if all(found):
            claim = statement(case.question, ", ".join(m.group(0)[:80] for m in found))
            positives.append(scorer.check(claim, [gold]))
            if VERBOSE and positives[-1].reason:
                print("positive failing:", claim, "|", positives[-1].reason)
            if other is not None:
                negatives.append(scorer.check(claim, [other]))
                hard.append(scorer.check(statement(case.question, "").removesuffix(": .") + ".", [other]))
        sentence = " ".join(citation.quote.split())
        probes = {"true": (sentence, gold)} | {kind: (text, gold) for kind, text in corruptions(sentence, stats.is_name).items()}
        if other is not None:
            probes["misplaced"] = (sentence, other)
        for kind, (text, passage) in probes.items():
            support = checker.check(text, [passage])
            tried[kind] += 1
            passed[kind] += support.supported
            if VERBOSE and kind != "true" and support.supported:
                print(f"{kind} passed ({support.score:.2f}): {text[:160]}")
    report_thresholds(positives, negatives, hard)
    print(f"probe at threshold {settings.llm_support_threshold:.2f}:")
    for kind in tried:
        print(f"  {kind:10} {'kept' if kind == 'true' else 'let through'} {passed[kind]}/{tried[kind]}")


def report_thresholds(positives, negatives, hard) -> None:
    def share(supports, threshold: float) -> float:
        return sum(not s.reason and s.score >= threshold for s in supports) / max(len(supports), 1)

    print(f"{len(positives)} positive and {len(negatives)} negative claims; "
          f"negatives stopped by the number/date/name rule: {sum(bool(s.reason) for s in negatives)}; "
          f"positives stopped by it: {sum(bool(s.reason) for s in positives)}")
    best = None
    for step in range(20, 81, 5):
        threshold = step / 100
        kept, leaked, hard_leaked = share(positives, threshold), share(negatives, threshold), share(hard, threshold)
        print(f"threshold {threshold:.2f}: positives kept {kept:.3f}, negatives let through {leaked:.3f}, "
              f"hard negatives let through {hard_leaked:.3f}")
        if leaked <= 0.05 and hard_leaked <= 0.10 and (best is None or kept > best[1]):
            best = (threshold, kept, leaked, hard_leaked)
    if best:
        print(f"chosen: {best[0]:.2f} (positives kept {best[1]:.3f}, negatives let through {best[2]:.3f}, "
              f"hard negatives {best[3]:.3f})")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "-v"]
    main(Path(arguments[0]) if arguments else Path("eval/coverage/dev.jsonl"))
