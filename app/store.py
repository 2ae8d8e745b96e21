"""The only module that talks to Chroma: an embedded PersistentClient, or an HttpClient for a server.

Two collections: `<name>_passages` (vectors, passage text, metadata; written and queried through
llama-index's ChromaVectorStore) and `<name>_documents` (one record per document: full text,
metadata, content hash). Keeping the incremental-ingest bookkeeping in Chroma itself, rather than
in llama-index's IngestionPipeline docstore on local disk, means a Chroma server holds everything
and several machines can share it. The passages collection's metadata records the embedding model
and splitter settings; opening it with other settings is an error that names the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from app.config import Settings, offline_environment
from app.errors import RagqaError

PLACEHOLDER_VECTOR = [1.0]  # document records are looked up by id, never by similarity


@dataclass(frozen=True)
class IndexFingerprint:
    """What must match between the index and the running code for vectors to be comparable."""

    embed_model: str
    dimension: int
    chunk_tokens: int
    chunk_overlap_tokens: int
    splitter_version: int

    def as_metadata(self) -> dict:
        return {f"ragqa_{key}": value for key, value in self.__dict__.items()}

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> "IndexFingerprint | None":
        metadata = metadata or {}
        try:
            return cls(**{key: metadata[f"ragqa_{key}"] for key in cls.__dataclass_fields__})
        except KeyError:
            return None


@dataclass
class DocumentRecord:
    doc_id: str
    content_hash: str
    metadata: dict
    passages: int


def _client(settings: Settings, create: bool):
    offline_environment()
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else None
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                headers=headers,
                settings=chroma_settings,
            )
        except Exception as problem:  # chromadb raises bare ValueError/ConnectionError here
            raise RagqaError(f"cannot reach the Chroma server at {settings.chroma_url}: {problem}") from None
    if not create and not (settings.index_dir / "chroma.sqlite3").exists():
        raise RagqaError(f"no index at {settings.index_dir}/ - run `ragqa ingest` first")
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


class Store:
    """Passages and document records of one index."""

    def __init__(self, settings: Settings, fingerprint: IndexFingerprint, create: bool = False, rebuild: bool = False):
        self.settings = settings
        self.client = _client(settings, create or rebuild)
        passages_name = f"{settings.collection}_passages"
        documents_name = f"{settings.collection}_documents"
        if rebuild:
            for name in (passages_name, documents_name):
                if name in {c.name for c in self.client.list_collections()}:
                    self.client.delete_collection(name)
        existing = {c.name for c in self.client.list_collections()}
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
            raise RagqaError(
                f"the index at {self.location} was built with other settings ({found}); "
                "run `ragqa ingest --rebuild` to rebuild it"
            )
        self.vector_store = ChromaVectorStore(chroma_collection=self.passages)

    @property
    def location(self) -> str:
        return self.settings.chroma_url or f"{self.settings.index_dir}/"

    # -- document bookkeeping -------------------------------------------------------------
    def document_records(self) -> dict[str, DocumentRecord]:
        found = self.documents.get(include=["metadatas"])
        records = {}
        for doc_id, metadata in zip(found["ids"], found["metadatas"]):
            metadata = dict(metadata)
            records[doc_id] = DocumentRecord(
                doc_id=doc_id,
                content_hash=metadata.pop("content_hash", ""),
                passages=int(metadata.pop("passages", 0)),
                metadata=metadata,
            )
        return records

    def document_text(self, doc_id: str) -> str | None:
        found = self.documents.get(ids=[doc_id], include=["documents"])
        return found["documents"][0] if found["ids"] else None

    def replace_document(self, doc_id: str, text: str, metadata: dict, content_hash: str, nodes: list[TextNode]) -> None:
        """Swap in a document's new passages; its record is written last, so a crash mid-way
        leaves no record and the next ingest redoes the document (deleting its partial passages)."""
        self.documents.delete(ids=[doc_id])
        self.vector_store.delete(ref_doc_id=doc_id)
        if nodes:
            self.vector_store.add(nodes)
        record = {**metadata, "content_hash": content_hash, "passages": len(nodes)}
        self.documents.upsert(ids=[doc_id], documents=[text], metadatas=[record], embeddings=[PLACEHOLDER_VECTOR])

    def delete_document(self, doc_id: str) -> None:
        self.documents.delete(ids=[doc_id])
        self.vector_store.delete(ref_doc_id=doc_id)

    def delete_orphan_passages(self, known_doc_ids: set[str]) -> int:
        """Remove passages whose document has no record (left by an interrupted ingest)."""
        found = self.passages.get(include=["metadatas"])
        orphans = [pid for pid, meta in zip(found["ids"], found["metadatas"]) if meta.get("document_id") not in known_doc_ids]
        for start in range(0, len(orphans), 5000):
            self.passages.delete(ids=orphans[start:start + 5000])
        return len(orphans)

    # -- reading ------------------------------------------------------------------------------
    def passage_count(self) -> int:
        return self.passages.count()

    def all_nodes(self) -> list[TextNode]:
        """Every passage as a llama-index node (for BM25, which indexes in memory)."""
        found = self.passages.get(include=["documents", "metadatas"])
        nodes = []
        for pid, text, metadata in zip(found["ids"], found["documents"], found["metadatas"]):
            node = metadata_dict_to_node(metadata, text=text)
            node.id_ = pid
            nodes.append(node)
        return nodes
