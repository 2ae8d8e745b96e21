"""The default answerer, with no LLM: quote the sentence that answers the question, or abstain.

Candidates are the sentences of the retrieved passages (punkt spans, exact offsets). Each is scored
on evidence that can be measured without a generator:
- meaning: cosine between the question and the sentence (the packaged embedding model);
- words: the share of the question's content terms, weighted by rarity (IDF), found in the sentence;
- context: the same share over the sentence's passage, title and publisher;
- answer type: a "when" question wants a date, "how many" a number, "who"/"where" a name that
  the question does not already contain;
- retrieval rank of its passage.
Dense similarity alone cannot separate unanswerable questions here (measured: best cosine 0.09-0.68
for unanswerable ones vs a median 0.65 for answerable), so abstention also weighs whether the key
terms of the question (names, numbers, the thing asked about, words the corpus never uses) occur in
the chosen passage, and whether the quote holds the expected type of answer at all: a question about
a cost that the passage never states is not answered by it, however similar it sounds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.answer.headings import PUBLICATION, asks_about_authoring, authoring_terms, byline_blocks, is_heading
from app.answer.names import (
    countries_in,
    name_phrases,
    names_missing,
    nationalities_committed,
    people_in,
    same_country,
)
from app.answer.specifics import (
    DATE_MENTION,
    asked_action,
    asked_title,
    counted_terms,
    counts,
    people_with_other_titles,
    states_action,
    states_new_date,
)
from app.answer.support import numbers_in
from app.embedding import Embedder
from app.schema import Citation, Passage
from app.sentences import LIST_ITEM, sentence_spans
from app.terms import NUMBER_WORD_PATTERN, TermStats, acronyms_expanded, content_terms, related, words

# Numbers that point somewhere rather than count ("section 4", "Sec. 2", "Executive Order 14320", "50 U.S.C. 1622").
REFERENCE = "".join(rf"(?<!{re.escape(word)} )" for word in
                    ["section", "sec.", "part", "title", "chapter", "article", "paragraph", "page", "no.", "order",
                     "u.s.c.", "c.f.r."])
NUMBER_PATTERN = re.compile(  # a quantity, not a year, a reference or part of a code such as "910B" or "H20"
    rf"{REFERENCE}(?<![A-Za-z\d])(?!(?:19|20)\d\d\b)\d[\d,.]*(?![A-RT-Za-rt-z\d])|\b({NUMBER_WORD_PATTERN}|"
    r"thousand|million|billion|trillion|dozen|half|percent)\b",
    re.I,
)
ENUMERATOR = re.compile(r"\(\s*(?:\d{1,3}|[a-z]{1,2}|[ivx]{1,4})\s*\)|^\s*\d{1,2}\.\s")  # "(3)", "(d)", "(iv)", "2. "
NAME_PATTERN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z’'\-]+")
DESCRIPTIVE = re.compile(r"-[a-z]")  # "AI-driven", "China-based": a capitalised adjective, not a name
KEY_TOKEN = re.compile(r"\b(\d[\d,.]*\b|[A-Z][A-Za-z’'\-]*)")
MARKUP = re.compile(r"<[^<>]{1,500}>")
# "how much revenue", "what penalties", "which senators": the noun right after the question word
FOCUS = re.compile(r"\b(?:how (?:much|many)|what|which)\s+(?:kinds? of |types? of |sorts? of |share of |amount of )?"
                   r"([a-z][a-z\-]+)", re.I)
GENERIC_FOCUS = {"is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could",
                 "should", "the", "a", "an", "year", "month", "date", "day", "time", "number", "share", "percentage",
                 "amount", "kind", "type", "official", "officials", "person", "people", "role", "part", "thing",
                 "things", "way", "ways", "two", "three", "four", "five"}

# A sentence that lists what the one before it announced ("These included ...", "They are ...").
ENUMERATION = re.compile(r"(?:These|They|Those)\s+(?:include[sd]?|are|were|comprise[sd]?|cover(?:ed)?)\b")

SCORE_WEIGHTS = {"meaning": 0.40, "words": 0.30, "context": 0.10, "type": 0.12, "rank": 0.08}
TYPE_MARGIN = 0.08  # a sentence of the expected answer type may win over a better-scored one this close
TYPE_WORDS_SHARE = 0.5  # ... if it holds at least this share of the question's words that the better one holds
NEXT_MARGIN = 0.05  # the following sentence joins the quote when it scores this close (lists, continuations)
SECOND_MARGIN = 0.20  # another sentence of the same document is cited too when it scores this close
AUTHORING_BONUS = 0.15  # "when was it signed": a by-line, or a sentence that says "signed", over other dated sentences
BYLINE_DOCUMENTS = 3  # by-lines are read from this many of the top retrieved documents
BYLINE_MIN_NAMED = 0.30  # share of the question's terms the title and by-line must hold: the question names the document


# Institutions whose names carry the noun ("Department of Commerce"), singular or plural.
INSTITUTION_NOUN = r"(departments?|ministr(?:y|ies)|bureaus?|offices?|committees?|courts?|universit(?:y|ies)|institutes?)"

# "which", then up to two qualifiers ("which specific", "what two other"), never a verb or article
WHICH = r"\b(?:which|what)(?: (?!(?:is|was|are|were|did|does|do|has|have|had|the|a|an|will|would|can|could|should)\b)[a-z.\-]+){0,2}?"


def is_dated_heading(text: str) -> bool:
    """A heading line that states a date ("Date: May 12, 2026"): it may answer a date question.
    Months are read as the one date pattern reads them (capitalised): "Who may apply" holds none."""
    return is_heading(text) and bool(DATE_MENTION.search(text))


def expected_answer_type(question: str) -> str | None:
    q = question.lower().strip()
    if re.search(r"\bwhat date\b|^(when|since when|by when)\b|\b(what|which) ([a-z]+ )?(year|month|date|day)\b|"
                 r"\bwhat (is|was) the date\b", q):  # "by what target year", "on exactly which day"
        return "date"
    if PUBLICATION.search(q) or re.search(r"\b(how (many|much|long|large|big|high|far)|what (?:[a-z\-]+ )?(share|percentage|"
                 r"portion|fraction|amount|number|figure|threshold|cap|limit|size|total|value|cost|price|sum|rate))\b|"
                 r"^what (is|was|are|were) (the )?"
                 r"[\w\-’' ]*?\b(cap|limit|threshold|number|share|percentage|amount|total|size|figure|deadline|value|cost|"
                 r"price|sum|rate|revenues?|sales|spending|budget|profits?|income|investment|funding|valuation)\b", q):
        return "number"
    if re.search(rf"^(who|whom|whose|where)\b|\bname of\b|\bnamed\b|\b(its|their) names?\b|"
                 rf"\bwhat (is|was|are|were) [\w\-’' ]*? called\b|{WHICH} (person|official|senator|senators|company|companies|"
                 rf"firm|firms|organi[sz]ation|agency|agencies|{INSTITUTION_NOUN}|government|governments|country|"
                 r"countries|city|cities|nation|nations|region|place|state|states)\b|\bin which (city|country)\b", q):
        return "name"
    return None


# The kind of amount a number question asks for. "What percentage / share / cost-share" wants a
# proportion; "how much funding / what did it cost / the dollar value" wants money. A sentence with
# some other number ("35 square blocks", "one of our landmarks") does not hold that amount.
PROPORTION_ASKED = re.compile(r"\b(?:percent(?:age)?s?|share|proportion|fraction)\b", re.I)
MONEY_ASKED = re.compile(r"\b(?:dollars?|costs?|cost to|funding|funds?|price|paid|pay(?:s|ing)?|spen[dt]|spending|budget|"
                         r"revenues?|invest(?:ed|s|ing|ments?)?|valuation|worth|grants?|awards?|aid|refunds?|damages?)\b(?!\s+(?:index|indexes|indices|inflation|growth|levels?))|\$", re.I)
PROPORTION_STATED = re.compile(r"%|\bper ?cent\b|\bpercentage points?\b|\b(?:half|third|quarter|fifth|tenth)s?\b|"
                               r"\b\d+ (?:in|of|out of) (?:every )?\d+\b", re.I)
MONEY_STATED = re.compile(r"[$€£¥]\s?\d|\b(?:US|USD|EUR)\s?\d|\b\d[\d,.]*\s?(?:bn|m|k)?\s*(?:dollars|euros?|pounds|yuan|"
                          r"renminbi|rupees?|USD)\b|\b(?:million|billion|trillion)\b", re.I)


def amount_asked(question: str) -> str | None:
    """"proportion" or "money" when a number question asks for one of these kinds of amount."""
    q = question.lower()
    if re.search(r"\bhow many\b", q):
        return None  # a count ("how many grants") is a count, whatever it counts
    if re.search(r"\b(?:grow|grew|ris(?:e|es|ing)\b|rose\b|increas|decreas|declin|fall|fell\b|drop|chang)", q):
        return None  # a change may be stated in units or in percent
    if PROPORTION_ASKED.search(q):
        return "proportion"
    if MONEY_ASKED.search(q) and re.search(r"\bhow much\b|\bwhat (?:[\w\-]+ ){0,3}(?:amount|cost|value|price|sum|total|"
                                          r"funding|share|budget|investment|valuation)\b", q):
        return "money"
    return None


# The question asks what something is called: a country or nationality is not that name.
THING_NAME_ASKED = re.compile(r"\bcalled\b|\bname of (?:the|this|that|its|their) (?!(?:official|person|country|city|state|place))|"
                              r"\b(?:its|their) names?\b", re.I)
COUNTRY_QUESTION = re.compile(rf"{WHICH} (countr(?:y|ies)|nations?)\b", re.I)


PERSON_NOUNS = (r"(?:official|secretary|undersecretary|senator|scientist|analyst|researcher|director|president|chair|"
                r"chairman|chairwoman|minister|leader|spokesperson|spokesman|spokeswoman|ambassador|advis[eo]r|laureate|"
                r"ceo|founder|author|person|expert|economist|executive|head)s?")
# "the name of the official who...", "who is the Commerce Secretary", "which senators": a person's name, not a role
PERSON_QUESTION = re.compile(rf"\b(?:name of|who (?:is|was|are|were)) (?:the |this |that |a |an )?(?:[\w\-’']+ ){{0,4}}?"
                             rf"{PERSON_NOUNS}\b|\bwhich (?:senators?|scientists?|analysts?|researchers?|experts?|"
                             rf"economists?|persons?|people)\b", re.I)


def countries_wanted(question: str) -> int:
    """How many countries a "which country/countries" question expects named: 0 for other questions,
    2 for the plural (a list), 1 for the singular."""
    match = COUNTRY_QUESTION.search(question)
    if not match:
        return 0
    return 2 if match.group(1).lower() in {"countries", "nations"} else 1


# "which department", "what government office": the answer is an institution whose name carries that word
# ("Department of Commerce", "Commerce Department"); a person's name does not answer it.
INSTITUTION_QUESTION = re.compile(rf"(?:{WHICH}|\bname of the(?: [\w\-’']+){{0,2}}?) {INSTITUTION_NOUN}\b", re.I)


def institution_wanted(question: str) -> str | None:
    """The capitalised word an institution's name asked for by `question` carries, or None."""
    match = INSTITUTION_QUESTION.search(question)
    if not match:
        return None
    return re.sub(r"s$", "", re.sub(r"ies$", "y", match.group(1).lower())).capitalize()  # "Ministries": Ministry


def institution_names(institution: str, text: str) -> list[str]:
    """The distinguishing words of the `institution`s `text` names: "Commerce" for "Department of Commerce",
    "Commerce Department" or "Commerce and State Departments". Not a test of is_name: "commerce" is also
    an ordinary word, while "Department of Commerce" is a name whatever its words."""
    word = r"(?!(?:The|This|That|Each|Every)\b)([A-Z][\w’'\-]+)"  # "The Office of Science": Science
    forms = rf"(?:{institution}|{re.sub(r'y$', 'ie', institution)}s)"  # "Ministry", "Ministries"
    pattern = rf"{word}(?: and [A-Z][\w’'\-]+)? {forms}\b|\b{forms} (?:of|on|for) (?:the )?{word}"
    return [m for match in re.finditer(pattern, text) for m in match.groups() if m]


def _abbreviates(word: str, question_words: list[str]) -> bool:
    """"LLM" when the question says "large language model": the question already names it."""
    if not (word.isupper() and len(word) >= 2):
        return False
    initials = "".join(w[0] for w in question_words if w)
    return word.lower() in initials


@dataclass
class QuestionProfile:
    """What the question asks, in the terms the evidence is measured in."""

    text: str
    weights: dict[str, float]
    keys: set[str]
    answer_type: str | None
    question_words: list[str]
    numbers: list[str]
    names: list[tuple[list[str], str]]  # the names it commits to (app.answer.names)
    countries: int  # how many countries the answer must name (0: not a country question)
    person: bool  # the answer must name a person ("the name of the official who...")
    institution: str | None  # the answer must name an institution carrying this word ("Department")
    title: str | None  # the person asked for holds this office ("secretary"): others named with another title are not
    counted: set[str]  # "how many X": the terms of X, which a number in the answer must count
    action: str | None  # "who introduced X": the sentence naming the person must say the action (app.answer.specifics)
    amount: str | None = None  # a number question's kind of amount: "proportion", "money" or any (None)

    @classmethod
    def build(cls, question: str, stats: TermStats) -> "QuestionProfile":
        question = MARKUP.sub(" ", question)  # pasted HTML tags are not part of what is asked
        weights = stats.weights(content_terms(question))
        keys = content_terms(" ".join(m.group(0) for m in KEY_TOKEN.finditer(question) if m.start() > 0))
        focus = [m.group(1).lower() for m in FOCUS.finditer(question) if m.group(1).lower() not in GENERIC_FOCUS]
        keys |= content_terms(" ".join(focus))
        keys |= {term for term in weights if stats.frequency.get(term, 0) == 0}  # words the corpus never uses
        numbers = re.findall(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d", question)
        answer_type = expected_answer_type(question)
        person = PERSON_QUESTION.search(question)
        return cls(question, weights, keys & set(weights), answer_type, words(question), numbers,
                   nationalities_committed(name_phrases(question, stats.is_name), stats.uses), countries_wanted(question),
                   bool(person), institution_wanted(question), asked_title(person.group(0)) if person else None,
                   counted_terms(question) if answer_type == "number" else set(),
                   None if asks_about_authoring(question, answer_type) else asked_action(question),
                   amount_asked(question) if answer_type == "number" else None)

    def holds_answer_type(self, text: str, stats: TermStats) -> bool:
        """Whether `text` holds the kind of answer asked for: a date, a number, a name the question
        lacks (a country, for a "which country" question; at least two for "which countries"), and the
        specific thing asked (app.answer.specifics): a date the question does not already state, a count
        of what "how many" counts, a person of the asked office, the asked action."""
        if self.action and not states_action(self.action, text):
            return False
        if self.person:
            people = people_in(text, stats.is_name)
            if self.title:
                people -= people_with_other_titles(self.title, text)
            return any(surname.lower() not in self.question_words for surname in people)
        if self.answer_type is None:
            return True
        if self.answer_type == "date":
            return states_new_date(self.text, text)
        if self.answer_type == "number":
            text = ENUMERATOR.sub(" ", text)  # "(3) applauds ...": the third item, not a quantity
            if self.amount == "proportion" and not PROPORTION_STATED.search(text):
                return False
            if self.amount == "money" and not MONEY_STATED.search(text):
                return False
            return bool(NUMBER_PATTERN.search(text)) and (not self.counted or counts(self.counted, text))
        if self.countries:
            asked = countries_in(self.text)
            new = {c for c in countries_in(text) if not any(same_country(c, other) for other in asked)}
            return len(new) >= self.countries
        if self.institution:
            return any(word.lower() not in self.question_words for word in institution_names(self.institution, text))
        names = {m.group(0) for m in NAME_PATTERN.finditer(text)
                 if stats.is_name(m.group(0)) and not DESCRIPTIVE.search(m.group(0)) and not stats.is_topic(m.group(0))}
        if THING_NAME_ASKED.search(self.text):
            names = {name for name in names if not countries_in(name)}  # "China's models" names no model
        return any(not self.names_asked(name) and not _abbreviates(name, self.question_words) for name in names)

    def names_asked(self, name: str) -> bool:
        """Whether the question already says `name`, in some word form ("Nicaragua" for "Nicaraguan")."""
        return name.lower() in self.question_words or any(related(term, asked) for term in content_terms(name)
                                                           for asked in self.weights)

    def present(self, text: str) -> set[str]:
        """The question's terms that `text` contains (in some word form, or as a spelled-out acronym)."""
        found = content_terms(text)
        present = {term for term in self.weights if any(related(term, other) for other in found)}
        return present | (acronyms_expanded(self.text, text) & set(self.weights))

    def coverage(self, present: set[str]) -> float:
        """IDF-weighted share of the question's terms among `present`."""
        return sum(w for t, w in self.weights.items() if t in present) / (sum(self.weights.values()) or 1.0)

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
                "names_missing": float(bool(names_missing(self.names, surroundings)))}

    def missing_keys(self, present: set[str]) -> float:
        """IDF-weighted share of the key terms not among `present`."""
        if not self.keys:
            return 0.0
        return sum(self.weights[t] for t in self.keys if t not in present) / sum(self.weights[t] for t in self.keys)


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


# Logistic model of "this quote answers the question", over the chosen quote's features.
# Fit by scripts/fit_evidence.py on eval/coverage/dev.jsonl (L2-regularised); refit when features change.
EVIDENCE_INTERCEPT = -4.21
EVIDENCE_COEFFICIENTS = {"meaning": 0.83, "words": 2.54, "context": 3.18, "missing": 0.47,
                         "byline": 1.0}


def evidence(features: dict[str, float]) -> float:
    """Probability-like confidence that the chosen quote answers the question."""
    z = EVIDENCE_INTERCEPT + sum(c * features.get(name, 0.0) for name, c in EVIDENCE_COEFFICIENTS.items())
    return float(1.0 / (1.0 + np.exp(-z)))


class ExtractiveAnswerer:
    """Chooses verbatim sentences from retrieved passages."""

    def __init__(self, encoder: Embedder, stats: TermStats, rerank_sentences: int, threshold: float,
                 document_text: Callable[[str], str | None] | None = None):
        self.encoder = encoder  # question and candidate sentences, one space (app.embedding)
        self.stats = stats
        self.rerank_sentences = rerank_sentences
        self.threshold = threshold
        self.document_text = document_text  # for by-lines outside the retrieved passages

    def extract(self, question: str, passages: list[Passage]) -> Extract:
        profile = QuestionProfile.build(question, self.stats)
        candidates = self._candidates(profile, passages)
        if asks_about_authoring(profile.text, profile.answer_type):
            verbs = authoring_terms(profile.text)
            for candidate in candidates:
                candidate.features["authoring"] = float(bool(verbs & content_terms(candidate.text)))
            candidates += self._byline_candidates(profile, passages)
        # A question that names someone or something, or states a number (a year, an order's number),
        # is about it: a passage that never mentions it does not answer the question, however close the
        # rest sounds ("... Huawei built in Indonesia?", "... spent on AI infrastructure in 2024?").
        candidates = [c for c in candidates if not (c.features["names_missing"] or c.features["numbers_missing"])]
        if not candidates:
            return Extract([], 0.0)
        # Embedding a sentence costs several ms on this CPU; only the lexically promising are embedded.
        candidates.sort(key=lambda c: c.features["words"] + 0.5 * c.features["context"] + 0.3 * c.features["rank"],
                        reverse=True)
        shortlist = candidates[: self.rerank_sentences]
        vectors = np.asarray(self.encoder.embed_texts([question] + [c.as_read for c in shortlist]))
        for candidate, cosine in zip(shortlist, vectors[1:] @ vectors[0]):
            candidate.features["meaning"] = float(cosine)
            candidate.score = sum(weight * candidate.features[name] for name, weight in SCORE_WEIGHTS.items())
            candidate.score += AUTHORING_BONUS * candidate.features.get("authoring", 0.0)
        shortlist.sort(key=lambda c: c.score, reverse=True)
        top = shortlist[0]
        best = next((c for c in shortlist if c.features["type"] and c.score >= top.score - TYPE_MARGIN
                     and c.features["words"] >= TYPE_WORDS_SHARE * top.features["words"]), top)
        if not best.features["type"]:
            return Extract([], 0.0)  # a "when" answered without a date, a "how much" without a number
        strength = evidence(best.features)
        if strength < self.threshold:
            return Extract([], strength)
        chosen = [self._joined_with_next(best, shortlist)]
        second = next((c for c in shortlist if c.passage.doc_id == best.passage.doc_id and c.score >= best.score - SECOND_MARGIN
                       and (c.end <= chosen[0].start or c.start >= chosen[0].end)), None)
        if second is not None and evidence(second.features) >= self.threshold:
            chosen.append(second)
        return Extract(chosen, strength)

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
        seen: set[tuple[str, int]] = set()
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
                    f"{passage.title}\n{passage.publisher}\n{passage.date}\n{retrieved}")
            in_context = in_document[passage.doc_id]
            spans = sentence_spans(passage.text)
            for index, (start, end) in enumerate(spans):
                text = passage.text[start:end]
                if (passage.doc_id, passage.start + start) in seen:
                    continue
                if is_heading(text) and not (profile.answer_type == "date" and is_dated_heading(text)):
                    continue  # a title line is no answer; a dated line ("Date: May 12, 2026") may be
                seen.add((passage.doc_id, passage.start + start))
                candidate = Candidate(passage, rank, passage.start + start, passage.start + end, text)
                type_ok = profile.holds_answer_type(text, self.stats)
                if not type_ok and index > 0:
                    candidate = self._joined_with_previous(candidate, spans[index - 1], profile)
                    type_ok = candidate.text != text  # joined only to a previous sentence of the right type
                candidate.features = {
                    "words": profile.coverage(profile.present(candidate.text)),
                    "type": float(type_ok),
                    "rank": 1.0 / (1.0 + rank),
                    **in_context,
                }
                candidates.append(candidate)
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
                candidate.features = {"words": named, "type": 1.0, "rank": 1.0 / (1.0 + rank), "authoring": 1.0,
                                      "byline": 1.0,
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
