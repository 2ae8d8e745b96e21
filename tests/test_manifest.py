"""A no-op ingest decided from the manifest beside the index (real Chroma in a temp folder, the real
model): the report a real re-run gives, and every change (a file's bytes, a file added or removed,
SOURCES.json, a setting, the index written by someone else) still goes through the real ingest."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from chromadb.api.client import SharedSystemClient

from app import ingest as ingest_module
from app import manifest
from app.embedding import load_embedder
from app.errors import IndexMismatch
from app.ingest import ingest, ingest_documents, ingest_lock, open_store, remove_document
from tests.conftest import make_settings


@pytest.fixture
def embedded(tmp_path):
    settings = make_settings(tmp_path)
    corpus = settings.corpus_dir
    corpus.mkdir()
    (corpus / "alpha.txt").write_text("Huawei pitched Ascend chips in Thailand in March 2025.", encoding="utf-8")
    (corpus / "beta.md").write_text("---\ntitle: Beta\n---\nThe order was signed on July 23, 2025.", encoding="utf-8")
    (corpus / "zeta-copy.md").write_text((corpus / "beta.md").read_text(), encoding="utf-8")  # a warning
    (corpus / "broken.pdf").write_bytes(b"not a pdf")  # another
    first = ingest(settings, progress=False)
    assert sorted(first.added) == ["alpha", "beta"] and len(first.warnings) == 2
    return settings


def real_ingests_only(monkeypatch) -> list:
    """Count the ingests that open the index (the ones the manifest could not answer)."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return ingest_documents(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "ingest_documents", counted)
    return calls


def without_seconds(report) -> tuple:
    return (report.added, report.updated, report.unchanged, report.removed, report.repaired, report.warnings,
            report.passages_total, report.roots, report.summary().rsplit(";", 1)[0])


def test_an_unchanged_folder_gets_the_report_of_a_real_re_run_without_opening_the_index(embedded, monkeypatch):
    real = ingest_documents(embedded)  # what re-running the ingest itself reports
    calls = real_ingests_only(monkeypatch)
    decided = ingest(embedded, progress=False)
    assert calls == []
    assert without_seconds(decided) == without_seconds(real)
    assert decided.unchanged == ["alpha", "beta"] and not decided.changed
    assert ingest(embedded, [embedded.corpus_dir], progress=False).unchanged == ["alpha", "beta"]  # the same folder named
    assert calls == []


@pytest.mark.parametrize("change", ["same-size edit, same mtime", "added", "removed", "SOURCES.json"])
def test_a_changed_added_or_removed_file_is_ingested(embedded, monkeypatch, change):
    corpus = embedded.corpus_dir
    alpha = corpus / "alpha.txt"
    if change == "same-size edit, same mtime":  # only the bytes say it changed
        before = alpha.stat()
        alpha.write_text(alpha.read_text().replace("Thailand", "Malaysia"), encoding="utf-8")
        os.utime(alpha, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert alpha.stat().st_size == before.st_size
    elif change == "added":
        (corpus / "gamma.txt").write_text("The Velmar bridge closed in June 2024.", encoding="utf-8")
    elif change == "removed":
        alpha.unlink()
    else:
        (corpus / "SOURCES.json").write_text('[{"file": "alpha.txt", "publisher": "Rest of World"}]', encoding="utf-8")
    calls = real_ingests_only(monkeypatch)
    report = ingest(embedded, progress=False)
    assert len(calls) == 1
    expected = {"same-size edit, same mtime": (["alpha"], [], []), "added": ([], ["gamma"], []),
                "removed": ([], [], ["alpha"]), "SOURCES.json": (["alpha"], [], [])}[change]
    assert (report.updated, report.added, report.removed) == expected
    if change == "SOURCES.json":
        record = open_store(embedded, load_embedder(embedded)).document_record("alpha")
        assert record.metadata["publisher"] == "Rest of World"
    assert ingest(embedded, progress=False).unchanged and len(calls) == 1  # and the next one is a no-op again


def test_a_document_removed_through_the_index_comes_back_from_its_file(embedded):
    remove_document(embedded, "alpha")  # as DELETE /api/documents does; the file stays here
    assert ingest(embedded, progress=False).added == ["alpha"]


def test_an_index_changed_by_a_writer_that_ignores_the_manifest_is_ingested(embedded):
    """An older ragqa changes the index and leaves the manifest: the index's new generation gives it away."""
    kept = manifest.manifest_path(embedded).read_bytes()
    remove_document(embedded, "alpha")
    manifest.manifest_path(embedded).write_bytes(kept)
    assert ingest(embedded, progress=False).added == ["alpha"]


def test_an_index_made_afresh_beside_an_old_manifest_is_ingested(embedded):
    for path in embedded.index_dir.iterdir():  # Chroma's files go, the manifest and the BM25 copy stay
        if path.name not in (manifest.MANIFEST_FILE, "lexical"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    SharedSystemClient.clear_system_cache()  # as a new process would, this one opens the files anew
    store = open_store(embedded, load_embedder(embedded), create=True)  # an empty index in their place
    assert store.passage_count() == 0
    assert sorted(ingest(embedded, progress=False).added) == ["alpha", "beta"]


def test_an_interrupted_ingest_is_repaired_by_the_next(embedded):
    with ingest_lock(embedded):  # an ingest that wrote a passage and was killed before finishing
        store = open_store(embedded, load_embedder(embedded))
        store.mark_running()
        store.passages.upsert(ids=["leftover"], embeddings=[[0.1] * 384], documents=["half-written"],
                              metadatas=[{"document_id": "alpha", "content_hash": "a version never finished"}])
    report = ingest(embedded, progress=False)
    assert report.repaired == 1 and "repaired an interrupted ingest" in report.summary()


def test_other_settings_get_the_rebuild_error_not_a_no_op(embedded):
    other = embedded.model_copy(update={"chunk_tokens": 120})
    with pytest.raises(IndexMismatch):
        ingest(other, progress=False)


def test_an_exclusive_ingest_is_a_no_op_only_when_the_index_holds_nothing_else(embedded, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "delta.txt").write_text("An unrelated statement about trade.", encoding="utf-8")
    ingest(embedded, [other], progress=False)  # the index now remembers the corpus and this folder
    report = ingest(embedded, [other], exclusive=True, progress=False)
    assert sorted(report.removed) == ["alpha", "beta"]
    assert ingest(embedded, [other], exclusive=True, progress=False).unchanged == ["delta"]


def test_a_document_skipped_as_the_twin_of_an_old_text_is_added_once_that_text_changed(embedded, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "alpha-again.txt").write_text((embedded.corpus_dir / "alpha.txt").read_text(), encoding="utf-8")
    (embedded.corpus_dir / "alpha.txt").write_text("Huawei pitched Ascend chips in Egypt instead.", encoding="utf-8")
    skipped = ingest(embedded, [other], progress=False)  # alpha's record still has the old text
    assert skipped.added == [] and "same text as alpha" in skipped.warnings[-1]
    both = ingest(embedded, progress=False)  # alpha is updated; its twin is still skipped, this time
    assert both.updated == ["alpha"] and both.added == []
    assert ingest(embedded, progress=False).added == ["alpha-again"]  # a re-run changes something: no manifest


def test_a_chroma_server_index_always_opens_the_index(chroma_url, tmp_path, monkeypatch):
    settings = make_settings(tmp_path, chroma_url=chroma_url, collection=f"m{uuid.uuid4().hex[:12]}")
    settings.corpus_dir.mkdir()
    (settings.corpus_dir / "alpha.txt").write_text("Huawei pitched Ascend chips in Thailand.", encoding="utf-8")
    ingest(settings, progress=False)
    calls = real_ingests_only(monkeypatch)
    assert ingest(settings, progress=False).unchanged == ["alpha"] and len(calls) == 1
    assert not settings.index_dir.exists()
