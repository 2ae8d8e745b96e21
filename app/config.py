"""One settings object, read from the environment (prefix RAGQA_) and `.env`.

Built once by the entry point (CLI, server, tests) and passed down; nothing reads the
environment at import time. `offline_environment()` pins the variables that keep every
library from reaching the network (model hubs, telemetry, analytics).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

RetrieverName = Literal["dense", "bm25", "hybrid"]
LLMName = Literal["none", "openai-compatible"]

OFFLINE_VARIABLES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    # ONNX Runtime >= 1.29 sends usage events to Microsoft from Linux too, and keeps a device id and an
    # event cache under ~/.cache/Microsoft; this variable, set before its first session, turns all of
    # that off (microsoft/onnxruntime#27379, #29843)
    "ORT_DISABLE_TELEMETRY": "1",
}


def offline_environment() -> None:
    """Set the variables that stop model downloads and telemetry (idempotent)."""
    for name, value in OFFLINE_VARIABLES.items():
        os.environ[name] = value


def is_loopback(host: str) -> bool:
    """Whether an address to listen on is reachable from this machine only."""
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def available_cores() -> int:
    """The cores this process may run on (its affinity, which containers and taskset narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def encoder_threads(settings: "Settings") -> int:
    """Threads of the int8 encoder in this process: the setting, or every core it may use."""
    return settings.encoder_threads or available_cores()


class Settings(BaseSettings):
    """Every knob of the assistant; environment variables are RAGQA_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RAGQA_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(Path("corpus"), description="Folder of documents to ingest.")
    index_dir: Path = Field(Path("index"), description="Folder of the embedded Chroma index.")
    chroma_url: str | None = Field(None, description="Chroma server URL; unset = embedded store in index_dir.")
    chroma_token: str | None = Field(None, description="Bearer token for the Chroma server, if it requires one.")
    collection: str = Field("ragqa", description="Name prefix of the Chroma collections.")
    embed_model_path: Path | None = Field(
        None, description="Folder of a sentence-transformers model; unset = the packaged all-MiniLM-L6-v2."
    )
    top_k: int = Field(6, ge=1, le=50, description="Passages retrieved per question.")
    retriever: RetrieverName = Field("hybrid", description="dense | bm25 | hybrid.")
    chunk_tokens: int = Field(
        200, ge=32, le=250, description="Word pieces per passage; stays under the model's 256 limit."
    )
    chunk_overlap_tokens: int = Field(40, ge=0, le=120, description="Word pieces shared by neighbouring passages.")
    embed_batch_size: int = Field(16, ge=1, le=256, description="Passages embedded per batch.")
    ingest_group_passages: int = Field(
        256, ge=1, le=10_000, description="Passages embedded and written to Chroma together during ingest: larger "
        "groups write less often (each write commits); smaller ones report progress sooner and redo less after a kill."
    )
    encoder_process_min_chars: int = Field(
        200_000, ge=0, description="Characters of new or changed text from which an ingest encodes its passages in "
        "a child process while it writes to Chroma (0 = always); below it (about one group of passages, nothing to "
        "overlap) it encodes in its own process."
    )
    hybrid_bm25_weight: float = Field(
        0.9, ge=0.0, le=1.0, description="BM25's share of a hybrid retrieval score (the dense list has the rest): "
        "each list's scores are scaled to 0-1 and added with these weights. Chosen on the eval sets' dev splits by "
        "scripts/fit_fusion.py (mean reciprocal rank of the gold source; equal weights, 0.5, ranked it lower)."
    )
    rerank_sentences: int = Field(
        16, ge=1, le=64, description="Candidate sentences embedded per question by the extractive answerer."
    )
    embed_backend: Literal["onnx-int8", "torch"] = Field(
        "onnx-int8", description="How passages, queries and sentences are embedded: the model quantized to int8 "
        "and run by ONNX Runtime (several times faster on CPU, cosine ~0.99 to PyTorch, no torch import) or the "
        "PyTorch model through sentence-transformers. Recorded in the index: changing it needs `ingest --rebuild`."
    )
    encoder_threads: int = Field(
        0, ge=0, le=256, description="Threads of the int8 encoder per process (0 = the cores this process may use; "
        "each worker of `ragqa serve --workers N` has as many)."
    )
    encoder_remembered_texts: int = Field(
        8192, ge=0, le=1_000_000, description="Vectors of recent queries and answer sentences the int8 encoder keeps "
        "per process, by text (0 = none; ~1.6 KB each, ~30 KB for the answerer's quotes and questions, which keep "
        "their token vectors too): the sentences of often-retrieved passages are not encoded again for every question."
    )
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "ragqa", description="Where the int8 copy of the model and the lexical index caches of Chroma servers are kept."
    )
    abstain_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Minimum probability (0-1) the fitted model must give the best quote for an "
        "answer; below it the answer abstains. Unset = the threshold fitted with the model (app/answer/model.json, "
        "scripts/fit_answerer.py: the best balanced score out of fold on the dev splits)."
    )
    refresh_seconds: float = Field(
        10.0, ge=0.0, le=86400.0, description="How often, at most, a running assistant checks whether an ingest "
        "elsewhere changed the index; it then rebuilds BM25 and term statistics in the background (0 = every question)."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    max_file_bytes: int = Field(
        20_000_000, ge=1, description="Files larger than this are skipped at ingest and refused as uploads.")
    examples_file: str = Field(
        "", description="Example questions for the chat page, one a line: a file, '' for EXAMPLES.txt in the "
        "corpus folder (none shown when it is missing), or 'none'.")
    host: str = Field("127.0.0.1", description="Address `ragqa serve` listens on (its --host overrides it); beyond "
                      "localhost without api_key, the chat page and the API do not change documents.")
    api_key: str | None = Field(None, description="Bearer token required by the HTTP API when set.")
    llm: LLMName = Field(
        "none", description="none = extractive answers only; openai-compatible = generate with an LLM server "
        "(Ollama, vLLM, llama.cpp server, hosted APIs) and keep only sentences their citations support."
    )
    llm_base_url: str | None = Field(None, description="Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1.")
    llm_model: str | None = Field(None, description="Model name the LLM server knows, e.g. llama3.2:3b.")
    llm_api_key: str | None = Field(None, description="API key for the LLM server; local servers usually need none.")
    llm_timeout: float = Field(
        60.0, gt=0, le=600, description="Seconds one generation may take in all; past it the extractive answer is used."
    )
    llm_max_tokens: int = Field(400, ge=16, le=8192, description="Most tokens the LLM may generate per answer.")
    llm_temperature: float = Field(0.1, ge=0.0, le=2.0, description="Sampling temperature of the LLM.")
    llm_stream: bool = Field(True, description="Ask the LLM server to stream (answers appear sentence by sentence).")
    llm_support_threshold: float = Field(
        0.60, ge=0.0, le=1.0, description="Minimum support score (0-1) a generated sentence needs from the passages it "
        "cites (content-word overlap and embedding similarity, tuned by scripts/tune_support.py); below it the "
        "sentence is dropped. Numbers, dates and names missing from the cited text drop a sentence at any score."
    )
    v1_append_sources: bool = Field(
        False, description="Append the numbered sources to the message content of /v1/chat/completions as a Markdown "
        "list ([n] title — publisher, date — link), for OpenAI clients that ignore the citations field; a request's "
        "ragqa_sources overrides it."
    )
    max_concurrent_requests: int = Field(
        4, ge=1, le=1000, description="Requests to /api/* and /v1/* in flight at once; more wait, then get 429."
    )
    queue_timeout: float = Field(
        0.5, ge=0.0, le=60.0, description="Seconds a request beyond max_concurrent_requests waits for a slot before 429."
    )
