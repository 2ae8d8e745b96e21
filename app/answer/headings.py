"""Heading lines and by-line blocks: where a document states its own who, when and where.

Policy documents put the facts about the document itself outside its sentences: a dateline under
the title ("Incheon, Korea / August 5, 2025"), a Federal Register header ("Friday, May 17, 2019"),
a signature block at the end ("JOSEPH R. BIDEN JR. / THE WHITE HOUSE, / May 8, 2024."). Such
lines are no statement, so the answerer never quotes a lone heading; but a question about the
document's own making ("When was the order signed?", "Where did Kratsios speak?") is answered by
exactly these blocks. `byline_blocks` finds runs of consecutive heading lines near the start and
the end of a document, as verbatim spans.
"""

from __future__ import annotations

import re

from app.answer.specifics import ACTION_QUESTION
from app.sentences import sentence_spans
from app.terms import content_terms

TERMINAL = re.compile(r"[.!?;:][\"”’)\]]*$")
QUOTE_OPENS = re.compile(r"[“\"]\s*\w")  # an opening quotation mark before a word
HEAD_CHARS = 1200  # by-lines sit in the first and last characters of a document
TAIL_CHARS = 600
MAX_BLOCK_LINES = 8
# The question is about the document's own making: who signed it, when it was issued, where given.
AUTHORING = re.compile(
    r"\b(sign\w*|issu\w*|dated|deliver\w*|submit\w*|publish\w*|print\w*|releas\w*|spoke|speak\w*|"
    r"remarks|speech\w*|address\w*|decision|proclaim\w*|enact\w*)\b",
    re.I,
)

# Where the document was published: a journal's volume and page stand in its header line.
PUBLICATION = re.compile(r"\b(?:what|which) (?:[\w\-]+ ){0,2}?(?:page|volume)s?\b", re.I)


def is_heading(text: str) -> bool:
    """A title line or a fragment ("119th CONGRESS 1st Session S. RES."), not a statement. A quoted
    sentence is a statement however few lower-case words it has ("Pete Hegseth: “Amen, Mr. President.”")."""
    if QUOTE_OPENS.search(text) and TERMINAL.search(text.strip()):
        return False
    tokens = [word for word in text.split() if word[:1].isalpha()]
    lowercase_words = sum(1 for word in tokens if word[:1].islower())
    title_case = len(tokens) - lowercase_words > 0.55 * len(tokens)
    return lowercase_words < 3 or (not TERMINAL.search(text.strip()) and (len(tokens) < 12 or title_case))


# Of the name questions, only "who ..." and "where ..." are answered by a by-line (a signature, a dateline).
BYLINE_NAME_QUESTION = re.compile(r"^\s*(who|whom|where)\b|\bin (which|what) (city|country|place|town)\b", re.I)


def authoring_terms(question: str) -> set[str]:
    """The question's words for the making ("signed", "issued"), as content terms."""
    return content_terms(" ".join(m.group(0) for m in AUTHORING.finditer(question)))


def asks_about_authoring(question: str, answer_type: str | None) -> bool:
    """Whether a by-line can answer: a date, signer, place or page question about a document's making.
    "Who introduced X before his remarks?" asks about another act than the making."""
    if answer_type == "name" and not BYLINE_NAME_QUESTION.search(question):
        return False
    who = ACTION_QUESTION.search(question)
    if who and not AUTHORING.fullmatch(who.group(1)):
        return False
    if answer_type == "number":
        return bool(PUBLICATION.search(question))  # "on which Federal Register page": the header says
    return answer_type in ("date", "name") and bool(AUTHORING.search(question))


def byline_blocks(document: str) -> list[tuple[int, int]]:
    """(start, end) of each run of two or more heading lines in the head or tail of `document`."""
    blocks: list[tuple[int, int]] = []
    head_end = document.rfind("\n", 0, HEAD_CHARS) if len(document) > HEAD_CHARS else len(document)
    tail_start = document.find("\n", max(len(document) - TAIL_CHARS, head_end))
    parts = [(0, document[:max(head_end, 0)])]
    if tail_start >= 0:
        parts.append((tail_start, document[tail_start:]))
    for offset, part in parts:  # whole lines only: a line cut in half is no heading
        run: list[tuple[int, int]] = []
        for start, end in [*sentence_spans(part), (len(part), len(part))]:  # a sentinel closes the last run
            if end > start and is_heading(part[start:end]) and len(run) < MAX_BLOCK_LINES:
                run.append((start, end))
                continue
            if len(run) >= 2:
                blocks.append((offset + run[0][0], offset + run[-1][1]))
            run = []
    return blocks
