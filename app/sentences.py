"""Sentence spans with character offsets, from NLTK's punkt model (shipped inside llama-index-core).

Why not llama-index's `split_by_sentence_tokenizer`: it returns strings without offsets and its punkt
model splits "the U.S. Commerce Department" after "U.S." (measured on this corpus), which loses the
fact an answer needs. Here the same punkt model gets the abbreviations common in policy text, and
`span_tokenize` gives exact offsets so every quote can be traced to `start:end` in its document.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from string import ascii_lowercase

# Importing nltk imports all of NLTK, and with it scipy.stats and scikit-learn, for two optional features
# we never use (Fisher's exact test among the collocation measures, the scikit-learn classifier
# wrapper): ~1 s of every `ragqa ask`, more than punkt itself. NLTK imports both inside
# `try ... except ImportError` and falls back to a stub, so while it loads they are refused (unless
# something imported them already) and they import normally afterwards. Only app.sentences imports nltk.
NLTK_UNUSED_OPTIONAL = ("scipy.stats", "sklearn")


def _import_nltk():
    refused = [name for name in NLTK_UNUSED_OPTIONAL if name not in sys.modules]
    for name in refused:
        sys.modules[name] = None  # type: ignore[assignment]  # "import halted": ImportError for nltk
    try:
        import nltk
        from nltk.tokenize.punkt import PunktTokenizer
    finally:
        for name in refused:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return nltk, PunktTokenizer


nltk, PunktTokenizer = _import_nltk()

EXTRA_ABBREVIATIONS = {
    "u.s", "u.s.a", "u.k", "u.n", "e.u", "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "lt",
    "col", "sec", "secs", "no", "nos", "vol", "pp", "p", "art", "para", "ch", "fig", "inc", "corp",
    "ltd", "co", "st", "jr", "sr", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "approx", "est", "dept", "govt", "e.g", "i.e", "etc", "vs", "v", "h.r",
    "s.res", "h.res", "d.c", "u.s.c", "c.f.r", "res", "stat", "fed", "reg", "seq", "al",
} | set(ascii_lowercase)  # a name's initial ("John F. Boyle") ends no sentence
# Two initials ("Vice President J.D. Vance", "H.J. Res. 42") end no sentence either: punkt knew only
# those it had seen ("J.B." but not "J.D."), and a quote then stopped inside a name. Before a word
# that often starts sentences punkt still splits, as after "U.S." ("in the U.S. The company ...").
EXTRA_ABBREVIATIONS |= {f"{first}.{second}" for first in ascii_lowercase for second in ascii_lowercase}
# A title before a name ("Amen, Mr. President.", "Rep. Smith (R-Tex.) said"): punkt still ends a sentence
# at an abbreviation when the next word is one that often starts sentences ("President"), and a quote
# then stopped at "Amen, Mr.". After these no sentence ends, whatever follows.
# Transcripts write a speaker's title in capitals ("MR. BRIGHT: No."), and punkt ends a sentence after it too.
TITLE_BEFORE_NAME = re.compile(r"(?:\b(?i:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|Adm|Hon|Rev|Prof)\."
                               r"|\([A-Z]-[A-Z][a-z]{1,4}\.\))$")
# A list item's number or a section's ("1.", "(b)", "Sec. 2."): punkt ends a sentence after it when the
# item starts with a capital ("1. Protecting Children ..."), and the number stood alone as a sentence.
ENUMERATOR_ONLY = re.compile(r"(?:Sec(?:tion)?\.?\s*)?[(\[]?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)\]]")


BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
LIST_MARKER = r"[ \t]*(?:[-•*–]|\(?[a-z0-9]{1,3}\)|\d{1,2}\.)[ \t]"  # "- ", "• ", "(a) ", "2. "
LIST_ITEM = re.compile(LIST_MARKER)
LIST_ITEM_LINE = re.compile(rf"(?<=\n){LIST_MARKER}")
TERMINAL_OR_JOINER = re.compile(r"[.!?,;:\-–—(]$|\b(and|or|of|the|to|in|for|a|an)$")


def nltk_data_folder() -> Path:
    """The NLTK data llama-index-core ships (punkt, stop words), found without importing llama_index.core,
    which imports the whole framework."""
    return Path(importlib.util.find_spec("llama_index.core").origin).parent / "_static" / "nltk_cache"


@functools.cache
def _tokenizer() -> PunktTokenizer:
    nltk_cache = str(nltk_data_folder())
    if nltk_cache not in nltk.data.path:
        nltk.data.path.insert(0, nltk_cache)
    tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(EXTRA_ABBREVIATIONS)
    return tokenizer


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`; blank-line breaks also end a sentence."""
    spans: list[tuple[int, int]] = []
    block_start = 0
    for match in [*BLANK_LINE.finditer(text), None]:
        block_end = match.start() if match else len(text)
        block = text[block_start:block_end]
        # punkt's spans; one ending in a title before a name, or only a list item's or section's number, is
        # no sentence
        sentences = _joined_to_next(block, _tokenizer().span_tokenize(block), TITLE_BEFORE_NAME.search)
        pieces = [line for start, end in sentences for item_start, item_end in _split_list_items(block, start, end)
                  for line in _split_header_lines(block, item_start, item_end)]
        spans.extend((block_start + start, block_start + end)
                     for start, end in _joined_to_next(block, pieces, ENUMERATOR_ONLY.fullmatch))
        if match:
            block_start = match.end()
    return spans


def _joined_to_next(block: str, spans, ends_no_sentence: Callable[[str], object]) -> list[tuple[int, int]]:
    """The spans, with each span whose text `ends_no_sentence` joined to the next."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined and ends_no_sentence(block[joined[-1][0]:joined[-1][1]]):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _split_list_items(block: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a span where a line starts a list item ("- In April 2025, ..."): punkt does not end a
    sentence before a lower-case or punctuation token, so two items would read as one sentence."""
    # the marker's space may lie just past the span: punkt ends one at "1." ("objectives:\n1." + " Protecting")
    cuts = [m.start() for m in LIST_ITEM_LINE.finditer(block, start, min(end + 1, len(block))) if m.start() < end]
    bounds = [start, *cuts, end]
    return [(a + len(block[a:b]) - len(block[a:b].lstrip()), a + len(block[a:b].rstrip()))
            for a, b in zip(bounds, bounds[1:]) if block[a:b].strip()]


def _split_header_lines(block: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a span after short lines that end in a capitalised word or a number and no punctuation
    (headers such as "119th CONGRESS" / "1st Session" above a sentence); hard-wrapped prose lines
    are longer or end mid-phrase."""
    pieces, piece_start = [], start
    while True:
        newline = block.find("\n", piece_start, end)
        if newline < 0:
            break
        line = block[piece_start:newline].strip()
        last_word = line.split()[-1].strip("*_") if line else ""
        if line and len(line.split()) <= 8 and last_word[:1].isupper() | last_word[:1].isdigit() \
                and not TERMINAL_OR_JOINER.search(line):
            pieces.append((piece_start, newline))
            piece_start = newline + 1
            while piece_start < end and block[piece_start].isspace():
                piece_start += 1
        else:
            break
    pieces.append((piece_start, end))
    return [(a, b) for a, b in pieces if block[a:b].strip()]


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` with the whitespace between them kept, so that ''.join(...) == text.

    This is the form llama-index's SentenceSplitter expects of its `chunking_tokenizer_fn`.
    """
    spans = sentence_spans(text)
    if not spans:
        return [text] if text else []
    pieces = []
    for i, (start, _end) in enumerate(spans):
        piece_start = 0 if i == 0 else start
        piece_end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        pieces.append(text[piece_start:piece_end])
    return pieces
