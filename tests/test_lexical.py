"""The on-disk BM25 index: same ranking as llama-index's in-memory BM25Retriever, saved by the ingest
that changes the index, opened (memory-mapped, not rebuilt) by a process that finds a current copy,
rebuilt when damaged or stale, one cache per Chroma server and collection."""

from __future__ import annotations

import numpy as np
import pytest
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.retrievers.bm25 import BM25Retriever

from app import lexical
from app.embedding import load_embedder
from app.ingest import ingest, open_store
from tests.conftest import coverage_corpus_dir, make_settings

QUERIES = ["Huawei cloud region Johannesburg", "Ascend chips export controls guidance", "Malaysia retracted",
           "American AI Exports Program", "semiconductor tariffs", "zebra"]


@pytest.fixture(scope="module")
def coverage(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("lexical"))
    ingest(settings, coverage_corpus_dir(), progress=False)
    return settings


def test_ranking_is_llama_index_bm25s(coverage):
    store = open_store(coverage, load_embedder(coverage))
    index = lexical.current_index(store, coverage)
    rows = list(store.lexical_rows())
    stored = store.passages_by_id([pid for pid, _text, _title in rows])
    nodes = [metadata_dict_to_node(passage.metadata, text=passage.text) for passage in stored.values()]
    for node in nodes:  # what our BM25 was before: llama-index's, over title and text
        node.excluded_embed_metadata_keys = [key for key in node.metadata if key != "title"]
    reference = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=10)
    for query in QUERIES:
        expected = [(item.node.node_id, round(item.score, 4)) for item in reference.retrieve(query) if item.score > 0]
        found = [(hit.passage_id, round(hit.score, 4)) for hit in index.search(query, 10)]
        assert found == expected, query
    assert index.search("zebra", 10) == []


def test_ingest_saves_the_copy_that_a_new_process_opens(coverage, monkeypatch):
    store = open_store(coverage, load_embedder(coverage))
    folder = lexical.copy_folder(lexical.cache_root(coverage), store.generation())
    assert (folder / "generation.txt").read_text() == store.generation()

    def no_building(*_args):
        raise AssertionError("a current copy must be opened, not rebuilt")

    monkeypatch.setattr(lexical, "build", no_building)
    opened = lexical.current_index(store, coverage)
    assert isinstance(opened.ids, np.memmap) and isinstance(opened.bm25.scores["data"], np.memmap)
    assert opened.size == store.passage_count() and opened.stats.count == store.passage_count()


def test_a_damaged_copy_is_built_again(coverage):
    store = open_store(coverage, load_embedder(coverage))
    folder = lexical.copy_folder(lexical.cache_root(coverage), store.generation())
    (folder / "stats.json").write_text("{not json")
    rebuilt = lexical.current_index(store, coverage)
    assert rebuilt.size == store.passage_count()
    assert rebuilt.search("Ascend chips", 3)


def test_a_new_generation_replaces_the_old_copy(settings):
    (settings.corpus_dir / "a.txt").write_text("Huawei opened a cloud region in Nairobi in 2024.")
    ingest(settings, progress=False)
    store = open_store(settings, load_embedder(settings))
    first = lexical.copy_folder(lexical.cache_root(settings), store.generation())
    assert first.is_dir()
    (settings.corpus_dir / "b.txt").write_text("The tariff on imported steel rose to 50 percent in June.")
    ingest(settings, progress=False)
    second = lexical.copy_folder(lexical.cache_root(settings), store.generation())
    assert second != first and second.is_dir() and not first.exists()
    assert [hit.passage_id for hit in lexical.load(second).search("steel tariff", 5)]
    if settings.chroma_url:  # a server's copies live in this machine's cache, one folder per server and collection
        assert settings.model_cache_dir in second.parents
    else:
        assert second.parent == settings.index_dir / "lexical"


def test_an_empty_index_searches_to_nothing(tmp_path):
    index = lexical.build(iter(()), "")
    assert index.size == 0 and index.search("anything", 5) == []
    lexical.save(index, tmp_path / "copy")
    assert lexical.load(tmp_path / "copy").search("anything", 5) == []
