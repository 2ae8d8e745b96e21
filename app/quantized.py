"""The embedding model exported to ONNX and quantized to int8, for the answerer's sentence comparisons.

The extractive answerer embeds the question and up to `rerank_sentences` candidate sentences on every
question; with PyTorch that was ~85% of a warm /api/ask on this CPU. The same weights run through ONNX
Runtime with int8 matrix products (dynamic quantization, per-channel) are ~2.7x faster here and agree
with the PyTorch vectors to a cosine of 0.99 (tests/test_quantized.py checks both the agreement and that
the eval gate still passes with it). Passages and retrieval queries keep the PyTorch model, so the index
is unchanged and needs no rebuild.

Why not sentence-transformers' own `backend="onnx"` (the first choice): its exporter needs
optimum-onnx, which pins transformers<4.58 and would downgrade the transformers 5 that our
sentence-transformers and llama-index pins were resolved with. What remains here is small: torch's
own ONNX export of the model's transformer, onnxruntime's own `quantize_dynamic`, and the model's
pooling (mean over tokens, then L2 normalisation, as its modules.json declares).

The quantized file is made once per model (a few seconds) and cached under `settings.model_cache_dir`,
named by a hash of the model's weights; a cache that cannot be written or read falls back to making it
in a temporary folder, and any failure to build it falls back to PyTorch with a one-line warning.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np

from app.config import Settings
from app.embedding import Embedder, model_path

EXPORT_OPSET = 17
QUANTIZATION = "int8r7"  # in the cached file's name: a file quantized otherwise is never reused
LENGTH_BATCH = 4  # texts of similar length encoded together (see QuantizedEncoder.embed_texts)


class TextEncoder(Protocol):
    """Anything that turns texts into unit vectors of one space (the question and its candidates)."""

    def embed_texts(self, texts: list[str]) -> list[list[float]] | np.ndarray: ...


class QuantizedEncoder:
    """Mean-pooled, normalised sentence vectors from the int8 ONNX copy of the model."""

    def __init__(self, onnx_file: Path, tokenizer, max_tokens: int, threads: int):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # ONNX Runtime's threads otherwise spin after each run, stealing the cores that PyTorch's query
        # embedding and Chroma need next (measured: retrieval p50 22 -> 47 ms with spinning on)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Vectors in input order. Texts are batched by length, a few at a time: one batch pads every
        text to the longest (a 190-token sentence made 16 short ones cost as much), and measured here
        batches of 4 took half the time of one batch of 17."""
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for first in range(0, len(order), LENGTH_BATCH):
            chosen = order[first:first + LENGTH_BATCH]
            found = self._encode([texts[i] for i in chosen])
            if not vectors.shape[1]:
                vectors = np.zeros((len(texts), found.shape[1]), dtype=np.float32)
            vectors[chosen] = found
        return vectors

    def _encode(self, texts: list[str]) -> np.ndarray:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="np")
        feeds = {name: batch[name].astype(np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
        hidden = self.session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(hidden.dtype)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def weights_digest(folder: Path) -> str:
    """A short hash of the model's weight files: the cache key of its quantized copy."""
    digest = hashlib.sha256()
    for file in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def build_quantized_file(embedder: Embedder, target: Path) -> Path:
    """Export the transformer to ONNX and quantize it to int8 at `target` (written atomically)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    transformer = embedder.llama._model[0].auto_model.eval()

    class LastHidden(torch.nn.Module):  # the exporter wants plain tensors in and out
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = embedder.llama._model.tokenizer(["an example", "a second, longer example"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names + ["last_hidden_state"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        plain = Path(work) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(LastHidden(transformer), tuple(sample[name] for name in names), str(plain),
                              input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=EXPORT_OPSET, dynamo=False)
        quantized = Path(work) / "model-int8.onnx"
        # reduce_range: 7-bit weights. On CPUs without VNNI (AVX2 only) onnxruntime's u8s8 kernels can
        # saturate with full-range weights; 7 bits avoid it on every CPU (ONNX Runtime's quantization
        # guide) and cost nothing measurable here (cosine to PyTorch >= 0.98 on either kind of CPU).
        quantize_dynamic(str(plain), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True)
        os.replace(quantized, target)
    return target


def quantized_file(settings: Settings, embedder: Embedder) -> Path:
    """The cached int8 file for this model, made if missing (in a temp folder if the cache is read-only)."""
    name = f"{embedder.name}-{weights_digest(model_path(settings))}-{QUANTIZATION}.onnx"
    cached = settings.model_cache_dir / name
    if cached.is_file():
        return cached
    try:
        return build_quantized_file(embedder, cached)
    except OSError:
        return build_quantized_file(embedder, Path(tempfile.mkdtemp(prefix="ragqa-onnx-")) / name)


def load_sentence_encoder(settings: Settings, embedder: Embedder) -> TextEncoder:
    """The encoder the answerer compares sentences with: int8 ONNX unless settings say torch."""
    if settings.rerank_backend == "torch":
        return embedder
    try:
        import torch

        def open_encoder(onnx_file: Path) -> QuantizedEncoder:
            return QuantizedEncoder(onnx_file, embedder.llama._model.tokenizer, embedder.max_tokens,
                                    torch.get_num_threads())
        onnx_file = quantized_file(settings, embedder)
        try:
            return open_encoder(onnx_file)
        except Exception:  # a damaged cached file: make it again, once
            onnx_file.unlink(missing_ok=True)
            return open_encoder(quantized_file(settings, embedder))
    except Exception as error:  # noqa: BLE001 - any failure here must leave answering working
        print(f"ragqa: warning: int8 sentence encoder unavailable ({type(error).__name__}: {error}); using PyTorch",
              file=sys.stderr)
        return embedder
