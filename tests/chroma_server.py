"""Start and stop a real Chroma server (`chroma run`, the console script of the installed chromadb).

Used by the test suite's `chroma_url` fixture and by scripts/bench.py. The server is one process we
started ourselves (tests/local_server.py); it is stopped by its PID, never by name.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.local_server import free_port, local_server

STARTUP_SECONDS = 60.0


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
    url = f"http://127.0.0.1:{port}"
    command = [str(chroma_command()), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data_dir)]
    with local_server(command, f"{url}/api/v2/heartbeat", log_path, "`chroma run`", STARTUP_SECONDS, env):
        yield url
