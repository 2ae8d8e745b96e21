"""The only module that talks to Chroma: an embedded PersistentClient, or an HttpClient for a server.

Two collections: `<name>_passages` (vectors, passage text, metadata; written as llama-index's
ChromaVectorStore writes them, queried directly: see `dense`) and `<name>_documents` (one record per document: full text,
metadata, content hash). Keeping the incremental-ingest bookkeeping in Chroma itself, rather than
in llama-index's IngestionPipeline docstore on local disk, means a Chroma server holds everything
and several machines can share it. The passages collection's metadata records the embedding model
and splitter settings; opening it with other settings is an error that names the fix.

Crash safety without transactions (Chroma has none across collections): every passage carries its
document's content hash, and a passage counts only while a document record with that hash exists.
A document is replaced by (1) upserting its new passages, (2) upserting its record, (3) deleting
its passages with another hash, so a kill at any point leaves either the old or the new version
readable plus leftovers that `sweep` removes. An ingest marks itself running in the documents
collection and clears the mark when done; the next ingest that finds the mark sweeps the whole
index (a clean no-op re-ingest does not pay for the sweep).

The index remembers the folders (roots) it was built from in a reserved record of the documents
collection, and each document record names its root and file, so that an ingest of one folder
touches that folder's documents only (app.ingest).
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

from app.config import Settings, offline_environment
from app.corpus import page_of
from app.errors import IndexMismatch, RagqaError
from app.validation import check_index_exists

if TYPE_CHECKING:  # llama-index is imported by what writes passages (ingest), never by what reads them
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

PLACEHOLDER_VECTOR = [1.0]  # document records are looked up by id, never by similarity
STORE_LAYOUT = 4  # bump when what is stored per passage or document changes (2: content_hash on passages;
# 3: documents stored as their readable text, app.readable; 4: records name their root, file, text hash and
# page starts, and the index remembers its roots)
MARK_PREFIX = "__ragqa__/"  # record ids no file can produce (doc ids have no "__ragqa__/")
RUNNING_MARK = MARK_PREFIX + "ingest-running"
GENERATION_MARK = MARK_PREFIX + "generation"  # changes whenever an ingest changed the index
ROOTS_MARK = MARK_PREFIX + "roots"  # the folders the index was built from, as a JSON list
RECORD_KEYS = ("content_hash", "passages", "ragqa_root", "ragqa_file", "text_hash", "page_starts")
BATCH = 1000  # rows per Chroma call (keeps each HTTP request to a server small)


@dataclass(frozen=True)
class IndexFingerprint:
    """What must match between the index and the running code for vectors to be comparable."""

    embed_model: str
    dimension: int
    chunk_tokens: int
    chunk_overlap_tokens: int
    splitter_version: int
    store_layout: int = STORE_LAYOUT

    def as_metadata(self) -> dict:
        return {f"ragqa_{key}": value for key, value in self.__dict__.items()}

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> "IndexFingerprint | None":
        metadata = metadata or {}
        try:
            return cls(**{key: metadata[f"ragqa_{key}"] for key in cls.__dataclass_fields__})
        except KeyError:
            return None

    def differences(self, found: "IndexFingerprint | None") -> str:
        """What the index was built with, where it differs from now, in words."""
        if found is None:
            return "an older or unknown layout"
        return ", ".join(f"{key}={getattr(found, key)!r} (now {value!r})"
                         for key, value in self.__dict__.items() if getattr(found, key) != value)


@dataclass(frozen=True)
class DocumentVersion:
    """A document's text, metadata and content hash with its embedded passages, ready to be written."""

    doc_id: str
    text: str
    metadata: dict
    content_hash: str
    nodes: list[TextNode]
    root: str = ""  # the folder it was ingested from (absolute)
    file: str = ""  # its file, relative to root
    text_hash: str = ""  # of the text alone: the same text under another name is a duplicate
    page_starts: tuple[int, ...] = ()  # PDFs: offset where each page starts

    def record_metadata(self) -> dict:
        return {**self.metadata, "content_hash": self.content_hash, "passages": len(self.nodes),
                "ragqa_root": self.root, "ragqa_file": self.file, "text_hash": self.text_hash,
                "page_starts": json.dumps(list(self.page_starts))}


@dataclass(frozen=True)
class StoredPassage:
    """A passage as Chroma holds it: id, text and its flat metadata (doc_id, title, publisher, date, url,
    start, end, page, date_int, content_hash, and llama-index's own keys)."""

    id: str
    text: str
    metadata: dict


@dataclass
class DocumentRecord:
    doc_id: str
    content_hash: str
    metadata: dict
    passages: int
    root: str = ""
    file: str = ""
    text_hash: str = ""
    page_starts: tuple[int, ...] = ()

    @classmethod
    def from_metadata(cls, doc_id: str, stored: dict) -> "DocumentRecord":
        metadata = {key: value for key, value in stored.items() if key not in RECORD_KEYS}
        return cls(doc_id=doc_id, content_hash=stored.get("content_hash", ""), metadata=metadata,
                   passages=int(stored.get("passages", 0)), root=stored.get("ragqa_root", ""),
                   file=stored.get("ragqa_file", ""), text_hash=stored.get("text_hash", ""),
                   page_starts=tuple(json.loads(stored.get("page_starts") or "[]")))

    def page_at(self, offset: int) -> int | None:
        return page_of(self.page_starts, offset)


def _roots_of(documents) -> list[str]:
    found = documents.get(ids=[ROOTS_MARK], include=["documents"])
    return list(json.loads(found["documents"][0])) if found["ids"] else []


def _client(settings: Settings, create: bool):
    offline_environment()
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise RagqaError(f"RAGQA_CHROMA_URL must look like http://host:port, not {settings.chroma_url!r}")
        if settings.chroma_token:  # chromadb's own token provider sends `Authorization: Bearer <token>`
            chroma_settings = ChromaSettings(
                anonymized_telemetry=False, allow_reset=False,
                chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
                chroma_client_auth_credentials=settings.chroma_token,
            )
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as problem:  # chromadb raises bare ValueError/ConnectionError/auth errors here
            raise RagqaError(f"cannot use the Chroma server at {settings.chroma_url}: "
                             f"{' '.join(str(problem).split()) or type(problem).__name__}") from None
    if not create:
        check_index_exists(settings)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


class Store:
    """Passages and document records of one index."""

    def __init__(self, settings: Settings, fingerprint: IndexFingerprint, create: bool = False, rebuild: bool = False):
        self.settings = settings
        self.client = _client(settings, create or rebuild)
        passages_name = f"{settings.collection}_passages"
        documents_name = f"{settings.collection}_documents"
        self.roots_before_rebuild: list[str] = []
        if rebuild:
            if documents_name in self._collection_names():  # a rebuild of "every remembered folder" needs them
                self.roots_before_rebuild = _roots_of(self.client.get_collection(documents_name))
            for name in (passages_name, documents_name):
                if name in self._collection_names():
                    self.client.delete_collection(name)
        existing = self._collection_names()
        if not create and passages_name not in existing:
            raise RagqaError(f"the index at {self.location} is empty - run `ragqa ingest` first")
        self.passages = self.client.get_or_create_collection(
            passages_name,
            embedding_function=None,
            metadata=fingerprint.as_metadata(),
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.documents = self.client.get_or_create_collection(documents_name, embedding_function=None)
        found = IndexFingerprint.from_metadata(self.passages.metadata)
        if found != fingerprint:
            raise IndexMismatch(
                f"the index at {self.location} was built with other settings ({fingerprint.differences(found)}); "
                "run `ragqa ingest --rebuild` to rebuild it"
            )

    @functools.cached_property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's view of the passages collection (for removing a document's passages)."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.passages)

    def _collection_names(self) -> set[str]:
        return {getattr(c, "name", c) for c in self.client.list_collections()}

    @property
    def location(self) -> str:
        return self.settings.chroma_url or f"{self.settings.index_dir}/"

    # -- document bookkeeping -------------------------------------------------------------
    def document_records(self) -> dict[str, DocumentRecord]:
        found = self.documents.get(include=["metadatas"])
        return {doc_id: DocumentRecord.from_metadata(doc_id, metadata)
                for doc_id, metadata in zip(found["ids"], found["metadatas"]) if not doc_id.startswith(MARK_PREFIX)}

    def document_record(self, doc_id: str) -> DocumentRecord | None:
        if doc_id.startswith(MARK_PREFIX):
            return None
        found = self.documents.get(ids=[doc_id], include=["metadatas"])
        return DocumentRecord.from_metadata(doc_id, found["metadatas"][0]) if found["ids"] else None

    def document_text(self, doc_id: str) -> str | None:
        if doc_id.startswith(MARK_PREFIX):
            return None
        found = self.documents.get(ids=[doc_id], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    # -- remembered roots -----------------------------------------------------------------------
    def roots(self) -> list[str]:
        """The folders the index was built from (absolute paths, in the order first ingested)."""
        return _roots_of(self.documents)

    def set_roots(self, roots: list[str]) -> None:
        self.documents.upsert(ids=[ROOTS_MARK], documents=[json.dumps(roots)], embeddings=[PLACEHOLDER_VECTOR],
                              metadatas=[{"ragqa_marker": 1}])

    def replace_documents(self, documents: list[DocumentVersion], replacing: set[str]) -> None:
        """Swap in documents' new passages: all new passages, then the records, then the old passages of
        the documents in `replacing` go (see the module docstring for why this order survives a kill at
        any point). A group of documents per call: each Chroma write commits, and one write per document
        cost ~17% of a 200-document ingest."""
        self._upsert_passages([(node, version.content_hash) for version in documents for node in version.nodes])
        for start in range(0, len(documents), BATCH):
            chunk = documents[start:start + BATCH]
            self.documents.upsert(
                ids=[version.doc_id for version in chunk], documents=[version.text for version in chunk],
                metadatas=[version.record_metadata() for version in chunk],
                embeddings=[PLACEHOLDER_VECTOR] * len(chunk))
        for version in documents:
            if version.doc_id in replacing:
                self.passages.delete(where={"$and": [{"document_id": version.doc_id},
                                                     {"content_hash": {"$ne": version.content_hash}}]})

    def _upsert_passages(self, nodes: list[tuple[TextNode, str]]) -> None:
        # ChromaVectorStore.add calls collection.add, which keeps an existing id's old metadata;
        # a re-written passage must carry its document's new hash, so we upsert with the same
        # node-to-metadata conversion llama-index uses (its query side reads these rows back).
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        for start in range(0, len(nodes), BATCH):
            chunk = nodes[start:start + BATCH]
            metadatas = []
            for node, content_hash in chunk:
                metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
                metadatas.append({**{k: ("" if v is None else v) for k, v in metadata.items()},
                                  "content_hash": content_hash})
            self.passages.upsert(ids=[node.node_id for node, _ in chunk], embeddings=[node.get_embedding() for node, _ in chunk],
                                 documents=[node.get_content() for node, _ in chunk], metadatas=metadatas)

    def delete_document(self, doc_id: str) -> None:
        self.documents.delete(ids=[doc_id])
        self.vector_store.delete(ref_doc_id=doc_id)

    # -- interrupted ingests --------------------------------------------------------------------
    def mark_running(self) -> bool:
        """Mark an ingest as running; True when an earlier one never finished (the index needs a sweep)."""
        interrupted = bool(self.documents.get(ids=[RUNNING_MARK])["ids"])
        self.documents.upsert(ids=[RUNNING_MARK], documents=["ingest running"], embeddings=[PLACEHOLDER_VECTOR],
                              metadatas=[{"ragqa_marker": 1}])
        return interrupted

    def mark_finished(self, changed: bool) -> None:
        """Clear the running mark; when the ingest changed anything, stamp a new generation so that
        answering processes (this machine or another) know to reload what they hold in memory."""
        if changed:
            self.documents.upsert(ids=[GENERATION_MARK], documents=["index generation"], embeddings=[PLACEHOLDER_VECTOR],
                                  metadatas=[{"generation": uuid.uuid4().hex}])
        self.documents.delete(ids=[RUNNING_MARK])

    def generation(self) -> str:
        """The stamp of the last ingest that changed the index ("" before any)."""
        found = self.documents.get(ids=[GENERATION_MARK], include=["metadatas"])
        return str(found["metadatas"][0].get("generation", "")) if found["ids"] else ""

    def sweep(self) -> int:
        """Remove passages no record vouches for: of a document without a record (an interrupted
        new document, or one deleted since) or with another content hash (an interrupted update)."""
        hashes = {doc_id: record.content_hash for doc_id, record in self.document_records().items()}
        found = self.passages.get(include=["metadatas"])
        stale = [pid for pid, meta in zip(found["ids"], found["metadatas"])
                 if hashes.get(meta.get("document_id")) != meta.get("content_hash")]
        for start in range(0, len(stale), BATCH):
            self.passages.delete(ids=stale[start:start + BATCH])
        return len(stale)

    # -- reading ------------------------------------------------------------------------------
    def passage_count(self) -> int:
        return self.passages.count()

    def document_count(self) -> int:
        """Documents in the index, counted by Chroma (the reserved marks are records too, not documents)."""
        marks = self.documents.get(ids=[RUNNING_MARK, GENERATION_MARK, ROOTS_MARK], include=[])
        return self.documents.count() - len(marks["ids"])

    def lexical_rows(self):
        """(id, text, title) of every passage, read a batch at a time (what app.lexical indexes)."""
        offset = 0
        while True:
            found = self.passages.get(include=["documents", "metadatas"], limit=BATCH, offset=offset)
            for pid, text, metadata in zip(found["ids"], found["documents"], found["metadatas"]):
                yield pid, text, str(metadata.get("title", ""))
            if len(found["ids"]) < BATCH:
                return
            offset += BATCH

    def passages_by_id(self, ids: list[str]) -> dict[str, StoredPassage]:
        """The passages with these ids (those still stored), by id."""
        found_passages = {}
        for start in range(0, len(ids), BATCH):
            found = self.passages.get(ids=ids[start:start + BATCH], include=["documents", "metadatas"])
            for pid, text, metadata in zip(found["ids"], found["documents"], found["metadatas"]):
                found_passages[pid] = StoredPassage(pid, text, metadata)
        return found_passages

    def dense(self, embedding: list[float], k: int, where: dict | None = None) -> list[tuple[StoredPassage, float]]:
        """The `k` passages nearest to `embedding` (those `where` accepts), nearest first, with their cosine
        distance: the query llama-index's ChromaVectorStore makes, without importing llama-index (app.retrieve)."""
        found = self.passages.query(query_embeddings=embedding, n_results=k, **({"where": where} if where else {}))
        return [(StoredPassage(pid, text, metadata), distance) for pid, text, metadata, distance in
                zip(found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0])]
