"""Our own types at the edges: llama-index nodes and Chroma records never leave retrieval/store.

`Answer.model_dump()` is the JSON contract shared by the CLI (`--json`), the HTTP API and the eval.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class DocumentInfo(BaseModel):
    """One source document and where it came from."""

    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    license: str = ""
    kind: str = ""
    passages: int = 0


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
    page: int | None = None
    score: float = 0.0


class Answer(BaseModel):
    """An answer with inline [n] markers, or an abstention with no citations."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
