"""Conversations with the assistant: follow-up questions, and one question at a time.

`condense(question, history_questions)` turns a follow-up such as "and in which month was that?" or
"what about Egypt?" into a question that stands on its own, by putting the earlier question it leans
on in front of it (no LLM: a few plain rules); one that asks with its own question word ("and when
was that?") is read against the previous answer when there is one. The chat page and
/v1/chat/completions both use it, before retrieval.

`ask_in_turn` is how every interface asks a shared Assistant: the question as typed is checked,
resolved against the history, then asked (calls may run at once: an answer keeps only per-call
state). `stream_in_turn` is the same for streaming interfaces; close its iterator to stop a
generation in progress.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.schema import Answer

LEADS = ("and ", "and,", "but ", "also ", "so ", "what about ", "how about ", "what of ", "and what ", "then ")
SUBSTITUTING_LEADS = ("what about ", "how about ", "what of ", "and what about ", "and how about ")
REFERRING_WORDS = frozenset(
    "that it this they them those these there its their theirs he she him his her then such".split()
)
SHORT_WORDS = 3  # a question of this many words or fewer leans on the one before
_WORD = re.compile(r"[\w'’-]+")


def is_follow_up(question: str) -> bool:
    """Whether a question probably depends on an earlier turn."""
    text = " ".join(question.lower().split())
    words = _WORD.findall(question)
    if not words:
        return False
    if text.startswith(LEADS) or len(words) <= SHORT_WORDS:
        return True
    lowered = [word.lower() for word in words]
    referring = [word for word in lowered if word in REFERRING_WORDS]
    if not referring:
        return False
    if lowered[-1] in REFERRING_WORDS:  # "... was that?", "who signed it?"
        return True
    named = [word for word in words[1:] if word[0].isupper()]
    return not named  # a pronoun and no name of its own: it points back


def condense(question: str, history_questions: list[str], max_chars: int | None = None,
             previous_answer: str | None = None) -> str:
    """The question made self-standing against the earlier user questions (oldest first).

    A follow-up gets the (itself resolved) previous question after it when it asks with its own
    question word ("when was that: What did Malaysia decide ...?"), in front of it otherwise; "what about X?" gets
    the last self-standing question instead, so "what about Egypt?" after "what about Kenya?"
    replaces Kenya rather than adding to it. With `max_chars`, the context is cut to fit.
    With `previous_answer` (the text of the answer to the previous question), a follow-up that asks
    with its own question word is read against that answer instead: "when was that?" asks about
    what was said ("The same month, Malaysia retracted ..."), whose sentence-before holds the month.
    """
    question = " ".join(question.split())
    history = [" ".join(q.split()) for q in history_questions if q and q.strip()]
    if not history or not is_follow_up(question):
        return question
    if question.lower().startswith(SUBSTITUTING_LEADS):
        topics = [q for q in history if not is_follow_up(q)]
        context = topics[-1] if topics else condense(history[-1], history[:-1])
    else:
        context = condense(history[-1], history[:-1])
    asking = _own_question(question)
    if asking and previous_answer:
        context = _without_asked_dates(asking, " ".join(previous_answer.split()))
    if max_chars is not None:
        room = max_chars - len(asking or question) - 2
        if room <= 0:
            return question
        context = context[-room:].lstrip() if len(context) > room else context
    if not context:
        return question
    # A follow-up that asks with its own question word leads, so that what it asks for is read from
    # it: "and when was that?" after "What did Malaysia decide ...?" is a "when" question about that.
    return f"{asking}: {context}" if asking else f"{context} {question}"


ASKING = re.compile(r"^(?:(?:and|but|so|also|then),?\s+)?((?:in|on|by|since|until|for|from|at)\s+(?:what|which)\b.*|"
                    r"(?:when|where|who|whom|whose|which|how|why)\b.*)", re.I)


def _own_question(question: str) -> str | None:
    """The follow-up's own question without its lead word and question mark ("when was that" for
    "and when was that?"), or None when it asks nothing of its own ("what about Egypt?")."""
    if question.lower().startswith(SUBSTITUTING_LEADS):
        return None
    match = ASKING.match(question)
    return match.group(1).rstrip(" ?") if match else None


def _without_asked_dates(asking: str, context: str) -> str:
    """The previous answer as a follow-up's context, without its dates when the follow-up asks for one:
    "in which month did they announce it?" after "In August, Indus Cloud and Huawei announced ..." asks
    for that August; left in, the question would already state it, and a date the question states is
    no answer to it (the answerer's date check)."""
    from app.answer.answer_types import broad_kind
    from app.answer.lexicon import DATE_MENTION

    if broad_kind(asking) != "date":
        return context
    dated = re.compile(rf"(?:\b(?:[Ii]n|[Oo]n|[Ss]ince|[Bb]y|[Uu]ntil|[Dd]uring)\s+)?(?:{DATE_MENTION.pattern})")
    return " ".join(dated.sub(" ", context).split()).lstrip(",; ")


CITATION_MARKER = re.compile(r"\s*\[\d+\]")


def _resolved(assistant, question: str, history_questions: list[str] | None) -> str:
    """The question as typed, checked, then resolved against the history: a follow-up that asks with
    its own question word is resolved against the previous question's extractive answer (asked again:
    extractive answers are deterministic, so the interfaces need to keep only the questions; with an
    LLM, its quotes are the corpus sentences the generated answer was drawn from), when there is one."""
    question = assistant.check_question(question)
    history = [q for q in history_questions or [] if q and q.strip()]
    limit = assistant.settings.max_question_chars
    previous_answer = None
    if history and is_follow_up(question) and _own_question(question):
        previous = assistant.ask_extractive(condense(history[-1], history[:-1], limit))
        previous_answer = None if previous.abstained else CITATION_MARKER.sub("", previous.answer)
    return condense(question, history, limit, previous_answer)


def ask_in_turn(assistant, question: str, history_questions: list[str] | None = None, **options) -> Answer:
    """Check the question as typed, resolve it against the history, then ask."""
    return assistant.ask(_resolved(assistant, question, history_questions), **options)


def stream_in_turn(assistant, question: str, history_questions: list[str] | None = None, **options) -> Iterator:
    """`ask_in_turn`, streamed: `assistant.ask_events` (verified text so far, then the Answer).

    Close the iterator when abandoning it (contextlib.closing) so a generation in progress stops at once.
    """
    resolved = _resolved(assistant, question, history_questions)  # here: bad input fails before streaming
    return assistant.ask_events(resolved, **options)
