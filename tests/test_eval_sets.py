"""The eval sets: their corpora are laid out from the shared documents, and their indexes kept current."""

import pytest

from app.errors import RagqaError
from app.eval_sets import EvalSet, eval_sets, lay_out, listed_documents, prepare
from tests.conftest import make_settings


def test_a_listed_corpus_is_copied_with_the_paths_its_cases_cite(tmp_path):
    source = tmp_path / "source"
    for doc_id in ("articles/2025-05/a", "fact-sheets/2025-06/b", "articles/2025-07/unlisted"):
        (source / f"{doc_id}.md").parent.mkdir(parents=True, exist_ok=True)
        (source / f"{doc_id}.md").write_text(f"---\ntitle: {doc_id}\n---\nText of {doc_id}.")
    listing = tmp_path / "documents.tsv"
    listing.write_text("articles/2025-05/a\tdev\nfact-sheets/2025-06/b\tdistractor\n")
    corpus = lay_out(EvalSet("sample", source, listing), tmp_path / "corpus")
    assert sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.md")) == \
        ["articles/2025-05/a.md", "fact-sheets/2025-06/b.md"]
    assert listed_documents(listing) == [("articles/2025-05/a", "dev"), ("fact-sheets/2025-06/b", "distractor")]
    listing.write_text("articles/2025-05/missing\ttest\n")
    with pytest.raises(RagqaError, match="not in"):
        lay_out(EvalSet("sample", source, listing), tmp_path / "corpus2")


def test_the_coverage_set_is_indexed_in_its_work_folder_and_reused(tmp_path):
    settings = prepare("coverage", make_settings(tmp_path), tmp_path / "work")
    assert settings.index_dir == tmp_path / "work" / "coverage" / "index"
    assert settings.corpus_dir == eval_sets()["coverage"].source
    again = prepare("coverage", make_settings(tmp_path), tmp_path / "work")  # incremental: nothing to embed
    assert again.index_dir == settings.index_dir
    with pytest.raises(RagqaError, match="no eval set"):
        prepare("nonesuch", make_settings(tmp_path), tmp_path / "work")
