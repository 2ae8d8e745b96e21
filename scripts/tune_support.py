"""Tune `llm_support_threshold` on the eval suite: support scores of true claims vs misplaced citations.

For every answerable case the extractive answerer gets right, a claim is written the way a model
would state the fact: the question turned into a statement plus the expected answer as the quote
words it ("Rebecca Arcesati study Chinese technology: Mercator Institute for China Studies").
- positive: the claim checked against the passage its quote comes from;
- negative: the same claim checked against the best-ranked retrieved passage of another document
  (a plausible but misplaced citation: same topic, different source);
- hard negative: the claim without its answer words against that passage (nothing for the
  number/date/name rule to catch, so only the threshold decides).
Prints, per threshold, the share of positives kept and of negatives let through (the number/date/
name rule applies first, so negatives can fail before the threshold matters) and the threshold
that keeps the most positives while letting at most 5% of negatives through.

Usage: RAGQA_INDEX_DIR=index .venv/bin/python scripts/tune_support.py [eval/cases.jsonl] [-v]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from app.answer.support import SupportChecker
from app.assistant import Assistant
from app.config import Settings
from app.evaluate import load_cases

WH_LEAD = re.compile(r"^.*?\b(?:did|does|do|is|was|are|were|has|have|had|will|would|can|could|should)\s+", re.I)


def statement(question: str, answer: str) -> str:
    """The question as a statement with the answer appended (grammar is rough, wording is the model's kind)."""
    body = WH_LEAD.sub("", question.rstrip("?")) if WH_LEAD.search(question) else question.rstrip("?")
    return f"{body[:1].upper()}{body[1:]}: {answer}."


def main(path: Path) -> None:
    settings = Settings().model_copy(update={"llm": "none"})
    assistant = Assistant.load(settings)
    checker = SupportChecker(assistant.answerer.embedder, assistant.answerer.stats, threshold=0.0)
    positives, negatives, hard = [], [], []
    for case in load_cases(path):
        if not case.answerable:
            continue
        answer, passages = assistant.ask_with_passages(case.question)
        if answer.abstained or not all(re.search(p, answer.answer, re.I) for p in case.expect):
            continue
        citation = answer.citations[0]
        found = [re.search(p, citation.quote, re.I) for p in case.expect]
        if not all(found):
            continue
        claim = statement(case.question, ", ".join(m.group(0)[:80] for m in found))
        bare = statement(case.question, "").removesuffix(": .") + "."
        gold = next(p for p in passages if p.doc_id == citation.doc_id and p.start <= citation.start < p.end)
        other = next((p for p in passages if p.doc_id not in case.sources), None)
        positives.append(checker.check(claim, [gold]))
        if other is not None:
            negatives.append(checker.check(claim, [other]))
            hard.append(checker.check(bare, [other]))
        if positives[-1].reason and "-v" in sys.argv:
            print("positive failing:", claim, "|", positives[-1].reason)
    print(f"{len(positives)} positive and {len(negatives)} negative claims; "
          f"negatives stopped by the number/date/name rule: {sum(bool(s.reason) for s in negatives)}")
    best = None
    for step in range(20, 81, 5):
        threshold = step / 100
        kept = sum(not s.reason and s.score >= threshold for s in positives) / len(positives)
        leaked = sum(not s.reason and s.score >= threshold for s in negatives) / max(len(negatives), 1)
        hard_leaked = sum(not s.reason and s.score >= threshold for s in hard) / max(len(hard), 1)
        print(f"threshold {threshold:.2f}: positives kept {kept:.3f}, negatives let through {leaked:.3f}, "
              f"hard negatives let through {hard_leaked:.3f}")
        if leaked <= 0.05 and hard_leaked <= 0.10 and (best is None or kept > best[1]):
            best = (threshold, kept, leaked, hard_leaked)
    if best:
        print(f"chosen: {best[0]:.2f} (positives kept {best[1]:.3f}, negatives let through {best[2]:.3f}, "
              f"hard negatives {best[3]:.3f})")
    print("positives failing the number/date/name rule:", sum(bool(s.reason) for s in positives))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "-v"]
    main(Path(arguments[0]) if arguments else Path("eval/cases.jsonl"))
