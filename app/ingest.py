"""Incremental ingest: load folders (or some files of one), split, embed, and bring their documents up to date.

The index remembers the folders (roots) it was built from (app.store), and every document record
names its root. An ingest touches the documents of the roots it was asked about and no others:
`ingest(settings, [folder])` adds the folder to the remembered roots and brings its documents up to
date (files deleted from it are removed); `ingest(settings)` does that for every remembered root
(`settings.corpus_dir` when none is); `ingest_files` adds or updates some files of a root (uploads);
`remove_roots` forgets folders and removes their documents (never their files); `exclusive=True`
makes the index hold exactly the given roots (an eval set's index). All of them go through
`ingest_documents`.

A document whose content hash (text + metadata) matches its record is skipped without embedding;
a changed one has its passages replaced. A document with the id or the text of one indexed from
another root is skipped with a warning (it would be cited twice, or replace the other). Passages of
several documents are embedded together in groups (small documents alone would make tiny, slow
batches), and each group is written in one call per collection while the next one is encoded (in a
child process for a large ingest: app.encoder_process). An ingest killed at any point leaves an
index the next run repairs (app.store: passages carry their document's hash, the running mark
triggers a sweep; a root is remembered before its documents are written and forgotten only after they
are removed), so re-running gives the same index as an uninterrupted run. Ingests into one embedded
index take turns (a lock file beside it).

An ingest of an embedded index that would change nothing is decided from app.manifest before anything
heavy is imported, so this module imports Chroma, llama-index, the encoder and the loaders inside the
functions that need them (a no-op `ragqa ingest` imports none of them).
"""

from __future__ import annotations

import contextlib
import fcntl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app import manifest
from app.config import Settings
from app.errors import RagqaError

if TYPE_CHECKING:
    from app.corpus import LoadResult, SourceDocument
    from app.embedding import Embedder
    from app.store import DocumentRecord, DocumentVersion, IndexFingerprint, Store

LOCK_FILE = "ingest.lock"
UPLOADS = "uploads"  # the corpus folder's sub-folder that uploaded files are stored in (app.documents)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)  # doc ids
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    passages_embedded: int = 0
    passages_total: int = 0
    repaired: int = 0  # leftover passages of an interrupted ingest, removed
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)  # the roots the index remembers afterwards

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.repaired)

    def summary(self) -> str:
        removed = f" ({', '.join(self.removed[:10])}{', ...' if len(self.removed) > 10 else ''})" if self.removed else ""
        return (
            f"documents: {len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed{removed}; passages: {self.passages_embedded} embedded, "
            f"{self.passages_total} in index; {self.seconds:.1f} s"
            + (f"; repaired an interrupted ingest ({self.repaired} leftover passages removed)" if self.repaired else "")
        )


def is_upload(record: DocumentRecord, settings: Settings) -> bool:
    """Whether a document is one of ours (uploaded, so its file may be deleted) rather than a user's file."""
    return record.root == str(settings.corpus_dir.resolve()) and record.file.startswith(f"{UPLOADS}/")


def fingerprint(settings: Settings, embedder: Embedder) -> IndexFingerprint:
    from app.passages import SPLITTER_VERSION
    from app.store import IndexFingerprint

    return IndexFingerprint(
        embed_model=embedder.name,
        dimension=embedder.dimension,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap_tokens=settings.chunk_overlap_tokens,
        splitter_version=SPLITTER_VERSION,
    )


def open_store(settings: Settings, embedder: Embedder, create: bool = False, rebuild: bool = False) -> Store:
    from app.store import Store

    return Store(settings, fingerprint(settings, embedder), create=create, rebuild=rebuild)


@contextlib.contextmanager
def ingest_lock(settings: Settings):
    """One ingest at a time into an embedded index (the kernel drops the lock of a killed process).
    A Chroma server's collections have no such lock: one ingest at a time there is the operator's rule.
    Whoever holds the lock may change the index, so the manifest of the last ingest goes first."""
    if settings.chroma_url:
        yield
        return
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.index_dir / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            manifest.invalidate(settings)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ingest(settings: Settings, path: Path | list[Path] | None = None, rebuild: bool = False,
           progress: bool | None = None, exclusive: bool = False) -> IngestReport:
    """Bring the documents of the folders `path` (default: every remembered root) up to date."""
    started = time.perf_counter()
    roots = [path] if isinstance(path, Path) else path or None
    for root in roots or []:
        if not root.is_dir():
            raise RagqaError(f"no such folder: {root}")
    found = None if rebuild else manifest.unchanged(settings, roots, exclusive)
    if found is not None:
        return IngestReport(unchanged=found.unchanged, warnings=found.warnings, passages_total=found.passages_total,
                            roots=found.roots, seconds=time.perf_counter() - started)
    return ingest_documents(settings, roots, rebuild=rebuild, progress=progress, exclusive=exclusive)


def ingest_files(settings: Settings, root: Path, files: list[Path]) -> tuple[IngestReport, LoadResult]:
    """Add or update these files of `root` (the chat page's and the API's uploads); nothing else changes.
    Returns the report and what was loaded (its `skipped` says which files were not, and why)."""
    from app.corpus import load_corpus

    loaded = load_corpus(root, settings.max_file_bytes, files)
    return ingest_documents(settings, [root], loaded=loaded), loaded


def ingest_documents(settings: Settings, roots: list[Path] | None = None, *, loaded: LoadResult | None = None,
                     rebuild: bool = False, progress: bool | None = None, exclusive: bool = False) -> IngestReport:
    """The one way documents enter the index. `roots` None: every remembered root. `loaded` given: only
    those documents of the (single) root, none removed. `exclusive`: documents of other roots are removed."""
    from app.corpus import load_corpora
    from app.embedding import load_embedder

    started = time.perf_counter()
    embedder = load_embedder(settings)
    with ingest_lock(settings):
        store = open_store(settings, embedder, create=True, rebuild=rebuild)
        report = IngestReport()
        remembered = store.roots() or store.roots_before_rebuild
        roots = [root.resolve() for root in roots] if roots else [Path(r) for r in remembered] or \
            [settings.corpus_dir.resolve()]
        for root in roots:
            if loaded is None and not root.is_dir():
                raise RagqaError(f"a folder of this index is gone: {root} (to forget it: ragqa remove {root})")
        scope = {str(root) for root in roots}
        whole_roots = loaded is None
        # before loading: a file that changes while this ingest runs then differs from the manifest
        files = manifest.snapshot(roots, settings.max_file_bytes) if whole_roots and not settings.chroma_url else None
        loaded = loaded or load_corpora(roots, settings.max_file_bytes)
        report.warnings += loaded.warnings
        records = store.document_records()
        _refuse_emptying(loaded, records)
        report.warnings += [f"{root} holds no documents" for root in loaded.empty_roots]
        current = {document.doc_id for document in loaded.documents}
        gone = sorted(doc_id for doc_id, record in records.items()
                      if (whole_roots and record.root in scope and doc_id not in current)
                      or (exclusive and record.root not in scope))
        kept = {doc_id: record for doc_id, record in records.items() if doc_id not in gone}
        pending = _sort(loaded.documents, kept, scope, report)
        if store.mark_running():
            report.repaired = store.sweep()
        store.set_roots(_merged(remembered, roots))  # remembered before anything of theirs is written
        for doc_id in gone:
            store.delete_document(doc_id)
            report.removed.append(doc_id)
        show = sys.stderr.isatty() if progress is None else progress
        _embed_and_write(pending, store, embedder, settings, report, show, replacing=set(records))
        if exclusive:
            store.set_roots([str(root) for root in roots])  # forgotten once their documents are gone
        report.roots = store.roots()
        _finish(store, settings, report)
        if files is not None:
            _write_manifest(store, settings, files, loaded, roots, report)
    report.seconds = time.perf_counter() - started
    return report


def _write_manifest(store: Store, settings: Settings, files, loaded: LoadResult, roots: list[Path],
                    report: IngestReport) -> None:
    """Record what this ingest saw (app.manifest) when running it again on the same files would change
    nothing: the loaded documents sorted again against the records as they are now must all be unchanged
    or skipped. (Not always so: a document skipped as the twin of another's old text is added once that
    other one has been updated.)"""
    from app import lexical

    records = store.document_records()
    scope = {str(root) for root in roots}
    again = IngestReport()
    current = {document.doc_id for document in loaded.documents}
    if _sort(loaded.documents, records, scope, again) or \
            any(record.root in scope and doc_id not in current for doc_id, record in records.items()):
        return
    generation = store.generation()
    outcome = manifest.Unchanged(
        unchanged=again.unchanged, passages_total=report.passages_total, roots=report.roots,
        warnings=loaded.warnings + [f"{root} holds no documents" for root in loaded.empty_roots] + again.warnings)
    manifest.write(settings, files, loaded=[str(root) for root in roots], remembered=report.roots,
                   exclusive_ok=report.roots == [str(root) for root in roots]
                   and all(record.root in scope for record in records.values()),
                   generation=generation, lexical_copy=lexical.copy_folder(lexical.cache_root(settings), generation),
                   outcome=outcome)


def _refuse_emptying(loaded: LoadResult, records) -> None:
    """A folder with no documents is far more often a wrong path or an unmounted disk than a wish to
    empty the index: keep what is indexed from it and say how to remove it on purpose."""
    for root in loaded.empty_roots:
        kept = [doc_id for doc_id, record in records.items() if record.root == str(root)]
        if kept:
            raise RagqaError(f"{root} holds no documents; nothing was changed, the {len(kept)} documents "
                             f"indexed from it are kept (to forget it: ragqa remove {root}; "
                             "to empty the index: ragqa ingest --rebuild)")


def remove_roots(settings: Settings, folders: list[Path]) -> IngestReport:
    """Forget these remembered folders and remove their documents from the index (their files stay)."""
    asked = [str(folder.resolve()) for folder in folders]

    def documents_of_folders(store: Store) -> tuple[list[str], list[str]]:
        remembered = store.roots()
        unknown = [folder for folder in asked if folder not in remembered]
        if unknown:
            raise RagqaError(f"{unknown[0]} is not a folder of this index (its folders: "
                             f"{', '.join(remembered) or 'none'}); nothing was changed")
        return ([doc_id for doc_id, record in store.document_records().items() if record.root in asked],
                [root for root in remembered if root not in asked])

    return _remove(settings, documents_of_folders)


def remove_document(settings: Settings, doc_id: str) -> IngestReport:
    """Remove one document from the index (the caller decides about its file)."""
    return _remove(settings, lambda store: ([doc_id] if store.document_record(doc_id) else [], None))


def _remove(settings: Settings, choose) -> IngestReport:
    """Remove the documents `choose(store)` names; the roots it returns (None: unchanged) are then the
    index's roots (forgotten once their documents are gone)."""
    from app.embedding import load_embedder

    started = time.perf_counter()
    with ingest_lock(settings):
        store = open_store(settings, load_embedder(settings))
        doc_ids, roots = choose(store)
        report = _removing(store, doc_ids)
        if roots is not None:
            store.set_roots(roots)
        report.roots = store.roots()
        _finish(store, settings, report)
    report.seconds = time.perf_counter() - started
    return report


def _removing(store: Store, doc_ids: list[str]) -> IngestReport:
    report = IngestReport()
    if store.mark_running():
        report.repaired = store.sweep()
    for doc_id in sorted(doc_ids):
        store.delete_document(doc_id)
        report.removed.append(doc_id)
    return report


def _finish(store: Store, settings: Settings, report: IngestReport) -> None:
    from app import lexical

    store.mark_finished(changed=report.changed)
    lexical.ensure_saved(store, settings)
    report.passages_total = store.passage_count()


def _merged(remembered: list[str], roots: list[Path]) -> list[str]:
    return [*remembered, *(str(root) for root in roots if str(root) not in remembered)]


def _sort(documents: list[SourceDocument], kept, scope: set[str], report: IngestReport) -> list[SourceDocument]:
    """Sort loaded documents into added / updated / unchanged (in the report) and return those to embed.
    One that would replace a document of another root, or repeat the text of another kept document, is
    a warning instead."""
    texts = {record.text_hash: doc_id for doc_id, record in kept.items()}
    pending = []
    for document in documents:
        record = kept.get(document.doc_id)
        twin = texts.get(document.text_hash)
        if record is not None and record.root not in scope:
            report.warnings.append(f"skipped {document.file} in {document.root}: id {document.doc_id} already used "
                                   f"by a document of {record.root}")
        elif twin not in (None, document.doc_id):
            report.warnings.append(f"skipped {document.doc_id}: same text as {twin}")
        elif record is None:
            report.added.append(document.doc_id)
            pending.append(document)
        elif (record.content_hash, record.root, record.file) != (document.content_hash, str(document.root),
                                                                  document.file):
            report.updated.append(document.doc_id)
            pending.append(document)
        else:
            report.unchanged.append(document.doc_id)
    return pending


def _embed_and_write(pending, store: Store, embedder: Embedder, settings: Settings, report: IngestReport, show: bool,
                     replacing: set[str]):
    """Split, embed and write `pending` in groups of about `ingest_group_passages` passages. While this
    thread writes one group and splits the next, the group after it is being encoded: in a child process
    for a large ingest, since Chroma's upsert holds the GIL and would stall an encoder in this process
    (app.encoder_process). At most two groups wait for their vectors, so memory holds at most three;
    groups are written in order, and a failure stops the ingest at the next group."""
    from collections import deque

    from tqdm import tqdm

    from app.encoder_process import group_encoder
    from app.passages import make_splitter, split_document

    bar = tqdm(total=len(pending), unit="doc", desc="ingest", disable=not show, file=sys.stderr)
    encoding = deque()  # (group, future of its vectors), oldest first

    def write_oldest(encoder) -> None:
        group, future = encoding.popleft()
        all_nodes = [node for _doc, doc_nodes in group for node in doc_nodes]
        for node, vector in zip(all_nodes, encoder.vectors(future)):
            node.embedding = vector
        store.replace_documents([_version(doc, doc_nodes) for doc, doc_nodes in group], replacing)
        bar.update(len(group))  # per document written, so the count says how far the index has come
        report.passages_embedded += len(all_nodes)

    with group_encoder(embedder, settings.encoder_process_min_chars,
                       sum(len(document.text) for document in pending)) as encoder:
        splitter = make_splitter(embedder, settings.chunk_tokens, settings.chunk_overlap_tokens)
        group: list[tuple[SourceDocument, list]] = []
        group_size = 0
        for position, document in enumerate(pending):
            nodes = split_document(document, splitter)
            group.append((document, nodes))
            group_size += len(nodes)
            if group_size >= settings.ingest_group_passages or position == len(pending) - 1:
                encoding.append((group, encoder.submit([node.get_content() for _doc, doc_nodes in group
                                                         for node in doc_nodes])))
                group, group_size = [], 0
                if len(encoding) > 1:
                    write_oldest(encoder)
        while encoding:
            write_oldest(encoder)
    bar.close()


def _version(document: SourceDocument, nodes) -> DocumentVersion:
    from app.store import DocumentVersion

    return DocumentVersion(document.doc_id, document.text, document.metadata, document.content_hash, nodes,
                           root=str(document.root), file=document.file, text_hash=document.text_hash,
                           page_starts=tuple(document.page_starts))
