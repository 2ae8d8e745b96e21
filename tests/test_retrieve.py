"""Dense and hybrid retrieval give what llama-index's own retrievers give over the same Chroma index:
its VectorStoreIndex retriever (through ChromaVectorStore) and its QueryFusionRetriever in
"relative_score" mode, which app.retrieve did its work with until it stopped importing llama-index.
(BM25's ranking is checked against llama-index's BM25Retriever in test_lexical.)"""

from __future__ import annotations

import math

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from app.passages import date_number, make_splitter
from app.retrieve import FUSION_CANDIDATES, Retriever, SearchFilters

QUERIES = ["When did the Commerce Department warn about Huawei's Ascend chips?", "Huawei cloud region Johannesburg",
           "Malaysia retracted", "American AI Exports Program", "zebra migration"]
FILTERS = [SearchFilters(), SearchFilters(date_from="2025-01-01"), SearchFilters(date_to="2025-07-23"),
           SearchFilters(date_from="2024-01-01", date_to="2025-12-31", publisher="Rest of World"),
           SearchFilters(publisher="nobody")]


def llama_filters(filters: SearchFilters) -> MetadataFilters | None:
    conditions = []
    if filters.date_from:
        conditions.append(MetadataFilter(key="date_int", value=date_number(filters.date_from), operator=FilterOperator.GTE))
    if filters.date_to:
        conditions.append(MetadataFilter(key="date_int", value=date_number(filters.date_to), operator=FilterOperator.LTE))
    if filters.publisher:
        conditions.append(MetadataFilter(key="publisher", value=filters.publisher, operator=FilterOperator.EQ))
    return MetadataFilters(filters=conditions) if conditions else None


class Fixed(BaseRetriever):
    def __init__(self, results):
        super().__init__()
        self._results = results

    def _retrieve(self, query_bundle):
        return self._results


@pytest.fixture(scope="module")
def reference(assistant):
    store, embedder = assistant.store, assistant.retriever.embedder
    splitter = make_splitter(embedder, store.settings.chunk_tokens, store.settings.chunk_overlap_tokens)
    return VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embedder.llama, transformations=[splitter])


def same(passages, expected: list[tuple[str, float]]) -> bool:
    return [p.id for p in passages] == [pid for pid, _ in expected] and \
        [p.score for p in passages] == pytest.approx([score for _, score in expected], rel=1e-12)


@pytest.mark.parametrize("bm25_weight", [0.5, 0.9])  # equal weights, and BM25's fitted share (Settings)
@pytest.mark.parametrize("filters", FILTERS)
def test_dense_and_hybrid_results_are_llama_index_s(assistant, reference, filters, bm25_weight):
    base = assistant.retriever
    retriever = Retriever(base.store, base.embedder, base.lexical, bm25_weight)
    for query in QUERIES:
        for k in (1, 6):
            dense = reference.as_retriever(similarity_top_k=k, filters=llama_filters(filters)).retrieve(QueryBundle(query))
            expected = [(item.node.node_id, 1.0 + math.log(item.score) if item.score else 0.0) for item in dense]
            assert same(retriever.retrieve(query, k, "dense", filters), expected), (query, k, filters)

            lexical = [NodeWithScore(node=metadata_dict_to_node(hit.passage.metadata, text=hit.passage.text),
                                     score=hit.score) for hit in retriever._bm25(query, k * FUSION_CANDIDATES, filters)]
            fusion = QueryFusionRetriever(
                [reference.as_retriever(similarity_top_k=k * FUSION_CANDIDATES, filters=llama_filters(filters)),
                 Fixed(lexical)], llm=MockLLM(), mode="relative_score", num_queries=1, use_async=False,
                similarity_top_k=k, retriever_weights=[1 - retriever.bm25_weight, retriever.bm25_weight])
            expected = [(item.node.node_id, item.score) for item in fusion.retrieve(QueryBundle(query))][:k]
            hybrid = retriever.retrieve(query, k, "hybrid", filters)
            assert same(hybrid, expected), (query, k, filters)
            assert [p.text for p in hybrid] == [assistant.store.passages_by_id([p.id])[p.id].text for p in hybrid]
    if filters.publisher == "nobody":
        assert retriever.retrieve(QUERIES[0], 6, "hybrid", filters) == []

