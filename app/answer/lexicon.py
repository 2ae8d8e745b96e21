"""The answerer's lexicon: numbers, dates, names and word forms, in one place.

The extractive answerer (its question analysis and features) and the support check of generated
sentences (app.answer.support) read numbers, dates and names through this module only, so that a
word counts the same everywhere ("sixteen" is 16 for both; "may" the verb is no month for either;
Malaysia is never Malawi). Word lists are data: `lexicon.toml` beside this file, ISO 3166 names
from pycountry and a dictionary of given names from gender-guesser. Word forms (stems, "Kenyan"
for "Kenya") come from app.terms, which retrieval shares.

- numbers: `NUMBER_WORDS`, `QUANTITY` (a quantity, not a year, a reference or a code), `COUNT`,
  `numbers_in` (every number a text states, normalised: "1,700" -> 1700, "ten" -> 10);
- dates: `MONTHS`, `DATE_MENTION` (one pattern: "May 15, 2019", "May 2024", "2019", "5/15/2019"),
  `date_parts`;
- names: countries (`countries_in`, `same_country`, `named_among`), U.S. states (`us_states_in`), the names a question commits
  to (`name_phrases`, `names_missing`, `nationalities_committed`), people (`people_in`).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pycountry

from app.terms import acronyms_expanded, content_terms, related

WORDS = tomllib.loads(Path(__file__).with_name("lexicon.toml").read_text(encoding="utf-8"))

# ---- numbers
NUMBER_WORDS: dict[str, str] = WORDS["numbers"]["words"]
NUMBER_WORD_PATTERN = "|".join(NUMBER_WORDS)
SCALE_WORDS = WORDS["numbers"]["scales"]
# Numbers that point somewhere rather than count ("section 4", "Sec. 2", "Executive Order 14320", "50 U.S.C. 1622").
_REFERENCE = "".join(rf"(?<!{re.escape(word)} )" for word in WORDS["numbers"]["references"])
# A day of a month ("October 15, 2025") is part of a date, not a quantity or a count.
_DAY_OF_MONTH = "".join(rf"(?<!{month} )" for month in WORDS["dates"]["months"])
# a quantity, not a year, a reference or part of a code such as "910B" or "H20"; after a currency sign
# a letter is the amount's scale ("$272M", "$1.2B"), not a code
QUANTITY = re.compile(
    rf"[$€£¥]\s?\d|{_REFERENCE}{_DAY_OF_MONTH}(?<![A-Za-z\d])(?!(?:19|20)\d\d\b)\d[\d,.]*(?![A-RT-Za-rt-z\d])|\b({NUMBER_WORD_PATTERN}|"
    rf"{'|'.join(SCALE_WORDS)})\b",
    re.I,
)
COUNT = re.compile(rf"{_DAY_OF_MONTH}(?<![\w.])(?!(?:19|20)\d\d\b)\d[\d,.]*\+?(?![\w])|\b(?:{NUMBER_WORD_PATTERN}|dozens?|hundreds|thousands|millions)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[,.]\d+)*")  # 2025, 1,000, 3.5 ("$200bn" -> 200)
_STATED_SCALES = {"thousand", "million", "billion", "trillion", "percent", "dozen"}  # "410 billion" is not "410 million"
_NUMBER_WORD = re.compile(r"\b(" + "|".join([*NUMBER_WORDS, *_STATED_SCALES]) + r")\b", re.I)


def numbers_in(text: str) -> set[str]:
    """Every number `text` states, normalised: digits without separators, number words as digits,
    "%" as "percent", scale words and suffixes ("bn") as their scale."""
    found = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    found |= {NUMBER_WORDS.get(w.lower(), w.lower()) for w in _NUMBER_WORD.findall(text)}
    found |= {"percent" for _ in re.finditer("%", text)}
    found |= {scale for short, scale in (("bn", "billion"), ("m", "million"), ("k", "thousand"))
              if re.search(rf"\d{short}\b", text)}
    return {n[:-2] if n.endswith(".0") else n for n in found}


# ---- dates
MONTHS: list[str] = WORDS["dates"]["months"]
_MONTH = "|".join(MONTHS + [month.upper() for month in MONTHS])  # capitalised: not "may" the verb
MONTH = re.compile(r"\b(" + "|".join(MONTHS) + r")\b")
# "May 15, 2019", "May 2024", "15 May 2019", "May", "2019", "5/15/2019"
DATE_MENTION = re.compile(
    rf"\b(?:(?P<day1>\d{{1,2}})\s+)?(?P<month>{_MONTH})\b(?:\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b)?"
    rf"(?:,?\s+(?P<year1>(?:19|20)\d\d)\b)?|\b(?P<year2>(?:19|20)\d\d)\b|\b(?P<numeric>\d{{1,2}}/\d{{1,2}}/\d{{2,4}})\b")
# "1 year after", "within 180 days of": a time stated from another event (a deadline, an expiry)
RELATIVE_TIME = re.compile(rf"\b(?:\d[\d,]*|{NUMBER_WORD_PATTERN})\s+(?:calendar\s+|business\s+)?(?:days?|weeks?|months?|years?)"
                           r"\s+(?:after|before|from|following|of)\b", re.I)
# "which day in April 2025", "when during 2019": the time frame a date falls within
_FRAME = re.compile(r"\b(?:in|during|of|within)\s+(?:early\s+|late\s+|mid-?\s*)?$", re.I)


def date_parts(text: str, frames_only: bool = False) -> list[frozenset[str]]:
    """Each date `text` mentions, as the parts it states: {"month:may", "day:15", "year:2019"}; with
    `frames_only`, only those that set a time frame ("in April 2025")."""
    mentions = []
    for match in DATE_MENTION.finditer(text):
        if frames_only and not _FRAME.search(text[:match.start()]):
            continue
        if match.group("numeric"):
            mentions.append(frozenset({"numeric:" + match.group("numeric")}))
            continue
        parts = {"month:" + (match.group("month") or "").lower(), "day:" + (match.group("day1") or match.group("day2") or ""),
                 "year:" + (match.group("year1") or match.group("year2") or "")}
        mentions.append(frozenset(p for p in parts if not p.endswith(":")))
    return mentions


DOCUMENT_AFTER = re.compile(rf"^(?:\s+[\w\-’']+){{0,6}}?\s+(?:{'|'.join(map(re.escape, WORDS['questions']['document_nouns']))})\b", re.I)


def documents_dated(text: str) -> list[tuple[int, int | None]]:
    """The (year, month) of each document `text` dates, month None when it gives only the year: a date
    with its year that a document's name follows within a few words: [(2023, 3)] for "Biden's March 2023
    proclamation", [(2025, 6)] for "the June 2025 Sunday shows roundup", [(2021, None)] for "the 2021
    order"; an event's date is no document's ("the 2021 floods", "in May, 2019")."""
    found = []
    for match in DATE_MENTION.finditer(text):
        year = match.group("year1") or match.group("year2")
        if not year or not DOCUMENT_AFTER.match(text[match.end():]):
            continue
        month = match.group("month")
        found.append((int(year), MONTHS.index(month.capitalize()) + 1 if month else None))
    return found


# ---- names

# A run of capitalised words, joined by the small words of names ("Bureau of Industry and Security"),
# but not by words that end a name ("Indonesia for the ICT sector" is two).
CAPITALISED_RUN = re.compile(r"[A-Z][\w’'\-]*(?:(?:\s+(?:of|and|&))*\s+[A-Z][\w’'\-]*)*")
WORD = re.compile(r"[A-Z][\w’'\-]*")
WEEKDAY = re.compile(rf"(?:{'|'.join(WORDS['dates']['weekdays'])})(?:’s|'s)?")
GENERIC_COUNTRY_WORDS = set(WORDS["countries"]["generic_words"])  # "South Africa", "United Kingdom"
COUNTRY_ABBREVIATIONS = set(WORDS["countries"]["abbreviations"])
DEMONYMS: dict[str, str] = WORDS["countries"]["demonyms"]  # "swiss": "switzerland", where no prefix rule finds it


@functools.cache
def _country_words() -> frozenset[str]:
    words = {"china"}  # left out of the generic list only to keep "China" itself a country
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None) or ""
            name = name.split(",")[0]  # "Korea, Republic of" -> "Korea"
            words |= {w.lower() for w in re.findall(r"[\w’'\-]+", name) if w.lower() not in GENERIC_COUNTRY_WORDS}
    words |= set(WORDS["countries"]["common_names"])  # common names ISO spells otherwise
    return frozenset(w for w in words if len(w) > 2)


def _bare(word: str) -> str:
    """A word without its possessive ("China’s" -> "China"); not every final "s" ("Swiss", "Cyprus")."""
    return re.sub(r"[’'](?:s\b)?$", "", word)


def _word_of_country(word: str) -> bool:
    """`word` is a country's name or its adjective ("Kenya", "Kenyan", "Saudi")."""
    word = _bare(word.lower())
    return word in _country_words() or word in DEMONYMS or bool(_countries_of_form(word))


@functools.lru_cache(maxsize=1 << 14)  # a scan of every country word, asked for the same words again and again
def _countries_of_form(word: str) -> tuple[str, ...]:
    """The countries whose adjective `word` (lower case) may be: "Kenyan", "Chinese", "Japanese";
    not "George" for "Georgia"."""
    return tuple(country for country in _country_words() if len(country) >= 5
                 and word.startswith(country[:-1]) and len(word) - len(country) <= 3)


def _country_of_adjective(word: str) -> str | None:
    """"Kenya" for "Kenyan": the country a nationality adjective stands for (None for other words)."""
    bare = _bare(word.lower())
    if bare in _country_words():
        return None
    if bare in DEMONYMS:
        return DEMONYMS[bare].capitalize()
    matches = _countries_of_form(bare)
    return max(matches, key=len).capitalize() if matches else None  # "Nigerian": Nigeria, not Niger


def nationalities_committed(phrases: list[tuple[list[str], str]],
                            corpus_uses: Callable[[str], bool]) -> list[tuple[list[str], str]]:
    """A nationality adjective commits to nothing ("the Chinese firm", "American chips")
    unless the corpus never mentions that country: then "Which Kenyan partner ..." asks about Kenya,
    and no passage can answer it. Such adjectives are replaced by their country."""
    def committed(word: str) -> str:
        country = _country_of_adjective(word)
        if country is None or corpus_uses(word) or corpus_uses(country):
            return word
        return country

    return [([committed(word) for word in names], initials) for names, initials in phrases]


def countries_in(text: str) -> set[str]:
    """The countries `text` names, as written: capitalised country words and common abbreviations."""
    found = {w for w in WORD.findall(text) if _word_of_country(w)}
    found |= {a for a in COUNTRY_ABBREVIATIONS if re.search(rf"(?<![\w.]){re.escape(a)}(?![\w])", text)}
    return found


@functools.cache
def _us_states() -> re.Pattern:
    """The states, district and territories of the United States (ISO 3166-2:US, from pycountry)."""
    names = sorted((s.name for s in pycountry.subdivisions.get(country_code="US")), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(name) for name in names) + r")\b")


def us_states_in(text: str) -> set[str]:
    """The U.S. states (and district and territories) `text` names: "North Carolina", "Guam"."""
    return set(_us_states().findall(text))


# One country under the names news and policy texts give it, its capital standing for its government.
COUNTRY_FORMS = [set(group) for group in WORDS["countries"]["same"]]


def same_country(a: str, b: str) -> bool:
    """"U.S." and "American", "China" and "Beijing" name one country; so do "Kenya" and "Kenyan";
    Malaysia and Malawi do not (a shared prefix is no shared country)."""
    a, b = _bare(a.lower()), _bare(b.lower())
    if any(a in group and b in group for group in COUNTRY_FORMS):
        return True
    country = _country_named(a)
    return country is not None and country == _country_named(b)


def named_among(word: str, others: set[str]) -> bool:
    """`word` (lower case) or a form of it is among `others` (lower-case words): "kenyan" is named by
    "kenya", "chinese" by "china"; a country only by that country (Malaysia is not Malawi, Nigerian is
    not Niger), any other word by a word of the same stem or form (app.terms.related)."""
    if word in others:
        return True
    if _word_of_country(word):
        group = _country_form(word) or set()
        return any(same_country(word, other) for other in others if other[:4] == word[:4] or other in group)
    return any(related(word, other) for other in others)


def _country_named(word: str) -> str | None:
    """The country (lower case) a country word or its adjective names: "kenya" for "Kenya" or "Kenyan"."""
    if word in DEMONYMS:  # before the country words: "swiss" is also a word of "Swiss Confederation"
        return DEMONYMS[word]
    if word in _country_words():
        return word
    country = _country_of_adjective(word)
    return country.lower() if country else None


def _country_form(word: str) -> set[str] | None:
    return next((group for group in COUNTRY_FORMS if _bare(word.lower()) in group), None)


def name_phrases(question: str, is_name: Callable[[str], bool]) -> list[tuple[list[str], str]]:
    """The names a question commits to: runs of capitalised words (not its first word) holding a word
    the corpus never writes in lower case or an acronym. Each is (those words, the run's initials):
    "Bureau of Industry and Security" is mentioned by a text that says "BIS"."""
    phrases = []
    for match in CAPITALISED_RUN.finditer(question):
        run = WORD.findall(match.group(0))
        if match.start() == 0 or re.search(r"[.!?]\s*$", question[:match.start()]):
            run = run[1:]  # a sentence's first word is capitalised whatever it is ("Which Kenyan partner")
        run = [w for w in run if len(w.rstrip("’'s")) >= 2 and not WEEKDAY.fullmatch(w)]
        names = [w for w in run if w.isupper() or is_name(w)]
        if names:
            phrases.append((names, "".join(w[0] for w in run) if len(run) >= 2 else ""))
    return phrases


def names_missing(phrases: list[tuple[list[str], str]], text: str) -> list[str]:
    """The question's names that `text` never mentions, in any word form ("Chinese" for "China")."""
    present = content_terms(text)
    acronyms = set(re.findall(r"\b[A-Z]{2,}\b", text))

    def mentioned(word: str) -> bool:
        if word in acronyms or acronyms_expanded(word, text):  # "ICT": "information and communications technology"
            return True
        bare = word.lower().rstrip("’'s")
        if word.rstrip("’'s") in MONTHS:  # "by August 2025": the month in words, or in a date such as 2025-08-01
            number = MONTHS.index(word.rstrip("’'s")) + 1
            return bool(re.search(rf"\b{word.rstrip('’s')}\b|\b\d{{4}}-{number:02d}-\d{{2}}\b", text))
        if _country_of_adjective(word) is not None:
            return True  # "the Chinese firm", "American chips": a nationality qualifies, it names nothing asked about
        forms = _country_form(word)
        if forms is not None:  # "Beijing's strategy" is mentioned by a text about China or the PRC
            return any(re.search(rf"(?<![\w.]){re.escape(form)}(?!\w)", text, re.I) for form in forms)
        if _word_of_country(bare):  # a country ("in Indonesia") must be there, in any of its forms
            return any(same_country(word, other) for other in countries_in(text))
        return any(related(term, other) for term in content_terms(word) for other in present)

    return [" ".join(names) for names, initials in phrases
            if not any(mentioned(word) for word in names) and initials not in acronyms]


# Words that come before a person's surname ("Senator Coons", "Mr. Cotton", "Secretary Lutnick").
PERSON_TITLE = re.compile(
    rf"\b(?:{'|'.join(WORDS['people']['honorifics'])})\.?\s+([A-Z][\w’'\-]+)|\b(?:{'|'.join(WORDS['people']['titles'])})"
    r"\s+([A-Z][\w’'\-]+)")
# A given name, an optional initial, a surname ("Ray Wang", "Donald J. Trump", "JOSEPH R. BIDEN").
GIVEN_AND_SURNAME = re.compile(r"\b([A-Z][a-z]+|[A-Z]{2,})\s+(?:[A-Z]\.\s+)?([A-Z][\w’'\-]+)")
GIVEN_NAME_KINDS = set(WORDS["people"]["given_name_kinds"])


@functools.cache
def _given_names():
    # gender-guesser ships a dictionary of ~40,000 given names from many countries; only "is this a
    # given name at all" is used here, never the gender.
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


def people_in(text: str, is_name: Callable[[str], bool]) -> set[str]:
    """The surnames of the people `text` names: after a title or honorific, or after a given name.
    The surname must be a word the corpus never writes in lower case ("Huawei Cloud" is no person)."""
    found = {m.group(1) or m.group(2) for m in PERSON_TITLE.finditer(text)}
    found |= {m.group(2) for m in GIVEN_AND_SURNAME.finditer(text)
              if _given_names().get_gender(m.group(1)) in GIVEN_NAME_KINDS}
    return {surname for surname in found if is_name(surname) and not _given_names_only(surname)}


def _given_names_only(word: str) -> bool:
    return word.isupper() and len(word) <= 3  # "JR", "III"
