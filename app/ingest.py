"""Incremental ingest: load the corpus, split, embed, and bring the index in line with the folder.

A document whose content hash (text + metadata) matches its record is skipped without embedding;
a changed one has its passages replaced; one no longer in the folder is removed. Passages of
several documents are embedded together in batches (small documents alone would make tiny,
slow batches), and each group is written in one call per collection as soon as its vectors exist. An ingest killed at
any point leaves an index the next run repairs (app.store: passages carry their document's hash,
the running mark triggers a sweep), so re-running gives the same index as an uninterrupted run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from app import lexical
from app.config import Settings
from app.corpus import SourceDocument, load_corpora
from app.embedding import Embedder, load_embedder
from app.errors import RagqaError
from app.passages import SPLITTER_VERSION, make_splitter, split_document
from app.store import DocumentVersion, IndexFingerprint, Store


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    passages_embedded: int = 0
    passages_total: int = 0
    repaired: int = 0  # leftover passages of an interrupted ingest, removed
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"documents: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed; passages: {self.passages_embedded} embedded, "
            f"{self.passages_total} in index; {self.seconds:.1f} s"
            + (f"; repaired an interrupted ingest ({self.repaired} leftover passages removed)" if self.repaired else "")
        )


def fingerprint(settings: Settings, embedder: Embedder) -> IndexFingerprint:
    return IndexFingerprint(
        embed_model=embedder.name,
        dimension=embedder.dimension,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap_tokens=settings.chunk_overlap_tokens,
        splitter_version=SPLITTER_VERSION,
    )


def open_store(settings: Settings, embedder: Embedder, create: bool = False, rebuild: bool = False) -> Store:
    return Store(settings, fingerprint(settings, embedder), create=create, rebuild=rebuild)


def ingest(settings: Settings, path: Path | list[Path] | None = None, rebuild: bool = False,
           progress: bool | None = None) -> IngestReport:
    """Make the index hold exactly the documents under `path` (default: settings.corpus_dir).

    Several folders may be given (a corpus plus distractors); doc ids are relative to each folder.
    """
    started = time.perf_counter()
    roots = path if isinstance(path, list) else [path or settings.corpus_dir]
    for root in roots:
        if not root.is_dir():
            raise RagqaError(f"no such folder: {root}")
    embedder = load_embedder(settings)
    store = open_store(settings, embedder, create=True, rebuild=rebuild)
    loaded = load_corpora(roots, settings.max_file_bytes)
    report = IngestReport(warnings=loaded.warnings)
    if store.mark_running():
        report.repaired = store.sweep()
    records = store.document_records()
    current_ids = {document.doc_id for document in loaded.documents}
    if loaded.empty_roots and set(records) - current_ids:
        # A folder with no documents is far more often a wrong path or an unmounted disk than a wish
        # to empty the index: keep what is indexed and say how to empty it on purpose.
        raise RagqaError(f"{loaded.empty_roots[0]} holds no documents; nothing was changed, the "
                         f"{len(records)} indexed documents are kept (to empty the index: ragqa ingest --rebuild)")

    pending: list[SourceDocument] = []
    for document in loaded.documents:
        record = records.get(document.doc_id)
        if record is None:
            report.added += 1
            pending.append(document)
        elif record.content_hash != document.content_hash:
            report.updated += 1
            pending.append(document)
        else:
            report.unchanged += 1
    for doc_id in sorted(set(records) - current_ids):
        store.delete_document(doc_id)
        report.removed += 1

    show = sys.stderr.isatty() if progress is None else progress
    _embed_and_write(pending, store, embedder, settings, report, show, replacing=set(records))
    store.mark_finished(changed=bool(pending or report.removed or report.repaired))
    lexical.ensure_saved(store, settings)
    report.passages_total = store.passage_count()
    report.seconds = time.perf_counter() - started
    return report


def _embed_and_write(pending, store: Store, embedder: Embedder, settings: Settings, report: IngestReport, show: bool,
                     replacing: set[str]):
    splitter = make_splitter(embedder, settings.chunk_tokens, settings.chunk_overlap_tokens)
    bar = tqdm(total=len(pending), unit="doc", desc="ingest", disable=not show, file=sys.stderr)
    group: list[tuple[SourceDocument, list]] = []
    group_size = 0
    for position, document in enumerate(pending):
        nodes = split_document(document, splitter)
        group.append((document, nodes))
        group_size += len(nodes)
        if group_size >= settings.ingest_group_passages or position == len(pending) - 1:
            all_nodes = [node for _doc, doc_nodes in group for node in doc_nodes]
            vectors = embedder.embed_texts([node.get_content() for node in all_nodes])
            for node, vector in zip(all_nodes, vectors):
                node.embedding = vector
            store.replace_documents([DocumentVersion(doc.doc_id, doc.text, doc.metadata, doc.content_hash, doc_nodes)
                                     for doc, doc_nodes in group], replacing)
            bar.update(len(group))  # per document written, so the count says how far the index has come
            report.passages_embedded += len(all_nodes)
            group, group_size = [], 0
    bar.close()
