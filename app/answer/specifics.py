"""What a quote must hold beyond the right kind of answer: the specific thing the question asks.

"Adjacent detail" questions ask for something next to what a document says: the exact day of an
order the text dates only by month, the number of proposals received when the text counts only days,
the name of a Secretary when the text names only the President, who introduced a speaker when the
text only says someone did. A sentence holding *a* date, *a* number or *a* person is then no answer.
These checks say what the answer must hold instead:
- a date more specific than, or other than, the dates the question itself states, and inside the
  time frame it sets ("which day in April 2025");
- for "how many X", a number that counts X (the number followed closely by X);
- for "the name of the Secretary ...", a person named with that title, not with another one;
- for "who introduced/led X", the asked action in the sentence that names the person.
"""

from __future__ import annotations

import re

from app.answer.lexicon import COUNT, WORDS, date_parts
from app.terms import content_terms, related, words


def _within(mention: frozenset[str], frame: frozenset[str]) -> bool:
    """No part of `mention` contradicts `frame`: "May 15" and "May 15, 2019" are within "2019", "January 2025"
    is not within "April 2025"."""
    stated = dict(part.split(":", 1) for part in frame)
    return all(stated.get(key, value) == value for key, value in (part.split(":", 1) for part in mention))


def _new_dates(question: str, text: str) -> list[frozenset[str]]:
    """The dates `text` states more specifically than the question does."""
    asked = date_parts(question)
    return [mention for mention in date_parts(text) if not any(mention <= known for known in asked)]


def _in_frames(mention: frozenset[str], question: str) -> bool:
    return all(_within(mention, frame) for frame in date_parts(question, frames_only=True))


def states_new_date(question: str, text: str, framed: bool = True) -> bool:
    """Whether `text` dates something more specifically than the question does, inside the time frame
    the question sets: "April 23, 2025" or "May" answer "when in 2025 ...", but neither "In April 2025"
    nor "In January 2025" answers "which day in April 2025". `framed=False`: wherever it falls."""
    return any(not framed or _in_frames(mention, question) for mention in _new_dates(question, text))


def dates_outside_frame(question: str, text: str) -> bool:
    """`text` states new dates, and all of them fall outside the time frame the question sets."""
    new = _new_dates(question, text)
    return bool(new) and not any(_in_frames(mention, question) for mention in new)


# The words between "how many" and the verb: "how many industry consortium proposals has ..."
# A word of what is counted: an initialism with its dots ("U.S.", "U.N.") or a plain word
_COUNTED_WORD = r"(?:(?:[A-Za-z]\.){2,}|[\w\-’']+)"
COUNTED = re.compile(rf"\bhow many\s+((?:{_COUNTED_WORD}\s+){{0,3}}?(?:(?:[A-Za-z]\.){{2,}}|[\w\-’']+?))(?=\s+(?:has|have|had|is|are|was|were|did|does|do|"
                     r"will|would|can|could|should|may|might|must|in|of|for|from|under|to|that|which|who|on|at|by|"
                     r"with|per|across|would|the|a|an)\b|\s*[?,.](?:\s|$)|$)", re.I)
COUNTED_WITHIN = 4  # words between a number and the noun it counts ("over 90 Federal policy actions")


# When no such word follows ("how many vacant positions went unfilled"), the words right after "how many"
COUNTED_FALLBACK = re.compile(rf"\bhow many\s+((?:{_COUNTED_WORD}\s+){{0,3}}{_COUNTED_WORD})", re.I)


def counted_terms(question: str) -> set[str]:
    """The content terms of what a "how many" question counts ("proposals", "industry", "consortium")."""
    match = COUNTED.search(question) or COUNTED_FALLBACK.search(question)
    return content_terms(match.group(1)) if match else set()


def counts(terms: set[str], text: str) -> bool:
    """Whether a number in `text` counts one of `terms`: it comes at most a few words before it
    ("18 allies", "more than 50 countries", "1,700 advanced GPUs"), not "90 days" for proposals."""
    for match in COUNT.finditer(text):
        following = content_terms(" ".join(words(text[match.end():])[:COUNTED_WITHIN]))
        if any(related(term, other) for term in terms for other in following):
            return True
    return False


# Titles a question can ask a person by; the answer must name a person with that title (or a
# courtesy title such as "Mr.", which contradicts no office).
TITLES = tuple(WORDS["people"]["offices"])
TITLE_QUESTION = re.compile(rf"\b({'|'.join(TITLES)})s?\b", re.I)
TITLED_PERSON = re.compile(  # "Secretary Rubio", "Secretary of State Marco Rubio", "President Donald J. Trump"
    rf"\b({'|'.join(t.capitalize() for t in TITLES)}|Under Secretary|Vice President)"
    r"(?:\s+of(?:\s+the)?(?:\s+[A-Z][\w’'\-]+)+)?\s+([A-Z][\w’'\-]+)(?:\s+(?:[A-Z]\.\s+)?([A-Z][\w’'\-]+))?")


def asked_title(question: str) -> str | None:
    """"secretary" for "What is the name of the Secretary of Commerce ...": the office asked about."""
    match = TITLE_QUESTION.search(question)
    return match.group(1).lower() if match else None


def people_with_other_titles(title: str, text: str) -> set[str]:
    """The surnames `text` gives only with a title other than `title` ("Trump" in "President Donald J. Trump"
    for a question about a Secretary): such a person is not the one asked for."""
    titled: dict[str, set[str]] = {}
    for match in TITLED_PERSON.finditer(text):
        for name in match.group(2, 3):  # "Donald" and "Trump": app.answer.names.people_in may take either
            if name:
                titled.setdefault(name, set()).add(match.group(1).lower().split()[-1])
    return {surname for surname, titles in titled.items() if title not in titles and
            not any(t.startswith(title) or title.startswith(t) for t in titles)}


# "Who introduced ...", "who led ...": the action the person asked for did.
ACTION_QUESTION = re.compile(r"^\s*who\s+(?:(?:was|were|is|are|has been|have been|had been)\s+(?=[a-z]+(?:ed|en)\b))?"
                             r"(?!(?:is|was|are|were|has|have|had|did|does|do|will|would|can|could|should|"
                             r"may|might|must)\b)([a-z]+)\b", re.I)  # "who led", and "who was appointed" (passive)
# Past forms that share no stem with the present ("led" for "lead"), as questions and texts use both.
IRREGULAR: dict[str, str] = WORDS["verbs"]["irregular"]


def asked_action(question: str) -> str | None:
    """"introduc" for "Who introduced Michael Kratsios ...?": the stem of the asked action."""
    match = ACTION_QUESTION.search(question)
    if not match:
        return None
    verb = match.group(1).lower()
    return next(iter(content_terms(IRREGULAR.get(verb, verb))), None)


def states_action(action: str, text: str) -> bool:
    """Whether `text` says the asked action, in any of its forms ("led" for "lead")."""
    return any(related(action, term) for word in words(text)
               for term in content_terms(IRREGULAR.get(word, word)))
