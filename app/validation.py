"""Input checks shared by every interface; cheap, so they run before the model and index load."""

from __future__ import annotations

from app.config import Settings
from app.errors import RagqaError

MAX_K = 50


def check_question(question: str | None, settings: Settings) -> str:
    question = (question or "").strip()
    if not question:
        raise RagqaError("the question is empty")
    if len(question) > settings.max_question_chars:
        raise RagqaError(f"the question is longer than {settings.max_question_chars} characters")
    return question


def check_k(k: int | None, settings: Settings) -> int:
    k = settings.top_k if k is None else k
    if not 1 <= k <= MAX_K:
        raise RagqaError(f"k must be between 1 and {MAX_K}")
    return k
