"""The embedder: both backends give unit vectors of one size, the index records which one made them,
word pieces are counted as the model counts them, llama-index sees the same vectors, and answering
with the int8 backend never imports torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from app.embedding import load_embedder
from tests.conftest import ROOT, make_settings

TEXTS = ["Huawei opened a cloud region in Johannesburg.", "Tariffs.", "The U.S. Commerce Department warned in May."]


@pytest.fixture(scope="module", params=["onnx-int8", "torch"])
def embedder(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("embedding")
    return load_embedder(make_settings(tmp, embed_backend=request.param, model_cache_dir=tmp / "cache"))


def test_unit_vectors_of_the_model_dimension(embedder):
    vectors = embedder.embed_texts(TEXTS)
    assert vectors.shape == (3, embedder.dimension) == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.embed_texts([]).shape == (0, 384)
    assert embedder.max_tokens == 256


def test_token_vectors_come_with_the_vectors_from_the_same_run(embedder):
    vectors, pieces = embedder.embed_with_tokens(TEXTS)
    assert np.allclose(vectors, embedder.embed_texts(TEXTS), atol=1e-5)
    for text, tokens in zip(TEXTS, pieces):
        words = [text[a:b] for a, b in tokens.offsets]
        assert "".join(words) == text.replace(" ", "")  # every piece, in order, no [CLS] or [SEP]
        assert tokens.vectors.shape == (len(words), 384)
    assert embedder.embed_with_tokens([])[0].shape == (0, 384)


def test_llama_index_sees_the_same_vectors(embedder):
    query = embedder.llama.get_query_embedding(TEXTS[0])
    assert np.allclose(query, embedder.embed_texts([TEXTS[0]])[0], atol=1e-5)
    batch = embedder.llama.get_text_embedding_batch(TEXTS)
    assert np.allclose(batch, embedder.embed_texts(TEXTS), atol=1e-5)


def test_word_pieces_are_counted_as_the_model_tokenizes(embedder):
    from transformers import AutoTokenizer

    from app.embedding import model_path

    reference = AutoTokenizer.from_pretrained(str(model_path(make_settings(ROOT))))
    text = "Huawei's Ascend 910B chips, per the Bureau of Industry and Security (BIS), 2025-05-13."
    assert embedder.token_ids(text) == reference.encode(text, add_special_tokens=False)
    long_text = "word " * 400
    assert embedder.count_tokens(long_text) == 400  # counting never truncates at the model's 256


def test_common_words_are_whole_in_the_vocabulary_and_rare_ones_in_pieces(embedder):
    assert embedder.is_whole_word("decide") and embedder.is_whole_word("Retracted")
    assert not embedder.is_whole_word("Kirin") and not embedder.is_whole_word("Huawei")


def test_the_index_records_the_backend(tmp_path):
    names = {load_embedder(make_settings(tmp_path, embed_backend=backend, model_cache_dir=tmp_path / "c")).name
             for backend in ("onnx-int8", "torch")}
    assert names == {"all-MiniLM-L6-v2", "all-MiniLM-L6-v2/onnx-int8f7b"}


def test_the_int8_backend_does_not_import_torch(tmp_path):
    load_embedder(make_settings(tmp_path, model_cache_dir=tmp_path / "cache"))  # the int8 file exists now
    code = ("import sys; from app.config import Settings; from app.embedding import load_embedder; "
            f"e = load_embedder(Settings(_env_file=None, model_cache_dir={str(tmp_path / 'cache')!r})); "
            "e.embed_texts(['a question']); "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert found.stdout.strip() == "[]", found.stderr
