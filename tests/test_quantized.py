"""The int8 ONNX encoder: same space as the PyTorch model, input order kept, cache reused and repaired,
and made in a temporary folder when the cache cannot be written. (That it costs no eval accuracy is
checked by the eval gate, which runs with it, and shown beside the PyTorch index by `make bench`.)"""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import Tokenizer

from app.embedding import PACKAGED_NAME, load_embedder, model_path
from app.quantized import QuantizedEncoder, open_quantized_encoder, quantized_file, weights_digest
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


def _open(settings, threads: int = 1, remembered: int = 0) -> QuantizedEncoder:
    folder = model_path(settings)
    return open_quantized_encoder(folder, settings.model_cache_dir, PACKAGED_NAME,
                                  Tokenizer.from_file(str(folder / "tokenizer.json")), 256, threads, remembered)


@pytest.fixture(scope="module")
def encoder(quantized_settings):
    return _open(quantized_settings)


def _sentences_of_corpus(limit: int = 60) -> list[str]:
    text = " ".join(path.read_text(encoding="utf-8", errors="ignore")[:3000] for path in sorted(coverage_corpus_dir().glob("*.txt")))
    return [s.strip() for s in text.split(". ") if len(s.split()) >= 5][:limit]


def test_vectors_agree_with_the_pytorch_model(encoder, quantized_settings):
    sentences = _sentences_of_corpus()
    torch_settings = quantized_settings.model_copy(update={"embed_backend": "torch"})
    reference = np.asarray(load_embedder(torch_settings).embed_texts(sentences))
    mine = encoder.embed_texts(sentences)
    assert mine.shape == reference.shape == (len(sentences), 384)
    agreement = (mine * reference).sum(axis=1)  # both unit length
    assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-4)
    assert agreement.min() > 0.97, agreement.min()
    # the ranking the answerer relies on is kept: each sentence is nearest to its own reference vector
    assert ((mine @ reference.T).argmax(axis=1) == np.arange(len(sentences))).all()


def test_a_vector_does_not_depend_on_the_texts_beside_it_or_the_threads(encoder, quantized_settings):
    together = encoder.embed_texts(SENTENCES)
    one_by_one = np.vstack([encoder.embed_texts([s]) for s in SENTENCES])
    on_two_threads = _open(quantized_settings, threads=2).embed_texts(list(reversed(SENTENCES)))[::-1]
    # each text is its own run: int8 activations are scaled per run, so a batch would move a vector
    # with its neighbours' padding and values; order and threads change nothing
    assert np.allclose(together, one_by_one, atol=1e-6)
    assert np.allclose(together, on_two_threads, atol=1e-6)
    assert encoder.embed_texts([]).shape[0] == 0


class CountingSession:
    """The real ONNX Runtime session, counting the texts it encodes."""

    def __init__(self, session):
        self.session, self.runs = session, 0

    def run(self, outputs, feeds):
        self.runs += 1
        return self.session.run(outputs, feeds)


def test_remembered_texts_are_not_encoded_again_and_give_the_same_vectors(encoder, quantized_settings):
    keeping = _open(quantized_settings, threads=2, remembered=3)
    keeping.session = counting = CountingSession(keeping.session)
    first = keeping.embed_texts(SENTENCES[:3], remember=True)
    assert counting.runs == 3
    again = keeping.embed_texts([SENTENCES[2], SENTENCES[0], SENTENCES[2]], remember=True)
    assert counting.runs == 3  # all three kept
    assert np.array_equal(again, first[[2, 0, 2]])
    assert np.array_equal(first, encoder.embed_texts(SENTENCES[:3]))  # bit for bit what encoding gives
    keeping.embed_texts([SENTENCES[3]], remember=True)  # a fourth: the least recently used (SENTENCES[1]) goes
    keeping.embed_texts([SENTENCES[1]], remember=True)
    assert counting.runs == 5
    keeping.embed_texts(SENTENCES[:1])  # not asked to remember: encoded
    assert counting.runs == 6


def test_cached_file_is_reused_and_a_damaged_one_is_made_again(encoder, quantized_settings):
    cached = quantized_file(model_path(quantized_settings), quantized_settings.model_cache_dir, PACKAGED_NAME)
    assert cached.is_file() and cached.parent == quantized_settings.model_cache_dir  # the fixture's file
    made = cached.stat().st_mtime_ns
    _open(quantized_settings)
    assert cached.stat().st_mtime_ns == made  # not exported again

    cached.write_bytes(b"not an onnx model")
    repaired = _open(quantized_settings)
    assert cached.stat().st_mtime_ns != made
    assert np.allclose(repaired.embed_texts(SENTENCES), encoder.embed_texts(SENTENCES), atol=1e-5)


def test_unwritable_cache_is_made_in_a_temporary_folder(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("the cache path is a file, so no folder can be made there")
    settings = make_settings(tmp_path, model_cache_dir=blocked / "cache")
    vectors = _open(settings).embed_texts(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 384)


def test_a_remembered_weights_hash_follows_the_weights(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(b"first weights")
    cache = tmp_path / "cache"
    first = weights_digest(model)
    assert weights_digest(model, cache) == first and weights_digest(model, cache) == first  # hashed, then read back
    weights.write_bytes(b"other weights, replaced")
    assert weights_digest(model, cache) == weights_digest(model) != first


TELEMETRY_PROBE = """
from app.config import Settings
from app.embedding import load_embedder
load_embedder(Settings(_env_file=None)).embed_texts(["one session, one run"])
"""


def test_onnx_runtime_keeps_no_device_id_and_sends_no_telemetry(tmp_path):
    # ONNX Runtime >= 1.29 starts its telemetry at the first session: a device id and an event cache under
    # ~/.cache/Microsoft, events sent to Microsoft. Importing app turns it off (app.config.OFFLINE_VARIABLES).
    import os
    import subprocess
    import sys

    from app.config import Settings

    env = {key: value for key, value in os.environ.items() if key != "ORT_DISABLE_TELEMETRY"}
    env |= {"HOME": str(tmp_path), "RAGQA_MODEL_CACHE_DIR": str(Settings(_env_file=None).model_cache_dir)}
    done = subprocess.run([sys.executable, "-c", TELEMETRY_PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_token_vectors_agree_with_the_pytorch_model_piece_by_piece(encoder, quantized_settings):
    torch_settings = quantized_settings.model_copy(update={"embed_backend": "torch"})
    reference = load_embedder(torch_settings).embed_with_tokens(SENTENCES)[1]
    for text, mine, theirs in zip(SENTENCES, encoder.encode(SENTENCES), reference):
        assert np.array_equal(mine.tokens.offsets, theirs.offsets)  # the same pieces, [CLS] and [SEP] left out
        assert mine.tokens.offsets[0, 0] == 0 and mine.tokens.offsets[-1, 1] == len(text)
        agreement = (mine.tokens.vectors.astype(np.float32) * theirs.vectors.astype(np.float32)).sum(axis=1)
        assert agreement.min() > 0.95, agreement.min()
        assert np.allclose(np.linalg.norm(mine.tokens.vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
        assert np.array_equal(mine.vector, encoder.embed_texts([text])[0])  # the same run gives the vector


def test_a_text_kept_without_token_vectors_is_encoded_again_when_they_are_asked_for(quantized_settings):
    keeping = _open(quantized_settings, remembered=4)
    keeping.session = counting = CountingSession(keeping.session)
    vector = keeping.embed_texts(SENTENCES[:1], remember=True)[0]
    assert counting.runs == 1
    first = keeping.encode(SENTENCES[:1], remember=True)[0]
    assert counting.runs == 2 and first.tokens is not None and np.array_equal(first.vector, vector)
    again = keeping.encode(SENTENCES[:1], remember=True)[0]
    keeping.embed_texts(SENTENCES[:1], remember=True)  # a kept text with token vectors serves vectors too
    assert counting.runs == 2 and again is first
