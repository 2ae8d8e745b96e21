"""Dense, BM25 and hybrid retrieval behind one call, returning our own Passage type.

- dense: the query's vector against the Chroma collection (cosine), the query llama-index's
  VectorStoreIndex retriever makes through its ChromaVectorStore;
- bm25: bm25s (the library llama-index's BM25Retriever runs on, same tokenizing and scoring) over a
  memory-mapped index on disk (app.lexical); the hits' texts and metadata are read from Chroma;
- hybrid: both fused the way llama-index's QueryFusionRetriever does in its "relative_score" mode (one
  query, no query rewriting): each list's scores are scaled to 0-1 and added with the lists' weights
  (BM25's share `Settings.hybrid_bm25_weight`, chosen on the dev splits by scripts/fit_fusion.py), so a
  passage far ahead in one list stays ahead. Reciprocal-rank fusion keeps only the ranks and settles a tie (first in one
  list, second in the other) by list order; measured on the coverage cases (2026-12-01), relative
  scores gave hybrid accuracy 0.871 vs 0.859 and hit@1 0.953 vs 0.929, and with the White House
  distractors accuracy 0.847 vs 0.824 and hit@5 0.953 vs 0.918.
Filters (date range, publisher) go to Chroma as a `where` for dense and are applied to BM25's
ranked list, which is over-fetched for that purpose.

Why not llama-index's retrievers themselves, which this module used until issue 15: importing
llama_index.core imports the whole framework (SQLAlchemy, workflows, Jinja, ...), about half of a cold
`ragqa ask` and of a server's start, for what is one Chroma query and a dozen lines of arithmetic.
Both are written here step for step as llama-index 0.14 does them (its scores are exp(-distance)
before fusion, min-max scaling, normalised weights, a stable sort), and tests/test_retrieve.py checks that
the results and scores are llama-index's own on the coverage index, so the answers did not change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.config import RetrieverName
from app.embedding import Embedder
from app.lexical import LexicalIndex
from app.passages import date_number
from app.schema import Passage
from app.store import Store, StoredPassage

FUSION_CANDIDATES = 3  # each retriever fetches this many times k before fusion


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on which documents may answer."""

    date_from: str | None = None
    date_to: str | None = None
    publisher: str | None = None

    def is_empty(self) -> bool:
        return not (self.date_from or self.date_to or self.publisher)

    def as_where(self) -> dict | None:
        """The filters as a Chroma `where` (llama-index's MetadataFilters translate to the same)."""
        conditions = []
        if self.date_from:
            conditions.append({"date_int": {"$gte": date_number(self.date_from)}})
        if self.date_to:
            conditions.append({"date_int": {"$lte": date_number(self.date_to)}})
        if self.publisher:
            conditions.append({"publisher": {"$eq": self.publisher}})
        if len(conditions) > 1:
            return {"$and": conditions}
        return conditions[0] if conditions else None

    def accepts(self, metadata: dict) -> bool:
        date = metadata.get("date_int", 0)
        if self.date_from and date < date_number(self.date_from):
            return False
        if self.date_to and date > date_number(self.date_to):
            return False
        return not self.publisher or metadata.get("publisher") == self.publisher


@dataclass
class Hit:
    """A retrieved passage and its score (in the scale of the list it is in)."""

    passage: StoredPassage
    score: float


def to_passage(hit: Hit) -> Passage:
    """Convert at the boundary: stored rows stop here."""
    meta = hit.passage.metadata
    return Passage(
        id=hit.passage.id,
        doc_id=meta.get("doc_id", ""),
        title=meta.get("title", ""),
        publisher=meta.get("publisher", ""),
        date=meta.get("date", ""),
        url=meta.get("url", ""),
        text=hit.passage.text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        page=int(meta.get("page") or 0) or None,
        score=float(hit.score or 0.0),
    )


def relative_score_fusion(lists: list[list[Hit]], k: int, weights: list[float] | None = None) -> list[Hit]:
    """The best `k` of several ranked lists, as QueryFusionRetriever(mode="relative_score") fuses them with
    one query: each list min-max scaled to 0-1 (a list of one score: 1 if it is positive), multiplied by
    its weight (its `retriever_weights`, normalised to sum to 1; default equal), summed per passage (first
    seen kept), sorted by the sum (ties keep their order)."""
    weights = weights or [1.0] * len(lists)
    fused: dict[str, Hit] = {}
    for hits, weight in zip(lists, [w / sum(weights) for w in weights]):
        scores = [hit.score or 0.0 for hit in hits]
        low, high = (min(scores), max(scores)) if scores else (0.0, 0.0)
        for hit in hits:
            scaled = (1.0 if high > 0 else 0.0) if high == low else (hit.score - low) / (high - low)
            scaled = (scaled or 0.0) * weight
            if hit.passage.id in fused:
                fused[hit.passage.id].score = (fused[hit.passage.id].score or 0.0) + scaled
            else:
                fused[hit.passage.id] = Hit(hit.passage, scaled)
    return sorted(fused.values(), key=lambda hit: hit.score or 0.0, reverse=True)[:k]


class Retriever:
    """The three retrieval methods over one store. Holds no per-request state: any number of threads
    may retrieve at once (the lexical index and the store's collections are read-only here)."""

    def __init__(self, store: Store, embedder: Embedder, lexical: LexicalIndex, bm25_weight: float):
        self.store = store
        self.embedder = embedder
        self.lexical = lexical
        self.bm25_weight = bm25_weight  # BM25's share of the hybrid score (Settings.hybrid_bm25_weight)

    def with_lexical(self, lexical: LexicalIndex) -> "Retriever":
        """The same retriever over a newer lexical index (after an ingest changed the store)."""
        return Retriever(self.store, self.embedder, lexical, self.bm25_weight)

    def retrieve(self, query: str, k: int, method: RetrieverName = "hybrid", filters: SearchFilters | None = None) -> list[Passage]:
        filters = filters or SearchFilters()
        if not self.lexical.size:
            return []
        if method == "dense":
            found = self._dense(query, k, filters)
            for hit in found:  # the fused scale is exp(-distance); a dense list alone gives back the cosine
                hit.score = 1.0 + math.log(hit.score) if hit.score else 0.0
        elif method == "bm25":
            found = self._bm25(query, k, filters)
        else:
            found = relative_score_fusion([self._dense(query, k * FUSION_CANDIDATES, filters),
                                           self._bm25(query, k * FUSION_CANDIDATES, filters)], k,
                                          [1.0 - self.bm25_weight, self.bm25_weight])
        return [to_passage(hit) for hit in found[:k]]

    def _dense(self, query: str, k: int, filters: SearchFilters) -> list[Hit]:
        """The nearest passages, scored exp(-cosine distance) as ChromaVectorStore scores them."""
        found = self.store.dense(self.embedder.embed_query(query), k, filters.as_where())
        return [Hit(passage, math.exp(-distance)) for passage, distance in found]

    def _bm25(self, query: str, k: int, filters: SearchFilters) -> list[Hit]:
        """BM25's best passages, read from the store; with filters, over-fetched and then filtered."""
        hits = self.lexical.search(query, k if filters.is_empty() else k * 10)
        stored = self.store.passages_by_id([hit.passage_id for hit in hits])
        found = [Hit(stored[hit.passage_id], hit.score) for hit in hits if hit.passage_id in stored]
        return [hit for hit in found if filters.accepts(hit.passage.metadata)][:k]
