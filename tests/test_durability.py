"""Durability: `ragqa ingest` killed with SIGKILL at random points, then re-run, gives the same index
as an uninterrupted run; questions asked while an ingest runs get well-formed, verified answers."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading

from app.assistant import Assistant
from app.embedding import load_embedder
from app.ingest import ingest, open_store
from app.store import GENERATION_MARK, MARK_PREFIX, ROOTS_MARK, RUNNING_MARK
from tests.conftest import make_settings

DOCUMENTS = 80
# several passages a document, and documents written a few at a time (so a kill can land between groups),
# encoded as a large ingest's are: in a child process (app.encoder_process)
SMALL_PASSAGES = {"RAGQA_CHUNK_TOKENS": "32", "RAGQA_CHUNK_OVERLAP_TOKENS": "8", "RAGQA_INGEST_GROUP_PASSAGES": "12",
                  "RAGQA_ENCODER_PROCESS_MIN_CHARS": "0"}


def write_corpus(folder, documents=DOCUMENTS, version=1):
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        sentences = [f"Memo {n} version {version} records that order number {n} was signed on day {n % 28 + version}.",
                     f"The memo adds that agency {n} reviewed data centre contract {n * 7} in region {n % 11}.",
                     f"It closes by noting that budget line {n * 3} funds cloud services for ministry {n % 13}."]
        (folder / f"memo-{n:03d}.txt").write_text(" ".join(sentences), encoding="utf-8")


def run_ingest(corpus, index):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGQA_")}
    env |= SMALL_PASSAGES | {"RAGQA_INDEX_DIR": str(index)}
    # tqdm redraws at most every 0.1 s by default: a short run could go from "0/14" to "14/14" with no
    # report between, and the kill below would never land. Report every group written.
    env["TQDM_MININTERVAL"] = "0"
    return subprocess.Popen([sys.executable, "-m", "app.cli", "ingest", "--progress", str(corpus)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_after(child, share: float) -> bool:
    """SIGKILL the ingest as soon as its progress bar says it has written `share` of what it had to do."""
    seen = b""
    while chunk := child.stderr.read1(4096):
        seen = (seen + chunk)[-4096:]
        counts = re.findall(rb"(\d+)/(\d+) \[", seen)
        done, total = map(int, counts[-1]) if counts else (0, 1)
        if total > 1 and max(1, int(share * total)) <= done < total:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            return True
    child.wait(timeout=60)
    return False


def snapshot(index) -> dict:
    """Everything that defines the index: passages (id, document, hash, text) and document records."""
    settings = make_settings(index.parent, index_dir=index, chunk_tokens=32, chunk_overlap_tokens=8)
    store = open_store(settings, load_embedder(settings))
    found = store.passages.get(include=["documents", "metadatas"])
    passages = {pid: (meta["document_id"], meta["content_hash"], text)
                for pid, meta, text in zip(found["ids"], found["metadatas"], found["documents"])}
    records = store.documents.get(include=["metadatas"])
    documents = {doc_id: (meta.get("content_hash"), meta.get("passages")) for doc_id, meta in
                 zip(records["ids"], records["metadatas"]) if doc_id != GENERATION_MARK}  # a random stamp per ingest
    return {"passages": passages, "documents": documents}


def documents_in(snapshot_: dict) -> int:
    return sum(not doc_id.startswith(MARK_PREFIX) for doc_id in snapshot_["documents"])


def test_killed_ingests_rerun_to_the_same_index(tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    reference = run_ingest(corpus, tmp_path / "reference")
    assert reference.communicate(timeout=600) and reference.returncode == 0
    expected = snapshot(tmp_path / "reference")
    assert documents_in(expected) == DOCUMENTS and RUNNING_MARK not in expected["documents"]
    assert ROOTS_MARK in expected["documents"]  # the remembered folder is part of the index too
    assert len(expected["passages"]) >= 2 * DOCUMENTS

    chance = random.Random(20261130)
    for _attempt in range(2):  # two kills at random points; the second lands on the first's leftovers
        assert kill_after(run_ingest(corpus, tmp_path / "killed"), chance.uniform(0.1, 0.9)), "ended before the kill"
        partial = snapshot(tmp_path / "killed")
        assert RUNNING_MARK in partial["documents"] and documents_in(partial) <= DOCUMENTS

    rerun = run_ingest(corpus, tmp_path / "killed")
    _, errors = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, errors[-2000:]
    assert snapshot(tmp_path / "killed") == expected


def test_answers_stay_consistent_while_an_ingest_rewrites_the_index(settings):
    write_corpus(settings.corpus_dir, documents=40)
    ingest(settings, progress=False)
    assistant = Assistant.load(settings)
    write_corpus(settings.corpus_dir, documents=60, version=2)  # every document changes, 20 are new
    errors: list[BaseException] = []

    def rewrite():
        try:
            ingest(settings, progress=False)
        except BaseException as problem:  # reported by the asserting thread below
            errors.append(problem)

    writer = threading.Thread(target=rewrite)
    writer.start()
    answers = []
    while writer.is_alive():
        n = len(answers) % 40
        answer = assistant.ask(f"When was order number {n} signed?")  # raises if a citation is not verbatim
        assert answer.abstained or answer.citations
        answers.append(answer)
    writer.join()
    assert errors == [] and answers
    for n in (7, 45):  # once the ingest is done, nothing of the replaced version is cited
        after = assistant.ask(f"When was order number {n} signed?")
        assert all("version 1" not in citation.quote for citation in after.citations)
