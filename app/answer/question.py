"""Question analysis, done once per question: what it asks, in the terms the evidence is measured in.

`QuestionProfile.build` reads a question's content terms and their rarity (IDF over the indexed
passages), its key terms (names, numbers, the thing asked about, rare words the corpus never uses), the
names and numbers it commits to, its row of the answer-type table (app.answer.answer_types) with
that row's details (the office a person must hold, what "how many" counts, the kind of amount, how
many countries, whether it asks for the number naming a document), the action a "who <verb>ed"
question asks about, the kind a "which/what <kind>" question names, whether a number it states is in
no indexed passage, and whether it asks about a document's own making (a by-line answers those). The
candidates' features (app.answer.extractive) are measured against it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.answer.answer_types import (
    PERSON_FORMS,
    REFERENCE_NUMBER_ASKED,
    WHEN_ASKED,
    AnswerType,
    amount_asked,
    answer_type,
    asked_clause,
    broad_kind,
    countries_wanted,
    institution_wanted,
    kind_words,
    names_an_instance,
)
from app.answer.headings import asks_about_authoring
from app.answer.lexicon import WORDS, documents_dated, name_phrases, names_missing, nationalities_committed, numbers_in
from app.answer.specifics import asked_action, asked_title, counted_terms, dates_outside_frame, states_action
from app.terms import TermStats, acronyms_expanded, content_term_sequence, content_terms, related, words

INTERROGATIVE = re.compile(r"\b(?:" + "|".join(WORDS["questions"]["interrogatives"]) + r")\b", re.I)
FIRST_WORD = re.compile(r"\w+")
KEY_TOKEN = re.compile(r"\b(\d[\d,.]*\b|[A-Z][A-Za-z’'\-]*)")
MARKUP = re.compile(r"<[^<>]{1,500}>")
DOCUMENT_MONTH = re.compile(r"\d{4}-\d{2}")  # an ISO date's year and month
# "how much revenue", "what penalties", "which senators": the noun right after the question word
FOCUS = re.compile(r"\b(?:how (?:much|many)|what|which)\s+(?:kinds? of |types? of |sorts? of |share of |amount of )?"
                   r"([a-z][a-z\-]+)", re.I)
GENERIC_FOCUS = {"is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could",
                 "should", "the", "a", "an", "year", "month", "date", "day", "time", "number", "share", "percentage",
                 "amount", "kind", "type", "official", "officials", "person", "people", "role", "part", "thing",
                 "things", "way", "ways", "two", "three", "four", "five"}


def _unused_keys(question: str, weights: dict[str, float], stats: TermStats,
                 whole_word: Callable[[str], bool] | None) -> set[str]:
    """The question's terms the corpus never uses: a premise it lacks ("Kirin chips") is a key term, whose
    absence from a document counts against answering from it. Not a common word of the language the
    question merely puts otherwise than the documents ("What did Malaysia decide": the article says
    "retracted"): a small corpus never uses most of the language's words. Common: the model's vocabulary
    holds it whole (`whole_word`). Refitted with this, the dev cross-validation was unchanged (right
    0.815); the issue's follow-up example ("What did Malaysia decide about Huawei chips?", then "and
    when was that?") was answered again, which the refit on the third draw's cases had lost (0.247
    against its threshold 0.25)."""
    unused = {term for term in weights if stats.frequency.get(term, 0) == 0}
    if whole_word is None or not unused:
        return unused
    common = {term for word in words(question) if whole_word(word) for term in content_term_sequence(word)}
    return unused - common


@dataclass
class QuestionProfile:
    """What the question asks, in the terms the evidence is measured in."""

    text: str
    weights: dict[str, float]
    keys: set[str]
    kind: AnswerType  # its row of the answer-type table
    answer_type: str | None  # the broad kind: "date", "number", "name" or None
    question_words: list[str]
    numbers: list[str]
    names: list[tuple[list[str], str]]  # the names it commits to (app.answer.lexicon)
    countries: int  # how many countries the answer must name (0: not a country question)
    institution: str | None  # the answer must name an institution carrying this word ("Department")
    title: str | None  # the person asked for holds this office ("secretary"): others named with another title are not
    counted: set[str]  # "how many X": the terms of X, which a number in the answer must count
    action: str | None  # "who introduced X": the sentence naming the person must say the action (app.answer.specifics)
    amount: str | None = None  # a number question's kind of amount: "proportion", "money" or any (None)
    authoring: bool = False  # about the document's own making: who signed it, when, where (app.answer.headings)
    bigrams: set[tuple[str, str]] = field(default_factory=set)  # neighbouring content terms of the question
    numbers_unknown: bool = False  # a number it commits to ("the 2031 guidance") that no indexed passage states
    kind_words: set[str] = field(default_factory=set)  # "which executive order": the kind's terms (answer_types)
    reference_number: bool = False  # "the number of the executive order": the number naming it (answer_types)
    months: list[tuple[int, int | None]] = field(default_factory=list)  # (year, month) of each document's date it states
    asks_when: bool = False  # "when ...?", past a leading source clause: a time counted from an event answers it
    # where the question as given (markup and all: the text the model reads) says what it asks with
    asked_with: list[tuple[int, int]] = field(default_factory=list)  # question_word_spans

    @classmethod
    def build(cls, question: str, stats: TermStats,
              whole_word: Callable[[str], bool] | None = None) -> "QuestionProfile":
        """`whole_word`: whether the model's vocabulary holds a word whole (app.embedding); a common word
        the corpus never uses is then no key term (below)."""
        asked_with = question_word_spans(question)
        question = MARKUP.sub(" ", question)  # pasted HTML tags are not part of what is asked
        weights = stats.weights(content_terms(question))
        keys = content_terms(" ".join(m.group(0) for m in KEY_TOKEN.finditer(question) if m.start() > 0))
        focus = [m.group(1).lower() for m in FOCUS.finditer(question) if m.group(1).lower() not in GENERIC_FOCUS]
        keys |= content_terms(" ".join(focus))
        keys |= _unused_keys(question, weights, stats, whole_word)
        numbers = re.findall(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d", question)
        kind = broad_kind(question)
        asked = asked_clause(question)  # without a leading "According to X, "
        person = PERSON_FORMS.search(asked)
        authoring = asks_about_authoring(asked, kind)
        sequence = content_term_sequence(question)
        return cls(question, weights, keys & set(weights), answer_type(question), kind, words(question), numbers,
                   nationalities_committed(name_phrases(question, stats.is_name), stats.uses), countries_wanted(question),
                   institution_wanted(question), asked_title(person.group(0)) if person else None,
                   counted_terms(question) if kind == "number" else set(),
                   None if authoring else asked_action(asked),
                   amount_asked(question) if kind == "number" else None,
                   authoring, set(zip(sequence, sequence[1:])),
                   any(not stats.uses(number) for number in numbers), kind_words(question),
                   bool(REFERENCE_NUMBER_ASKED.search(question)), documents_dated(question),
                   bool(WHEN_ASKED.match(asked)), asked_with)

    @property
    def asks_a_kind(self) -> bool:
        """The question asks for a kind of answer (a date, an amount, a person, ...), not a description."""
        return self.kind.name != "description"

    def holds_basic_type(self, text: str, stats: TermStats) -> bool:
        """Whether `text` holds the kind of answer asked for at all: a date, a number, a person or a
        name the question lacks, whatever the specifics (False when no kind is asked)."""
        return self.kind.holds_kind(self, text, stats)

    def holds_answer_type(self, text: str, stats: TermStats) -> bool:
        """Whether `text` holds the specific answer asked for (the row's check, app.answer.answer_types)."""
        return self.kind.holds(self, text, stats)

    def names_instance(self, text: str, stats: TermStats) -> bool:
        """Whether `text` names a thing of the kind a "which/what <kind>" question asks for, next to a word
        of that kind ("Executive Order 13611" for "which executive order"; app.answer.answer_types)."""
        return names_an_instance(self, text, stats)

    def dates_outside_frame(self, text: str) -> bool:
        """A date question, and the new dates `text` states all fall outside the question's time frame."""
        return self.kind.name == "date" and dates_outside_frame(self.text, text)

    def dated_elsewhere(self, document_date: str) -> bool:
        """The question dates the document it asks about ("Biden's March 2023 proclamation", "the 2021 order")
        and none of those dates is within a month of the document's date (ISO, "2024-03-29"): a proclamation of March
        2024 is no answer to a question about the one of March 2023. False for an undated document."""
        if not self.months or not DOCUMENT_MONTH.match(document_date):
            return False
        dated = int(document_date[:4]) * 12 + int(document_date[5:7])
        # within a month of the asked month, or of the asked year: "the 2023 proclamation" on National
        # Mentoring Month is dated December 30, 2022
        return not any(asked_year * 12 + (asked_month or 1) - 1 <= dated <= asked_year * 12 + (asked_month or 12) + 1
                       for asked_year, asked_month in self.months)

    def misses_action(self, text: str) -> bool:
        """The question asks who did something ("who introduced X") and `text` does not say that action."""
        return bool(self.action) and not states_action(self.action, text)

    def names_asked(self, name: str) -> bool:
        """Whether the question already says `name`, in some word form ("Nicaragua" for "Nicaraguan")."""
        return name.lower() in self.question_words or any(related(term, asked) for term in content_terms(name)
                                                           for asked in self.weights)

    def present(self, text: str) -> set[str]:
        """The question's terms that `text` contains (in some word form, or as a spelled-out acronym)."""
        found = content_terms(text)
        # `related` needs a shared start of 4 letters unless the terms are equal: only the text's terms
        # with the question term's start are compared (the same set; the scan of every pair was a tenth
        # of an answer's time)
        starting: dict[str, list[str]] = {}
        for other in found:
            starting.setdefault(other[:4], []).append(other)
        present = {term for term in self.weights
                   if term in found or any(related(term, other) for other in starting.get(term[:4], ()))}
        return present | (acronyms_expanded(self.text, text) & set(self.weights))

    def coverage(self, present: set[str], among: set[str] | None = None) -> float:
        """IDF-weighted share of the question's terms (or of those `among` them) in `present`."""
        weights = {t: w for t, w in self.weights.items() if among is None or t in among}
        return sum(w for t, w in weights.items() if t in present) / (sum(weights.values()) or 1.0)

    def numbers_missing(self, surroundings: str) -> float:
        """1.0 when a number of the question is absent from a quote's surroundings. Such a number often
        names the document ("Executive Order 13873", "the 2024 notice"), so the passage, title and date
        count, not only the quote."""
        written = numbers_in(surroundings)  # "1,700" as 1700, "ten" as 10
        surroundings = surroundings.replace(",", "")
        return float(any(number.replace(",", "") not in surroundings and number.replace(",", "") not in written
                         for number in self.numbers))

    def context_features(self, surroundings: str) -> dict[str, float]:
        """What a quote's passage, title, publisher and date hold of the question: the share of its
        terms ("context"), of its key terms absent ("missing"), and whether a number of it is absent."""
        present = self.present(surroundings)
        return {"context": self.coverage(present), "missing": self.missing_keys(present),
                "numbers_missing": self.numbers_missing(surroundings),
                "names_missing": float(bool(names_missing(self.names, surroundings))),
                "numbers_unknown": float(self.numbers_unknown)}

    def bigram_share(self, text: str) -> float:
        """Share of the question's pairs of neighbouring content terms that `text` has side by side
        ("export controls", "Ascend chips"): a phrase of the question, not only its words."""
        if not self.bigrams:
            return 0.0
        found = set(zip(terms := content_term_sequence(text), terms[1:]))
        return sum(pair in found for pair in self.bigrams) / len(self.bigrams)

    def missing_keys(self, present: set[str]) -> float:
        """IDF-weighted share of the key terms not among `present`."""
        if not self.keys:
            return 0.0
        return sum(self.weights[t] for t in self.keys if t not in present) / sum(self.weights[t] for t in self.keys)


def question_word_spans(question: str) -> list[tuple[int, int]]:
    """Where `question` says what it asks with: its question words ("when", "how", "which"), or its first
    word when it has none ("Name the ...", "List ...", "Did ..."). Character spans in `question` as given."""
    spans = [match.span() for match in INTERROGATIVE.finditer(question)]
    if not spans:
        first = FIRST_WORD.search(question)
        spans = [first.span()] if first else []
    return spans
