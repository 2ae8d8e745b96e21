"""What the last complete ingest saw, kept beside an embedded index, so that an ingest with nothing to do
says so without importing Chroma, llama-index or the encoder.

A no-op `ragqa ingest` used to cost 3.4 s (22% of the first ingest of the bench sample), nearly all
of it importing chromadb, llama-index, nltk and onnxruntime and opening the store, only to find every
content hash unchanged. Now the ingest that brought its folders up to date writes `ingest-manifest.json`
beside the index (atomically: a temporary file renamed): every file under those folders that the
loader may read (supported suffixes, SOURCES.json), by path, size and SHA-256 of its bytes; the
settings and code an ingest depends on; the index generation and its lexical copy; and the report a
re-run would print. The next ingest of the same folders compares the files with it first and, when
everything matches, returns that report.

When it may say "nothing changed", and why that is safe:
- only for an embedded index: a Chroma server may be written by other machines, so every ingest into
  one opens it;
- only when the folders asked about are the ones that ingest loaded (`ragqa ingest` alone: every
  remembered folder), never with --rebuild, and with `exclusive` only when the index held nothing else;
- only when every file has the same bytes (hashes, not modification times: a file rewritten within
  the same clock tick is still seen), no file the loader would read was added or removed, and the
  settings that shape passages and records (chunk sizes, model, backend, size limit, collection) and
  the code (app/ sources, the Python version, the installed packages' folder) are those it was written
  with: new code may read the same file differently;
- only while the index is the one it describes. Every ingest, removal or upload takes the ingest lock
  and deletes the manifest before it changes anything (an ingest killed half-way leaves none), and
  writes a new one only after bringing whole folders up to date, and only when running it again would
  change nothing (app.ingest checks that by sorting the loaded documents again). A writer that knows
  nothing of it (an older ragqa) is noticed by its new index generation: an ingest that changes the
  index saves the lexical copy of the new generation and removes the others, so the manifest's copy is
  gone; and an index made afresh (`make clean`, a restore) has other Chroma files and segment folders.
Anything unexpected (a missing or unreadable file or folder, a damaged manifest) means "cannot say",
and the real ingest runs, which also gives the proper error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.corpus import METADATA_FILE, SUPPORTED_SUFFIXES

MANIFEST_FILE = "ingest-manifest.json"
MANIFEST_VERSION = 1
# the settings an ingest's outcome depends on (the rest are about answering and serving)
INGEST_SETTINGS = ("corpus_dir", "collection", "embed_model_path", "embed_backend", "model_cache_dir",
                   "chunk_tokens", "chunk_overlap_tokens", "max_file_bytes")
CODE = Path(__file__).resolve().parent  # the app package


@dataclass
class Unchanged:
    """What a re-run of the ingest the manifest describes would report."""

    unchanged: list[str]
    warnings: list[str]
    passages_total: int
    roots: list[str]


def manifest_path(settings: Settings) -> Path:
    return settings.index_dir / MANIFEST_FILE


def invalidate(settings: Settings) -> None:
    """Forget the manifest (before anything in the index changes)."""
    if not settings.chroma_url:
        manifest_path(settings).unlink(missing_ok=True)


def snapshot(roots: list[Path], max_file_bytes: int) -> dict[str, list[list]] | None:
    """Each root's files that the loader may read, as [path, size, sha256] rows (a link also gives where
    it resolves to, a file over the size limit no hash: the loader skips it unread). None when a folder
    or file cannot be read: the real ingest then says what is wrong."""
    tables: dict[str, list[list]] = {}
    try:
        for root in roots:
            root = root.resolve()
            if not root.is_dir():
                return None
            rows = []
            for path in root.rglob("*"):  # the walk app.corpus makes
                if path.suffix.lower() not in SUPPORTED_SUFFIXES and path.name != METADATA_FILE:
                    continue
                if not path.is_file():
                    continue
                size = path.stat().st_size
                row = [path.relative_to(root).as_posix(), size]
                if path.is_symlink():
                    row.append(str(path.resolve()))
                if size <= max_file_bytes:
                    with path.open("rb") as handle:
                        row.append(hashlib.file_digest(handle, "sha256").hexdigest())
                rows.append(row)
            tables[str(root)] = sorted(rows)
    except OSError:
        return None
    return tables


def _code_digest() -> str:
    """A hash of what could make the same file load differently: our sources, Python, installed packages."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(CODE.rglob("*.py")):
        digest.update(path.relative_to(CODE).as_posix().encode() + b"\0" + path.read_bytes())
    for name in ("purelib", "platlib"):  # installing, upgrading or removing a package changes its folder
        folder = Path(sysconfig.get_paths()[name])
        if folder.is_dir():
            digest.update(f"{folder}\0{folder.stat().st_mtime_ns}".encode())
    return digest.hexdigest()


def _key(settings: Settings) -> dict:
    values = {name: getattr(settings, name) for name in INGEST_SETTINGS}
    values["corpus_dir"] = settings.corpus_dir.resolve()
    return {"settings": {name: str(value) for name, value in values.items()}, "code": _code_digest()}


def _index_identity(settings: Settings, lexical_root: Path) -> list | None:
    """Chroma's files in the index folder: its database file (device, inode) and the names of its
    segment folders, which are new for every collection made (a rebuild, or an index made afresh)."""
    try:
        found = (settings.index_dir / "chroma.sqlite3").stat()
        folders = sorted(path.name for path in settings.index_dir.iterdir()
                         if path.is_dir() and path.resolve() != lexical_root.resolve())
    except OSError:
        return None
    return [found.st_dev, found.st_ino, folders]


def write(settings: Settings, files: dict[str, list[list]], loaded: list[str], remembered: list[str],
          exclusive_ok: bool, generation: str, lexical_copy: Path, outcome: Unchanged) -> None:
    """Record the state an ingest left (it holds the ingest lock). `files`: the snapshot taken before it
    loaded anything, so a file that changed while it ran differs from the manifest."""
    if settings.chroma_url:
        return
    record = {
        "version": MANIFEST_VERSION, "key": _key(settings), "index": _index_identity(settings, lexical_copy.parent),
        "loaded": loaded, "remembered": remembered, "exclusive_ok": exclusive_ok, "files": files,
        "generation": generation, "lexical_copy": str(lexical_copy.resolve()),
        "outcome": outcome.__dict__,
    }
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{MANIFEST_FILE}-", dir=settings.index_dir)
        os.fchmod(handle, 0o644)  # readable like the index files beside it (mkstemp makes it 0600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(temporary, manifest_path(settings))
        temporary = None
    except OSError:  # the ingest itself is done; without a manifest the next one only takes longer
        pass
    finally:
        if temporary:
            Path(temporary).unlink(missing_ok=True)


def unchanged(settings: Settings, roots: list[Path] | None, exclusive: bool = False) -> Unchanged | None:
    """The report of a re-run when an ingest of `roots` (None: every remembered folder) would change
    nothing, as far as the manifest can tell without opening the index; None when it cannot tell."""
    if settings.chroma_url:
        return None
    try:
        record = json.loads(manifest_path(settings).read_text(encoding="utf-8"))
        asked = record["remembered"] if roots is None else [str(root.resolve()) for root in roots]
        if record.get("version") != MANIFEST_VERSION or asked != record["loaded"] or \
                (exclusive and not record["exclusive_ok"]):
            return None
        copy = Path(record["lexical_copy"])  # the only copy (app.lexical names them <generation>-v<n>)
        if record["index"] is None or record["index"] != _index_identity(settings, copy.parent):
            return None
        copies = [path.name for path in copy.parent.glob("*-v*") if not path.name.startswith(".")]
        if copies != [copy.name] or (copy / "generation.txt").read_text(encoding="utf-8") != record["generation"]:
            return None
        if record["key"] != _key(settings):
            return None
        if snapshot([Path(root) for root in asked], settings.max_file_bytes) != record["files"]:
            return None
        return Unchanged(**record["outcome"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
