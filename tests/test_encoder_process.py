"""The ingest's encoder in a child process: the same vectors bit for bit, in-process when the ingest is
small or the backend cannot be opened there, a dead child is a one-line error, and a killed ingest
leaves no child behind."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.encoder_process import PARENT_CHECK_SECONDS, group_encoder
from app.errors import RagqaError

TEXTS = [f"Passage {n}: the agency signed contract {n * 7} for cloud services in region {n % 5}." * (n % 4 + 1)
         for n in range(24)]


def test_the_child_gives_the_vectors_of_this_process_bit_for_bit(embedder):
    with group_encoder(embedder, min_chars=0, pending_chars=1) as encoder:
        futures = [encoder.submit(TEXTS[:10]), encoder.submit(TEXTS[10:])]
        vectors = np.vstack([encoder.vectors(future) for future in futures])
        assert encoder.in_child
    assert np.array_equal(vectors, embedder.embed_texts(TEXTS))


def test_a_small_ingest_encodes_in_this_process(embedder):
    with group_encoder(embedder, min_chars=1000, pending_chars=999) as encoder:
        assert not encoder.in_child
        assert np.array_equal(encoder.vectors(encoder.submit(TEXTS)), embedder.embed_texts(TEXTS))


def test_an_embedder_that_cannot_open_in_a_child_stays_in_this_process(embedder):
    in_process_only = copy.copy(embedder)
    in_process_only.child_recipe = None  # as the PyTorch backend's
    with group_encoder(in_process_only, min_chars=0, pending_chars=10**9) as encoder:
        assert not encoder.in_child
        assert encoder.vectors(encoder.submit(TEXTS[:2])).shape == (2, embedder.dimension)


@pytest.mark.parametrize("pause", [0.0, 2.0])  # killed while a group is sent, or noticed before the next
def test_a_child_that_dies_is_a_one_line_error(embedder, pause):
    with group_encoder(embedder, min_chars=0, pending_chars=1) as encoder:
        encoder.vectors(encoder.submit(TEXTS[:1]))
        assert encoder.child_pids()
        for pid in encoder.child_pids():
            os.kill(pid, signal.SIGKILL)
        time.sleep(pause)
        with pytest.raises(RagqaError, match="encoder process stopped"):
            encoder.vectors(encoder.submit(TEXTS))


CHILD_OF_A_KILLED_INGEST = """
import time
from app.config import Settings
from app.embedding import load_embedder
from app.encoder_process import group_encoder
with group_encoder(load_embedder(Settings(_env_file=None)), min_chars=0, pending_chars=1) as encoder:
    encoder.vectors(encoder.submit(["hello"]))
    print(*encoder.child_pids(), flush=True)
    time.sleep(600)
"""


def test_a_killed_ingest_leaves_no_encoder_process_behind():
    parent = subprocess.Popen([sys.executable, "-c", CHILD_OF_A_KILLED_INGEST], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
    child = int(parent.stdout.readline())
    assert Path(f"/proc/{child}").exists()
    parent.kill()
    parent.wait(timeout=30)
    deadline = time.monotonic() + 20 * PARENT_CHECK_SECONDS + 10
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(child)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
