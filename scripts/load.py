"""Bounded load test of POST /api/ask: N concurrent clients, each sending a fixed number of questions.

    .venv/bin/python scripts/load.py http://127.0.0.1:7860 --clients 20 --requests 50

A 429 (the server's admission limit, app.admission) is not an error: the client waits the
Retry-After the server gave and sends the question again; the report counts these as `shed`.
Errors are everything else that is not a 200 with a well-formed Answer (5xx, timeouts, refused
connections, bodies without answer/citations). Prints throughput, latency p50/p95 of the answered
requests (queueing and retries included) and the error count; exit 1 on any error.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

QUESTIONS = [
    "When did the Commerce Department warn about Huawei's Ascend chips?",
    "Which countries did Huawei pitch Ascend 910B AI processors to?",
    "Where has Huawei expanded cloud coverage?",
    "What does the order say that American companies must do?",
    "What is the capital of France?",
]
MAX_RETRIES = 120  # 429s one request may see before it counts as an error


@dataclass
class LoadReport:
    clients: int
    requests: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    shed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def summary(self) -> str:
        rate = self.answered / self.seconds if self.seconds else 0.0
        return (f"{self.clients} clients x {self.requests // max(self.clients, 1)} requests: {self.answered} answered, "
                f"{len(self.errors)} errors, {self.shed} shed with 429 (retried); {rate:.2f} answers/s; latency "
                f"p50 {statistics.median(self.latencies_ms) if self.latencies_ms else float('nan'):.0f} ms, "
                f"p95 {self.percentile(0.95):.0f} ms; {self.seconds:.1f} s")


def run_load(url: str, clients: int = 20, requests_per_client: int = 50, questions: list[str] | None = None,
             timeout: float = 120.0, headers: dict | None = None) -> LoadReport:
    questions = questions or QUESTIONS
    report = LoadReport(clients=clients, requests=clients * requests_per_client)
    lock = threading.Lock()

    def client(number: int) -> None:
        with httpx.Client(base_url=url, timeout=timeout, headers=headers) as http:
            for sent in range(requests_per_client):
                question = questions[(number + sent) % len(questions)]
                outcome, latency, shed = _ask(http, question)
                with lock:
                    report.shed += shed
                    if outcome:
                        report.errors.append(outcome)
                    else:
                        report.latencies_ms.append(latency)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    report.seconds = time.perf_counter() - started
    return report


def _ask(http: httpx.Client, question: str) -> tuple[str | None, float, int]:
    """(error or None, latency in ms, how many 429s it took)."""
    started = time.perf_counter()
    for shed in range(MAX_RETRIES + 1):
        try:
            response = http.post("/api/ask", json={"question": question})
        except httpx.HTTPError as problem:
            return f"{type(problem).__name__}: {problem}", 0.0, shed
        if response.status_code == 429:
            time.sleep(float(response.headers.get("retry-after", "1")))
            continue
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:200]}", 0.0, shed
        body = response.json()
        if not isinstance(body.get("answer"), str) or not isinstance(body.get("citations"), list):
            return f"malformed answer: {response.text[:200]}", 0.0, shed
        return None, (time.perf_counter() - started) * 1000, shed
    return f"still 429 after {MAX_RETRIES} retries", 0.0, MAX_RETRIES


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="base URL of a running `ragqa serve`")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    args = parser.parse_args()
    report = run_load(args.url, args.clients, args.requests)
    print(report.summary())
    for error in report.errors[:10]:
        print(f"error: {error}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
