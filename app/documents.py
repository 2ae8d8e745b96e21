"""Documents added and removed while the server runs: uploads, deletion, one document's text.

`DocumentDesk(assistant)` does the work for both the HTTP API (`router`) and the chat page (app.ui):
- `add`: each uploaded file gets a safe name under `<corpus>/uploads/` (its base name reduced to
  letters, digits, '.', '-', '_'; never a path), is read within the size limit, loaded as the ingest
  would load it and checked against the indexed texts before it takes its place; a file of the same
  name is replaced only by a new version of itself (reported "updated"). Then the files are indexed
  at once (app.ingest.ingest_files: nothing else in the index changes) and the assistant reloads.
  Each file's outcome: added / updated / unchanged, or rejected with the reason.
- `delete`: an uploaded document leaves the index, then its file goes. A document from a folder the
  user ingested is theirs: 409 with how to remove it; we never delete a user's files.
- `document`: metadata and the indexed text.
Changes are serialised within the process (and with other processes' ingests by the ingest lock).
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from pathlib import Path
from typing import BinaryIO

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field

from app.config import Settings, is_loopback
from app.corpus import SUPPORTED_SUFFIXES, UnreadableFile, load_file
from app.errors import ApiError
from app.ingest import UPLOADS, ingest_files, is_upload, remove_document
from app.schema import DocumentInfo

READ_CHUNK = 1 << 20
NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100


class Rejected(BaseModel):
    file: str = Field(description="The file name as sent.")
    error: str = Field(description="Why it was not indexed.")


class UploadOutcome(BaseModel):
    """Per uploaded file, what happened (doc ids in the first three lists)."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)


class DocumentDetail(DocumentInfo):
    text: str = Field(description="The indexed (readable) text that citations' start:end point into.")
    page_starts: list[int] = Field(default_factory=list, description="PDFs: the offset where each page starts.")


class Removed(BaseModel):
    removed: list[str]


def changes_allowed(settings: Settings) -> bool:
    """Documents may be changed by clients when a key guards it, or when only this machine can connect."""
    return bool(settings.api_key) or is_loopback(settings.host)


def key_matches(settings: Settings, given: str | None) -> bool:
    key = settings.api_key
    return not key or bool(given) and secrets.compare_digest(given.encode(), key.encode())


def safe_name(name: str) -> str:
    """A file name of ours for an uploaded name: its last path part, plain characters only."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type (send {', '.join(sorted(SUPPORTED_SUFFIXES))})")
    stem = NAME_CHARS.sub("-", stem).strip("-._")[:MAX_NAME] or "document"
    return f"{stem}.{suffix.lower()}"


class DocumentDesk:
    def __init__(self, assistant):
        self.assistant = assistant
        self.settings: Settings = assistant.settings
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return self.settings.corpus_dir / UPLOADS

    def add(self, uploads: list[tuple[str, BinaryIO]]) -> UploadOutcome:
        outcome = UploadOutcome()
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            placed: dict[Path, tuple[str, bool]] = {}  # file -> (name as sent, whether it is new)
            texts = {record.text_hash: doc_id for doc_id, record in self.assistant.store.document_records().items()}
            for name, stream in uploads:
                try:
                    target, new = self._place(name, stream, texts, placed)
                except UnreadableFile as problem:
                    outcome.rejected.append(Rejected(file=name, error=str(problem)))
                    continue
                except OSError as problem:
                    outcome.rejected.append(Rejected(file=name, error=f"cannot store it ({problem.strerror})"))
                    continue
                placed[target] = (name, new)
            if not placed:
                return outcome
            try:
                report, loaded = ingest_files(self.settings, self.settings.corpus_dir, list(placed))
            except BaseException:
                for target, (_name, new) in placed.items():
                    if new:
                        target.unlink(missing_ok=True)
                raise
            for skipped in loaded.skipped:  # checked before, so only a file changed meanwhile lands here
                outcome.rejected.append(Rejected(file=skipped.file, error=skipped.reason))
            outcome.added += report.added
            outcome.updated += report.updated
            outcome.unchanged += report.unchanged
            self.assistant.refresh_now()
        return outcome

    def _place(self, name: str, stream: BinaryIO, texts: dict[str, str], placed) -> tuple[Path, bool]:
        """Check one upload and put it in place; (its file, whether it is a new file)."""
        safe = safe_name(name)
        incoming = self.folder / f".incoming-{uuid.uuid4().hex}{Path(safe).suffix}"  # dot files are never loaded
        try:
            size = self._receive(stream, incoming)
            if size == 0:
                raise UnreadableFile("empty file")
            target = self._target(safe, placed)
            document = load_file(incoming, self.folder)
            doc_id = f"{UPLOADS}/{target.stem}"
            twin = texts.get(document.text_hash)
            if twin is not None and twin != doc_id:
                raise UnreadableFile(f"same text as the indexed document {twin}")
            new = not target.exists()
            incoming.replace(target)
            texts[document.text_hash] = doc_id
            return target, new
        finally:
            incoming.unlink(missing_ok=True)

    def _receive(self, stream: BinaryIO, path: Path) -> int:
        size, limit = 0, self.settings.max_file_bytes
        with open(path, "wb") as out:
            while chunk := stream.read(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UnreadableFile(f"larger than {limit:,} bytes")
                out.write(chunk)
        return size

    def _target(self, safe: str, placed) -> Path:
        """uploads/<safe>, or uploads/<stem>-N.<suffix> when another file (of another type, or sent in this
        same request) already has that document id."""
        stem, suffix = Path(safe).stem, Path(safe).suffix
        for n in range(1, 10_000):
            candidate = self.folder / (safe if n == 1 else f"{stem}-{n}{suffix}")
            others = [p for p in self.folder.glob(f"{candidate.stem}.*") if p.name != candidate.name
                      and not p.name.startswith(".")]
            if not others and candidate not in placed:
                return candidate
        raise UnreadableFile("too many files of this name")

    def delete(self, doc_id: str) -> Removed:
        with self._lock:
            record = self.assistant.store.document_record(doc_id)
            if record is None:
                raise ApiError(404, f"no document {doc_id!r} in the index")
            if not is_upload(record, self.settings):
                raise ApiError(409, f"{doc_id} comes from your folder {record.root}, not from an upload; we do "
                                         f"not delete your files: delete {Path(record.root) / record.file} and run "
                                         f"`ragqa ingest`, or forget the whole folder with `ragqa remove {record.root}`")
            report = remove_document(self.settings, doc_id)
            (Path(record.root) / record.file).unlink(missing_ok=True)
            self.assistant.refresh_now()
            return Removed(removed=report.removed)

    def document(self, doc_id: str) -> DocumentDetail:
        record = self.assistant.store.document_record(doc_id)
        text = self.assistant.store.document_text(doc_id)
        if record is None or text is None:
            raise ApiError(404, f"no document {doc_id!r} in the index")
        return DocumentDetail(**self.assistant.document_info(record).model_dump(), text=text,
                              page_starts=list(record.page_starts))


def router(desk: DocumentDesk, dependencies: list, responses: dict) -> APIRouter:
    """POST/GET/DELETE /api/documents (behind the API's bearer key)."""
    api = APIRouter(dependencies=dependencies, tags=["documents"], responses=responses)

    def check_allowed() -> None:
        if not changes_allowed(desk.settings):
            raise ApiError(403, "this server listens beyond localhost without RAGQA_API_KEY: documents cannot "
                                     "be changed through it (set RAGQA_API_KEY, or ingest with `ragqa ingest`)")

    @api.post("/api/documents", response_model=UploadOutcome, summary="Upload and index documents (.txt .md .html .pdf)")
    def upload(files: list[UploadFile] = File(description="One or more files, field name `files`.")) -> UploadOutcome:
        check_allowed()
        return desk.add([(upload.filename or "", upload.file) for upload in files])

    @api.get("/api/documents/{doc_id:path}", response_model=DocumentDetail, summary="A document's metadata and text")
    def document(doc_id: str) -> DocumentDetail:
        return desk.document(doc_id)

    @api.delete("/api/documents/{doc_id:path}", response_model=Removed,
                summary="Remove an uploaded document and its file (409 for a document of your own folder)")
    def delete(doc_id: str) -> Removed:
        check_allowed()
        return desk.delete(doc_id)

    return api

