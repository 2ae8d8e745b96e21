"""Our own types at the edges: llama-index nodes and Chroma records never leave retrieval/store.

`Answer.model_dump()` is the JSON contract shared by the CLI (`--json`), the HTTP API and the eval.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

VIEW_PATH = "/view/"  # app.viewer: a document's text with a span highlighted


def view_link(doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """Where the chat page and API clients can read a document, the span start:end highlighted."""
    span = f"?start={start}&end={end}" if start is not None and end is not None else ""
    return f"{VIEW_PATH}{quote(doc_id, safe='/')}{span}"


class DocumentInfo(BaseModel):
    """One source document and where it came from."""

    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    license: str = ""
    kind: str = ""
    author: str = ""
    description: str = ""
    passages: int = 0
    uploaded: bool = Field(False, description="Uploaded through the page or the API (DELETE removes it and its file).")
    link: str = Field("", description="Our page showing the document's indexed text (app.viewer).")


class Passage(BaseModel):
    """A retrieved span of a document; `text == document_text[start:end]`."""

    id: str
    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    text: str
    start: int
    end: int
    page: int | None = None
    score: float = 0.0


class Citation(BaseModel):
    """A numbered source of an answer; `quote` is verbatim in the document at `start:end`."""

    n: int
    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    quote: str
    start: int
    end: int
    page: int | None = Field(None, description="PDFs: the page where the quote starts.")
    score: float = 0.0
    link: str = Field("", description="Our page showing the quote highlighted in its document: "
                                      "/view/{doc_id}?start=S&end=E (relative to the server).")


class DroppedSentence(BaseModel):
    """A generated sentence that verification kept from the user, and why."""

    text: str = Field(description="The sentence as the model wrote it, [n] markers included.")
    cited: list[int] = Field(default_factory=list, description="The passage numbers it cited.")
    reason: str = Field(description="uncited | out of range | missing: <numbers/names> | weak support (<score>)")
    score: float | None = Field(None, description="Its support score, when one was computed.")


class Answer(BaseModel):
    """An answer with inline [n] markers, or an abstention with no citations.

    `mode`, `note` and `dropped` were added for generative answers; their defaults describe an
    extractive answer, so older consumers can ignore them.
    """

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    mode: Literal["extractive", "generative"] = Field(
        "extractive", description="extractive = quoted sentences; generative = LLM sentences verified against citations."
    )
    note: str = Field("", description="Why a generative answer fell back or was shortened; empty when all went well.")
    dropped: list[DroppedSentence] = Field(default_factory=list, description="Generated sentences removed as unsupported.")
