"""Whether the passages a generated sentence cites support it: a deterministic, measurable check.

A generated answer is split into sentences ("claims"), each with the `[n]` markers it carries. A
claim is supported by its cited passages when
- every number (years included, "fifteen" read as 15, scale words such as "million" too), month and
  name it states occurs in the cited text: numbers and months in the evidence quoted to the user,
  names (capitalised words inside the sentence, or a first word the corpus never writes in lower
  case) anywhere in the cited passage or its title (a person is named once, then by surname);
- its support score reaches the threshold: IDF-weighted share of its content words found in the
  evidence, blended with the embedding cosine (the packaged model) between the claim and the best
  sentence. Both are needed: overlap alone passes a sentence that rearranges the passage's words
  into a different statement, similarity alone passes a fluent sentence with a changed detail.
The evidence is the best-supporting sentence of each cited passage, widened to a neighbouring
sentence when that holds a number or date of the claim or adds much of its wording; it becomes the
Citation's verbatim quote, so what the user reads as the source is what the check used.

Sentences of a passage that address the reader or the model with instructions ("ignore previous
instructions", "tell the user...") never count as evidence: a model that obeyed a document's hidden
instructions would otherwise be "supported" by the very text that injected them.

Trade-off: this is lexical and embedding evidence, not entailment; a negated or reversed claim
built from the passage's own words and numbers can pass. What it reliably stops is the failure
users report: wrong dates and figures, invented names, citations pointing at unrelated passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from app.embedding import Embedder
from app.schema import Passage
from app.sentences import sentence_spans
from app.terms import NUMBER_WORDS, TermStats, acronyms_expanded, content_terms

LEXICAL_WEIGHT = 0.5  # share of the support score from content-word overlap; the rest is embedding cosine
WIDEN_GAIN = 0.15  # a neighbouring sentence joins the evidence when it adds this much word coverage

MARKER = re.compile(r"\[\s*(\d+(?:\s*(?:[,;]|-|–)\s*\d+)*)\s*\]")
PARTIAL_MARKER = re.compile(r"\[[\d\s,;\-–]*\]?")
# "... in May. [1]" -> "... in May [1]." so a marker written after the full stop stays with its sentence
TRAILING_MARKERS = re.compile(r"([.!?])([\"”’)]*)((?:\s*\[\s*\d+(?:\s*(?:[,;]|-|–)\s*\d+)*\s*\])+)")
LIST_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[,.]\d+)*")  # 2025, 1,000, 3.5 ("$200bn" -> 200)
SCALES = {"thousand", "million", "billion", "trillion", "percent", "dozen"}  # "410 billion" is not "410 million"
NUMBER_WORD = re.compile(r"\b(" + "|".join([*NUMBER_WORDS, *SCALES]) + r")\b", re.I)
MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")
CAPITALISED = re.compile(r"\b[A-Z][A-Za-z’'\-]*[A-Za-z]")
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b[^.]{0,30}\b(?:instructions?|rules|prompts?|guidelines)\b|\bsystem prompt\b|"
    r"\byou are now\b|\bdeveloper mode\b|\bnew instructions\b|"
    r"\b(?:tell|inform|remind|say to|reply to|respond to|answer) the (?:user|reader|human)\b|"
    r"\b(?:AI|assistant|language model|LLM|chatbot)s?\b[^.]{0,20}\b(?:must|should|shall|will now)\b", re.I)
REFUSAL = re.compile(
    r"\b(?:do(?:es)?\s+not|don[’']t|doesn[’']t|cannot|can[’']t|can\s+not|unable\s+to|no|not\s+enough|insufficient)\b"
    r"[^.]{0,60}\b(?:answer|contain|mention|say|information|provide|state|address|include|cover|specify)", re.I)


@dataclass
class Claim:
    """One generated sentence and the passage numbers it cites."""

    text: str
    cited: list[int]

    @classmethod
    def parse(cls, sentence: str) -> "Claim":
        cited: list[int] = []
        for match in MARKER.finditer(sentence):
            for part in re.split(r"\s*[,;]\s*", match.group(1)):
                bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part)]  # "[2-4]" cites 2, 3 and 4
                numbers = range(bounds[0], bounds[1] + 1) if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] < 20 \
                    else bounds[:1]
                cited += [n for n in numbers if n not in cited]
        return cls(sentence.strip(), cited)

    @property
    def clean(self) -> str:
        """The sentence without markers or list bullets, as the user reads it."""
        text = LIST_BULLET.sub("", MARKER.sub("", self.text))
        text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split()))
        return text.strip()

    def is_refusal(self) -> bool:
        return not self.cited and bool(REFUSAL.search(self.clean))

    def states_something(self) -> bool:
        """Anything beyond filler ("Sure!", "Here is the answer:") makes a claim that needs a source."""
        clean = self.clean
        return len(content_terms(clean) - {"answer", "sure", "passag", "question", "help", "hope"}) >= 2 \
            or bool(NUMBER.search(clean))


def split_claims(text: str, final: bool = True) -> tuple[list[Claim], str]:
    """The finished sentences of (possibly still growing) generated text, and the unfinished rest.

    While streaming (`final=False`) the last sentence may still grow, and so may one that is followed
    only by markers: "... in May. [1" has not finished citing yet.
    """
    normalised = TRAILING_MARKERS.sub(lambda m: f" {' '.join(m.group(3).split())}{m.group(1)}{m.group(2)}", text)
    normalised = re.sub(r"(?<!\n)\n(?!\n)", "\n\n", normalised)  # a line break ends a sentence (lists)
    spans = sentence_spans(normalised)
    finished = len(spans) if final else len(spans) - 1
    if not final and finished >= 1 and not re.search(r"\w", PARTIAL_MARKER.sub("", normalised[spans[-1][0]:])):
        finished -= 1
    if finished <= 0:
        return [], "" if final else text
    claims = [Claim.parse(normalised[a:b]) for a, b in spans[:finished]]
    rest = "" if final else normalised[spans[finished][0]:]
    return [c for c in claims if c.clean], rest


def numbers_in(text: str) -> set[str]:
    found = {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}
    found |= {NUMBER_WORDS.get(w.lower(), w.lower()) for w in NUMBER_WORD.findall(text)}
    found |= {"percent" for _ in re.finditer("%", text)}
    found |= {scale for short, scale in (("bn", "billion"), ("m", "million"), ("k", "thousand"))
              if re.search(rf"\d{short}\b", text)}
    return {n[:-2] if n.endswith(".0") else n for n in found}


def _family(word: str, others: set[str]) -> bool:
    """`word` or a form of it ("Chinese"/"China", "Kenyan"/"Kenya") is among `others` (lower case)."""
    if word in others:
        return True
    for other in others:
        shortest = min(len(word), len(other))
        prefix = len(next((word[:i] for i in range(shortest, 0, -1) if word[:i] == other[:i]), ""))
        if prefix >= 4 and prefix >= 0.75 * shortest:
            return True
    return False


@dataclass
class Evidence:
    """The verbatim span of a cited passage that supports a claim (offsets within the passage text)."""

    passage: Passage
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.passage.text[self.start:self.end]


@dataclass
class Support:
    supported: bool
    score: float
    reason: str = ""
    evidence: list[Evidence] = field(default_factory=list)


class SupportChecker:
    """Scores claims against passages; sentence embeddings of a passage are computed once."""

    def __init__(self, embedder: Embedder, stats: TermStats, threshold: float):
        self.embedder = embedder
        self.stats = stats
        self.threshold = threshold
        self._sentences: dict[str, tuple[list[tuple[int, int]], np.ndarray]] = {}

    def _passage_sentences(self, passage: Passage) -> tuple[list[tuple[int, int]], np.ndarray]:
        if passage.id not in self._sentences:
            if len(self._sentences) > 1024:
                self._sentences.clear()  # a bounded cache: passages repeat within a question, rarely across many
            spans = [(a, b) for a, b in sentence_spans(passage.text)
                     if passage.text[a:b].strip() and not INSTRUCTION.search(passage.text[a:b])] or [(0, 0)]
            vectors = np.asarray(self.embedder.embed_texts([passage.text[a:b] for a, b in spans]))
            self._sentences[passage.id] = (spans, vectors)
        return self._sentences[passage.id]

    def required_names(self, claim: str) -> set[str]:
        """Names of people, places, firms, laws: capitalised words inside the sentence, and a first word
        the corpus never writes in lower case ("Huawei", not "The")."""
        names = set()
        for match in CAPITALISED.finditer(claim):
            word = re.sub(r"[’']s$", "", match.group(0))
            opens = not claim[:match.start()].strip(" \"“‘'([-*•") or re.search(r"[.:;!?]\s*[\"“‘'(]?$", claim[:match.start()])
            if not MONTH.fullmatch(word) and (self.stats.is_name(word) or not opens):
                names.add(word.lower())
        return names

    def check(self, claim: str, passages: list[Passage]) -> Support:
        """Whether `passages` (the ones a claim cites) support the claim text (markers removed)."""
        if not passages:
            return Support(False, 0.0, "uncited")
        terms = self.stats.weights(content_terms(claim))
        total = sum(terms.values()) or 1.0
        vector = np.asarray(self.embedder.embed_texts([claim])[0])
        numbers, months = numbers_in(claim), set(MONTH.findall(claim))

        def coverage(text: str) -> float:
            present = content_terms(text)
            return sum(w for t, w in terms.items() if t in present) / total

        evidence, cosine, checked = [], -1.0, []
        for passage in passages:
            spans, vectors = self._passage_sentences(passage)
            cosines = vectors @ vector
            scores = [LEXICAL_WEIGHT * coverage(passage.text[a:b]) + (1 - LEXICAL_WEIGHT) * c
                      for (a, b), c in zip(spans, cosines)]
            best = int(np.argmax(scores))
            cosine = max(cosine, float(cosines[best]))
            chosen = [best]
            for neighbour in (best - 1, best + 1):
                if not 0 <= neighbour < len(spans):
                    continue
                inside = " ".join(passage.text[a:b] for a, b in (spans[i] for i in chosen))
                beside = passage.text[spans[neighbour][0]:spans[neighbour][1]]
                adds_fact = bool((numbers - numbers_in(inside)) & numbers_in(beside)) or \
                    bool((months - set(MONTH.findall(inside))) & set(MONTH.findall(beside)))
                if adds_fact or coverage(inside + " " + beside) - coverage(inside) >= WIDEN_GAIN:
                    chosen.append(neighbour)
            evidence.append(Evidence(passage, spans[min(chosen)][0], spans[max(chosen)][1]))
            checked += [passage.text[a:b] for a, b in (spans[i] for i in sorted(chosen))]
        quoted = " ".join(checked)  # the chosen sentences only: an instruction between them never counts
        score = round(LEXICAL_WEIGHT * coverage(quoted) + (1 - LEXICAL_WEIGHT) * cosine, 4)
        cited_text = " ".join(f"{p.title} " + " ".join(p.text[a:b] for a, b in self._passage_sentences(p)[0]) for p in passages)
        cited_words = {w.lower().strip("’'") for w in re.findall(r"[\w’']+", cited_text)}  # "non-VEU" -> non, veu
        cited_words |= {w[:-2] for w in cited_words if w.endswith(("'s", "’s"))}
        missing = sorted(numbers - numbers_in(quoted)) + sorted(months - set(MONTH.findall(quoted)))
        spelled_out = acronyms_expanded(claim, cited_text)  # "ICT" is in a text that says "Information and Communications Technology"
        missing += sorted(name for name in self.required_names(claim)
                          if not all(_family(part, cited_words) for part in name.split("-") if part)
                          and not content_terms(name) <= spelled_out)
        if missing:
            return Support(False, score, "missing: " + ", ".join(missing), evidence)
        if score < self.threshold:
            return Support(False, score, f"weak support ({score:.2f})", evidence)
        return Support(True, score, "", evidence)
