"""Start and stop a real Chroma server (`chroma run`, the console script of the installed chromadb).

Used by the test suite's `chroma_url` fixture and by scripts/bench.py. The server is one process we
started ourselves; it is stopped by its PID, never by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chroma_command() -> Path:
    """The `chroma` script beside this interpreter (the venv's), not whatever is on PATH."""
    script = Path(sys.executable).parent / "chroma"
    if not script.exists():
        raise RuntimeError(f"no `chroma` console script at {script}: is chromadb installed in this venv?")
    return script


@contextlib.contextmanager
def chroma_server(data_dir: Path, log_path: Path | None = None) -> Iterator[str]:
    """A Chroma server on a free loopback port persisting into `data_dir`; yields its URL."""
    port = free_port()
    log_path = log_path or data_dir.parent / f"chroma-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(chroma_command()), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data_dir)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_heartbeat(process, url, log_path)
        yield url
    finally:
        _stop(process)


def _wait_for_heartbeat(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"`chroma run` exited with code {process.returncode} before answering; "
                               f"log: {log_path}:\n{_tail(log_path)}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"`chroma run` did not answer at {url} within {STARTUP_SECONDS:.0f} s; "
                               f"log: {log_path}:\n{_tail(log_path)}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
