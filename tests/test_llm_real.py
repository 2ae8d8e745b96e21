"""Generative answers from a real LLM server: llama-cpp-python's server running SmolLM2-135M-Instruct
(tests/llama_server.py), over the small corpus of tests/test_llm.py.

Marked real_llm: `make test` deselects them (they need the server and the model, which only
`make test-llm` installs); `make test-llm` runs them, and they fail, never skip, when either is missing.

Whatever the model writes, what reaches the user holds up when checked again and quotes its document
verbatim. The faults are real ones, of a real server process: killed with SIGKILL while an answer
streams, frozen with SIGSTOP while it streams (a hang), gone (nothing listening on its port any more),
and asked for a model it does not serve (this server answers any name with its default model, so
only our check of its model list catches it). Each ends in the extractive answer with a note, within
RAGQA_LLM_TIMEOUT, through the Python call and through our HTTP API: POST /api/ask and a streamed
POST /v1/chat/completions; never a hang, never a 500.
"""

from __future__ import annotations

import signal
import time

import httpx
import openai
import pytest

from app.api import create_app
from app.assistant import Assistant
from app.evaluate_llm import generation_metrics
from app.server import background_server
from tests.conftest import indexed_corpus
from tests.llama_server import MODEL_ALIAS, llama_server
from tests.test_llm import DOCUMENTS, EVAL_CASES, PORT_Q, assert_verbatim, with_settings

pytestmark = pytest.mark.real_llm

# RAGQA_LLM_TIMEOUT of the answers that should succeed: far beyond what SmolLM2 takes here even on a busy
# machine, so that these tests are about what comes back, not about speed
TIMEOUT = 300.0
FAULT_K = 2  # the fault tests retrieve 2 passages: a short prompt, so the server starts streaming soon
SERVER_FAULTS = ("cannot reach", "HTTP", "timed out", "within", "empty completion", "could not be read",
                 "broke off", "does not serve")
ROUTES = ["python", "api", "v1-stream"]


@pytest.fixture(scope="module")
def corpus_settings(tmp_path_factory):
    return indexed_corpus(tmp_path_factory.mktemp("llm-real"), DOCUMENTS)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def llm_assistant(corpus_settings, server):
    settings = corpus_settings.model_copy(update={"llm": "openai-compatible", "llm_base_url": server.url,
                                                  "llm_model": server.model, "llm_timeout": TIMEOUT})
    return Assistant.load(settings)


@pytest.fixture
def own_server(tmp_path):
    """A llama.cpp server of this test's own, to kill, freeze or stop."""
    with llama_server(tmp_path / "server.log") as running:
        yield running
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGCONT)  # a frozen one must be able to take the SIGTERM


def ask_by(route: str, assistant: Assistant, question: str) -> dict:
    """Ask through `route`; returns the answer's mode, note, text and citations as the client saw them."""
    if route == "python":
        answer = assistant.ask(question)
        return {"mode": answer.mode, "note": answer.note, "answer": answer.answer,
                "citations": [c.model_dump() for c in answer.citations]}
    limit = assistant.settings.llm_timeout + 30
    with background_server(create_app(assistant)) as url:
        if route == "api":
            response = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=limit)
            assert response.status_code == 200, response.text
            return response.json()
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=limit)
        chunks = list(client.chat.completions.create(model="ragqa", stream=True,
                                                     messages=[{"role": "user", "content": question}]))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    final = next(chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason == "stop")
    return {"mode": final.model_extra["mode"], "note": final.model_extra["note"], "answer": text,
            "citations": final.model_extra["citations"]}


def on_first_piece(assistant: Assistant, action) -> list[str]:
    """Run `action` as soon as the first piece of a completion arrives: the server is streaming then.

    The real client reads the real server; this only watches what it yields. Returns the pieces seen
    before the action (non-empty once it has run)."""
    client = assistant.generator.client
    read = client.stream
    seen: list[str] = []

    def watched(messages):
        pieces = read(messages)
        try:
            for piece in pieces:
                yield piece
                if not seen:
                    seen.append(piece)
                    action()
        finally:
            pieces.close()

    client.stream = watched
    return seen


def faulty(assistant: Assistant, **update) -> Assistant:
    return with_settings(assistant, top_k=FAULT_K, **update)


def assert_extractive_with_note(seen: dict, reason: str, waited: float, bound: float) -> None:
    assert seen["mode"] == "extractive", seen
    assert reason in seen["note"] and "extractive answer" in seen["note"], seen["note"]
    assert "March 2023" in seen["answer"] and seen["citations"], seen  # the extractive answer, with its quote
    assert waited < bound, f"took {waited:.1f} s (bound {bound:.1f} s)"


# --- what a real model writes --------------------------------------------------------------------

def test_real_answers_hold_up_when_checked_again(llm_assistant):
    questions = [PORT_Q] + [case["question"] for case in EVAL_CASES]
    answered = [llm_assistant.ask_with_passages(question) for question in questions]
    for answer, _ in answered:
        assert not any(fault in answer.note for fault in SERVER_FAULTS), answer.note  # the server really answered
        if answer.mode == "extractive":  # a fallback here can only be: nothing it wrote was supported
            assert "No generated sentence was supported" in answer.note or "cited passage" in answer.note, answer.note
        assert_verbatim(llm_assistant, answer)
    metrics = generation_metrics(llm_assistant.generator.checker, answered)
    assert metrics["llm_unsupported_claim_rate"] == 0.0


def test_real_answer_streams_through_chat_completions(llm_assistant):
    seen = ask_by("v1-stream", llm_assistant, PORT_Q)
    assert not any(fault in seen["note"] for fault in SERVER_FAULTS), seen["note"]
    numbers = {citation["n"] for citation in seen["citations"]}
    assert numbers and all(f"[{n}]" in seen["answer"] for n in numbers)


# --- faults of a real server: the extractive answer with a note, in time, never a 500 ------------

@pytest.mark.parametrize("route", ROUTES)
def test_server_killed_while_an_answer_streams(llm_assistant, own_server, route):
    assistant = faulty(llm_assistant, llm_base_url=own_server.url, llm_timeout=60.0)
    streamed = on_first_piece(assistant, own_server.process.kill)  # SIGKILL: no goodbye on the socket
    started = time.monotonic()
    seen = ask_by(route, assistant, PORT_Q)
    waited = time.monotonic() - started
    assert streamed and own_server.process.wait(timeout=10) == -signal.SIGKILL  # killed mid-stream
    # "broke off", not "within 60 s": the break is noticed at once, not waited out
    assert_extractive_with_note(seen, "broke off", waited, assistant.settings.llm_timeout)


@pytest.mark.parametrize("route", ROUTES)
def test_server_frozen_while_an_answer_streams(llm_assistant, own_server, route):
    assistant = faulty(llm_assistant, llm_base_url=own_server.url, llm_timeout=20.0)
    streamed = on_first_piece(assistant, lambda: own_server.process.send_signal(signal.SIGSTOP))
    started = time.monotonic()
    seen = ask_by(route, assistant, PORT_Q)
    waited = time.monotonic() - started
    assert streamed and own_server.process.poll() is None  # frozen mid-stream, not gone
    assert_extractive_with_note(seen, "within 20 s", waited, 20.0 + 10.0)  # the deadline, plus the extractive answer


@pytest.mark.parametrize("route", ROUTES)
def test_nothing_listening_where_the_server_was(llm_assistant, tmp_path, route):
    with llama_server(tmp_path / "server.log") as gone:
        url = gone.url
    assert gone.process.poll() is not None
    assistant = faulty(llm_assistant, llm_base_url=url)
    started = time.monotonic()
    seen = ask_by(route, assistant, PORT_Q)
    assert_extractive_with_note(seen, "cannot reach the LLM server", time.monotonic() - started,
                                assistant.settings.llm_timeout)


@pytest.mark.parametrize("route", ROUTES)
def test_model_the_server_does_not_serve(llm_assistant, route):
    assistant = faulty(llm_assistant, llm_model="llama3.2:3b")
    started = time.monotonic()
    seen = ask_by(route, assistant, PORT_Q)
    assert_extractive_with_note(seen, "does not serve model 'llama3.2:3b'", time.monotonic() - started,
                                assistant.settings.llm_timeout)
    assert MODEL_ALIAS in seen["note"]  # it names what the server does serve
