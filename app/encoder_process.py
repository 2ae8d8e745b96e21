"""Where an ingest encodes its passages: in a process of its own for a large ingest, else in this one.

Why a process: Chroma's local upsert (its Rust bindings) holds the GIL for the whole call, ~1.4 ms a
passage. While an ingest wrote one group, the encoder's threads in the same process could not start
their next text (each needs the GIL between two ONNX Runtime runs), so encoding and writing took turns:
~1.6 of the 2 cores were busy on 4,550 passages. With the encoder in a child process, this process
splits and writes while the child encodes the next group on every core: 4,550 passages 41-43 s ->
37-39 s, 813 passages 9.9 -> 9.3 s (interleaved runs, same machine; the ingest is then ~1.8 cores busy).
A thread pool cannot do this, and llama-index's `IngestionPipeline(num_workers=...)` runs whole
pipelines (split and embed) in a multiprocessing pool per call, with the transformations pickled to
every worker, rather than one long-lived encoder fed while the parent writes.

The child runs the same int8 file through the same `QuantizedEncoder`, one text per run, so its
vectors are bit for bit those of the encoder in this process (tests/test_encoder_process.py). It is
started with "spawn" (a fork of a process running ONNX Runtime and server threads is not safe), takes
~0.3 s to start, and ignores SIGINT, which the ingest handles. When the child cannot be started
(e.g. no POSIX semaphores in a sandbox), or for the PyTorch backend, or for an ingest too small to
overlap anything (`encoder_process_min_chars`: less than about one group of passages), encoding stays
in this process, in one worker thread.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor
from pathlib import Path

import numpy as np

from app.errors import RagqaError

PARENT_CHECK_SECONDS = 0.5
_child_encoder = None  # in the child: the QuantizedEncoder that _open_child made


def _open_child(onnx_file: str, tokenizer_file: str, max_tokens: int, threads: int) -> None:
    global _child_encoder
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it stops the child)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()
    from tokenizers import Tokenizer

    from app.quantized import QuantizedEncoder

    _child_encoder = QuantizedEncoder(Path(onnx_file), Tokenizer.from_file(tokenizer_file), max_tokens, threads)


def _exit_with_parent(parent: int) -> None:
    """A killed parent leaves the child waiting on its work queue for ever (checked: SIGKILL of the
    ingest left it running), so the child ends itself once its parent is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _encode_in_child(texts: list[str]) -> np.ndarray:
    return _child_encoder.embed_texts(texts)


class GroupEncoder:
    """`submit(texts)` -> a Future of their vectors; groups are encoded in the order submitted."""

    def __init__(self, executor: Executor, encode, in_child: bool):
        self._executor = executor
        self._encode = encode
        self.in_child = in_child

    def submit(self, texts: list[str]) -> Future:
        try:
            return self._executor.submit(self._encode, texts)
        except BrokenProcessPool as error:  # the child died between two groups
            raise _stopped() from error

    def child_pids(self) -> list[int]:
        """The child's process id once it runs (none in-process)."""
        return list(getattr(self._executor, "_processes", None) or {}) if self.in_child else []

    def close(self) -> None:
        """Stop: groups not started are dropped, the one being encoded is waited for."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def vectors(self, future: Future) -> np.ndarray:
        """The result of a submitted group; a child that died becomes a one-line error."""
        try:
            return future.result()
        except BrokenProcessPool as error:
            raise _stopped() from error


def _stopped() -> RagqaError:
    return RagqaError("the encoder process stopped during the ingest (out of memory, killed, or the model could "
                      "not be opened there); what was written so far is kept and the next ingest goes on from there")


@contextlib.contextmanager
def group_encoder(embedder, min_chars: int, pending_chars: int) -> Iterator[GroupEncoder]:
    """A GroupEncoder for an ingest of `pending_chars` characters of text: in a child process when the
    embedder can be opened there (`embedder.child_recipe`) and the text reaches `min_chars`."""
    executor = None
    if embedder.child_recipe is not None and pending_chars >= min_chars:
        executor = _start_child(embedder.child_recipe)
    encoder = GroupEncoder(executor, _encode_in_child, True) if executor is not None else \
        GroupEncoder(ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-encode"), embedder.embed_texts, False)
    try:
        yield encoder
    finally:
        encoder.close()


def _start_child(recipe: tuple) -> ProcessPoolExecutor | None:
    try:
        executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_open_child, initargs=recipe)
        executor.submit(_encode_in_child, [])  # starts the child now, while this process reads and splits
    except (OSError, ImportError, NotImplementedError):  # no semaphores or no process start here: stay in-process
        return None
    return executor
