"""A scripted OpenAI-compatible LLM server for the tests (no real model can run here).

It is a real HTTP server on 127.0.0.1 (FastAPI in a thread, app.server.background_server) that
speaks /v1/chat/completions with and without `stream: true` (server-sent events). Each test sets
`fake.reply`, a function of the received prompt returning a `Reply`; every request is recorded, so a
test fails when the prompt does not number and delimit the passages as it should. `passage_number`
finds the number the prompt gave a passage, so scripted answers cite what the retriever really
returned rather than guessed numbers.

Like a real server it honours the request's `max_tokens` (a whitespace-separated piece counts as a
token): a longer reply is cut there, mid-sentence, with finish_reason "length". The helpers at the
end rewrite a scripted answer the way real models write (Markdown, other citation styles, preambles,
repetition loops, refusals in other words), so every such form is guarded by `make test`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, replace

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

PASSAGE = re.compile(r'<passage n="(\d+)" source="[^"]*">\n(.*?)\n</passage>', re.S)


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before answering
    stall_after: int | None = None  # streaming: send this many pieces, then hang for `delay`
    raw: str | None = None  # a body sent as-is (malformed JSON)
    finish: str | None = "stop"  # the finish_reason sent (None: the server sends none); "length" when cut


def passages_in(prompt: str) -> dict[int, str]:
    return {int(n): text for n, text in PASSAGE.findall(prompt)}


def passage_number(prompt: str, phrase: str) -> int:
    """The number of the first passage in the prompt that contains `phrase`; fails the test if none does."""
    for n, text in sorted(passages_in(prompt).items()):
        if phrase.lower() in text.lower():
            return n
    raise AssertionError(f"no passage in the prompt contains {phrase!r}")


class FakeLLM:
    def __init__(self):
        self.requests: list[dict] = []
        self.reply = lambda prompt: Reply("The passages do not answer this question.")
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)

    @property
    def last_prompt(self) -> str:
        return self.requests[-1]["messages"][-1]["content"]

    async def _complete(self, request: Request):
        body = await request.json()
        self.requests.append(body)
        reply = self.reply(body["messages"][-1]["content"])
        if reply.delay and reply.stall_after is None:
            await asyncio.sleep(reply.delay)
        if reply.raw is not None:
            return PlainTextResponse(reply.raw, status_code=reply.status, media_type="application/json")
        if reply.status != 200:
            return JSONResponse({"error": {"message": "scripted failure", "type": "server_error"}}, reply.status)
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        pieces = re.findall(r"\S+\s*", reply.text)  # a few characters at a time, like a model
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if limit and len(pieces) > limit:
            pieces, reply = pieces[:limit], replace(reply, finish="length")
        if not body.get("stream"):
            return {"id": ident, "object": "chat.completion", "created": created, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)},
                                 "finish_reason": reply.finish}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return StreamingResponse(self._events(reply, pieces, ident, created, body["model"]),
                                 media_type="text/event-stream")

    @staticmethod
    async def _events(reply: Reply, pieces: list[str], ident: str, created: int, model: str):
        def chunk(delta: dict, finish: str | None = None) -> str:
            data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for i, piece in enumerate(pieces):
            if reply.stall_after is not None and i == reply.stall_after:
                await asyncio.sleep(reply.delay)
            yield chunk({"content": piece})
            await asyncio.sleep(0)
        yield chunk({}, reply.finish)
        yield "data: [DONE]\n\n"


# --- how real models write: scripted answers ("sentence [n].") rewritten in the forms of real models ---

CITED_SENTENCE = re.compile(r"(?P<space>\s*)(?P<body>[^\[\]\n]+?)\s*\[(?P<n>\d+)\]\.(?=\s|$)")
CITATION_STYLES = {  # what real models put instead of "sentence [n]."
    "passage in brackets": "{body} [Passage {n}].",
    "source in parentheses": "{body} (Source {n}).",
    "passage in parentheses": "{body} (Passage {n}).",
    "marker after the full stop": "{body}. [{n}]",
    "repeated marker": "{body} [{n}][{n}].",
    "footnote": "{body}.[^{n}]",
    "passage says": "Passage {n} says that {lower}.",
    "according to passage": "According to passage {n}, {lower}.",
    "according to passage, at the end": "{body}, according to passage {n}.",
}
PREAMBLES = ["Sure! Based on the passages, here is the answer:\n\n", "Answer: ", "**Answer:** ",
             "Certainly. According to the provided passages: ", "Here's what the passages say:\n"]
REFUSALS = [
    "I'm sorry, but the passages don't mention who won the regatta.",
    "There is no information about the Valdera sailing regatta in the provided passages.",
    "The provided text does not specify who won the regatta.",
    "I cannot find the winner of the regatta in these passages.",
    "Unfortunately, the passages do not contain any details about a sailing regatta.",
    "The winner of the regatta is not mentioned in the given context.",
]


def restyle(text: str, style: str) -> str:
    """Every "sentence [n]." of `text` written in one of CITATION_STYLES (footnotes get their definitions)."""
    cited = []

    def one(match: re.Match) -> str:
        body, n = match.group("body").strip(), match.group("n")
        cited.append(n)
        return match.group("space") + CITATION_STYLES[style].format(body=body, n=n, lower=body[:1].lower() + body[1:])

    restyled = CITED_SENTENCE.sub(one, text)
    if style == "footnote":
        restyled += "\n\n" + "\n".join(f"[^{n}]: Passage {n}." for n in dict.fromkeys(cited))
    return restyled


def as_markdown(text: str) -> str:
    """The sentences of `text` as a Markdown answer: a heading, a bulleted list, bold and italics."""
    sentences = [m.group(0).strip() for m in re.finditer(r"[^.]+?\[\d+\]\.", text)]
    items = []
    for i, sentence in enumerate(sentences):
        first, rest = sentence.split(" ", 1)
        items.append(f"{'-' if i % 2 else '1.'} **{first}** {rest.replace(' new ', ' *new* ')}")
    return "## Answer\n\n" + "\n".join(items) + "\n\n_I hope this helps!_"


def looping(text: str, times: int = 30) -> str:
    """`text`, then its last sentence over and over, as a small model stuck in a repetition loop writes."""
    last = re.findall(r"[^.]+?\[\d+\]\.", text)[-1].strip()
    return " ".join([text, *[last] * times])
