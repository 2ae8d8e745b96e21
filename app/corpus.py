"""Load a folder of documents: .txt, .md (YAML front matter), .html (main content), .pdf (per page).

A document's text is its readable text (app.readable): Markdown rendered to plain text, HTML reduced
to its main content, so quotes and offsets never hold markup.

Metadata comes from a SOURCES.json beside the files where present, else the front matter, else
the file name. A file that cannot be read becomes one warning and is skipped; the rest loads.
A file whose text is exactly that of another (the same document saved under two names) is indexed
once, under the first doc id, and the other is one warning: two copies would be cited twice.
Why not llama-index's SimpleDirectoryReader: it does not read SOURCES.json or front matter, its
PDF reader makes one Document per page (breaking doc ids), and a bad file aborts or is silently
dropped; we need one document per file with an exact text that citations point into.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

from app.readable import html_document, markdown_text

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
METADATA_FILE = "SOURCES.json"
METADATA_KEYS = ("title", "publisher", "date", "url", "license", "kind", "author", "description")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)


class UnreadableFile(Exception):
    """The file exists but has no usable text."""


@dataclass
class SourceDocument:
    """One file's text (what citations point into) and its metadata."""

    doc_id: str
    text: str
    metadata: dict[str, str]
    page_starts: list[int] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        payload = json.dumps([self.text, self.metadata, self.page_starts], sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, for PDFs."""
        page = None
        for number, start in enumerate(self.page_starts, start=1):
            if start <= offset:
                page = number
        return page


@dataclass
class LoadResult:
    documents: list[SourceDocument]
    warnings: list[str]
    empty_roots: list[Path] = field(default_factory=list)  # folders that gave no document at all


def document_id(path: Path, root: Path) -> str:
    """The file's path relative to the corpus root, without extension, '/'-separated."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_corpus(root: Path, max_file_bytes: int = 20_000_000) -> LoadResult:
    """Every supported file under `root` (recursively), sorted by doc id."""
    root = root.resolve()
    documents: list[SourceDocument] = []
    warnings: list[str] = []
    seen_ids: dict[str, Path] = {}
    for path in sorted(_candidate_files(root, warnings)):
        doc_id = document_id(path, root)
        if doc_id in seen_ids:
            warnings.append(f"skipped {path.relative_to(root)}: same document id as {seen_ids[doc_id].name}")
            continue
        try:
            if path.stat().st_size > max_file_bytes:
                raise UnreadableFile(f"larger than {max_file_bytes:,} bytes")
            document = _load_file(path, doc_id, _sources_metadata(path.parent))
        except UnreadableFile as problem:
            warnings.append(f"skipped {path.relative_to(root)}: {problem}")
            continue
        seen_ids[doc_id] = path
        documents.append(document)
    return LoadResult(documents, warnings)


def load_corpora(roots: list[Path], max_file_bytes: int = 20_000_000) -> LoadResult:
    """Several folders as one corpus (e.g. coverage + distractors); the first to use a doc id, or
    to have a given text, keeps it."""
    combined = LoadResult([], [])
    texts: dict[str, str] = {}  # sha256 of the text -> doc id that has it
    for root in roots:
        loaded = load_corpus(root, max_file_bytes)
        if not loaded.documents:
            combined.empty_roots.append(root)
        known = {document.doc_id for document in combined.documents}
        combined.warnings += loaded.warnings
        for document in loaded.documents:
            digest = hashlib.sha256(document.text.encode("utf-8", "surrogatepass")).hexdigest()
            if document.doc_id in known:
                combined.warnings.append(f"skipped {document.doc_id} in {root}: id already used")
            elif digest in texts:
                combined.warnings.append(f"skipped {document.doc_id}: same text as {texts[digest]}")
            else:
                texts[digest] = document.doc_id
                combined.documents.append(document)
    return combined


def _candidate_files(root: Path, warnings: list[str]):
    for path in root.rglob("*"):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.startswith("."):
            continue
        if path.parent == root and path.name.lower() == "readme.md":
            continue  # the corpus folder's own README explains the folder; it is not a source
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            warnings.append(f"skipped {path.relative_to(root)}: link to a file outside the corpus")
            continue
        if path.is_file():
            yield path


_sources_cache: dict[Path, dict[str, dict]] = {}


def _sources_metadata(folder: Path) -> dict[str, dict]:
    """SOURCES.json of a folder as {file name: entry}; {} when absent or unreadable."""
    if folder not in _sources_cache:
        entries: dict[str, dict] = {}
        try:
            for entry in json.loads((folder / METADATA_FILE).read_text(encoding="utf-8")):
                if isinstance(entry, dict) and isinstance(entry.get("file"), str):
                    entries[entry["file"]] = entry
        except (OSError, ValueError, TypeError):
            pass
        _sources_cache[folder] = entries
    return _sources_cache[folder]


def _load_file(path: Path, doc_id: str, sources: dict[str, dict]) -> SourceDocument:
    suffix = path.suffix.lower()
    page_starts: list[int] = []
    front: dict = {}
    if suffix == ".pdf":
        front, text, page_starts = _pdf_text(path)
    else:
        raw = _decoded(path)
        if suffix in {".md", ".markdown"}:
            front, body = _split_front_matter(raw)
            text = markdown_text(body)
        elif suffix in {".html", ".htm"}:
            front, text = html_document(raw)
        else:
            text = raw
    if not text.strip():
        raise UnreadableFile("no text")
    metadata = _metadata(path, front, sources.get(path.name, {}))
    return SourceDocument(doc_id=doc_id, text=text, metadata=metadata, page_starts=page_starts)


def _decoded(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary content")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise UnreadableFile(f"not UTF-8 text (byte {problem.start})") from None


def _split_front_matter(raw: str) -> tuple[dict, str]:
    match = FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        front = {}
    return (front if isinstance(front, dict) else {}), raw[match.end():]


def _pdf_text(path: Path) -> tuple[dict, str, list[int]]:
    """(the PDF's own /Title, /Author and creation date, its text, each page's start offset)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        front = {"title": info.title, "author": info.author, "date": info.creation_date} if info else {}
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as problem:
        raise UnreadableFile(f"not a readable PDF ({type(problem).__name__})") from None
    text, starts = "", []
    for page in pages:
        starts.append(len(text))
        text += page.strip() + "\n\n"
    return front, text.rstrip("\n"), starts


def _metadata(path: Path, front: dict, source: dict) -> dict[str, str]:
    """SOURCES.json entry, then front matter, then the file name; every value a string."""
    values: dict[str, str] = {}
    for key in METADATA_KEYS:
        for origin in (source, front):
            value = origin.get(key)
            if key == "url" and value is None and origin is front:
                value = front.get("source_url")
            if value not in (None, ""):
                values[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
                break
        else:
            values[key] = ""
    if not values["title"]:
        values["title"] = path.stem.replace("-", " ").replace("_", " ").strip() or path.name
    if not values["publisher"] and values["url"]:
        values["publisher"] = urlparse(values["url"]).hostname or ""
    values["date"] = values["date"][:10]
    return values
