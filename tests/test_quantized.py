"""The int8 ONNX sentence encoder: same space as the PyTorch model, input order kept, cache reused and
repaired, and answering still works when it cannot be built. (That it costs no eval accuracy is checked
by the eval gate, which runs with it: it is the default.)"""

from __future__ import annotations

import numpy as np
import pytest

from app.embedding import load_embedder
from app.quantized import QuantizedEncoder, load_sentence_encoder, quantized_file
from tests.conftest import coverage_corpus_dir, make_settings

SENTENCES = [
    "Huawei opened a cloud region in Johannesburg.",
    "The Commerce Department said using Huawei Ascend chips anywhere in the world may violate U.S. export controls, "
    "and it published guidance to that effect in May 2025 after consulting industry and allies.",
    "Tariffs.",
    "Malaysia retracted its announcement the next day.",
]


@pytest.fixture(scope="module")
def quantized_settings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quantized")
    return make_settings(tmp, model_cache_dir=tmp / "cache")


@pytest.fixture(scope="module")
def encoder(quantized_settings):
    found = load_sentence_encoder(quantized_settings, load_embedder(quantized_settings))
    assert isinstance(found, QuantizedEncoder)
    return found


def _sentences_of_corpus(limit: int = 60) -> list[str]:
    text = " ".join(path.read_text(encoding="utf-8", errors="ignore")[:3000] for path in sorted(coverage_corpus_dir().glob("*.txt")))
    return [s.strip() for s in text.split(". ") if len(s.split()) >= 5][:limit]


def test_vectors_agree_with_the_pytorch_model(encoder, quantized_settings):
    sentences = _sentences_of_corpus()
    reference = np.asarray(load_embedder(quantized_settings).embed_texts(sentences))
    mine = encoder.embed_texts(sentences)
    assert mine.shape == reference.shape == (len(sentences), 384)
    agreement = (mine * reference).sum(axis=1)  # both unit length
    assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-4)
    assert agreement.min() > 0.97, agreement.min()
    # the ranking the answerer relies on is kept: each sentence is nearest to its own reference vector
    assert ((mine @ reference.T).argmax(axis=1) == np.arange(len(sentences))).all()


def test_length_batching_keeps_input_order(encoder):
    together = encoder.embed_texts(SENTENCES)
    one_by_one = np.vstack([encoder.embed_texts([s]) for s in SENTENCES])
    # int8 activations are scaled per batch, so padding moves a vector a little, never to another row
    # (cosine >= 0.99 on CPUs with VNNI, 0.989 on an AVX2-only EPYC: its int8 kernels round differently)
    agreement = (together * one_by_one).sum(axis=1)
    assert agreement.min() > 0.98, agreement
    assert ((together @ one_by_one.T).argmax(axis=1) == np.arange(len(SENTENCES))).all()
    assert encoder.embed_texts([]).shape[0] == 0


def test_cached_file_is_reused_and_a_damaged_one_is_made_again(encoder, quantized_settings):
    embedder = load_embedder(quantized_settings)
    cached = quantized_file(quantized_settings, embedder)  # the file the encoder fixture made
    assert cached.is_file() and cached.parent == quantized_settings.model_cache_dir
    made = cached.stat().st_mtime_ns
    load_sentence_encoder(quantized_settings, embedder)
    assert cached.stat().st_mtime_ns == made  # not exported again

    cached.write_bytes(b"not an onnx model")
    repaired = load_sentence_encoder(quantized_settings, embedder)
    assert isinstance(repaired, QuantizedEncoder)
    assert np.allclose(repaired.embed_texts(SENTENCES), encoder.embed_texts(SENTENCES), atol=1e-5)


def test_unwritable_cache_still_gives_the_quantized_encoder(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("the cache path is a file, so no folder can be made there")
    settings = make_settings(tmp_path, model_cache_dir=blocked / "cache")
    assert isinstance(load_sentence_encoder(settings, load_embedder(settings)), QuantizedEncoder)


def test_torch_backend_is_the_model_itself(tmp_path):
    settings = make_settings(tmp_path, rerank_backend="torch")
    embedder = load_embedder(settings)
    assert load_sentence_encoder(settings, embedder) is embedder
