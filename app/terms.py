"""Content terms and their rarity, the lexical evidence the extractive answerer weighs.

Terms are lower-cased words, Snowball-stemmed (PyStemmer, the stemmer BM25 uses) with NLTK's English
stop words and question words removed. IDF comes from the indexed passages, so a question term the
corpus never uses weighs the most: it is the strongest sign that the corpus cannot answer.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable

import Stemmer

from app.sentences import nltk_data_folder

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*")  # hyphens separate: "per-country" -> per, country
LOWERCASE_WORD = re.compile(r"(?<![\w’'])[a-z][a-z’'\-]+")
TOPIC_SHARE = 0.5  # a term in more than this share of passages is the corpus's subject
QUESTION_WORDS = {
    "what", "when", "where", "which", "who", "whom", "whose", "why", "how", "many", "much", "did", "does",
    "do", "according", "say", "said", "says", "tell", "mention", "mentioned", "state", "stated", "name",
    "named", "corpus", "document", "documents", "article", "text", "give", "list", "also", "kind", "type",
}


@functools.cache
def _stopwords() -> frozenset[str]:
    path = nltk_data_folder() / "corpora" / "stopwords" / "english"
    words = set(path.read_text(encoding="utf-8").split()) if path.exists() else set()
    return frozenset(words | QUESTION_WORDS)


_local = threading.local()


def stemmer() -> Stemmer.Stemmer:
    """This thread's stemmer (PyStemmer objects must not be shared between threads)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def words(text: str) -> list[str]:
    return [w.strip("'’").lower() for w in WORD.findall(text)]


def content_term_sequence(text: str) -> list[str]:
    """The content terms of `text` in order (stemmed, stop words left out)."""
    stop = _stopwords()
    kept = [w for w in words(text) if w and w not in stop and (len(w) > 1 or w.isdigit())]
    kept = [w[:-2] if w.endswith(("'s", "’s")) else w for w in kept]
    return stemmer().stemWords(kept)


def content_terms(text: str) -> set[str]:
    return set(content_term_sequence(text))


class TermStats:
    """Inverse document frequency of content terms over a set of passages."""

    def __init__(self, texts: Iterable[str]):
        frequency: Counter[str] = Counter()
        common: set[str] = set()
        count = 0
        for text in texts:
            frequency.update(content_terms(text))
            common.update(LOWERCASE_WORD.findall(text))
            count += 1
        self.count = max(count, 1)
        self.frequency = frequency
        self.common_words = common  # words the corpus writes in lower case: not names

    @classmethod
    def from_counts(cls, count: int, frequency: dict[str, int], common_words: Iterable[str]) -> "TermStats":
        """Statistics saved earlier (app.lexical keeps them beside the BM25 index)."""
        stats = cls(())
        stats.count, stats.frequency, stats.common_words = max(count, 1), Counter(frequency), set(common_words)
        return stats

    def is_name(self, word: str) -> bool:
        """A capitalised word that the corpus never writes in lower case ("Coons", "Egypt", not "Order")."""
        return word[:1].isupper() and word.lower() not in self.common_words

    def uses(self, word: str) -> bool:
        """Whether any passage uses `word` (in some word form)."""
        return any(self.frequency.get(term, 0) for term in content_terms(word))

    def is_topic(self, word: str) -> bool:
        """A word most passages use ("AI" here): it names the corpus's subject, not a particular answer."""
        return any(self.frequency.get(term, 0) > TOPIC_SHARE * self.count for term in content_terms(word))

    def idf(self, term: str) -> float:
        df = self.frequency.get(term, 0)
        return math.log(1.0 + (self.count - df + 0.5) / (df + 0.5))

    def weights(self, terms: Iterable[str]) -> dict[str, float]:
        return {term: self.idf(term) for term in terms}


@functools.lru_cache(maxsize=1 << 16)  # called for every (question term, sentence term) pair
def related(term: str, other: str) -> bool:
    """Same stem, or one word form of the other (China/Chinese, Pakistan/Pakistani, America/American)."""
    if term == other:
        return True
    shortest = min(len(term), len(other))
    prefix = 0
    for a, b in zip(term, other):
        if a != b:
            break
        prefix += 1
    return prefix >= 4 and prefix >= 0.75 * shortest


ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")
LINKING_WORDS = r"(?:\s+(?:and|of|the|for|on|in|&))*\s+"


def acronyms_expanded(question: str, text: str) -> set[str]:
    """Acronyms of the question spelled out in `text` ("ICT" <- "Information and Communications Technology")."""
    found = set()
    for match in ACRONYM.finditer(question):
        letters = match.group(0).rstrip("s")
        pattern = LINKING_WORDS.join(rf"{letter}[a-z]+" for letter in letters)
        if len(letters) >= 2 and re.search(rf"\b{pattern}", text):
            found |= content_terms(letters)
    return found
