"""The embedding model exported to ONNX and quantized to int8: the encoder of passages, queries and sentences.

With PyTorch, embedding was most of an ingest and ~85% of a warm question, and importing torch and
sentence-transformers alone took 5 s of every CLI call. The same weights run through ONNX Runtime with
int8 matrix products (dynamic quantization, per-channel) are several times faster here and agree with
the PyTorch vectors to a cosine of ~0.99 (tests/test_quantized.py checks the agreement; the eval sets
are scored on both, side by side, by `make bench`). Tokenizing uses the model's own tokenizer.json
through the `tokenizers` library, so answering never imports torch or transformers.

Why not sentence-transformers' own `backend="onnx"` (the first choice): its exporter needs
optimum-onnx, which pins transformers<4.58 and would downgrade the transformers 5 that our
sentence-transformers and llama-index pins were resolved with; and loading through
sentence-transformers would import torch on every call, which is what this module exists to avoid.
What remains here is small: torch's own ONNX export of the model's transformer, onnxruntime's own
`quantize_dynamic`, and the model's pooling (mean over tokens, then L2 normalisation, as its
modules.json declares).

The quantized file is made once per model (a few seconds; `make setup` makes it, or the first use)
and cached under `settings.model_cache_dir`, named by a hash of the model's weights; a cache that
cannot be written falls back to making it in a temporary folder. Only making it imports torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

EXPORT_OPSET = 17
QUANTIZATION = "int8r7"  # in the cached file's name and the index fingerprint: other quantization, other file
LENGTH_BATCH = 4  # texts of similar length encoded together (see QuantizedEncoder.embed_texts)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class QuantizedEncoder:
    """Mean-pooled, normalised vectors from the int8 ONNX copy of the model. Thread-safe: an ONNX Runtime
    session may run from several threads at once, and the tokenizer's settings are fixed here."""

    def __init__(self, onnx_file: Path, tokenizer, max_tokens: int, threads: int):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # ONNX Runtime's threads otherwise spin after each run, stealing the cores that Chroma and the
        # other requests need next (measured: retrieval p50 22 -> 47 ms with spinning on)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")

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
        encodings = self.tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(hidden.dtype)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def weights_digest(folder: Path, cache_dir: Path | None = None) -> str:
    """A short hash of the model's weight files: the cache key of its quantized copy.

    Hashing the 90 MB of weights took ~0.12 s of every start, so with `cache_dir` the hash is kept
    there under the weight files' names, sizes, modification times and inodes, and read back while
    those stay the same (an installed or downloaded model's files are replaced, not edited in place)."""
    files = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
    stats = [(file.name, file.stat()) for file in files]
    signature = hashlib.sha256(repr([(str(folder.resolve()), name, found.st_size, found.st_mtime_ns, found.st_ino,
                                      found.st_dev) for name, found in stats]).encode()).hexdigest()[:16]
    kept = cache_dir / "digests" / signature if cache_dir is not None else None
    if kept is not None:
        with contextlib.suppress(OSError):
            remembered = kept.read_text(encoding="ascii").strip()
            if len(remembered) == 16:
                return remembered
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    found = digest.hexdigest()[:16]
    if kept is not None:
        with contextlib.suppress(OSError):  # a cache that cannot be written: hash again next time
            kept.parent.mkdir(parents=True, exist_ok=True)
            temporary = kept.with_name(f".{kept.name}-{os.getpid()}")
            temporary.write_text(found, encoding="ascii")
            os.replace(temporary, kept)
    return found


def build_quantized_file(model_folder: Path, target: Path) -> Path:
    """Export the model's transformer to ONNX and quantize it to int8 at `target` (written atomically)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    transformer = AutoModel.from_pretrained(str(model_folder)).eval()

    class LastHidden(torch.nn.Module):  # the exporter wants plain tensors in and out
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = AutoTokenizer.from_pretrained(str(model_folder))(["an example", "a second, longer example"],
                                                              padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        plain = Path(work) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(LastHidden(transformer), tuple(sample[name] for name in INPUTS), str(plain),
                              input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=EXPORT_OPSET, dynamo=False)
        quantized = Path(work) / "model-int8.onnx"
        # reduce_range: 7-bit weights. On CPUs without VNNI (AVX2 only) onnxruntime's u8s8 kernels can
        # saturate with full-range weights; 7 bits avoid it on every CPU (ONNX Runtime's quantization
        # guide) and cost nothing measurable here (cosine to PyTorch >= 0.98 on either kind of CPU).
        quantize_dynamic(str(plain), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True)
        os.replace(quantized, target)
    return target


def quantized_file(model_folder: Path, cache_dir: Path, name: str) -> Path:
    """The cached int8 file for this model, made if missing (in a temp folder if the cache is read-only)."""
    file_name = f"{name}-{weights_digest(model_folder, cache_dir)}-{QUANTIZATION}.onnx"
    cached = cache_dir / file_name
    if cached.is_file():
        return cached
    try:
        return build_quantized_file(model_folder, cached)
    except OSError:
        return build_quantized_file(model_folder, Path(tempfile.mkdtemp(prefix="ragqa-onnx-")) / file_name)


def open_quantized_encoder(model_folder: Path, cache_dir: Path, name: str, tokenizer, max_tokens: int,
                           threads: int) -> QuantizedEncoder:
    """The encoder over the cached file; a damaged cached file is made again, once."""
    onnx_file = quantized_file(model_folder, cache_dir, name)
    try:
        return QuantizedEncoder(onnx_file, tokenizer, max_tokens, threads)
    except Exception:  # noqa: BLE001 - onnxruntime raises its own types for a truncated or corrupt file
        onnx_file.unlink(missing_ok=True)
        return QuantizedEncoder(quantized_file(model_folder, cache_dir, name), tokenizer, max_tokens, threads)
