"""Run the HTTP API and chat page: `serve(settings)` for `ragqa serve`, `background_server` for tests.

The Assistant (model and index) is loaded once per process, before the server accepts connections.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator

import uvicorn

from app.config import Settings, available_cores, is_loopback


def serve(settings: Settings, host: str | None = None, port: int = 7860, workers: int | None = None) -> None:
    """Load the assistant, then serve the API and chat page until interrupted.

    With several workers, uvicorn's own process manager runs that many processes on one socket (each
    loads the assistant through `worker_app`, reading the same RAGQA_* settings from the environment);
    the lexical index they open is memory-mapped, so its pages are shared between them. Each worker's
    int8 encoder keeps a thread per core, as one process's does: measured with 2 workers on 2 cores
    (2026-12-07, questions not seen before), giving each worker one thread did not raise the answers/s of
    20 clients (12.5 either way: the cores are busy both ways) and halved one client's (14.2 -> 7.4/s),
    since a question's sentences were then encoded on one core.
    """
    workers = workers or available_cores()  # one worker per core this process may use
    host = host or settings.host
    settings = settings.model_copy(update={"host": host})  # the page offers document changes by where it listens
    os.environ["RAGQA_HOST"] = host  # the same for worker processes, which read their settings anew
    shown = f"[{host}]" if ":" in host else host
    print(f"ragqa: chat page http://{shown}:{port}/  API docs http://{shown}:{port}/docs "
          f"({workers} worker{'s' if workers > 1 else ''})", file=sys.stderr)
    if not is_loopback(host):
        print("ragqa: warning: the chat page, /view and /healthz need no token; the API needs one only when "
              "RAGQA_API_KEY is set (without it, documents cannot be uploaded or deleted)", file=sys.stderr)
    if workers == 1:
        uvicorn.run(_load_app(settings), host=host, port=port, log_level="info", access_log=False)
        return
    uvicorn.run("app.server:worker_app", factory=True, workers=workers, host=host, port=port, log_level="info",
                access_log=False)


def _load_app(settings: Settings):
    from app.api import create_app
    from app.assistant import Assistant

    return create_app(Assistant.load(settings))


def worker_app():
    """The app of one worker process (uvicorn calls this factory in each)."""
    return _load_app(Settings())


@contextlib.contextmanager
def background_server(app, host: str = "127.0.0.1", timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` from a thread on a free loopback port; yields the base URL, stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
