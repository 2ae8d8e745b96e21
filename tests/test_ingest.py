"""Ingest, incremental update and ask against a real Chroma (embedded in a temp folder, and a real
`chroma run` server: the `settings` fixture runs every test here in both) with the real model."""

import pytest

from app.assistant import Assistant
from app.embedding import load_embedder
from app.errors import RagqaError
from app.ingest import ingest, open_store

LONG = " ".join(f"Sentence number {i} says that Huawei sold servers in country {i}." for i in range(120))


@pytest.fixture
def corpus(settings):
    folder = settings.corpus_dir
    (folder / "alpha.txt").write_text("Huawei pitched Ascend chips in Thailand. " * 3, encoding="utf-8")
    (folder / "beta.txt").write_text(LONG, encoding="utf-8")
    (folder / "gamma.md").write_text("---\ntitle: Gamma\n---\nThe order was signed on July 23, 2025.", encoding="utf-8")
    return folder


def passages_of(settings, doc_id):
    store = open_store(settings, load_embedder(settings))
    found = store.passages.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
    return found


def count_embedding_calls(monkeypatch, settings):
    embedder = load_embedder(settings)
    calls = []
    original = type(embedder).embed_texts

    def counting(self, texts):
        calls.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(type(embedder), "embed_texts", counting)
    return calls


def test_unchanged_corpus_embeds_nothing(settings, corpus, monkeypatch):
    first = ingest(settings, progress=False)
    assert (len(first.added), first.passages_embedded) == (3, first.passages_total)
    calls = count_embedding_calls(monkeypatch, settings)
    second = ingest(settings, progress=False)
    assert (second.added, second.updated, len(second.unchanged), second.removed) == ([], [], 3, [])
    assert second.passages_embedded == 0 and calls == []
    assert second.passages_total == first.passages_total


def test_changed_and_deleted_files_are_reflected(settings, corpus):
    ingest(settings, progress=False)
    old_ids = set(passages_of(settings, "alpha")["ids"])
    (corpus / "alpha.txt").write_text("Huawei pitched Ascend chips in Egypt instead.", encoding="utf-8")
    (corpus / "gamma.md").unlink()
    report = ingest(settings, progress=False)
    assert (report.updated, report.removed, len(report.unchanged)) == (["alpha"], ["gamma"], 1)
    assert "1 removed (gamma)" in report.summary()
    alpha = passages_of(settings, "alpha")
    assert alpha["documents"] == ["Huawei pitched Ascend chips in Egypt instead."]
    assert not old_ids & set(alpha["ids"])
    assert passages_of(settings, "gamma")["ids"] == []
    store = open_store(settings, load_embedder(settings))
    assert set(store.document_records()) == {"alpha", "beta"}
    assert store.passage_count() == report.passages_total


def test_metadata_change_alone_updates_the_document(settings, corpus):
    ingest(settings, progress=False)
    (corpus / "gamma.md").write_text("---\ntitle: Gamma renamed\n---\nThe order was signed on July 23, 2025.")
    report = ingest(settings, progress=False)
    assert report.updated == ["gamma"]
    assert passages_of(settings, "gamma")["metadatas"][0]["title"] == "Gamma renamed"


def test_passages_fit_the_model_and_point_into_their_document(settings, corpus):
    ingest(settings, progress=False)
    embedder = load_embedder(settings)
    store = open_store(settings, embedder)
    found = store.passages.get(include=["documents", "metadatas"])
    assert len(found["ids"]) > 3  # the long document was split
    for text, meta in zip(found["documents"], found["metadatas"]):
        document = store.document_text(meta["doc_id"])
        assert document[meta["start"]:meta["end"]] == text
        assert len(embedder.token_ids(text)) + 2 <= embedder.max_tokens  # +[CLS] +[SEP]
        assert meta["title"] and "date_int" in meta


def test_passage_ids_are_stable_across_rebuilds(settings, corpus):
    ingest(settings, progress=False)
    before = sorted(passages_of(settings, "beta")["ids"])
    ingest(settings, rebuild=True, progress=False)
    assert sorted(passages_of(settings, "beta")["ids"]) == before


def test_an_ingest_that_encodes_in_a_child_process_writes_the_same_index(settings, corpus, tmp_path):
    """The large-ingest path (app.encoder_process) against the in-process one, several groups each."""
    def index_of(settings_):
        ingest(settings_, progress=False)
        found = open_store(settings_, load_embedder(settings_)).passages.get(include=["documents", "embeddings"])
        return {pid: (text, vector.tolist()) for pid, text, vector in
                zip(found["ids"], found["documents"], found["embeddings"])}

    in_process = index_of(settings.model_copy(update={"ingest_group_passages": 2}))
    in_child = index_of(settings.model_copy(update={
        "ingest_group_passages": 2, "encoder_process_min_chars": 0, "index_dir": tmp_path / "index-child",
        "collection": f"{settings.collection}-child"}))
    assert len(in_process) > 3 and in_child == in_process


def test_corrupt_file_is_skipped_with_a_warning(settings, corpus):
    (corpus / "broken.pdf").write_bytes(b"not a pdf at all")
    report = ingest(settings, progress=False)
    assert len(report.added) == 3
    assert len(report.warnings) == 1 and "broken.pdf" in report.warnings[0]


def test_index_built_with_other_settings_asks_for_rebuild(settings, corpus):
    ingest(settings, progress=False)
    other = settings.model_copy(update={"chunk_tokens": 120})
    with pytest.raises(RagqaError, match="ragqa ingest --rebuild"):
        open_store(other, load_embedder(other))
    ingest(other, rebuild=True, progress=False)
    assert open_store(other, load_embedder(other)).passage_count() > 0


def test_missing_index_is_a_clear_error(settings):
    with pytest.raises(RagqaError, match="run `ragqa ingest` first"):
        open_store(settings, load_embedder(settings))


def test_ask_answers_from_the_index(settings, corpus):
    ingest(settings, progress=False)
    answer = Assistant.load(settings).ask("When was the order signed?")
    assert not answer.abstained and "July 23, 2025" in answer.answer
    assert answer.citations[0].doc_id == "gamma"


def test_server_mode_keeps_nothing_on_local_disk(settings, corpus):
    ingest(settings, progress=False)
    Assistant.load(settings).ask("When was the order signed?")
    assert settings.index_dir.exists() == (settings.chroma_url is None)


def test_a_document_saved_under_two_names_is_indexed_and_cited_once(settings, corpus):
    (corpus / "zeta-copy.md").write_text((corpus / "gamma.md").read_text(), encoding="utf-8")
    report = ingest(settings, progress=False)
    assert len(report.added) == 3 and report.warnings == ["skipped zeta-copy: same text as gamma"]
    answer = Assistant.load(settings).ask("When was the order signed?")
    assert [c.doc_id for c in answer.citations] == ["gamma"]


def test_index_written_by_another_embedding_model_is_refused_and_kept(settings, corpus):
    from app.store import IndexFingerprint, Store

    other = IndexFingerprint(embed_model="multilingual-e5-large", dimension=1024, chunk_tokens=200,
                             chunk_overlap_tokens=40, splitter_version=3)
    Store(settings, other, create=True).passages.add(ids=["p1"], embeddings=[[0.5] * 1024], documents=["kept"])
    for attempt in (lambda: open_store(settings, load_embedder(settings)), lambda: ingest(settings, progress=False)):
        with pytest.raises(RagqaError) as refused:
            attempt()
        message = str(refused.value)
        assert "multilingual-e5-large" in message and "ragqa ingest --rebuild" in message and "\n" not in message
    assert Store(settings, other).passages.get(ids=["p1"])["documents"] == ["kept"]  # nothing lost
    ingest(settings, rebuild=True, progress=False)
    assert "July 23, 2025" in Assistant.load(settings).ask("When was the order signed?").answer


def test_a_running_assistant_picks_up_an_ingest_made_elsewhere(settings, corpus):
    """BM25 and term statistics live in memory: a new index generation makes the assistant rebuild them."""
    ingest(settings, progress=False)
    assistant = Assistant.load(settings.model_copy(update={"refresh_seconds": 0.0}))
    assert assistant.refresh_if_changed() is None  # nothing changed since it loaded
    generation = assistant.store.generation()
    assert generation

    ingest(settings, progress=False)  # a no-op ingest stamps no new generation
    assert assistant.store.generation() == generation

    (corpus / "delta.txt").write_text("Zanzibarite cables were laid by Huawei Marine in 2019.", encoding="utf-8")
    ingest(settings, progress=False)  # as another process or machine would
    assert "delta" not in {p.doc_id for p in assistant.retriever.retrieve("Zanzibarite cables", 3, "bm25")}
    reload = assistant.refresh_if_changed()
    assert reload is not None
    reload.join(timeout=120)
    found = assistant.search("Zanzibarite cables", k=3, retriever="bm25")
    assert found and found[0].doc_id == "delta"
    assert assistant.answerer.stats.frequency.get("zanzibarit", 0) == 1
    assert assistant.refresh_if_changed() is None


def test_an_empty_folder_never_empties_the_index(settings, corpus, tmp_path):
    others = tmp_path / "distractors"
    others.mkdir()
    (others / "delta.txt").write_text("An unrelated statement about trade.", encoding="utf-8")
    first = ingest(settings, [corpus, others], progress=False)
    moved = tmp_path / "moved"
    moved.mkdir()
    for path in list(corpus.iterdir()):  # as if the disk holding the corpus were not mounted
        path.rename(moved / path.name)
    (corpus / "README.md").write_text("put documents here", encoding="utf-8")  # skipped by the loader
    for roots in (None, [corpus], [corpus, others]):  # every folder, the corpus alone, or beside distractors
        with pytest.raises(RagqaError, match="holds no documents; nothing was changed"):
            ingest(settings, roots, progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    report = ingest(settings, [empty], progress=False)  # a new empty folder removes nothing
    assert report.removed == [] and report.warnings == [f"{empty.resolve()} holds no documents"]
    store = open_store(settings, load_embedder(settings))
    assert set(store.document_records()) == {"alpha", "beta", "gamma", "delta"}
    assert store.passage_count() == first.passages_total
    rebuilt = ingest(settings, [empty], rebuild=True, progress=False)  # emptying it on purpose
    assert rebuilt.passages_total == 0


def test_ingest_of_another_folder_keeps_the_corpus(settings, corpus, tmp_path):
    ingest(settings, progress=False)  # no folder and none remembered: the corpus
    other = tmp_path / "other"
    other.mkdir()
    (other / "delta.txt").write_text("Zanzibarite cables were laid by Huawei Marine in 2019.", encoding="utf-8")
    (other / "epsilon.txt").write_text("The ministry signed a cloud contract in Nairobi.", encoding="utf-8")
    report = ingest(settings, [other], progress=False)
    assert (report.added, report.removed) == (["delta", "epsilon"], [])
    assert report.roots == [str(corpus.resolve()), str(other.resolve())]
    store = open_store(settings, load_embedder(settings))
    assert set(store.document_records()) == {"alpha", "beta", "gamma", "delta", "epsilon"}
    (other / "epsilon.txt").unlink()
    (corpus / "zeta.txt").write_text("A new memo about data centres.", encoding="utf-8")
    again = ingest(settings, progress=False)  # no folder: every remembered one is brought up to date
    assert (again.added, again.removed) == (["zeta"], ["epsilon"]) and "1 removed (epsilon)" in again.summary()
    only_corpus = ingest(settings, [corpus], progress=False)
    assert only_corpus.removed == [] and "delta" in open_store(settings, load_embedder(settings)).document_records()


def test_remove_forgets_a_folder_and_its_documents_but_not_its_files(settings, corpus, tmp_path):
    from app.ingest import remove_roots

    other = tmp_path / "other"
    other.mkdir()
    (other / "delta.txt").write_text("Zanzibarite cables were laid by Huawei Marine in 2019.", encoding="utf-8")
    ingest(settings, [corpus, other], progress=False)
    assistant = Assistant.load(settings.model_copy(update={"refresh_seconds": 0.0}))
    with pytest.raises(RagqaError, match="is not a folder of this index"):
        remove_roots(settings, [tmp_path / "never-ingested"])
    report = remove_roots(settings, [other])
    assert report.removed == ["delta"] and report.roots == [str(corpus.resolve())]
    assert (other / "delta.txt").is_file()
    store = open_store(settings, load_embedder(settings))
    assert set(store.document_records()) == {"alpha", "beta", "gamma"}
    assert ingest(settings, progress=False).added == []  # the forgotten folder is not read again
    reload = assistant.refresh_if_changed()
    reload.join(timeout=120)
    assert "delta" not in {p.doc_id for p in assistant.search("Zanzibarite cables", k=3)}


def test_a_folder_cannot_replace_or_repeat_another_folders_documents(settings, corpus, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "alpha.txt").write_text("Another alpha, from another folder.", encoding="utf-8")
    (other / "copy.md").write_text((corpus / "gamma.md").read_text(), encoding="utf-8")
    ingest(settings, progress=False)
    report = ingest(settings, [other], progress=False)
    assert report.added == [] and len(report.warnings) == 2
    assert "id alpha already used" in report.warnings[0] and report.warnings[1] == "skipped copy: same text as gamma"
    assert "Thailand" in open_store(settings, load_embedder(settings)).document_text("alpha")


def test_rebuild_without_a_folder_rebuilds_every_remembered_folder(settings, corpus, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "delta.txt").write_text("An unrelated statement about trade.", encoding="utf-8")
    ingest(settings, [corpus, other], progress=False)
    rebuilt = ingest(settings, rebuild=True, progress=False)
    assert sorted(rebuilt.added) == ["alpha", "beta", "delta", "gamma"]


def test_an_exclusive_ingest_holds_exactly_its_folders(settings, corpus, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "delta.txt").write_text("An unrelated statement about trade.", encoding="utf-8")
    ingest(settings, [corpus, other], progress=False)
    report = ingest(settings, [other], exclusive=True, progress=False)
    assert sorted(report.removed) == ["alpha", "beta", "gamma"] and report.roots == [str(other.resolve())]
