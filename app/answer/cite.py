"""Citation checks: every quote must be the document's own text at start:end.

Run on every answer before it is returned; a citation that fails is a bug, never shown to a user.
"""

from __future__ import annotations

from collections.abc import Callable

from app.schema import Citation


class UnfaithfulCitation(Exception):
    """A quote that is not verbatim in its document: answering code is wrong."""


def verify_citations(citations: list[Citation], document_text: Callable[[str], str | None]) -> None:
    for citation in citations:
        text = document_text(citation.doc_id)
        if text is None or text[citation.start:citation.end] != citation.quote:
            raise UnfaithfulCitation(f"citation [{citation.n}] is not verbatim in {citation.doc_id} at {citation.start}:{citation.end}")


def inline_answer(quotes: list[str]) -> str:
    """Quotes joined into answer text, whitespace folded, each followed by its [n] marker."""
    return " ".join(f"{' '.join(quote.split())} [{n}]" for n, quote in enumerate(quotes, start=1))
