"""Generative answers: an LLM writes, every finished sentence is checked, only supported ones reach the user.

`GenerativeAnswerer.run(question, passages)` streams the completion, cuts it into sentences as they
finish (app.answer.claims reads the forms models write: Markdown, citation styles, preambles, a last
sentence cut off at the token limit), and for each one decides:
- cites a passage number that was never given ("[9]" of 5): the model is confused; generation stops
  there (a fault, like a timeout);
- cites nothing: dropped when it states something ("uncited"); a refusal ("the passages do not
  answer...") is noted, not shown;
- cites passages that do not support it (app.answer.support): dropped, with the reason;
- otherwise kept, with one verbatim Citation per supporting span, numbered in order of appearance;
- written before (a repetition loop): not shown again; the third repeat stops generation, like a fault.
Each kept sentence is yielded as it is verified (`Partial`, the answer so far), so streaming
interfaces show only verified text and never need to take anything back. The final `Generated`
says how it ended; the Assistant turns "failed" and "unsupported" into the extractive answer with a
note, and "refused" into an abstention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from app.answer.claims import Claim, dangling, split_claims
from app.answer.llm import Finish, GenerationFailed, LLMClient, build_messages
from app.answer.support import Support, SupportChecker
from app.schema import Citation, DroppedSentence, Passage

Status = Literal["answered", "refused", "unsupported", "failed"]


@dataclass
class Partial:
    """The verified answer text so far (each event extends the previous one)."""

    text: str


@dataclass
class Generated:
    status: Status
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    dropped: list[DroppedSentence] = field(default_factory=list)
    note: str = ""
    completion: str = ""  # what the model wrote, unfiltered (the eval scores it)


THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S)  # reasoning models' scratchpad, never part of the answer
MAX_REPEATS = 3  # a sentence written again this many times is a repetition loop: stop reading


def claims_of(pieces: Iterable[str | Finish], left_out: list[str] | None = None) -> Iterator[Claim]:
    """Finished sentences of a streamed completion, as soon as each one is complete; when the server
    did not say it stopped on its own (`Finish`), an unfinished last sentence is left out (and added
    to `left_out`)."""
    buffer, cut_off = "", True
    for piece in pieces:
        if isinstance(piece, Finish):
            cut_off = piece.cut_off
            continue
        buffer += piece
        if "<think>" in buffer and "</think>" not in buffer:
            continue  # wait for the scratchpad to close
        claims, buffer = split_claims(THINKING.sub("", buffer), final=False)
        yield from claims
    claims, rest = split_claims(THINKING.sub("", buffer), final=True, cut_off=cut_off)
    yield from claims
    if left_out is not None and rest.strip() and not Claim.parse(rest).filler:
        left_out.append(rest)


class _Citations:
    """Citations numbered in order of first use; the same span cited twice keeps its number."""

    def __init__(self):
        self.items: list[Citation] = []
        self._numbers: dict[tuple[str, int, int], int] = {}

    def numbers_for(self, support: Support) -> list[int]:
        numbers = []
        for evidence in support.evidence:
            p = evidence.passage
            key = (p.doc_id, p.start + evidence.start, p.start + evidence.end)
            if key not in self._numbers:
                self._numbers[key] = len(self.items) + 1
                self.items.append(Citation(
                    n=self._numbers[key], doc_id=p.doc_id, title=p.title, publisher=p.publisher, date=p.date,
                    url=p.url, quote=evidence.text, start=key[1], end=key[2], page=p.page, score=support.score))
            if self._numbers[key] not in numbers:
                numbers.append(self._numbers[key])
        return numbers


class GenerativeAnswerer:
    def __init__(self, client: LLMClient, checker: SupportChecker):
        self.client = client
        self.checker = checker

    def run(self, question: str, passages: list[Passage]) -> Iterator[Partial | Generated]:
        kept: list[str] = []
        citations = _Citations()
        dropped: list[DroppedSentence] = []
        received: list[str] = []
        seen: set[str] = set()
        left_out: list[str] = []
        refused, fault, repeats = False, "", 0
        pieces = self.client.stream(build_messages(question, passages))

        def recorded():
            for piece in pieces:
                if isinstance(piece, str):
                    received.append(piece)
                yield piece

        try:
            for claim in claims_of(recorded(), left_out):
                if claim.key in seen:
                    repeats += 1
                    if repeats >= MAX_REPEATS:
                        fault = "the model kept repeating itself"
                        break
                    continue
                seen.add(claim.key)
                outside = [n for n in claim.cited if not 1 <= n <= len(passages)]
                if outside:
                    dropped.append(DroppedSentence(text=claim.text, cited=claim.cited, reason="out of range"))
                    fault = f"the model cited passage [{outside[0]}] but was given {len(passages)}"
                    break
                if claim.is_refusal():
                    refused = True
                    continue
                if not claim.cited:
                    if claim.states_something():
                        dropped.append(DroppedSentence(text=claim.text, cited=[], reason="uncited"))
                    continue
                if dangling(claim.clean):
                    dropped.append(DroppedSentence(text=claim.text, cited=claim.cited, reason="unfinished"))
                    continue
                support = self.checker.check(claim.clean, [passages[n - 1] for n in claim.cited])
                if not support.supported:
                    dropped.append(DroppedSentence(text=claim.text, cited=claim.cited, reason=support.reason,
                                                   score=support.score))
                    continue
                markers = "".join(f"[{n}]" for n in citations.numbers_for(support))
                kept.append(f"{claim.clean} {markers}")
                yield Partial(" ".join(kept))
        except GenerationFailed as problem:
            fault = str(problem)
        finally:
            pieces.close()
        completion = "".join(received)
        if not completion.strip() and not fault:
            fault = "the LLM server sent an empty completion"
        if left_out and not (kept or dropped or refused or fault):
            fault = "the answer was cut off mid-sentence, at the token limit"
        yield self._outcome(kept, citations.items, dropped, refused, fault, completion, bool(left_out))

    @staticmethod
    def _outcome(kept, citations, dropped, refused, fault, completion, cut_off) -> Generated:
        removed = f"{len(dropped)} generated sentence(s) removed: not supported by the passages they cite." if dropped else ""
        if kept:
            unfinished = "The answer was cut off at the token limit; its unfinished last sentence is not shown." \
                if cut_off and not fault else ""
            note = f"Generation stopped early ({fault}); the sentences verified before that are shown." if fault \
                else " ".join(part for part in (removed, unfinished) if part)
            return Generated("answered", " ".join(kept), citations, dropped, note, completion)
        if fault:
            return Generated("failed", dropped=dropped, completion=completion,
                             note=f"Generation failed ({fault}); this is the extractive answer.")
        if refused:
            return Generated("refused", dropped=dropped, completion=completion,
                             note="The language model found no answer in the retrieved passages.")
        return Generated("unsupported", dropped=dropped, completion=completion,
                         note="No generated sentence was supported by the passages it cites; this is the extractive answer.")
