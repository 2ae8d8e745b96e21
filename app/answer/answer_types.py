"""The kinds of answer a question asks for: one table.

Each row has the question forms that ask for it, the check that a sentence holds such an answer, and
example questions with a sentence that holds the answer and one that only sounds like it
(tests/test_answer_types.py is generated from them). A question takes the first row whose forms it
matches; the last row, "description", takes every other question and checks nothing. The words the
forms are built from are data (app/answer/lexicon.toml, [questions]). The forms are matched against the
question without a leading clause that only names its source (`asked_clause`: "According to the 2021
proclamation, who was appointed ...?" asks "who was appointed ...?").

The checks are features of the fitted model (app.answer.features: `type_basic` is the row's kind at
all, `type_specific` the row's check), never vetoes. What "specific" means per row:
- person: a person the question does not name, not one named only with another office;
- date: a date the question does not already state (inside the time frame it sets or not: that is the
  feature `dates_outside_frame`), or for a "when" question a time counted from an event ("1 year after
  the date of this order");
- amount: a number stating the asked kind of amount (money, a proportion);
- count: a number that counts what "how many" counts;
- number: a quantity (not a year, a section number or a code such as "H20"), or for "the number of the
  executive order" the number that names it ("Executive Order 14036");
- place: countries the question does not name (two or more for "which countries");
- organisation: an institution of the asked kind ("which department": "Department of Commerce");
- name: a name the question does not already say (for "what is it called", not a country).
Beside the table, `names_an_instance` checks any "which/what <kind>" question ("which executive order",
"which counties") for a new name or number next to a word of that kind: the feature `kind_instance`,
which every such question gets whatever its row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.answer.headings import PUBLICATION
from app.answer.lexicon import (
    DATE_MENTION,
    QUANTITY,
    RELATIVE_TIME,
    WORDS,
    countries_in,
    people_in,
    same_country,
    us_states_in,
)
from app.answer.specifics import counted_terms, counts, people_with_other_titles, states_new_date
from app.terms import TermStats, content_terms, related

if TYPE_CHECKING:
    from app.answer.question import QuestionProfile

Q = WORDS["questions"]


def _any(words: list[str]) -> str:
    return "|".join(re.escape(word) for word in words)


def _plural(noun: str) -> str:
    """"ministr(?:y|ies)" for "ministry", "bureaus?" for "bureau"."""
    return f"{noun[:-1]}(?:y|ies)" if noun.endswith("y") else f"{noun}s?"


INSTITUTION_NOUN = "(" + "|".join(_plural(noun) for noun in Q["institution_nouns"]) + ")"
# "which", then up to two qualifiers ("which specific", "what two other"), never a verb or article
WHICH = rf"\b(?:which|what)(?: (?!(?:{_any(Q['auxiliaries'])})\b)[a-z.\-]+){{0,2}}?"

DATE_FORMS = re.compile(rf"\bwhat date\b|^when\b|\b(since|by|until) when\b|\b(what|which) ([a-z]+ )?({_any(Q['date_nouns'])})\b|"
                        r"\bwhat (is|was) the date\b", re.I)  # "by what target year", "on exactly which day"
NUMBER_FORMS = re.compile(rf"\b(how ({_any(Q['how_words'])})|what (?:[a-z\-]+ ){{0,3}}?({_any(Q['number_nouns'])}))\b|"
                          rf"^what (is|was|are|were) (the )?[\w\-’' ]*?\b({_any(Q['number_subjects'])})\b", re.I)
NAME_FORMS = re.compile(rf"^(who|whom|whose|where)\b|\bnames? of\b|\bnamed\b|\b(its|their) names?\b|"
                        rf"\bwhat (is|was|are|were) [\w\-’' ]*? called\b|{WHICH} ({_any(Q['name_nouns'])}|"
                        rf"{INSTITUTION_NOUN})\b|\bin which (city|country)\b", re.I)
# "the name of the official who...", "who is the Commerce Secretary", "which senators": a person's name, not a role
PERSON_FORMS = re.compile(rf"\b(?:names? of|who (?:is|was|are|were)) (?:the |this |that |a |an )?(?:[\w\-’']+ ){{0,4}}?"
                          rf"(?:{_any(Q['person_nouns'])})s?\b|\bwhich (?:(?:{_any(Q['which_people'])})s?|people)\b", re.I)
COUNTRY_FORMS = re.compile(rf"{WHICH} (countr(?:y|ies)|nations?|states)\b", re.I)  # "which five states": a list
# "which department", "what government office": an institution whose name carries that word
INSTITUTION_FORMS = re.compile(rf"(?:{WHICH}|\bname of the(?: [\w\-’']+){{0,2}}?) {INSTITUTION_NOUN}\b", re.I)
COUNT_FORMS = re.compile(r"\bhow many\b", re.I)
# A number asked of a document or provision that the number names ("the number of the executive order", "what
# Public Law number"): the number after its noun ("Executive Order 14036", "Public Law 118-31") answers, though
# QUANTITY takes no such number (a reference, not an amount)
REFERENCE_NUMBER_ASKED = re.compile(rf"\bnumbers?\b(?: and \w+)? of (?:the |this |that )?(?:[\w\-]+ ){{0,2}}"
                                    rf"(?:{_any(Q['reference_nouns'])})\b|\b(?:{_any(Q['reference_nouns'])}) numbers?\b", re.I)
REFERENCE_NUMBER = re.compile(rf"\b(?:{_any([noun.capitalize() for noun in Q['reference_nouns']])})\s+(?:No\.\s*)?(\d[\d\-–]*\d|\d)\b")
# "which executive order", "what document": the kind of thing asked for, by its words
KIND_ASKED = re.compile(rf"\b(?:which|what) ((?!(?:{_any(Q['auxiliaries'])})\b)[a-z][a-z\-]+(?: [a-z][a-z\-]+){{0,2}})\b",
                        re.I)
NEAR = 3  # words between the kind's word and the instance's name
# The question asks what something is called: a country or nationality is not that name.
THING_NAME_ASKED = re.compile(r"\bcalled\b|\bname of (?:the|this|that|its|their) (?!(?:official|person|country|city|state|place))|"
                              r"\b(?:its|their) names?\b", re.I)

PROPORTION_ASKED = re.compile(rf"\b(?:{_any(Q['proportion_words'])})\b", re.I)
MONEY_ASKED = re.compile(rf"\b(?:{_any(Q['money_words'])})\b(?!\s+(?:index|indexes|indices|inflation|growth|levels?))|\$",
                         re.I)
MONEY_NOUN_ASKED = re.compile(rf"\bhow much\b|\bwhat (?:[\w\-]+ ){{0,4}}(?:{_any(Q['money_nouns'])})\b", re.I)
CHANGE_ASKED = re.compile(rf"\b(?:{_any(Q['change_prefixes'])})|\b(?:{_any(Q['change_words'])})\b", re.I)
PROPORTION_STATED = re.compile(r"%|\bper ?cent\b|\bpercentage points?\b|\b(?:half|third|quarter|fifth|tenth)s?\b|"
                               r"\b\d+ (?:in|of|out of) (?:every )?\d+\b", re.I)
MONEY_STATED = re.compile(rf"[$€£¥]\s?\d|\b(?:US|USD|EUR)\s?\d|\b\d[\d,.]*\s?(?:bn|m|k)?\s*(?:{_any(Q['currencies'])})\b|"
                          r"\b(?:million|billion|trillion)\b", re.I)
ENUMERATOR = re.compile(r"\(\s*(?:\d{1,3}|[a-z]{1,2}|[ivx]{1,4})\s*\)|^\s*\d{1,2}\.\s")  # "(3)", "(d)", "(iv)", "2. "
# A capitalised word that is not a sentence's first: after ". " only when the dot ends an initial or an
# honorific ("Kenneth G. Clark", "Mr. Ngwira"), where a name goes on rather than a sentence starting
_NAME_GOES_ON = "|".join([r"(?<=\b[A-Z]\.\s)", *(rf"(?<=\b{word}\.\s)" for word in WORDS["people"]["honorifics"])])
NAME_PATTERN = re.compile(rf"(?:(?<![.!?]\s)|{_NAME_GOES_ON})(?<!^)\b[A-Z][a-zA-Z’'\-]+")
DESCRIPTIVE = re.compile(r"-[a-z]")  # "AI-driven", "China-based": a capitalised adjective, not a name


WH_WORD = r"\b(?:who|whom|whose|where|when|what|which|how)\b"
# "According to Biden's 2021 proclamation, who was appointed ...?": a clause naming the source, then the
# question. The clause holds no question word ("On what date did the Senate confirm X, whom Biden
# nominated ...?" asks for a date, not a person). Until 2026-12-07 the forms that must start a question
# missed such questions, typed "description" (15 dev and 9 test questions).
FRAMING = re.compile(rf"^(?:(?!{WH_WORD})[^?])+?,\s+(?={WH_WORD})", re.I)
WHEN_ASKED = re.compile(r"^\s*when\b", re.I)


def asked_clause(question: str) -> str:
    """The question without a leading clause that only names its source: the forms of the table that
    must start a question ("who ...", "when ...") are matched against this."""
    return FRAMING.sub("", question.strip(), count=1)


def broad_kind(question: str) -> str | None:
    """"date", "number" or "name": the broad kind of answer asked for, or None."""
    q = asked_clause(question).lower()
    if DATE_FORMS.search(q):
        return "date"
    if PUBLICATION.search(q) or NUMBER_FORMS.search(q):
        return "number"
    if NAME_FORMS.search(q):
        return "name"
    return None


def amount_asked(question: str) -> str | None:
    """"proportion" or "money" when a number question asks for one of these kinds of amount."""
    if COUNT_FORMS.search(question) or CHANGE_ASKED.search(question):
        return None  # a count is a count whatever it counts; a change may be stated in units or percent
    if PROPORTION_ASKED.search(question):
        return "proportion"
    if MONEY_ASKED.search(question) and MONEY_NOUN_ASKED.search(question):
        return "money"
    return None


def countries_wanted(question: str) -> int:
    """How many places a "which country/countries/states" question expects named: 0 for other questions,
    2 for the plural (a list), 1 for the singular."""
    match = COUNTRY_FORMS.search(question)
    if not match:
        return 0
    return 2 if match.group(1).lower() in {"countries", "nations", "states"} else 1


def institution_wanted(question: str) -> str | None:
    """The capitalised word an institution's name asked for by `question` carries, or None."""
    match = INSTITUTION_FORMS.search(question)
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


# ---- the checks: does a sentence hold the row's answer? (profile: the analysed question)

def _people(profile: QuestionProfile, text: str, stats: TermStats) -> set[str]:
    return {surname for surname in people_in(text, stats.is_name) if surname.lower() not in profile.question_words}


def holds_person(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    people = _people(profile, text, stats)
    if profile.title:
        people -= people_with_other_titles(profile.title, text)
    return bool(people)


def holds_date(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    """A date the question does not state. Whether it falls in the question's time frame is a feature of
    its own (`dates_outside_frame`): "in May 2024" may date the asked event or another one ("the tornadoes
    that led Biden to approve a declaration in May 2024": March 14)."""
    return states_new_date(profile.text, text, framed=False) or _counted_from_event(profile, text)


def _counted_from_event(profile: QuestionProfile, text: str) -> bool:
    """"When does the tariff expire?" is answered by "1 year after the date ...": a time counted from an event."""
    return profile.asks_when and bool(RELATIVE_TIME.search(text))


def holds_quantity(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    if profile.reference_number and any(number not in profile.numbers for number in REFERENCE_NUMBER.findall(text)):
        return True  # "Executive Order 14036" answers "the number of the executive order"
    return bool(QUANTITY.search(ENUMERATOR.sub(" ", text)))  # "(3) applauds ...": the third item, not a quantity


def holds_amount(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    stated = MONEY_STATED if profile.amount == "money" else PROPORTION_STATED
    return bool(stated.search(ENUMERATOR.sub(" ", text))) and holds_quantity(profile, text, stats)


def holds_count(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    return holds_quantity(profile, text, stats) and (not profile.counted or counts(profile.counted, ENUMERATOR.sub(" ", text)))


def holds_place(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    """Countries (or U.S. states: "which states" asks for either) the question does not name, as many as asked."""
    asked = countries_in(profile.text)
    new = {c for c in countries_in(text) if not any(same_country(c, other) for other in asked)}
    new |= us_states_in(text) - us_states_in(profile.text)
    return len(new) >= profile.countries


def holds_organisation(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    return any(word.lower() not in profile.question_words for word in institution_names(profile.institution or "", text))


def new_names(profile: QuestionProfile, text: str, stats: TermStats) -> set[str]:
    """Names in `text` the question does not already say (nor abbreviate)."""
    names = {m.group(0) for m in NAME_PATTERN.finditer(text)
             if stats.is_name(m.group(0)) and not DESCRIPTIVE.search(m.group(0)) and not stats.is_topic(m.group(0))}
    return {name for name in names if not profile.names_asked(name) and not _abbreviates(name, profile.question_words)}


def holds_name(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    names = new_names(profile, text, stats)
    if THING_NAME_ASKED.search(profile.text):
        names = {name for name in names if not countries_in(name)}  # "China's models" names no model
    return bool(names)


def kind_words(question: str) -> set[str]:
    """The content terms of the kind a "which/what <kind>" question asks for ({"execut", "order"} for
    "which executive order ..."), empty for other questions."""
    match = KIND_ASKED.search(question)
    return content_terms(match.group(1)) if match else set()


def names_an_instance(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    """A name or number the question does not say, next to a word of the kind asked (`profile.kind_words`):
    "Executive Order 13611" for "which executive order", "the counties of Harris, Liberty" for "which counties"."""
    if not profile.kind_words:
        return False
    tokens = re.findall(r"[\w’'\-]+", text)
    near_kind: set[int] = set()
    for i, token in enumerate(tokens):
        if any(related(term, kind) for term in content_terms(token) for kind in profile.kind_words):
            near_kind.update(range(max(0, i - NEAR), i + NEAR + 1))
    if not near_kind:  # most sentences: no word of the kind, and no names to look for
        return False
    fresh = new_names(profile, text, stats)
    asked = {number.replace(",", "") for number in profile.numbers}
    return any(i in near_kind and (token in fresh or (token[0].isdigit() and token.replace(",", "") not in asked))
               for i, token in enumerate(tokens))


def holds_anything(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    return True


def _abbreviates(word: str, question_words: list[str]) -> bool:
    """"LLM" when the question says "large language model": the question already names it."""
    if not (word.isupper() and len(word) >= 2):
        return False
    initials = "".join(w[0] for w in question_words if w)
    return word.lower() in initials


# ---- the basic kinds: does a sentence hold such an answer at all?

def basic_date(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    return bool(DATE_MENTION.search(text)) or _counted_from_event(profile, text)


def basic_person(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    return bool(_people(profile, text, stats))


def basic_name(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    return any(not profile.names_asked(m.group(0)) for m in NAME_PATTERN.finditer(text) if stats.is_name(m.group(0)))


def basic_none(profile: QuestionProfile, text: str, stats: TermStats) -> bool:
    return False


Check = Callable[["QuestionProfile", str, TermStats], bool]


@dataclass(frozen=True)
class AnswerType:
    name: str
    asks: Callable[[str, str | None], bool]  # (question, its broad kind) -> whether this row is asked for
    holds: Check  # the sentence holds the specific answer asked for
    holds_kind: Check  # the sentence holds this kind of answer at all
    examples: tuple[tuple[str, str, str], ...]  # (question, a sentence that holds it, one that does not)


ANSWER_TYPES: tuple[AnswerType, ...] = (
    AnswerType("person", lambda q, kind: bool(PERSON_FORMS.search(q)), holds_person, basic_person, (
        ("What is the name of the Secretary of Commerce who must set up the program?",
         "Secretary Lutnick will set up the program.",
         "President Donald J. Trump signed the order on the program."),
        ("Which senators introduced the bill?", "Senator Coons introduced the bill with Senator Cotton.",
         "The bill was introduced in the Senate in May."),
        ("What are the names of the two men charged with the theft?", "Police charged John Ames and Carl Diaz with it.",
         "Two men who were members of a gang have been charged with the theft."),
    )),
    AnswerType("date", lambda q, kind: kind == "date", holds_date, basic_date, (
        ("When did the Commerce Department warn about Ascend chips?", "In May 2025, the Commerce Department warned.",
         "The Commerce Department warned about Ascend chips."),
        ("On which day of April 2025 did the President sign the order?", "The order was signed on April 23, 2025.",
         "In April 2025, the President signed the order."),
        ("In what year did the government issue its semiconductor policy?", "The policy was issued in 2014.",
         "The government issued a semiconductor policy."),
        ("Under the March 2025 order, when does a tariff on a country expire?",
         "The tariff expires 1 year after the date on which it was imposed.", "The tariff on a country expires."),
    )),
    AnswerType("amount", lambda q, kind: kind == "number" and amount_asked(q) is not None, holds_amount, holds_quantity, (
        ("How much did the helicopter cost to build?", "The helicopter cost $85 million to build.",
         "The helicopter is one of the agency's 35 projects."),
        ("What percentage of the market does the firm hold?", "The firm holds 40% of the market.",
         "The firm sells in 12 markets."),
        ("How much money did the state receive in awards?", "The state gets $272M in awards.",
         "The state gets awards in 12 counties."),
    )),
    AnswerType("count", lambda q, kind: kind == "number" and bool(counted_terms(q)), holds_count, holds_quantity, (
        ("How many proposals has the department received?", "The department received 23 proposals.",
         "The department has 90 days to review them."),
        ("How many ships did the Navy seize?", "The Navy seized sixteen ships.", "The Navy sailed in 2019."),
        ("How many U.S. aluminum smelters were idled?", "Five U.S. aluminum smelters were idled.",
         "With one stroke of the pen, the era of idled smelters ended."),
    )),
    AnswerType("number", lambda q, kind: kind == "number", holds_quantity, holds_quantity, (
        ("How long is the review period?", "The review lasts 90 days.", "The review begins in 2026."),
        ("What is the cap on chip exports?", "The cap is 50,000 chips per country.", "Section 4 sets the cap."),
        ("What is the number of the executive order on competition that was revoked?",
         "Executive Order 14036 (Promoting Competition in the American Economy) is hereby revoked.",
         "The order on competition is hereby revoked."),
        ("What Public Law number is cited for the Act?", "The Act (Public Law 118-31) is cited.",
         "The Act is cited in section 1352."),
    )),
    AnswerType("place", lambda q, kind: countries_wanted(q) > 0, holds_place, basic_name, (
        ("Which countries did Huawei pitch its processors to?",
         "Huawei pitched them to the UAE, Saudi Arabia, and Thailand.", "Huawei pitched its processors widely."),
        ("Which country hosted the trade talks?", "The talks were held in Switzerland.",
         "The trade talks were held over two days."),
        ("In which five states is the company expanding its plants?",
         "It is expanding its plants in Kentucky, Alabama, Georgia, South Carolina and Tennessee.",
         "It is expanding its plants across five states."),
    )),
    AnswerType("organisation", lambda q, kind: institution_wanted(q) is not None, holds_organisation, basic_name, (
        ("Which department issued the guidance?", "The Department of Commerce issued the guidance.",
         "Secretary Lutnick issued the guidance."),
    )),
    AnswerType("name", lambda q, kind: kind == "name", holds_name, basic_name, (
        ("Huawei launched an Arabic language model: what is it called?", "Huawei launched Pangu Arabic, its model.",
         "Huawei launched the model in China."),
        ("Who introduced the speaker?", "Senator Coons introduced the speaker.", "The speaker was introduced."),
        ("Who was appointed to coordinate the recovery?", "Kenneth G. Clark of the agency was appointed to coordinate it.",
         "The agency was appointed to coordinate the recovery."),
        ("Who will lead the delegation?", "Mr. Maona M. Ngwira will lead the delegation.",
         "The delegation will be led by an official of the agency."),
        ("According to the State Department's notice, who will lead the delegation?",
         "Mr. Maona M. Ngwira will lead the delegation.", "The delegation will be led by an official of the agency."),
    )),
    AnswerType("description", lambda q, kind: True, holds_anything, basic_none, (
        ("What does the order direct agencies to do?", "The order directs agencies to review funding.", ""),
    )),
)
BY_NAME = {row.name: row for row in ANSWER_TYPES}


def answer_type(question: str) -> AnswerType:
    """The first row of the table the question asks for ("description" when none)."""
    kind = broad_kind(question)
    asked = asked_clause(question)
    return next(row for row in ANSWER_TYPES if row.asks(asked, kind))
