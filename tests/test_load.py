"""Admission control and a bounded load test against a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.api import create_app
from app.assistant import Assistant
from app.server import background_server
from scripts.load import QUESTIONS, run_load


def limited(assistant, max_concurrent: int, queue_timeout: float) -> Assistant:
    settings = assistant.settings.model_copy(update={"max_concurrent_requests": max_concurrent,
                                                     "queue_timeout": queue_timeout})
    return Assistant(settings, assistant.retriever, assistant.answerer)


def without_timings(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "timings_ms"}


@pytest.fixture(scope="module")
def expected(assistant):
    return {question: without_timings(assistant.ask(question).model_dump()) for question in QUESTIONS}


def test_requests_beyond_the_limit_get_429_at_once_and_the_rest_are_answered(assistant, expected):
    with background_server(create_app(limited(assistant, 2, 0.0))) as url:
        finished: list[tuple[int, float, httpx.Response]] = []
        lock = threading.Lock()

        def ask(number: int):
            question = QUESTIONS[number % len(QUESTIONS)]
            response = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=120)
            with lock:
                finished.append((number, time.monotonic(), response))

        with ThreadPoolExecutor(max_workers=12) as pool:
            list(pool.map(ask, range(12)))
        statuses = [response.status_code for _n, _t, response in finished]
        assert set(statuses) <= {200, 429} and statuses.count(200) >= 2 and statuses.count(429) >= 1, statuses
        last_answer = max(at for _n, at, response in finished if response.status_code == 200)
        for number, at, response in finished:
            if response.status_code == 429:
                assert response.headers["retry-after"] == "1" and "too many requests" in response.json()["error"]
                assert at < last_answer  # refused while answers were still being computed, not queued behind them
            else:
                assert without_timings(response.json()) == expected[QUESTIONS[number % len(QUESTIONS)]]
        assert httpx.get(f"{url}/healthz").status_code == 200  # the limit is on /api and /v1 only


def test_bounded_load_completes_without_errors(assistant):
    with background_server(create_app(limited(assistant, 3, 0.0))) as url:
        report = run_load(url, clients=8, requests_per_client=3)
    assert report.errors == [], report.errors
    assert report.answered == 24 and report.shed > 0  # the limit of 3 turned some away; they came back
