"""A scripted OpenAI-compatible LLM server for the tests (no real model can run here).

It is a real HTTP server on 127.0.0.1 (FastAPI in a thread, app.server.background_server) that
speaks /v1/chat/completions with and without `stream: true` (server-sent events). Each test sets
`fake.reply`, a function of the received prompt returning a `Reply`; every request is recorded, so a
test fails when the prompt does not number and delimit the passages as it should. `passage_number`
finds the number the prompt gave a passage, so scripted answers cite what the retriever really
returned rather than guessed numbers.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass

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
        if not body.get("stream"):
            return {"id": ident, "object": "chat.completion", "created": created, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return StreamingResponse(self._events(reply, ident, created, body["model"]), media_type="text/event-stream")

    @staticmethod
    async def _events(reply: Reply, ident: str, created: int, model: str):
        def chunk(delta: dict, finish: str | None = None) -> str:
            data = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for i, piece in enumerate(re.findall(r"\S+\s*", reply.text)):  # a few characters at a time, like a model
            if reply.stall_after is not None and i == reply.stall_after:
                await asyncio.sleep(reply.delay)
            yield chunk({"content": piece})
            await asyncio.sleep(0)
        yield chunk({}, "stop")
        yield "data: [DONE]\n\n"
