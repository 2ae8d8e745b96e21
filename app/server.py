"""Run the HTTP API and chat page: `serve(settings)` for `ragqa serve`, `background_server` for tests.

The Assistant (model and index) is loaded once, before the server accepts connections.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Iterator

import uvicorn

from app.config import Settings


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the assistant, then serve the API and chat page until interrupted."""
    from app.api import create_app
    from app.assistant import Assistant

    assistant = Assistant.load(settings)
    app = create_app(assistant)
    shown = f"[{host}]" if ":" in host else host
    print(f"ragqa: chat page http://{shown}:{port}/  API docs http://{shown}:{port}/docs", file=sys.stderr)
    if not _is_loopback(host):
        print("ragqa: warning: the chat page and /healthz need no token; "
              "the API needs one only when RAGQA_API_KEY is set", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


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
