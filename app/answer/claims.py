"""What a model writes, read as claims: its sentences, the passages each one cites, and what is no claim.

The prompt (app.answer.llm) asks for plain sentences that end in `[n]`. Real models (small local ones
above all, and whatever Ollama or vLLM serve) write otherwise; every form is recognised here, in one place:
- Markdown: list bullets, **bold**, *italics*, `code`, [links](...), > quotes; a # heading is a title,
  not a claim;
- citations: `[1]`, `[1][2]`, `[1, 3]`, `[2-4]`, `[Passage 2]`, `[Source 1]`, `(Source 2)`, `(Passage 1)`,
  footnotes `[^1]` (a footnote's definition line `[^1]: ...` is no claim), a marker after the full stop,
  and a sentence that names its passage in words: "Passage 1 says ...", "According to passage 3, ...",
  "..., according to passage 2." (each cites that passage, and the words naming it are not shown);
- filler that makes no claim and needs no source: "Sure!", "Based on the passages, here is the
  answer:", "Answer:", "I hope this helps.", a list of the sources;
- refusals in their many wordings ("I'm sorry, but the passages don't mention ...", "There is no
  information about ... in the provided passages", "The provided text does not specify ...", "I cannot
  find ..."): `Claim.is_refusal()`;
- a completion cut off at the token limit: `split_claims(..., cut_off=True)` leaves out its unfinished
  last sentence, which is never shown half;
- repetition loops: `Claim.key` is the same for a sentence written again with other markers or markup,
  so the caller keeps it once.
Why regular expressions and not a Markdown parser (markdown-it-py is installed): the text is read a
few tokens at a time and cut into sentences while it grows, `[1]` and `[^1]` would be parsed as
(broken) link and footnote syntax, and only the inline markup has to go; nothing is rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answer.lexicon import WORDS
from app.sentences import sentence_spans
from app.terms import content_terms, words

# --- citations ------------------------------------------------------------------------------------

KEYWORD = r"(?:passages?|sources?|documents?|docs?|references?|refs?)"
NUMBERS = rf"\d+(?:\s*(?:[,;&]|-|–|\band\b)\s*(?:{KEYWORD}\s*)?\d+)*"  # "1, 3", "2-4", "1 and passage 2"
# [1] [1, 3] [2-4] [^1] [Passage 2] [Sources 1 and 2] (Source 2) (Passage 1); a bare "(1)" is ordinary text
MARKER = re.compile(rf"\[\s*(?:\^|{KEYWORD}\s*)?({NUMBERS})\s*\]|\(\s*{KEYWORD}\s*({NUMBERS})\s*\)", re.I)
NAMED = rf"(?:the\s+)?{KEYWORD}\s*({NUMBERS})"
# "According to passage 3, ...", "As stated in passage 2, ...", "In source 1, ...", "Passage 1: ..."
NAMED_LEAD = re.compile(
    rf"\b(?:according\s+to|as\s+(?:stated|noted|mentioned|reported|described|shown|explained)\s+in|based\s+on|"
    rf"in|from|per|see)\s+{NAMED}\s*[,:]?\s*|^{NAMED}\s*[:–—]\s*", re.I)
# "Passage 1 says (that) ...", "... and source 2 states ..."
NAMED_SAYS = re.compile(
    rf"\b{NAMED}\s+(?:says|states|mentions|notes|reports|explains|indicates|shows|confirms|adds|describes|"
    rf"writes|tells\s+us)(?:\s+that)?\s*[,:]?\s*", re.I)
# A sentence still waiting for its markers: only complete markers after it, perhaps one being written.
PENDING_MARKERS = re.compile(rf"^(?:\s*(?:{MARKER.pattern}))*\s*(?:[\[(][^\[\]()\n]{{0,24}})?\s*$", re.I)
# "... in May. [1]" -> "... in May [1]." so a marker written after the full stop stays with its sentence
# (on its line: "[^1]: ..." on the next line defines a footnote)
TRAILING_MARKERS = re.compile(rf"([.!?])([\"”’*_]*)((?:[ \t]*(?:{MARKER.pattern}))+)(?![ \t]*:)", re.I)

# --- Markdown -------------------------------------------------------------------------------------

HEADING = re.compile(r"^\s*#{1,6}\s")
FOOTNOTE_DEFINITION = re.compile(r"^\s*\[\^\d+\]:")
LIST_BULLET = re.compile(r"^\s*(?:>\s*)*(?:[-*+•]|\d+[.)])\s+|^\s*(?:>\s*)+")
LINK = re.compile(r"\[(?!\s*\^?\d)([^\]\n]+)\]\([^)\s]*\)")  # [text](url) -> text (not "[1](...)")
CODE = re.compile(r"`+([^`]*)`+")
UNDERSCORES = re.compile(r"(?<!\w)(__?)(?=\S)(.+?)(?<=\S)\1(?!\w)")  # _italic_, __bold__, not snake_case

# --- filler and refusals ----------------------------------------------------------------------------

SOURCES = r"(?:passages?|sources?|context|documents?|information|texts?|excerpts?|data|articles?)"
LEAD_INS = [re.compile(pattern, re.I) for pattern in (
    r"^(?:sure|certainly|of\s+course|okay|ok|absolutely|great|yes|alright|well)\s*[!.,:]+\s*",
    rf"^(?:based\s+(?:solely\s+|only\s+|entirely\s+)?on|according\s+to|from|using|given|in|per)\s+"
    rf"(?:the\s+|these\s+|this\s+)?(?:provided\s+|given\s+|retrieved\s+|above\s+|following\s+|available\s+)?"
    rf"{SOURCES}(?:\s+(?:provided|given|above|below))?\s*[,:]\s*",
    r"^here(?:['’]s|\s+is|\s+are)\b[^:.!?]{0,60}:\s*",
    r"^(?:the\s+)?(?:short\s+|final\s+|brief\s+)?(?:answer|response|summary)(?:\s+is)?\s*:\s*",
    r"^(?:to\s+answer\s+(?:your|the|this)\s+question|in\s+(?:summary|short|conclusion)|to\s+summari[sz]e|"
    r"overall)\s*[,:]\s*",
)]
FILLER = re.compile(
    r"^(?:answer|summary|response|sources?|references?|citations?|notes?|key\s+(?:points|facts|findings)|details)"
    r"\s*[:.]?$|^(?:i\s+hope\s+(?:this|that)\s+helps|let\s+me\s+know\b|feel\s+free\s+to\b|if\s+you\s+have\s+"
    r"(?:any\s+)?(?:other|more|further)\s+questions|i['’]?m\s+(?:sorry|afraid)[.!]?$)", re.I)
NEGATION = (r"\b(?:do(?:es)?\s+not|don[’']t|doesn[’']t|did\s+not|didn[’']t|cannot|can[’']t|can\s+not|could\s+not|"
            r"couldn[’']t|unable\s+to|no|not\s+enough|insufficient|nothing)\b")
REFUSALS = [re.compile(pattern, re.I) for pattern in (
    NEGATION + r"[^.]{0,80}\b(?:answer|contain|mention|say|information|provide|state|address|include|cover|"
               r"specify|find|found|discuss|detail|give|know|indicate|reference|talk)",
    r"\bnot\s+(?:in|found|mentioned|stated|given|provided|available|specified|included|covered|addressed|"
    r"discussed|present)\b",
    r"\bno\s+(?:mention|information|details?|data|answer|record|indication)\b",
)]
# A refusal speaks of the passages or of the model itself ("the report does not say" is a claim).
ABOUT_SOURCES_OR_SELF = re.compile(rf"\b(?:{SOURCES}|provided|given|I|I['’]m|we)\b", re.I)

TERMINAL = re.compile(r"[.!?…][\"”’')\]]*$")
FILLER_TERMS = {"answer", "sure", "passag", "question", "help", "hope"}


def cited_numbers(found: str) -> list[int]:
    """The passage numbers one marker or named reference holds: "1, 3-4" -> 1, 3, 4."""
    numbers: list[int] = []
    for match in re.finditer(r"(\d+)(?:\s*[-–]\s*(\d+))?", found):
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        span = range(low, high + 1) if 0 <= high - low < 20 else [low]  # "[2-4]" cites 2, 3 and 4
        numbers += [n for n in span if n not in numbers]
    return numbers


def _without_markup(text: str) -> str:
    text = LIST_BULLET.sub("", text)
    text = CODE.sub(r"\1", LINK.sub(r"\1", text))
    text = UNDERSCORES.sub(r"\2", text).replace("*", "")  # any asterisk left is Markdown (bullets went first)
    return text


def _without_lead_ins(text: str) -> str:
    while True:
        shorter = text
        for pattern in LEAD_INS:
            shorter = pattern.sub("", shorter)
        if shorter == text:
            return text
        text = shorter


@dataclass
class Claim:
    """One generated sentence: as written, the passage numbers it cites, and as the user reads it."""

    text: str
    cited: list[int]
    clean: str
    filler: bool = False  # makes no claim: a preamble, heading, courtesy, footnote definition, list of sources

    @classmethod
    def parse(cls, sentence: str) -> "Claim":
        text = sentence.strip()
        cited: list[int] = []

        def cite(match: re.Match) -> str:
            cited.extend(n for n in cited_numbers(next(g for g in match.groups() if g)) if n not in cited)
            return " "

        plain = _without_markup(text)
        starts_with_marker = bool(re.match(rf"\s*(?:{MARKER.pattern})", plain, re.I))
        plain = MARKER.sub(cite, plain)
        plain = NAMED_SAYS.sub(cite, NAMED_LEAD.sub(cite, plain))
        plain = re.sub(r"\(\s*\)|\[\s*\]", " ", plain)  # what "(see passage 2)" leaves
        clean = _without_lead_ins(" ".join(plain.split()))
        clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
        clean = re.sub(r"[\s,;:–—]+([.!?]+)$", r"\1", clean).strip(" ,;:–—")  # "..., according to passage 2."
        clean = clean[:1].upper() + clean[1:]  # "Based on passage 1, the terminal ..." -> "The terminal ..."
        filler = (HEADING.match(text) is not None or FOOTNOTE_DEFINITION.match(text) is not None
                  or starts_with_marker or not re.search(r"[^\W\d_]", clean) or bool(FILLER.search(clean)))
        return cls(text, cited, clean, filler)

    @property
    def key(self) -> str:
        """The same for the same sentence written again, whatever its markers or markup."""
        return " ".join(words(self.clean))

    def is_refusal(self) -> bool:
        """The model says the passages do not answer (an uncited sentence about the sources or itself)."""
        return not self.cited and not self.filler and any(p.search(self.clean) for p in REFUSALS) \
            and bool(ABOUT_SOURCES_OR_SELF.search(self.clean))

    def states_something(self) -> bool:
        """Anything beyond filler makes a claim that needs a source."""
        if self.filler:
            return False
        return len(content_terms(self.clean) - FILLER_TERMS) >= 2 or bool(re.search(r"\d", self.clean))


# Words no finished English sentence ends on: a sentence that stops at one ("... was concluded on or.",
# "... activities is.") broke off before its point, whatever punctuation the model put after it.
# (Prepositions are not among them: "what the order is for" ends well.) The words are data: lexicon.toml.
DANGLING = frozenset(WORDS["sentences"]["dangling"])


def dangling(sentence: str) -> bool:
    """The sentence ends on a word that cannot end one (an article, a conjunction, a copula, a
    determiner): it stops before what it was about to say."""
    last = re.findall(r"[^\W\d_][\w’'\-]*", sentence)
    return bool(last) and last[-1].lower() in DANGLING


def finished(sentence: str) -> bool:
    """Whether a sentence ends as sentences do (a full stop, question or exclamation mark), markers and
    markup aside: the last sentence of a completion cut off at the token limit usually does not."""
    return bool(TERMINAL.search(MARKER.sub("", sentence).replace("*", "").replace("_", "").rstrip()))


def split_claims(text: str, final: bool = True, cut_off: bool = False) -> tuple[list[Claim], str]:
    """The finished sentences of (possibly still growing) generated text that make claims, and the
    unfinished rest.

    While streaming (`final=False`) the last sentence may still grow, and so may one that is followed
    only by markers: "... in May. [1" has not finished citing yet. When the model was cut off
    (`cut_off=True`, with `final`), a last sentence that does not end as a sentence is left out: it
    is the rest.
    """
    normalised = TRAILING_MARKERS.sub(lambda m: f" {' '.join(m.group(3).split())}{m.group(1)}{m.group(2)}", text)
    normalised = re.sub(r"(?<!\n)\n(?!\n)", "\n\n", normalised)  # a line break ends a sentence (lists)
    spans = sentence_spans(normalised)
    count = len(spans) if final else len(spans) - 1
    if not final and count >= 1 and PENDING_MARKERS.match(normalised[spans[-1][0]:]):
        count -= 1
    last = normalised[spans[-1][0]:spans[-1][1]] if spans else ""
    if final and cut_off and re.search(r"\w", last) and not finished(last):
        count -= 1
    if count <= 0:
        return [], text if not final else normalised[spans[0][0]:] if spans else ""
    claims = [Claim.parse(normalised[a:b]) for a, b in spans[:count]]
    rest = normalised[spans[count][0]:] if count < len(spans) else ""
    return [c for c in claims if c.clean and not c.filler], rest
