"""The default answerer, with no LLM: quote the sentence that answers the question, or abstain.

Candidates are the sentences of the retrieved passages (punkt spans, exact offsets). Each is scored
on evidence that can be measured without a generator:
- meaning: cosine between the question and the sentence (the packaged embedding model);
- words: the share of the question's content terms, weighted by rarity (IDF), found in the sentence;
- context: the same share over the sentence's passage (the surrounding text the reader will see);
- answer type: a "when" question wants a date, "how many" a number, "who"/"where" a name that
  the question does not already contain;
- retrieval rank of its passage.
Dense similarity alone cannot separate unanswerable questions here (measured: best cosine 0.09-0.68
for unanswerable ones vs a median 0.65 for answerable), so abstention also requires that the rare
terms of the question occur in the chosen passage: a question about a country, company, figure or
event the passage never mentions is not answered by it, however similar it sounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.answer.terms import TermStats, content_terms, words
from app.embedding import Embedder
from app.schema import Citation, Passage
from app.sentences import sentence_spans

MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
DATE_PATTERN = re.compile(rf"\b({MONTHS}|(19|20)\d\d|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})\b", re.I)
NUMBER_PATTERN = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|ninety|hundred|thousand|million|billion|trillion|dozen|half)\b",
    re.I,
)
NAME_PATTERN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z’'\-]+")

WEIGHTS = {"meaning": 0.40, "words": 0.30, "context": 0.10, "type": 0.12, "rank": 0.08}


@dataclass
class Candidate:
    passage: Passage
    rank: int
    start: int  # offsets in the document
    end: int
    text: str
    features: dict[str, float]
    score: float = 0.0


@dataclass
class Extract:
    """What the answerer chose: a quote span per citation, or nothing (abstain)."""

    candidates: list[Candidate]
    evidence: float

    @property
    def abstained(self) -> bool:
        return not self.candidates


def expected_answer_type(question: str) -> str | None:
    q = question.lower()
    if re.search(r"\b(when|what (year|month|date|day)|which (year|month|date|day)|how long ago|since when)\b", q):
        return "date"
    if re.search(r"\b(how (many|much|long|large|big|high)|what (number|share|percentage|amount|threshold|cap|limit|size)|how many days)\b", q):
        return "number"
    if re.search(r"\b(who|whom|whose|which (person|official|company|companies|firm|firms|organi[sz]ation|agency|agencies|university))\b", q):
        return "name"
    if re.search(r"\b(where|which (country|countries|city|cities|nation|nations|region|place|state)|what (country|countries|city|region))\b", q):
        return "name"
    return None


def matches_type(text: str, answer_type: str | None, question_words: set[str]) -> bool:
    if answer_type is None:
        return True
    if answer_type == "date":
        return bool(DATE_PATTERN.search(text))
    if answer_type == "number":
        return bool(NUMBER_PATTERN.search(text))
    names = {m.group(0).lower() for m in NAME_PATTERN.finditer(text)}
    return bool(names - question_words)


class ExtractiveAnswerer:
    """Chooses verbatim sentences from retrieved passages."""

    def __init__(self, embedder: Embedder, stats: TermStats, rerank_sentences: int, threshold: float):
        self.embedder = embedder
        self.stats = stats
        self.rerank_sentences = rerank_sentences
        self.threshold = threshold

    def extract(self, question: str, passages: list[Passage]) -> Extract:
        question_terms = content_terms(question)
        weights = self.stats.weights(question_terms)
        total = sum(weights.values()) or 1.0
        answer_type = expected_answer_type(question)
        question_words = set(words(question))

        def coverage(text: str) -> float:
            present = content_terms(text)
            return sum(w for term, w in weights.items() if term in present) / total

        candidates: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for rank, passage in enumerate(passages):
            context = coverage(passage.text)
            for start, end in sentence_spans(passage.text):
                text = passage.text[start:end]
                key = (passage.doc_id, passage.start + start)
                if key in seen or len(text) < 12:
                    continue
                seen.add(key)
                candidates.append(Candidate(
                    passage=passage, rank=rank, start=passage.start + start, end=passage.start + end, text=text,
                    features={
                        "words": coverage(text),
                        "context": context,
                        "type": float(matches_type(text, answer_type, question_words)),
                        "rank": 1.0 / (1.0 + rank),
                    },
                ))
        if not candidates:
            return Extract([], 0.0)

        # Embedding every sentence costs ~6 ms each on this CPU; only the lexically promising are embedded.
        candidates.sort(key=lambda c: c.features["words"] + 0.5 * c.features["context"] + 0.3 * c.features["rank"], reverse=True)
        shortlist = candidates[: self.rerank_sentences]
        vectors = np.asarray(self.embedder.embed_texts([question] + [c.text for c in shortlist]))
        meaning = vectors[1:] @ vectors[0]
        for candidate, cosine in zip(shortlist, meaning):
            candidate.features["meaning"] = float(cosine)
            candidate.score = sum(WEIGHTS[name] * candidate.features[name] for name in WEIGHTS)
        shortlist.sort(key=lambda c: c.score, reverse=True)
        best = shortlist[0]
        evidence = self.evidence(best)
        if evidence < self.threshold:
            return Extract([], evidence)
        return Extract([self._with_context(best, answer_type, question_words)], evidence)

    @staticmethod
    def evidence(candidate: Candidate) -> float:
        """How sure we are that the chosen sentence answers: meaning and rare-term support together."""
        f = candidate.features
        return 0.5 * f["meaning"] + 0.3 * f["words"] + 0.2 * f["context"]

    @staticmethod
    def _with_context(best: Candidate, answer_type: str | None, question_words: set[str]) -> Candidate:
        """Extend the quote to the previous sentence when the answer type sits there
        ("In May, ... . The same month, Malaysia ...")."""
        if matches_type(best.text, answer_type, question_words):
            return best
        passage = best.passage
        spans = sentence_spans(passage.text)
        relative = [(passage.start + s, passage.start + e) for s, e in spans]
        for index, (start, end) in enumerate(relative):
            if start == best.start and index > 0:
                previous_start = relative[index - 1][0]
                previous_text = passage.text[previous_start - passage.start:end - passage.start]
                if matches_type(passage.text[previous_start - passage.start:relative[index - 1][1] - passage.start], answer_type, question_words):
                    return Candidate(passage, best.rank, previous_start, best.end, previous_text, best.features, best.score)
        return best


def to_citation(number: int, candidate: Candidate) -> Citation:
    p = candidate.passage
    return Citation(
        n=number, doc_id=p.doc_id, title=p.title, publisher=p.publisher, date=p.date, url=p.url,
        quote=candidate.text, start=candidate.start, end=candidate.end, page=p.page, score=round(candidate.score, 4),
    )
