"""app.passages: passages sized in the model's word pieces, each at its exact place in the document."""

from __future__ import annotations

import pytest
from llama_index.core.node_parser import SentenceSplitter

from app.config import Settings
from app.corpus import SourceDocument
from app.embedding import load_embedder
from app.passages import date_number, make_splitter, passage_id, split_document
from app.sentences import split_sentences

# Sentences of different lengths, paragraphs of one to many sentences, and one sentence longer than
# any passage: every path of the splitter (whole text, paragraphs, sentences, words) is taken.
SENTENCES = [
    "The Department of Commerce issued guidance on advanced computing chips in May 2025.",
    "Companies risked violating export controls by using them anywhere in the world.",
    "Huawei opened cloud regions in several countries, including Chile, Saudi Arabia and Kenya.",
    "Officials said the rule would take effect at once.",
    " ".join(["An unusually long sentence that keeps going with clause after clause,"] * 12) + " and ends here.",
]
PARAGRAPHS = ["\n\n".join(SENTENCES[i % 5] for i in range(start, start + size))
              for start, size in ((0, 1), (1, 3), (2, 9), (4, 1), (3, 14))]
TEXT = "\n\n\n".join(PARAGRAPHS)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    return load_embedder(Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("index")))


def document(text: str = TEXT) -> SourceDocument:
    return SourceDocument("doc", text, {"title": "A document", "date": "2025-05-13"})


@pytest.mark.parametrize("chunk_tokens, overlap", [(40, 8), (96, 20), (220, 40)])
def test_passages_are_those_of_exact_counting(embedder, chunk_tokens, overlap):
    """Counting a text of more words than the budget as over it, untokenized, changes no passage."""
    exact = SentenceSplitter(chunk_size=chunk_tokens, chunk_overlap=overlap, tokenizer=embedder.token_ids,
                             chunking_tokenizer_fn=split_sentences, include_metadata=False,
                             include_prev_next_rel=False)
    ours = split_document(document(), make_splitter(embedder, chunk_tokens, overlap))
    reference = split_document(document(), exact)
    assert len(ours) > 3
    assert [(n.get_content(), n.metadata["start"]) for n in ours] == \
        [(n.get_content(), n.metadata["start"]) for n in reference]


def test_passages_fit_the_budget_and_sit_at_their_offsets(embedder):
    source = document()
    nodes = split_document(source, make_splitter(embedder, 96, 20))
    for node in nodes:
        start, end = node.metadata["start"], node.metadata["end"]
        assert source.text[start:end] == node.get_content()
        assert embedder.count_tokens(node.get_content()) <= 96
        assert node.id_ == passage_id("doc", start, node.get_content())
        assert node.metadata["date_int"] == 20250513


def test_date_number():
    assert date_number("2025-07-23") == 20250723
    assert date_number("2025-07") == 20250700
    assert date_number("") == 0
    assert date_number("unknown") == 0
