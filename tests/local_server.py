"""Start and stop a server process of our own on a free loopback port (a Chroma server, a llama.cpp server).

The process is started in its own session with its output in a log file, counts as ready once a
health URL answers 200, and is stopped by its PID, never by name. Used by tests/chroma_server.py,
tests/llama_server.py and scripts/bench.py.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_server(command: list[str], health_url: str, log_path: Path, name: str, startup_seconds: float = 60.0,
                 env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Run `command` until the block ends; yields the process once `health_url` answers 200."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_until_ready(process, health_url, log_path, name, startup_seconds)
        yield process
    finally:
        stop(process)


def _wait_until_ready(process: subprocess.Popen, health_url: str, log_path: Path, name: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before answering; "
                               f"log: {log_path}:\n{tail(log_path)}")
        try:
            if httpx.get(health_url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer at {health_url} within {seconds:.0f} s; "
                               f"log: {log_path}:\n{tail(log_path)}")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s; a process that already ended (or was killed) is left as it is."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
