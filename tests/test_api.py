"""The HTTP API over a real index: JSON endpoints, bad input, the bearer token, the OpenAPI schema,
the OpenAI-compatible endpoint through the official `openai` client against a real uvicorn server,
and the follow-up resolution (`app.conversation.condense`) the chat uses."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.assistant import Assistant
from app.conversation import ask_in_turn
from app.schema import Answer, Citation
from app.server import background_server
from app.ui import render_answer
from tests.conftest import coverage_corpus_dir, make_settings

QUESTION = "When did the Commerce Department warn about Huawei's Ascend chips?"
ROW = "restofworld-huawei-global-south-ai"
KEY = "test-secret-key"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from app.ingest import ingest

    tmp = tmp_path_factory.mktemp("api")
    settings = make_settings(tmp)
    ingest(settings, coverage_corpus_dir(), progress=False)
    return Assistant.load(settings)


@pytest.fixture(scope="module")
def client(assistant):
    with TestClient(create_app(assistant), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def locked_client(assistant):
    """The same index behind an app whose settings require a bearer token."""
    keyed = Assistant(assistant.settings.model_copy(update={"api_key": KEY}), assistant.retriever, assistant.answerer)
    with TestClient(create_app(keyed), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server_url(assistant):
    with background_server(create_app(assistant)) as url:
        yield url


def without_timings(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "timings_ms"}


# --- JSON endpoints ---------------------------------------------------------------------------

def test_ask_returns_the_assistants_answer(client, assistant):
    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert "May" in body["answer"] and "[1]" in body["answer"]
    assert body["citations"][0]["doc_id"] == ROW
    assert without_timings(body) == without_timings(assistant.ask(QUESTION).model_dump())


def test_ask_options_reach_the_assistant(client, assistant):
    body = {"question": QUESTION, "k": 3, "retriever": "bm25"}
    response = client.post("/api/ask", json=body)
    assert response.status_code == 200
    expected = assistant.ask(QUESTION, k=3, retriever="bm25").model_dump()
    assert without_timings(response.json()) == without_timings(expected)


def test_ask_abstains_on_an_unanswerable_question(client):
    body = client.post("/api/ask", json={"question": "What is the capital of France?"}).json()
    assert body["abstained"] is True and body["citations"] == []


def test_date_filter_excludes_older_documents(client):
    unfiltered = client.post("/api/search", json={"query": "AI export controls chips", "k": 30}).json()["passages"]
    assert any(p["date"] < "2025-05-01" for p in unfiltered), "the corpus should have older documents"
    response = client.post("/api/search", json={"query": "AI export controls chips", "k": 30,
                                                "filters": {"date_from": "2025-05-01"}})
    assert response.status_code == 200
    passages = response.json()["passages"]
    assert passages and all(p["date"] >= "2025-05-01" for p in passages)
    answer = client.post("/api/ask", json={"question": QUESTION, "filters": {"date_from": "2025-05-01"}}).json()
    assert all(c["date"] >= "2025-05-01" for c in answer["citations"])
    assert ROW not in {c["doc_id"] for c in answer["citations"]}  # undated: excluded by a date filter


def test_search_returns_scored_passages_with_metadata(client):
    response = client.post("/api/search", json={"query": "Huawei Ascend chips guidance", "k": 4})
    assert response.status_code == 200
    passages = response.json()["passages"]
    assert len(passages) == 4
    assert passages[0]["doc_id"] == ROW
    for passage in passages:
        assert passage["score"] > 0 and passage["title"] and passage["text"] and passage["end"] > passage["start"]


def test_documents_and_health(client):
    documents = client.get("/api/documents").json()["documents"]
    assert len(documents) == 12
    row = next(doc for doc in documents if doc["doc_id"] == ROW)
    assert row["publisher"] == "Rest of World" and row["passages"] > 0
    health = client.get("/healthz").json()
    assert health == {"status": "ok", "documents": 12, "passages": sum(doc["passages"] for doc in documents)}


def test_chat_page_is_served_at_root(client):
    response = client.get("/")
    assert response.status_code == 200 and "<html" in response.text.lower()


# --- bad input: 4xx with a JSON error naming the problem --------------------------------------

BAD_BODIES = [
    ({"question": ""}, "empty"),
    ({"question": "   \n\t "}, "empty"),
    ({"question": "x" * 2001}, "longer than 2000"),
    ({"question": "x" * 1_000_000}, "longer than 2000"),
    ({"question": "\x00\x01\x02\x1b\x7f"}, "empty"),
    ({"question": QUESTION, "colour": "blue"}, "colour"),
    ({"question": QUESTION, "k": 0}, "k"),
    ({"question": QUESTION, "k": 51}, "k"),
    ({"question": QUESTION, "k": "many"}, "k"),
    ({"question": QUESTION, "k": True}, "k"),
    ({"question": QUESTION, "k": 2.5}, "k"),
    ({"question": QUESTION, "retriever": "magic"}, "retriever"),
    ({"question": QUESTION, "filters": {"date_from": "2025-13-45"}}, "date_from"),
    ({"question": QUESTION, "filters": {"date_to": "last week"}}, "date_to"),
    ({"question": QUESTION, "filters": {"author": "me"}}, "author"),
    ({"question": 42}, "question"),
    ({}, "question"),
    ([QUESTION], "body"),
]


@pytest.mark.parametrize(("body", "named"), BAD_BODIES)
def test_bad_ask_bodies_get_a_4xx_json_error(client, body, named):
    response = client.post("/api/ask", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert named in response.json()["error"]


def test_binary_laden_question_is_answered_as_its_words(client, assistant):
    noisy = "When did\x00 the Commerce\x01\x02 Department \udcffwarn about Huawei's Ascend chips?\x7f"
    for body in ({"question": noisy}, {"model": "ragqa", "messages": [{"role": "user", "content": noisy}]}):
        path = "/api/ask" if "question" in body else "/v1/chat/completions"
        response = client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
    answer = client.post("/api/ask", content=json.dumps({"question": noisy}),
                         headers={"Content-Type": "application/json"}).json()
    assert answer["answer"] == assistant.ask(QUESTION).answer


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"question": "unterminated', b'{"question": "\xff\xfe"}',
                                 b"\x00" * 1000])
def test_malformed_json_gets_a_4xx_json_error(client, raw):
    response = client.post("/api/ask", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json()["error"]


def test_non_json_body_wrong_method_and_unknown_path_get_json_errors(client):
    response = client.post("/api/ask", content=b"question=hi", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and "JSON" in response.json()["error"]
    response = client.get("/api/ask")
    assert response.status_code == 405 and "POST" in response.json()["error"]
    response = client.post("/api/nothing", json={})
    assert response.status_code == 404 and "/api/nothing" in response.json()["error"]
    response = client.post("/v1/embeddings", json={})
    assert response.status_code == 404 and "/v1/embeddings" in response.json()["error"]["message"]


def test_bad_search_and_chat_bodies_get_4xx(client):
    cases = [
        ("/api/search", {"query": " "}),
        ("/api/search", {"query": "Huawei", "k": 100}),
        ("/api/search", {"question": "Huawei"}),
        ("/v1/chat/completions", {"model": "ragqa", "messages": []}),
        ("/v1/chat/completions", {"model": "ragqa", "messages": [{"role": "user", "content": "  "}]}),
        ("/v1/chat/completions", {"model": "ragqa", "messages": [{"role": "assistant", "content": "hi"}]}),
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]}),
        ("/v1/chat/completions", {"model": "ragqa", "messages": [{"role": "user", "content": QUESTION}], "k": -1}),
        ("/v1/chat/completions", {"model": "ragqa", "messages": [{"role": "wizard", "content": QUESTION}]}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}]}),
    ]
    for path, body in cases:
        response = client.post(path, json=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
        error = response.json()["error"]
        if path.startswith("/v1/"):  # OpenAI's shape there, our own on /api/*
            assert set(error) == {"message", "type", "param", "code"} and error["message"]
            assert error["type"] == ("not_found_error" if response.status_code == 404 else "invalid_request_error")
        else:
            assert isinstance(error, str) and error


def test_openai_errors_have_openai_statuses_types_and_codes(client, locked_client):
    unknown = client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    assert unknown.status_code == 404
    assert unknown.json()["error"] | {"message": ""} == {"message": "", "type": "not_found_error", "param": None,
                                                          "code": "model_not_found"}
    denied = locked_client.get("/v1/models")
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "invalid_api_key"
    assert denied.json()["error"]["type"] == "authentication_error"
    assert locked_client.get("/api/documents").json()["error"].startswith("missing or wrong bearer token")


def test_unexpected_errors_are_json_500_without_a_trace(client, assistant, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(assistant, "ask", broken)
    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 500
    assert "internal error" in response.json()["error"]
    assert "secret internals" not in response.text and "Traceback" not in response.text


# --- bearer token -----------------------------------------------------------------------------

def test_bearer_token_is_enforced_when_set(locked_client):
    for method, path, body in [("post", "/api/ask", {"question": QUESTION}), ("post", "/api/search", {"query": "x y"}),
                               ("get", "/api/documents", None), ("get", "/v1/models", None),
                               ("post", "/v1/chat/completions", {"model": "ragqa", "messages": []})]:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            response = getattr(locked_client, method)(path, headers=headers, **({"json": body} if body else {}))
            assert response.status_code == 401, (path, headers)
            error = response.json()["error"]
            assert "bearer" in (error["message"] if path.startswith("/v1/") else error)
    good = {"Authorization": f"Bearer {KEY}"}
    assert locked_client.get("/api/documents", headers=good).status_code == 200
    assert locked_client.post("/api/ask", json={"question": QUESTION}, headers=good).status_code == 200
    assert locked_client.get("/healthz").status_code == 200  # the local user's pages need no token
    assert locked_client.get("/").status_code == 200


def test_no_token_needed_when_unset(client):
    assert client.get("/api/documents").status_code == 200


# --- OpenAPI ----------------------------------------------------------------------------------

def test_openapi_documents_the_endpoints(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path, method in [("/api/ask", "post"), ("/api/search", "post"), ("/api/documents", "get"),
                         ("/api/documents", "post"), ("/api/documents/{doc_id}", "get"),
                         ("/api/documents/{doc_id}", "delete"), ("/view/{doc_id}", "get"),
                         ("/v1/chat/completions", "post"), ("/v1/models", "get"), ("/healthz", "get")]:
        assert method in paths[path], path
    ask = paths["/api/ask"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskRequest")
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Answer")
    components = schema["components"]["schemas"]
    assert {"AskRequest", "SearchRequest", "SearchResponse", "DocumentsResponse", "ChatRequest", "ChatCompletion",
            "Health", "ErrorBody", "Citation", "Passage"} <= set(components)
    assert components["AskRequest"]["additionalProperties"] is False
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    upload = paths["/api/documents"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    chat_error = paths["/v1/chat/completions"]["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert chat_error["$ref"].endswith("/OpenAIError")
    sources = components["ChatRequest"]["properties"]["ragqa_sources"]
    assert "Markdown list" in sources["description"] and "RAGQA_V1_APPEND_SOURCES" in sources["description"]
    assert "ragqa_sources" in components["CompletionMessage"]["properties"]["content"]["description"]


def test_docs_and_redoc_are_served_from_the_app(client):
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200 and "cdn" not in page.text.lower()
        assert "/static-offline-docs/" in page.text
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    bundle = client.get("/redoc.standalone.js")
    assert bundle.status_code == 200 and "/redoc.standalone.js" in client.get("/redoc").text
    assert "cdn.redoc.ly" not in bundle.text and len(bundle.content) > 500_000  # the whole of ReDoc, its badge inline


# --- OpenAI-compatible endpoint through the official client, against a real server -------------

def test_openai_client_chat_completion(server_url, assistant):
    client = openai.OpenAI(base_url=f"{server_url}/v1", api_key="unused", max_retries=0)
    assert [model.id for model in client.models.list()] == ["ragqa"]
    response = client.chat.completions.create(model="ragqa", messages=[
        {"role": "system", "content": "Answer from the documents."},
        {"role": "user", "content": QUESTION},
    ])
    assert response.object == "chat.completion"
    message = response.choices[0].message
    expected = assistant.ask(QUESTION)
    assert message.role == "assistant" and message.content == expected.answer
    assert response.choices[0].finish_reason == "stop"
    citations = response.model_extra["citations"]
    assert citations == [c.model_dump() for c in expected.citations]
    assert message.model_extra["citations"] == citations
    assert response.usage.completion_tokens > 0


def test_openai_client_streaming(server_url, assistant):
    client = openai.OpenAI(base_url=f"{server_url}/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(model="ragqa", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == assistant.ask(QUESTION).answer
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # it streams in pieces
    final = next(chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason == "stop")
    assert final.model_extra["citations"][0]["doc_id"] == ROW
    assert chunks[-1].usage is not None


def test_raw_stream_ends_with_done(server_url):
    import httpx

    body = {"model": "ragqa", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{server_url}/v1/chat/completions", json=body, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


def test_openai_client_follow_up(server_url, assistant):
    client = openai.OpenAI(base_url=f"{server_url}/v1", api_key="unused", max_retries=0)
    first = client.chat.completions.create(model="ragqa", messages=[{"role": "user", "content": QUESTION}])
    follow = client.chat.completions.create(model="ragqa", messages=[
        {"role": "user", "content": QUESTION},
        first.choices[0].message.model_dump(exclude_none=True),  # echoed back, citations and all
        {"role": "user", "content": "and in which month was that?"},
    ])
    content = follow.choices[0].message.content
    assert "May" in content and follow.model_extra["citations"][0]["doc_id"] == ROW
    assert content == ask_in_turn(assistant, "and in which month was that?", [QUESTION]).answer


def test_openai_client_sees_auth_and_input_errors(assistant):
    keyed = Assistant(assistant.settings.model_copy(update={"api_key": KEY}), assistant.retriever, assistant.answerer)
    with background_server(create_app(keyed)) as url:
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="ragqa", messages=[{"role": "user", "content": " "}])
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
        assert client.chat.completions.create(model="ragqa", messages=[{"role": "user", "content": QUESTION}]).choices


# --- the sources in the content, for OpenAI clients that ignore extra fields --------------------

def assert_sources_appended(content: str, expected: Answer, base_url: str) -> None:
    """The answer, then "Sources:" and one Markdown list item per citation, each link an absolute URL
    of our /view page that shows the quote."""
    answer, sources = content.split("\n\nSources:\n")
    assert answer == expected.answer and expected.citations
    items = sources.splitlines()
    assert len(items) == len(expected.citations)
    for item, citation in zip(items, expected.citations):
        origin = ", ".join(part for part in (citation.publisher, citation.date) if part)
        assert item == f"- [{citation.n}] {citation.title} — {origin} — {base_url}{citation.link}"
        page = httpx.get(item.rsplit(" — ", 1)[1], timeout=30)
        assert page.status_code == 200 and '<mark id="quote">' in page.text


def test_openai_client_gets_the_sources_in_the_content_when_it_asks(server_url, assistant):
    client = openai.OpenAI(base_url=f"{server_url}/v1", api_key="unused", max_retries=0)
    messages = [{"role": "user", "content": QUESTION}]
    expected = assistant.ask(QUESTION)
    plain = client.chat.completions.create(model="ragqa", messages=messages, extra_body={"ragqa_sources": True})
    assert_sources_appended(plain.choices[0].message.content, expected, server_url)
    assert plain.model_extra["citations"] == [c.model_dump() for c in expected.citations]
    chunks = list(client.chat.completions.create(model="ragqa", messages=messages, stream=True,
                                                 extra_body={"ragqa_sources": True}))
    deltas = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]
    assert "".join(deltas) == plain.choices[0].message.content
    assert deltas[-1].startswith("\n\nSources:\n- [1] ") and "Sources:" not in "".join(deltas[:-1])
    unasked = client.chat.completions.create(model="ragqa", messages=messages)
    assert unasked.choices[0].message.content == expected.answer  # the default: the content is the answer alone
    abstained = client.chat.completions.create(model="ragqa", extra_body={"ragqa_sources": True},
                                               messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert "Sources:" not in abstained.choices[0].message.content and abstained.model_extra["abstained"]


def test_llama_index_openai_like_sees_the_sources_when_the_server_appends_them(assistant):
    from llama_index.core.llms import ChatMessage as LlamaMessage
    from llama_index.llms.openai_like import OpenAILike

    appending = Assistant(assistant.settings.model_copy(update={"v1_append_sources": True}), assistant.retriever,
                          assistant.answerer)
    expected = assistant.ask(QUESTION)
    with background_server(create_app(appending)) as url:
        llm = OpenAILike(model="ragqa", api_base=f"{url}/v1", api_key="unused", is_chat_model=True, max_retries=0)
        messages = [LlamaMessage(role="user", content=QUESTION)]
        plain = llm.chat(messages).message.content
        streamed = list(llm.stream_chat(messages))
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        refused = client.chat.completions.create(model="ragqa", extra_body={"ragqa_sources": False},
                                                 messages=[{"role": "user", "content": QUESTION}])
        assert_sources_appended(plain, expected, url)
    assert "".join(response.delta or "" for response in streamed) == plain
    assert streamed[-1].message.content == plain
    assert refused.choices[0].message.content == expected.answer  # the request's false overrides the setting


# --- chat rendering escapes everything --------------------------------------------------------

def test_rendered_answer_escapes_document_text_and_drops_unsafe_urls():
    citation = Citation(n=1, doc_id="d", title="<b>T</b>", publisher="<i>P</i>", date="2025-01-01",
                        url="javascript:alert(1)", quote="<script>alert(1)</script> [x](javascript:alert(2))",
                        start=0, end=10)
    html = render_answer(Answer(question="q", answer="<img src=x onerror=alert(3)> [1]", abstained=False,
                                citations=[citation]), "q")
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "href" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "[x](javascript:alert(2))" in html
    safe = render_answer(Answer(question="q", answer="a [1]", abstained=False,
                                citations=[citation.model_copy(update={"url": "https://example.org/a?b=1&c=2"})]))
    assert 'href="https://example.org/a?b=1&amp;c=2"' in safe and 'rel="noopener noreferrer"' in safe


def test_concurrent_requests_get_the_answers_sequential_ones_get(assistant):
    """No lock serialises questions: 8 at once through a real server give what one at a time gives."""
    roomy = Assistant(assistant.settings.model_copy(update={"max_concurrent_requests": 16}), assistant.retriever,
                      assistant.answerer)
    questions = [QUESTION, "Where has Huawei expanded its cloud coverage?", "Who won the 2022 football World Cup?",
                 "Which countries did Huawei pitch Ascend 910B AI processors to?"] * 4
    with background_server(create_app(roomy)) as url:
        def ask(question):
            response = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=120)
            assert response.status_code == 200, response.text
            return without_timings(response.json())

        sequential = [ask(question) for question in questions]
        with ThreadPoolExecutor(8) as pool:
            concurrent = list(pool.map(ask, questions))
        with ThreadPoolExecutor(8) as pool:
            searched = list(pool.map(lambda q: httpx.post(f"{url}/api/search", json={"query": q}, timeout=120).json(),
                                     questions))
    assert concurrent == sequential
    assert searched[:4] == searched[4:8] == searched[8:12] == searched[12:]
