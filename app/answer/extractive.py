"""The default answerer, with no LLM: quote the sentence that answers the question, or abstain.

A question's path through this module reads one way: analyse the question once
(app.answer.question, with the answer-type table of app.answer.answer_types) -> candidates (the
sentences of the retrieved passages, exact offsets; by-line blocks for questions about a document's
making) -> features (app.answer.features) -> score (the fitted model, app.answer.model) -> choose
the best candidate or abstain -> cite (`to_citation`; the assistant verifies every quote).
Dense similarity alone cannot separate unanswerable questions (a sentence about the thing asked,
without the detail asked for, sounds as close as the answer), so the model also weighs whether the
question's key terms, names and numbers occur in the candidate's document and whether the quote
holds the specific kind of answer asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.answer.features import length_feature, matrix, pieces_at, question_word_match, relative_features
from app.answer.headings import authoring_terms, byline_blocks, is_heading
from app.answer.lexicon import DATE_MENTION
from app.answer.model import AnswerModel, load_model
from app.answer.question import QuestionProfile
from app.embedding import Embedder
from app.schema import Citation, Passage
from app.sentences import LIST_ITEM, sentence_spans
from app.terms import TermStats, content_terms

# A sentence that lists what the one before it announced ("These included ...", "They are ...").
ENUMERATION = re.compile(r"(?:These|They|Those)\s+(?:include[sd]?|are|were|comprise[sd]?|cover(?:ed)?)\b")

LEAD_CHARS = 600  # a quote starting this close to its document's start is in its lead
NEXT_MARGIN = 0.05  # the following sentence joins the quote when it scores this close (lists, continuations)
SECOND_MARGIN = 0.20  # another sentence of the same document is cited too when it scores this close
BYLINE_DOCUMENTS = 3  # by-lines are read from this many of the top retrieved documents
BYLINE_MIN_NAMED = 0.30  # share of the question's terms the title and by-line must hold: the question names the document


def is_dated_heading(text: str) -> bool:
    """A heading line that states a date ("Date: May 12, 2026"): it may answer a date question.
    Months are read as the one date pattern reads them (capitalised): "Who may apply" holds none."""
    return is_heading(text) and bool(DATE_MENTION.search(text))


@dataclass
class Candidate:
    passage: Passage
    rank: int
    start: int  # offsets in the document
    end: int
    text: str
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    read_with: str = ""  # text read before the quote when judging its meaning (a by-line's document title)
    vector: np.ndarray | None = None  # the quote's embedding as read (features are measured from it)

    @property
    def as_read(self) -> str:
        """The quote as its meaning is judged: after its by-line's title and publisher, or after its
        document's title ("(d) The costs ... shall be borne by ..." reads as part of the order)."""
        return (self.read_with or self.passage.title + ": ") + self.text


@dataclass
class Extract:
    """What the answerer chose: a quote span per citation, or nothing (abstain)."""

    candidates: list[Candidate]
    evidence: float

    @property
    def abstained(self) -> bool:
        return not self.candidates


class ExtractiveAnswerer:
    """Chooses verbatim sentences from retrieved passages.

    A question's path: analyse it once (QuestionProfile) -> candidates (the retrieved passages'
    sentences, and by-lines for questions about a document's making) -> features (app.answer.features)
    -> score (the fitted model, app.answer.model) -> choose the best or abstain -> cite."""

    def __init__(self, encoder: Embedder, stats: TermStats, rerank_sentences: int, threshold: float | None = None,
                 document_text: Callable[[str], str | None] | None = None, model: AnswerModel | None = None):
        self.encoder = encoder  # question and candidate sentences, one space (app.embedding)
        self.stats = stats
        self.rerank_sentences = rerank_sentences
        self.model = model or load_model()
        self.threshold = self.model.threshold if threshold is None else threshold
        self.document_text = document_text  # for by-lines outside the retrieved passages

    def extract(self, question: str, passages: list[Passage]) -> Extract:
        scored = self.scored_candidates(question, passages)
        if not scored:
            return Extract([], 0.0)
        best = scored[0]
        if best.score < self.threshold:
            return Extract([], best.score)
        chosen = [self._joined_with_next(best, scored)]
        second = next((c for c in scored if c.passage.doc_id == best.passage.doc_id and c.score >= self.threshold
                       and c.score >= best.score - SECOND_MARGIN
                       and (c.end <= chosen[0].start or c.start >= chosen[0].end)), None)
        if second is not None:
            chosen.append(second)
        return Extract(chosen, best.score)

    def scored_candidates(self, question: str, passages: list[Passage]) -> list[Candidate]:
        """Every shortlisted candidate with its features and the model's probability, best first."""
        profile = QuestionProfile.build(question, self.stats, self.encoder.is_whole_word)
        candidates = self._candidates(profile, passages)
        if profile.authoring:
            verbs = authoring_terms(profile.text)
            for candidate in candidates:
                candidate.features["authoring"] = float(bool(verbs & content_terms(candidate.text)))
            candidates += self._byline_candidates(profile, passages)
        if not candidates:
            return []
        # Embedding a sentence costs milliseconds on this CPU: only the lexically promising are embedded
        # (the shortlist is wide enough to keep the answer: scripts/fit_answerer.py reports how often).
        candidates.sort(key=lambda c: c.features["words"] + 0.5 * c.features["context"] + 0.3 * c.features["rank"],
                        reverse=True)
        shortlist = candidates[: self.rerank_sentences]
        vectors, pieces = self.encoder.embed_with_tokens([question] + [c.text for c in shortlist], remember=True)
        as_read = self.encoder.embed_texts([c.as_read for c in shortlist], remember=True)
        asking = pieces_at(pieces[0], profile.asked_with)
        for candidate, vector, quote in zip(shortlist, as_read, pieces[1:]):
            candidate.vector = vector
            candidate.features["meaning"] = float(vector @ vectors[0])
            # the quote's words as read alone: read after its title, they matched the question word less
            # well (dev cross-validation right +0.006 against +0.010 alone, the mean of six assignments)
            candidate.features["question_word"] = question_word_match(asking, quote.vectors)
        relative_features(shortlist)
        for candidate in shortlist:  # the asked kind of answer beside the question's own words
            candidate.features["typed_beyond_title"] = (candidate.features["type_specific"]
                                                        * candidate.features.get("beyond_title", 0.0))
        for candidate, probability in zip(shortlist, self.model.probabilities(matrix(shortlist))):
            candidate.score = float(probability)
        shortlist.sort(key=lambda c: c.score, reverse=True)
        return shortlist

    @staticmethod
    def _joined_with_next(best: Candidate, shortlist: list[Candidate]) -> Candidate:
        """Quote the next sentence too when it continues the answer: the sentence announces it (ends
        with ':'), the next one enumerates what it announced ("... signed three orders. These included
        ..."), or the next one scores nearly as well (the rest of a list)."""
        passage = best.passage
        following = next(((passage.start + a, passage.start + b) for a, b in sentence_spans(passage.text)
                          if passage.start + a >= best.end and not passage.text[best.end - passage.start:a].strip()), None)
        if following is None:
            return best
        text = passage.text[following[0] - passage.start:following[1] - passage.start]
        scored = next((c for c in shortlist if c.passage.id == passage.id and c.start == following[0]), None)
        if not (best.text.rstrip().endswith(":") or ENUMERATION.match(text)
                or (scored is not None and scored.score >= best.score - NEXT_MARGIN)):
            return best
        text = passage.text[best.start - passage.start:following[1] - passage.start]
        return Candidate(passage, best.rank, best.start, following[1], text, best.features, best.score)

    def _candidates(self, profile: QuestionProfile, passages: list[Passage]) -> list[Candidate]:
        candidates: list[Candidate] = []
        # A sentence in two overlapping passages is one candidate: read where the sentence before it is
        # in the same passage (a first sentence cannot take its date from the sentence before).
        seen: dict[tuple[str, int], tuple[int, bool]] = {}  # (doc, start) -> (its place in candidates, had one before)
        # A document cut into passages names its subject once, often in its first passage only ("... due
        # to Hurricane Ian"): what the question names is looked for in every retrieved passage of the
        # candidate's document, not only its own.
        document_texts: dict[str, list[str]] = {}
        for passage in passages:
            document_texts.setdefault(passage.doc_id, []).append(passage.text)
        in_document: dict[str, dict[str, float]] = {}  # the same for every passage of one document
        for rank, passage in enumerate(passages):
            if passage.doc_id not in in_document:
                retrieved = "\n".join(document_texts[passage.doc_id])
                in_document[passage.doc_id] = profile.context_features(
                    f"{passage.title}\n{passage.publisher}\n{passage.date}\n{retrieved}") | {
                    "dated_elsewhere": float(profile.dated_elsewhere(passage.date))}
            in_context = in_document[passage.doc_id]
            titled = profile.present(passage.title)  # terms every sentence of the document shares
            spans = sentence_spans(passage.text)
            for index, (start, end) in enumerate(spans):
                text = passage.text[start:end]
                key = (passage.doc_id, passage.start + start)
                if key in seen and (seen[key][1] or index == 0):
                    continue
                candidate = Candidate(passage, rank, passage.start + start, passage.start + end, text)
                specific = profile.holds_answer_type(text, self.stats)
                if not specific and index > 0:
                    candidate = self._joined_with_previous(candidate, spans[index - 1], profile)
                    specific = candidate.text != text  # joined only to a previous sentence of the right type
                window = passage.text[spans[max(index - 1, 0)][0]:spans[min(index + 1, len(spans) - 1)][1]]
                present = profile.present(candidate.text)
                candidate.features = {
                    "words": profile.coverage(present),
                    "keys_quote": 1.0 - profile.missing_keys(present),
                    "beyond_title": profile.coverage(present - titled, among=set(profile.weights) - titled),
                    "window_words": profile.coverage(profile.present(window)),
                    "bigrams": profile.bigram_share(candidate.text),
                    "lead": float(candidate.start < LEAD_CHARS),
                    "type_asked": float(profile.asks_a_kind),
                    "type_basic": float(profile.holds_basic_type(candidate.text, self.stats)),
                    "type_specific": float(specific),
                    "action_missing": float(profile.misses_action(candidate.text)),
                    "dates_outside_frame": float(profile.dates_outside_frame(candidate.text)),
                    "kind_instance": float(profile.names_instance(candidate.text, self.stats)),
                    "rank": 1.0 / (1.0 + rank),
                    "passage_score": min(max(passage.score, 0.0), 1.0),
                    "heading": float(is_heading(text) and not (profile.answer_type == "date" and is_dated_heading(text))),
                    "joined": float(candidate.text != text),
                    "length": length_feature(candidate.text),
                    **in_context,
                }
                if key in seen:
                    candidates[seen[key][0]] = candidate
                else:
                    candidates.append(candidate)
                seen[key] = (seen[key][0] if key in seen else len(candidates) - 1, index > 0)
        return candidates

    def _byline_candidates(self, profile: QuestionProfile, passages: list[Passage]) -> list[Candidate]:
        """The dateline and signature blocks of the top documents, when the question asks who made a
        document, or when or where: these facts live outside the sentences (see app.answer.headings)."""
        if self.document_text is None:
            return []
        candidates = []
        first_rank = {}
        for rank, passage in enumerate(passages):
            first_rank.setdefault(passage.doc_id, (rank, passage))
        for doc_id, (rank, top) in list(first_rank.items())[:BYLINE_DOCUMENTS]:
            document = self.document_text(doc_id) or ""
            for start, end in byline_blocks(document):
                text = document[start:end]
                if not profile.holds_answer_type(text, self.stats):
                    continue
                block = top.model_copy(update={"id": f"{doc_id}@{start}", "text": text, "start": start, "end": end})
                read_with = f"{top.title}\n{top.publisher}\n"
                named = profile.coverage(profile.present(read_with + text))
                if named < BYLINE_MIN_NAMED:
                    continue  # the question is about something inside the document, not the document itself
                candidate = Candidate(block, rank, start, end, text, read_with=read_with)
                candidate.features = {"words": named, "type_asked": 1.0, "type_basic": 1.0, "type_specific": 1.0,
                                      "rank": 1.0 / (1.0 + rank), "passage_score": min(max(top.score, 0.0), 1.0),
                                      "authoring": 1.0, "byline": 1.0, "length": length_feature(text),
                                      **profile.context_features(f"{read_with}{top.date}\n{top.text}\n{text}")}
                candidates.append(candidate)
        return candidates

    def _joined_with_previous(self, candidate: Candidate, previous: tuple[int, int], profile: QuestionProfile) -> Candidate:
        """Quote the previous sentence too when it holds the date the sentence lacks ("In May, ... .
        The same month, Malaysia ...")."""
        passage = candidate.passage
        previous_text = passage.text[previous[0]:previous[1]]
        if profile.answer_type != "date" or LIST_ITEM.match(candidate.text):
            # Only a date carries over ("The same month, ..."): the names of the sentence before are about
            # something else; and an item of a list stands alone ("- In April 2025, ...").
            return candidate
        if is_heading(previous_text) or not profile.holds_answer_type(previous_text, self.stats):
            return candidate
        text = passage.text[previous[0]:candidate.end - passage.start]
        return Candidate(passage, candidate.rank, passage.start + previous[0], candidate.end, text)


def to_citation(number: int, candidate: Candidate) -> Citation:
    p = candidate.passage
    return Citation(
        n=number, doc_id=p.doc_id, title=p.title, publisher=p.publisher, date=p.date, url=p.url,
        quote=candidate.text, start=candidate.start, end=candidate.end, page=p.page, score=round(candidate.score, 4),
    )
