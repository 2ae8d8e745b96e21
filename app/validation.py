"""Input checks shared by every interface; cheap, so they run before the model and index load."""

from __future__ import annotations

import datetime as dt
import re

from app.config import Settings
from app.errors import RagqaError

MAX_K = 50
# Control characters (but tab and newlines) and lone surrogates (undecodable bytes from a terminal,
# or "\udcff" in JSON): no words in them, and the tokenizer and the JSON encoder reject surrogates.
NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_question(question: str | None, settings: Settings) -> str:
    """The question without binary noise, or a RagqaError (empty, too long)."""
    question = (question or "").strip()
    if len(question) > settings.max_question_chars:
        raise RagqaError(f"the question is longer than {settings.max_question_chars} characters")
    question = " ".join(NOT_TEXT.sub(" ", question).split()) if NOT_TEXT.search(question) else question
    if not question:
        raise RagqaError("the question is empty")
    return question


def check_k(k: int | None, settings: Settings) -> int:
    k = settings.top_k if k is None else k
    if not 1 <= k <= MAX_K:
        raise RagqaError(f"k must be between 1 and {MAX_K}")
    return k


def check_index_exists(settings: Settings) -> None:
    """An embedded index that was never built is an error before anything loads (a Chroma server's
    collections are checked when the store opens)."""
    if not settings.chroma_url and not (settings.index_dir / "chroma.sqlite3").exists():
        raise RagqaError(f"no index at {settings.index_dir}/ - run `ragqa ingest` first")


def check_date(value: str | None, name: str = "date") -> str | None:
    """A YYYY-MM-DD date as given, None for none, or a RagqaError naming the field."""
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise RagqaError(f"{name}: not a date in the form YYYY-MM-DD: {value!r}") from None
    return value
