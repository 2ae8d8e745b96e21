"""Whether the passages a generated sentence cites support it: a deterministic, measurable check.

A generated answer is split into sentences ("claims"), each with the passages it cites
(app.answer.claims reads the forms models write them in). A claim is supported by its cited passages when
- every number (years included, "fifteen" read as 15, scale words such as "million" too), month and
  name it states occurs in the cited text: numbers and months in the evidence quoted to the user,
  names (capitalised words inside the sentence, or a first word the corpus never writes in lower
  case) anywhere in the cited passage or its title (a person is named once, then by surname), in
  any of their word forms (app.answer.lexicon.named_among: "Kenyan" for "Kenya", never Malawi for Malaysia);
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

from app.answer.lexicon import MONTH, named_among, numbers_in
from app.embedding import Embedder
from app.schema import Passage
from app.sentences import sentence_spans
from app.terms import TermStats, acronyms_expanded, content_terms

LEXICAL_WEIGHT = 0.5  # share of the support score from content-word overlap; the rest is embedding cosine
WIDEN_GAIN = 0.15  # a neighbouring sentence joins the evidence when it adds this much word coverage

CAPITALISED = re.compile(r"\b[A-Z][A-Za-z’'\-]*[A-Za-z]")
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b[^.]{0,30}\b(?:instructions?|rules|prompts?|guidelines)\b|\bsystem prompt\b|"
    r"\byou are now\b|\bdeveloper mode\b|\bnew instructions\b|"
    r"\b(?:tell|inform|remind|say to|reply to|respond to|answer) the (?:user|reader|human)\b|"
    r"\b(?:AI|assistant|language model|LLM|chatbot)s?\b[^.]{0,20}\b(?:must|should|shall|will now)\b", re.I)


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
            vectors = np.asarray(self.embedder.embed_texts([passage.text[a:b] for a, b in spans], remember=True))
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
                          if not all(named_among(part, cited_words) for part in name.split("-") if part)
                          and not content_terms(name) <= spelled_out)
        if missing:
            return Support(False, score, "missing: " + ", ".join(missing), evidence)
        if score < self.threshold:
            return Support(False, score, f"weak support ({score:.2f})", evidence)
        return Support(True, score, "", evidence)
