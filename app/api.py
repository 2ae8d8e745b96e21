"""The HTTP API: JSON endpoints, an OpenAI-compatible chat endpoint, and the chat page at `/`.

`create_app(assistant)` builds the FastAPI app around one loaded Assistant:
- POST /api/ask, POST /api/search, GET /api/documents: the Answer / Passage / DocumentInfo JSON;
- POST /v1/chat/completions (stream or not) and GET /v1/models: for OpenAI clients, model "ragqa";
  the last user message is the question, resolved against earlier user turns (app.conversation);
  with an LLM configured, a stream carries each answer sentence once it has been verified; with
  `ragqa_sources` (or settings.v1_append_sources) the content ends with the numbered sources as a
  Markdown list, for clients that show the content and ignore the `citations` field;
- GET /healthz; the Gradio chat page (app.ui) mounted at `/`.
When settings.api_key is set, /api/* and /v1/* need `Authorization: Bearer <key>`; beyond
settings.max_concurrent_requests in flight they answer 429 with Retry-After (app.admission). Every error is
JSON `{"error": "..."}`: bad input 4xx, a RagqaError 400, anything unexpected 500 without a trace.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import re
import secrets
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import gradio as gr
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__, viewer
from app import documents as document_api
from app.admission import AdmissionLimit
from app.answer.generative import Partial
from app.config import RetrieverName
from app.conversation import ask_in_turn, stream_in_turn
from app.documents import DocumentDesk
from app.errors import ApiError, RagqaError, error_body
from app.retrieve import SearchFilters
from app.schema import Answer, Citation, DocumentInfo, DroppedSentence, Passage
from app.ui import CSS, build_ui, stream_steps
from app.validation import check_date

MODEL_ID = "ragqa"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")  # in document titles and publishers, shown as text
log = logging.getLogger("ragqa.api")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filters(Strict):
    date_from: str | None = Field(None, description="Only documents dated on or after (YYYY-MM-DD).")
    date_to: str | None = Field(None, description="Only documents dated on or before (YYYY-MM-DD).")
    publisher: str | None = Field(None, description="Only documents from this publisher (exact).")

    @field_validator("date_from", "date_to")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        try:
            return check_date(value)
        except RagqaError as problem:
            raise ValueError(str(problem).removeprefix("date: ")) from None

    def to_search(self) -> SearchFilters:
        return SearchFilters(self.date_from, self.date_to, self.publisher)


class RetrievalOptions(Strict):
    k: int | None = Field(None, ge=1, le=50, strict=True, description="Passages to retrieve (default: settings.top_k).")
    retriever: RetrieverName | None = Field(None, description="dense | bm25 | hybrid (default: hybrid).")
    filters: Filters | None = None

    def options(self) -> dict[str, Any]:
        return {"k": self.k, "retriever": self.retriever, "filters": self.filters.to_search() if self.filters else None}


class AskRequest(RetrievalOptions):
    question: str = Field(description="The question, in plain words.")


class SearchRequest(RetrievalOptions):
    query: str = Field(description="What to search for.")


class SearchResponse(BaseModel):
    passages: list[Passage]


class DocumentsResponse(BaseModel):
    documents: list[DocumentInfo]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    documents: int
    passages: int


class ErrorBody(BaseModel):
    error: str


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """The error shape OpenAI's clients read, on /v1/*."""

    error: OpenAIErrorDetail


class ChatMessage(BaseModel):
    """An OpenAI chat message; fields we do not use (echoed citations, tool calls) are ignored."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(RetrievalOptions):
    """OpenAI's request; sampling parameters are accepted and ignored (answers are extractive)."""

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = Field(None, ge=1, le=1)
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    user: str | None = None
    metadata: dict[str, Any] | None = None
    ragqa_sources: bool | None = Field(
        None, description="Append the numbered sources to the message content as a Markdown list, "
        "`[n] title — publisher, date — link` (link: the quote in our /view page, absolute), for clients that "
        "ignore the `citations` field; streamed, they come in a last content delta. Default: the server's "
        "RAGQA_V1_APPEND_SOURCES (false unless set).")


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The answer with [n] markers; with ragqa_sources, then its sources as a "
                                     "Markdown list.")
    citations: list[Citation]


class Choice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="The numbered sources of the [n] markers in the content.")
    abstained: bool
    mode: Literal["extractive", "generative"] = "extractive"
    note: str = Field("", description="Why a generative answer fell back or was shortened.")
    dropped: list[DroppedSentence] = Field(default_factory=list, description="Generated sentences removed as unsupported.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "ragqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


REDOC_BADGE = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 404, 422, 429)}
OPENAI_ERRORS = {status: {"model": OpenAIError} for status in (400, 401, 404, 422, 429)}


@functools.cache
def _redoc_bundle() -> bytes:
    """fastapi-offline's ReDoc bundle with its "API docs by Redocly" badge as an empty inline image: the
    bundle fetched the badge from cdn.redoc.ly, the one request a docs page made beyond this server."""
    import fastapi_offline

    bundle = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
    return bundle.read_bytes().replace(REDOC_BADGE, EMPTY_IMAGE)


def _add_redoc(app: FastAPI) -> None:
    """/redoc as fastapi-offline makes it, over the bundle above."""
    @app.get("/redoc", include_in_schema=False)
    async def redoc_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}/redoc.standalone.js", with_google_fonts=False,
                              redoc_favicon_url=f"{root}/static-offline-docs/favicon.png")

    @app.get("/redoc.standalone.js", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(_redoc_bundle(), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


def create_app(assistant) -> FastAPI:
    """The API and the chat page over one loaded Assistant."""
    # FastAPIOffline: FastAPI whose /docs uses the Swagger UI files it ships, not a CDN; /redoc: _add_redoc
    app = FastAPIOffline(title="ragqa", version=__version__, description=__doc__, redoc_url=None)
    _add_redoc(app)
    app.add_middleware(AdmissionLimit, max_concurrent=assistant.settings.max_concurrent_requests,
                       queue_timeout=assistant.settings.queue_timeout)
    _add_error_handlers(app)
    bearer = HTTPBearer(auto_error=False, description="Needed when the server has RAGQA_API_KEY set.")

    def require_key(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        key = assistant.settings.api_key
        if key and not (credentials and secrets.compare_digest(credentials.credentials.encode(), key.encode())):
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer <key>)")

    api = APIRouter(dependencies=[Depends(require_key)], responses=ERRORS)
    openai_api = APIRouter(dependencies=[Depends(require_key)], responses=OPENAI_ERRORS)
    desk = DocumentDesk(assistant)
    started = int(time.time())

    @api.post("/api/ask", response_model=Answer, tags=["api"], summary="Answer a question with citations")
    def ask(request: AskRequest) -> Answer:
        return ask_in_turn(assistant, request.question, **request.options())

    @api.post("/api/search", response_model=SearchResponse, tags=["api"], summary="Retrieved passages with scores")
    def search(request: SearchRequest) -> SearchResponse:
        query = assistant.check_question(request.query)
        return SearchResponse(passages=assistant.search(query, **request.options()))

    @api.get("/api/documents", response_model=DocumentsResponse, tags=["api"], summary="The indexed documents")
    def documents() -> DocumentsResponse:
        return DocumentsResponse(documents=assistant.documents())

    @openai_api.get("/v1/models", response_model=ModelList, tags=["openai"], summary="The one model, ragqa")
    def models() -> ModelList:
        return ModelList(data=[ModelCard(id=MODEL_ID, created=started)])

    @openai_api.post("/v1/chat/completions", response_model=ChatCompletion, tags=["openai"],
              summary="OpenAI-compatible chat (stream=true: server-sent chat.completion.chunk events)",
              responses={200: {"content": {"text/event-stream": {}}}})
    def chat_completions(request: ChatRequest, http: Request):
        if request.model != MODEL_ID:
            raise ApiError(404, f"unknown model {request.model!r}: this server has one model, {MODEL_ID!r}")
        if request.messages[-1].role != "user":
            raise ApiError(400, "the last message must be the user's question (role 'user')")
        asked = [message.text() for message in request.messages if message.role == "user"]
        prompt = " ".join(m.text() for m in request.messages)
        append = assistant.settings.v1_append_sources if request.ragqa_sources is None else request.ragqa_sources
        base_url = str(http.base_url) if append else None
        if not request.stream:
            answer = ask_in_turn(assistant, asked[-1], asked[:-1], **request.options())
            return _completion(answer, prompt, sources=_sources(answer.citations, base_url))
        events = stream_in_turn(assistant, asked[-1], asked[:-1], **request.options())
        first = next(events)  # before the response starts, so that errors still get their status code
        usage = bool((request.stream_options or {}).get("include_usage"))
        return StreamingResponse(_chunks(first, events, prompt, usage, base_url), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.get("/healthz", response_model=Health, tags=["health"], summary="Liveness and index size")
    def healthz() -> Health:
        # counts only: reading every document's record made each check (and start-up) grow with the index
        return Health(documents=assistant.store.document_count(), passages=assistant.store.passage_count())

    routers = [api, document_api.router(desk, [Depends(require_key)], ERRORS | {409: {"model": ErrorBody}}),
               openai_api, viewer.router(desk)]
    for router in routers:
        app.include_router(router)

    @app.api_route("/api/{rest:path}", methods=METHODS, include_in_schema=False)
    @app.api_route("/v1/{rest:path}", methods=METHODS, include_in_schema=False)
    def not_here(request: Request, rest: str):
        path = request.url.path
        allowed = sorted({m for router in routers for r in router.routes
                          if isinstance(r, APIRoute) and r.path == path for m in r.methods})
        if allowed:
            raise ApiError(405, f"{request.method} is not allowed on {path}; use {' or '.join(allowed)}")
        raise ApiError(404, f"no endpoint {path}; see /docs")

    return gr.mount_gradio_app(app, build_ui(assistant, desk), path="/", css=CSS, footer_links=["settings"],
                               run_history=False)


def _sources(citations: list[Citation], base_url: str | None) -> str:
    """The numbered sources as a Markdown list to append to the content ("" when not asked for or none):
    `[n] title — publisher, date — link`, a relative link made absolute from the request's base URL (its
    root path included, so behind a proxy's prefix too). Document metadata is text, not Markdown: its
    markup characters are escaped."""
    if base_url is None or not citations:
        return ""

    def escaped(text: str) -> str:
        return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))

    lines = []
    for citation in citations:
        origin = ", ".join(part for part in (citation.publisher, citation.date) if part)
        link = base_url.rstrip("/") + citation.link if citation.link.startswith("/") else citation.link or citation.url
        parts = [f"[{citation.n}] {escaped(citation.title or citation.doc_id)}", escaped(origin), link]
        lines.append("- " + " — ".join(part for part in parts if part))
    return "\n\nSources:\n" + "\n".join(lines)


def _completion(answer: Answer, prompt: str, completion_id: str | None = None, created: int | None = None,
                sources: str = "") -> ChatCompletion:
    content = answer.answer + sources
    words = len(content.split())
    prompt_words = len(prompt.split())
    return ChatCompletion(
        id=completion_id or f"chatcmpl-{uuid.uuid4().hex}",
        created=created or int(time.time()),
        choices=[Choice(message=CompletionMessage(content=content, citations=answer.citations))],
        usage=Usage(prompt_tokens=prompt_words, completion_tokens=words, total_tokens=prompt_words + words),
        citations=answer.citations,
        abstained=answer.abstained,
        mode=answer.mode,
        note=answer.note,
        dropped=answer.dropped,
    )


def _chunks(first, events, prompt: str, include_usage: bool, base_url: str | None):
    """Server-sent events: role; each verified sentence as it comes (generative), or the answer a few
    words at a time (extractive); the sources, when asked for (`base_url` set); the finish with
    citations; [DONE]."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": MODEL_ID}

    def event(delta: dict, finish: str | None = None, **extra) -> str:
        chunk = base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]} | extra
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    sent = ""
    answer = None
    try:
        for item in itertools.chain([first], events):
            if isinstance(item, Partial):
                yield event({"content": item.text[len(sent):]})
                sent = item.text
            else:
                answer = item
    finally:
        events.close()  # a client that went away releases the assistant's turn
    # Verified sentences only ever extend the answer, so what was sent is its beginning.
    rest, shown = answer.answer[len(sent):], ""
    for prefix in stream_steps(rest) if rest else ():
        yield event({"content": prefix[len(shown):]})
        shown = prefix
    sources = _sources(answer.citations, base_url)
    if sources:
        yield event({"content": sources})
    completion = _completion(answer, prompt, base["id"], base["created"], sources)
    yield event({}, "stop", citations=[c.model_dump() for c in completion.citations], abstained=completion.abstained,
                mode=completion.mode, note=completion.note, dropped=[d.model_dump() for d in completion.dropped])
    if include_usage:
        yield f"data: {json.dumps(base | {'choices': [], 'usage': completion.usage.model_dump()})}\n\n"
    yield "data: [DONE]\n\n"


def _add_error_handlers(app: FastAPI) -> None:
    def error(request: Request, status: int, message: str, **headers) -> JSONResponse:
        return JSONResponse(error_body(request.url.path, status, message), status_code=status, headers=headers or None)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, problem: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else {}
        return error(request, problem.status, problem.message, **headers)

    @app.exception_handler(RagqaError)
    async def ragqa_error(request: Request, problem: RagqaError):
        return error(request, 400, str(problem))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, problem: RequestValidationError):
        content_type = request.headers.get("content-type", "json")
        if "json" not in content_type and "multipart" not in content_type and any(
                tuple(item.get("loc", ())) == ("body",) for item in problem.errors()):
            return error(request, 415, "send the body as JSON with Content-Type: application/json")
        return error(request, 422, "; ".join(_describe(item) for item in problem.errors()) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, problem: StarletteHTTPException):
        return error(request, problem.status_code, str(problem.detail), **(problem.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, problem: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error(request, 500, f"internal error ({type(problem).__name__}); see the server log")


def _describe(item: dict) -> str:
    """One validation problem in words, naming the field."""
    where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    kind = item.get("type", "")
    if kind == "json_invalid":
        return f"malformed JSON: {item.get('ctx', {}).get('error', 'cannot parse the body')}"
    if kind == "extra_forbidden":
        return f"unknown field {where!r}"
    if kind == "missing" and not where:
        return "the request body is missing (send JSON)"
    message = item.get("msg", "invalid").removeprefix("Value error, ")
    return f"{where or 'body'}: {message}"
