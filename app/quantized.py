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
What remains here is small: torch's own ONNX export of the model's transformer, ONNX Runtime's own
transformer optimizer (it fuses each layer's attention, GELU and layer norms into single kernels; the
export uses the model's "eager" attention, the form the optimizer recognises) and its `quantize_dynamic`
(the fused attention becomes one int8 `QAttention`), and the model's pooling (mean over tokens, then
L2 normalisation, as its modules.json declares).

The quantized file is made once per model (a few seconds; `make setup` makes it, or the first use)
and cached under `settings.model_cache_dir`, named by a hash of the model's weights; a cache that
cannot be written falls back to making it in a temporary folder. Only making it imports torch.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXPORT_OPSET = 17
QUANTIZATION = "int8f7b"  # in the cached file's name and the index fingerprint: other vectors, other tag
# In the cached file's name only: another graph that gives the same vectors bit for bit (the attention
# without a mask input, checked on 300 passages), so indexes made with the file before stay valid
GRAPH = "nomask"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class QuantizedEncoder:
    """Mean-pooled, normalised vectors from the int8 ONNX copy of the model. Thread-safe: an ONNX Runtime
    session may run from several threads at once, and the tokenizer's settings are fixed here.

    Each text is encoded on its own, one core per text, with up to `threads` texts at once. Measured
    here on 813 passages (~170 word pieces each, 2 cores): batches of 4 sorted by length on 2 intra-op
    threads ran 96 passages/s, one text per run with two runs at a time 142/s. A batch pads every text
    to its longest and its activations no longer fit the core's cache, and the intra-op threads meet at
    every one of the graph's kernels. One text per run also makes a text's vector its own: dynamic
    quantization scales each run's activations together, so in a batch a passage's vector depended on
    its neighbours (cosine between two batchings down to 0.987)."""

    def __init__(self, onnx_file: Path, tokenizer, max_tokens: int, threads: int, remembered: int = 0):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the parallelism is across texts (see the class docstring)
        options.inter_op_num_threads = 1
        # The file is fused already (build_quantized_file). At load ONNX Runtime fuses each quantized
        # MatMul with its activation quantizing and scaling (DynamicQuantizeMatMul: 813 passages 5.1 ->
        # 4.8 s on 2 threads; vectors bit-identical), but it must not fuse the residual Add and
        # LayerNormalization into SkipLayerNormalization, whose CPU kernel took a quarter of the encoding
        # time here, about eight times the two ops it replaces (1.8 s instead of 2.3 s for 150 passages).
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.onnx_file = onnx_file
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"],
                                                    disabled_optimizers=["SkipLayerNormFusion"])
        self.threads = max(1, threads)
        self.tokenizer = tokenizer
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()
        # Vectors of recent texts asked with remember=True (queries and the answerer's sentences), by text,
        # least recently used dropped first. Since a text's vector is its own (one run per text), a kept
        # vector is the one encoding would give, bit for bit. The sentences of the passages a corpus's
        # questions retrieve recur from question to question, and encoding them was about half of an
        # answer's CPU time. (Not functools.lru_cache: texts already kept must be found before the rest
        # are handed to the threads, and it cannot be asked what it holds.) The lock guards the dict's
        # order only; encoding runs outside it.
        # A text encoded with its token vectors (`encode`: the answerer's questions and quotes) keeps them
        # too, float16, ~30 KB for a sentence of 40 word pieces.
        self._kept: OrderedDict[str, Encoded] = OrderedDict()
        self._keep = remembered
        self._kept_lock = threading.Lock()

    def embed_texts(self, texts: list[str], remember: bool = False) -> np.ndarray:
        """Vectors in input order, up to `threads` texts at a time (ONNX Runtime releases the GIL).
        `remember`: use and keep vectors in the bounded store of recent texts."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([encoded.vector for encoded in self._encoded(texts, remember, tokens=False)])

    def encode(self, texts: list[str], remember: bool = False) -> list[Encoded]:
        """Each text's vector and token vectors, in input order (`remember` as for embed_texts)."""
        return self._encoded(texts, remember, tokens=True)

    def _encoded(self, texts: list[str], remember: bool, tokens: bool) -> list[Encoded]:
        remember = remember and self._keep > 0
        found = self._recall(texts, tokens) if remember else {}
        missing = list(dict.fromkeys(text for text in texts if text not in found))
        encoded = dict(zip(missing, self._map(self._encode_with_tokens if tokens else self._encode_text, missing)))
        found.update(encoded)
        if remember:
            self._keep_all(encoded)
        return [found[text] for text in texts]

    def _map(self, encode, texts: list[str]) -> list[Encoded]:
        """encode(text) for each of `texts` (distinct), in their order."""
        if self.threads == 1 or len(texts) <= 1:
            return [encode(text) for text in texts]
        # longest first, so the last text to start is a short one and the threads finish together
        ordered = sorted(texts, key=len, reverse=True)
        done = dict(zip(ordered, _pool(self.threads).map(encode, ordered)))
        return [done[text] for text in texts]

    def _recall(self, texts: list[str], tokens: bool) -> dict[str, Encoded]:
        """Kept encodings of `texts` (with token vectors, when `tokens`), marked as recently used."""
        with self._kept_lock:
            found = {text: self._kept[text] for text in texts
                     if text in self._kept and (self._kept[text].tokens is not None or not tokens)}
            for text in found:
                self._kept.move_to_end(text)
        return found

    def _keep_all(self, encoded: dict[str, Encoded]) -> None:
        with self._kept_lock:
            self._kept.update(encoded)
            while len(self._kept) > self._keep:
                self._kept.popitem(last=False)

    def _run(self, text: str):
        """The tokenizer's encoding of `text` and the model's last hidden state (tokens x dimension)."""
        encoding = self.tokenizer.encode(text)
        feeds = {"input_ids": np.array([encoding.ids], dtype=np.int64),
                 "token_type_ids": np.array([encoding.type_ids], dtype=np.int64)}
        return encoding, self.session.run(None, feeds)[0][0]

    def _encode_text(self, text: str) -> Encoded:
        return Encoded(mean_pooled(self._run(text)[1]), None)

    def _encode_with_tokens(self, text: str) -> Encoded:
        encoding, hidden = self._run(text)
        return Encoded(mean_pooled(hidden), token_vectors(hidden, encoding.offsets, encoding.special_tokens_mask))


@dataclass(frozen=True)
class TokenVectors:
    """A text's word pieces as the model reads them in context: character spans in the text and unit
    vectors (the model's last hidden state, the [CLS] and [SEP] pieces left out)."""

    offsets: np.ndarray  # (pieces, 2)
    vectors: np.ndarray  # (pieces, dimension), float16: kept for many texts, and cosines need no more


@dataclass(frozen=True)
class Encoded:
    vector: np.ndarray  # the text's unit vector (mean over its pieces)
    tokens: TokenVectors | None  # None: only the vector was asked for (embed_texts)


def mean_pooled(hidden: np.ndarray) -> np.ndarray:
    """A text's unit vector from its hidden states, as the model's own pooling makes it (modules.json)."""
    pooled = hidden.mean(axis=0)  # one text, no padding: the mean over tokens
    vector = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
    vector.flags.writeable = False  # a kept vector is shared by every caller
    return vector


def token_vectors(hidden: np.ndarray, offsets, special_mask) -> TokenVectors:
    """TokenVectors of one text from its hidden states and its tokenizer's offsets and special-token mask."""
    keep = ~np.asarray(special_mask, dtype=bool)
    rows = np.asarray(hidden, dtype=np.float32)[keep]
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    spans = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)[keep]
    return TokenVectors(spans, rows.astype(np.float16))


@functools.cache
def _pool(threads: int):
    """One thread pool per size for the process's encoders (made at first use, kept: its threads idle
    between calls rather than being started for every question)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="encoder")


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
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions
    from transformers import AutoModel, AutoTokenizer

    # eager attention: the exported graph then has the attention pattern the optimizer fuses
    transformer = AutoModel.from_pretrained(str(model_folder), attn_implementation="eager").eval()

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
        fused = Path(work) / "model-fused.onnx"
        config = transformer.config
        options = FusionOptions("bert")
        options.enable_skip_layer_norm = False  # see QuantizedEncoder.__init__: the residual Add stays its own op
        # A text is encoded alone and never padded, so every token attends to every other: the fused
        # attention takes no mask (the graph loses its attention_mask input), 6% less encoding time
        options.attention_mask_format = AttentionMaskFormat.NoMask
        optimizer.optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                                 hidden_size=config.hidden_size, opt_level=1,
                                 optimization_options=options).save_model_to_file(str(fused))
        quantized = Path(work) / "model-int8.onnx"
        # reduce_range: 7-bit weights. On CPUs without VNNI (AVX2 only) onnxruntime's u8s8 kernels can
        # saturate with full-range weights; 7 bits avoid it on every CPU (ONNX Runtime's quantization
        # guide) and cost nothing measurable here (cosine to PyTorch >= 0.98 on either kind of CPU).
        # DefaultTensorType: the fused kernels are outside ONNX's own domain, so its shape inference
        # cannot type their outputs; they are float32
        quantize_dynamic(str(fused), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(quantized, target)
    return target


def quantized_file(model_folder: Path, cache_dir: Path, name: str) -> Path:
    """The cached int8 file for this model, made if missing (in a temp folder if the cache is read-only)."""
    file_name = f"{name}-{weights_digest(model_folder, cache_dir)}-{QUANTIZATION}-{GRAPH}.onnx"
    cached = cache_dir / file_name
    if cached.is_file():
        return cached
    try:
        return build_quantized_file(model_folder, cached)
    except OSError:
        return build_quantized_file(model_folder, Path(tempfile.mkdtemp(prefix="ragqa-onnx-")) / file_name)


def open_quantized_encoder(model_folder: Path, cache_dir: Path, name: str, tokenizer, max_tokens: int,
                           threads: int, remembered: int = 0) -> QuantizedEncoder:
    """The encoder over the cached file; a damaged cached file is made again, once."""
    onnx_file = quantized_file(model_folder, cache_dir, name)
    try:
        return QuantizedEncoder(onnx_file, tokenizer, max_tokens, threads, remembered)
    except Exception:  # noqa: BLE001 - onnxruntime raises its own types for a truncated or corrupt file
        onnx_file.unlink(missing_ok=True)
        return QuantizedEncoder(quantized_file(model_folder, cache_dir, name), tokenizer, max_tokens, threads,
                                remembered)
