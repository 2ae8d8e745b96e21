"""Citation metrics of generative answers (`ragqa eval --llm`), computed with the deterministic support check.

Per case, the statements the model made are the sentences delivered in the answer plus the ones
verification dropped (`Answer.dropped`); a refusal makes none. Then, ALCE-style:
- llm_citation_recall: statements supported by the passages they cite / all statements — how often
  the model's own sentences hold up (dropped ones count as unsupported);
- llm_citation_precision: citations that are needed / all citations — a citation of a supported
  statement is needed when it supports the statement alone or the others do not without it;
  citations of unsupported statements are not needed;
- llm_unsupported_claim_rate: delivered sentences that fail the check when it is run again from the
  final Answer alone (each sentence against the passages holding its citations' quotes) — what got
  through to the user; anything above 0 is a bug in the pipeline;
- llm_fallback_rate: cases answered by the extractive fallback because generation failed or nothing
  it wrote was supported.
Trade-off: the same checker judges and filters, so recall and precision measure the model against
our check, not against human judgement of entailment.
"""

from __future__ import annotations

from app.answer.claims import Claim, split_claims
from app.answer.support import SupportChecker
from app.schema import Answer, Citation, Passage

METRICS = ("llm_citation_recall", "llm_citation_precision", "llm_unsupported_claim_rate", "llm_fallback_rate")


def _source(citation: Citation, passages: list[Passage]) -> Passage | None:
    return next((p for p in passages if p.doc_id == citation.doc_id and p.start <= citation.start
                 and citation.end <= p.end), None)


def _judge(checker: SupportChecker, claim: Claim, sources: list[Passage]) -> tuple[bool, int]:
    """Whether the claim is supported by `sources`, and how many of them are needed."""
    if not sources or not checker.check(claim.clean, sources).supported:
        return False, 0
    if len(sources) == 1:
        return True, 1
    needed = 0
    for i, source in enumerate(sources):
        rest = sources[:i] + sources[i + 1:]
        if checker.check(claim.clean, [source]).supported or not checker.check(claim.clean, rest).supported:
            needed += 1
    return True, needed


def case_counts(checker: SupportChecker, answer: Answer, passages: list[Passage]) -> dict[str, int]:
    counts = {"statements": 0, "supported": 0, "citations": 0, "needed": 0, "delivered": 0, "delivered_bad": 0}
    if answer.mode == "generative" and not answer.abstained:
        by_number = {c.n: c for c in answer.citations}
        for claim in split_claims(answer.answer)[0]:
            cited = [by_number.get(n) for n in claim.cited]
            sources = [_source(c, passages) for c in cited if c is not None]
            supported, needed = _judge(checker, claim, [s for s in sources if s is not None])
            counts["statements"] += 1
            counts["delivered"] += 1
            counts["supported"] += supported
            counts["delivered_bad"] += not supported
            counts["citations"] += len(claim.cited)
            counts["needed"] += needed
    for dropped in answer.dropped:
        counts["statements"] += 1
        counts["citations"] += len(dropped.cited)
    return counts


def generation_metrics(checker: SupportChecker, answers: list[tuple[Answer, list[Passage]]]) -> dict[str, float]:
    totals: dict[str, int] = {}
    for answer, passages in answers:
        for key, value in case_counts(checker, answer, passages).items():
            totals[key] = totals.get(key, 0) + value

    def share(part: str, whole: str, empty: float) -> float:
        return totals.get(part, 0) / totals[whole] if totals.get(whole) else empty

    fallbacks = sum(1 for answer, _ in answers if answer.mode == "extractive")
    return {
        "llm_citation_recall": share("supported", "statements", 1.0),
        "llm_citation_precision": share("needed", "citations", 1.0),
        "llm_unsupported_claim_rate": share("delivered_bad", "delivered", 0.0),
        "llm_fallback_rate": fallbacks / len(answers) if answers else 0.0,
    }
