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
The readers (app.readable's markdown-it and trafilatura, PyYAML, pypdf) are imported when a file needs
them: what only lists a folder or reads these constants (app.manifest, the answering path) needs none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
METADATA_FILE = "SOURCES.json"
EXAMPLES_FILE = "EXAMPLES.txt"  # example questions for the chat page (app.ui), one a line
FOLDER_FILES = {"readme.md", EXAMPLES_FILE.lower()}
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
    root: Path | None = None  # where it was found (not part of its content)
    file: str = ""  # its path relative to root

    @property
    def content_hash(self) -> str:
        payload = json.dumps([self.text, self.metadata, self.page_starts], sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def text_hash(self) -> str:
        return text_hash(self.text)

    def page_at(self, offset: int) -> int | None:
        return page_of(self.page_starts, offset)


def page_of(page_starts, offset: int) -> int | None:
    """1-based page holding `offset`, for PDFs (None for documents without pages)."""
    pages = [number for number, start in enumerate(page_starts, start=1) if start <= offset]
    return pages[-1] if pages else None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Skipped:
    """A file that was not loaded, and why."""

    file: str
    reason: str

    def warning(self) -> str:
        return f"skipped {self.file}: {self.reason}"


@dataclass
class LoadResult:
    documents: list[SourceDocument]
    skipped: list[Skipped] = field(default_factory=list)
    empty_roots: list[Path] = field(default_factory=list)  # folders that gave no document at all

    @property
    def warnings(self) -> list[str]:
        return [skipped.warning() for skipped in self.skipped]


def document_id(path: Path, root: Path) -> str:
    """The file's path relative to the corpus root, without extension, '/'-separated."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_corpus(root: Path, max_file_bytes: int = 20_000_000, files: list[Path] | None = None) -> LoadResult:
    """Every supported file under `root` (recursively), or only `files` (under root), sorted by doc id."""
    root = root.resolve()
    result = LoadResult([])
    seen_ids: dict[str, Path] = {}
    candidates = _candidate_files(root, result.skipped) if files is None else [path.resolve() for path in files]
    for path in sorted(candidates):
        doc_id = document_id(path, root)
        name = path.relative_to(root).as_posix()
        if doc_id in seen_ids:
            result.skipped.append(Skipped(name, f"same document id as {seen_ids[doc_id].name}"))
            continue
        try:
            document = load_file(path, root, max_file_bytes)
        except UnreadableFile as problem:
            result.skipped.append(Skipped(name, str(problem)))
            continue
        seen_ids[doc_id] = path
        result.documents.append(document)
    return result


def load_file(path: Path, root: Path, max_file_bytes: int = 20_000_000) -> SourceDocument:
    """One file under `root` as a document, or UnreadableFile saying why not."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})")
    if path.stat().st_size > max_file_bytes:
        raise UnreadableFile(f"larger than {max_file_bytes:,} bytes")
    document = _load_file(path, document_id(path, root), _sources_metadata(path.parent))
    document.root, document.file = root, path.relative_to(root).as_posix()
    return document


def load_corpora(roots: list[Path], max_file_bytes: int = 20_000_000) -> LoadResult:
    """Several folders as one corpus (e.g. coverage + distractors); the first to use a doc id, or
    to have a given text, keeps it."""
    combined = LoadResult([])
    texts: dict[str, str] = {}  # sha256 of the text -> doc id that has it
    for root in roots:
        loaded = load_corpus(root, max_file_bytes)
        if not loaded.documents:
            combined.empty_roots.append(root)
        known = {document.doc_id for document in combined.documents}
        combined.skipped += loaded.skipped
        for document in loaded.documents:
            if document.doc_id in known:
                combined.skipped.append(Skipped(f"{document.doc_id} in {root}", "id already used"))
            elif document.text_hash in texts:
                combined.skipped.append(Skipped(document.doc_id, f"same text as {texts[document.text_hash]}"))
            else:
                texts[document.text_hash] = document.doc_id
                combined.documents.append(document)
    return combined


def _candidate_files(root: Path, skipped: list[Skipped]):
    for path in root.rglob("*"):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.startswith("."):
            continue
        if path.parent == root and path.name.lower() in FOLDER_FILES:
            continue  # the corpus folder's own README and example questions are about the folder, not sources
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            skipped.append(Skipped(path.relative_to(root).as_posix(), "link to a file outside the corpus"))
            continue
        if path.is_file():
            yield path


_sources_cache: dict[Path, tuple[tuple, dict[str, dict]]] = {}


def _sources_metadata(folder: Path) -> dict[str, dict]:
    """SOURCES.json of a folder as {file name: entry}; {} when absent or unreadable. Cached per folder
    while the file's size and modification time stay the same (a server's process outlives edits)."""
    path = folder / METADATA_FILE
    try:
        found = path.stat()
        signature: tuple = (found.st_size, found.st_mtime_ns, found.st_ino)
    except OSError:
        signature = ()
    cached = _sources_cache.get(folder)
    if cached is not None and cached[0] == signature:
        return cached[1]
    entries: dict[str, dict] = {}
    try:
        for entry in json.loads(path.read_text(encoding="utf-8")):
            if isinstance(entry, dict) and isinstance(entry.get("file"), str):
                entries[entry["file"]] = entry
    except (OSError, ValueError, TypeError):
        pass
    _sources_cache[folder] = (signature, entries)
    return entries


def _load_file(path: Path, doc_id: str, sources: dict[str, dict]) -> SourceDocument:
    from app.readable import html_document, markdown_text

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
    import yaml

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
