"""`make bench`: measure ingest, re-ingest, query latency, memory and load side by side; write BENCHMARKS.md.

Stages, each written to the report as soon as it is done (a long run that is stopped keeps what it has):
1. throughput on a fixed sample (the coverage corpus plus every k-th White House document), three
   ways on the same files: our ingest; llama-index's default pipeline (SimpleDirectoryReader,
   VectorStoreIndex.from_documents with SentenceSplitter defaults and HuggingFaceEmbedding); and raw
   SentenceTransformer.encode of our passages (the ceiling on this CPU). tokens/s counts the source
   documents' word pieces, the same numerator for all three;
2. /api/ask latency (warm, one client, the eval questions) and a bounded load test at 12 documents;
3. the full ingest (coverage + White House) with `ragqa ingest` as a child process: time, peak RSS;
4. a no-op re-ingest of the same folders;
5. /api/ask latency and server peak RSS over the large index.
Servers and ingests are child processes we start and stop by PID. Nothing is copied into the repo:
samples and indexes live in a temporary work folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.load import run_load  # noqa: E402
from tests.chroma_server import free_port  # noqa: E402

RESULTS: dict = {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--large", type=Path, default=ROOT.parent / "shared" / "whitehouse")
    parser.add_argument("--large-limit", type=int, default=0, help="use only this many large-corpus files (0: all)")
    parser.add_argument("--sample", type=int, default=200, help="documents in the three-way throughput sample")
    parser.add_argument("--cases", type=Path, default=ROOT / "eval" / "coverage" / "dev.jsonl")
    parser.add_argument("--load-clients", type=int, default=20)
    parser.add_argument("--load-requests", type=int, default=20, help="requests per client")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a new temp folder)")
    parser.add_argument("--only", default="", metavar="STAGE[,STAGE]",
                        help="re-measure only these stages of the run in --work (its results.json) and rewrite the "
                        "report, which names the stages re-measured and when; e.g. --only throughput")
    args = parser.parse_args()
    if args.only:
        return remeasure(args, [name.strip() for name in args.only.split(",") if name.strip()])
    work = args.work or Path(tempfile.mkdtemp(prefix="ragqa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    questions = load_questions(args.cases)
    RESULTS["machine"] = machine()
    RESULTS["work"] = str(work)
    RESULTS["args"] = {"sample": args.sample, "load": f"{args.load_clients} x {args.load_requests}",
                       "large_limit": args.large_limit or "all"}
    large = limited_copy(args.large, work / "large", args.large_limit) if args.large_limit else args.large
    repeatable = repeatable_stages(args, work, questions)

    stage("throughput", repeatable["throughput"], args.out)
    small_index = work / "index-small"
    stage("small", lambda: serve_and_measure(small_index, [args.coverage], questions, work,
                                             load=(args.load_clients, args.load_requests)), args.out)
    large_index = work / "index-large"
    stage("full_ingest", lambda: child_ingest(large_index, [args.coverage, large], work / "ingest-full.log"), args.out)
    stage("noop_ingest", lambda: child_ingest(large_index, [args.coverage, large], work / "ingest-noop.log"), args.out)
    stage("large", repeatable["large"], args.out)
    stage("large_torch", repeatable["large_torch"], args.out)
    RESULTS["machine"]["load_average_end"] = os.getloadavg()
    write_report(args.out)
    print(f"wrote {args.out}; work folder {work}")
    return 0


def remeasure(args, names: list[str]) -> int:
    """Run some stages again against an earlier run's work folder (its indexes and results.json), e.g.
    when another job shared the CPU during one stage; the report marks them as re-measured."""
    if args.work is None or not (args.work / "results.json").is_file():
        print("bench: --only needs --work with the results.json of an earlier run", file=sys.stderr)
        return 2
    RESULTS.update(json.loads((args.work / "results.json").read_text(encoding="utf-8")))
    runs = repeatable_stages(args, args.work, load_questions(args.cases))
    unknown = [name for name in names if name not in runs]
    if unknown:
        print(f"bench: --only can re-measure {', '.join(runs)}; not {', '.join(unknown)}", file=sys.stderr)
        return 2
    for name in names:
        stage(name, runs[name], args.out, remeasured=True)
    print(f"wrote {args.out}; work folder {args.work}")
    return 0


def load_questions(cases: Path) -> list[str]:
    return [json.loads(line)["question"] for line in cases.read_text().splitlines() if line.strip()]


def repeatable_stages(args, work: Path, questions: list[str]) -> dict:
    """The stages that need nothing but the work folder's sample and large index, so `--only` can re-run them."""
    large_index = work / "index-large"
    return {
        "throughput": lambda: throughput(sample_folder(args.coverage, args.large, work / "sample", args.sample), work),
        "large": lambda: serve_and_measure(large_index, None, questions, work),
        # the baseline side by side, same index and questions: the answerer embedding sentences with PyTorch
        "large_torch": lambda: serve_and_measure(large_index, None, questions, work,
                                                 env={"RAGQA_RERANK_BACKEND": "torch"}),
    }


def stage(name: str, run, out: Path, remeasured: bool = False) -> None:
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    RESULTS[name] = run()
    RESULTS[name]["stage_seconds"] = round(time.perf_counter() - started, 1)
    # the 1-minute load average before and after: above ~1.5 on 2 cores, something else shared the CPU
    RESULTS[name]["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    if remeasured:
        RESULTS[name]["remeasured"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"[bench] {name}: {json.dumps(RESULTS[name])[:400]}", file=sys.stderr, flush=True)
    write_report(out)


# --- machine -------------------------------------------------------------------------------------

def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in _run(["lscpu"]).splitlines()
                  if line.startswith("Model name")), platform.processor())
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": model,
            "cores": _run(["nproc"]).strip(), "ram_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "load_average_start": os.getloadavg()}


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return ""


# --- corpora -------------------------------------------------------------------------------------

def sample_folder(coverage: Path, large: Path, target: Path, size: int) -> Path:
    """The coverage corpus plus evenly spaced large-corpus files, copied (links outside are not followed)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(coverage, target / "coverage")
    files = sorted(large.rglob("*.md"))
    wanted = max(0, size - len(list((target / "coverage").glob("*.txt"))))
    step = max(1, len(files) // max(wanted, 1))
    for path in files[::step][:wanted]:
        copy = target / "large" / path.relative_to(large)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    return target


def limited_copy(large: Path, target: Path, limit: int) -> Path:
    """`limit` evenly spaced files of the large corpus (every folder and month represented)."""
    shutil.rmtree(target, ignore_errors=True)
    files = sorted(large.rglob("*.md"))
    for path in files[::max(1, len(files) // limit)][:limit]:
        copy = target / path.relative_to(large)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    return target


# --- stage 1: three pipelines on the same files ---------------------------------------------------

def throughput(sample: Path, work: Path) -> dict:
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from app.config import Settings
    from app.corpus import load_corpus
    from app.embedding import load_embedder, model_path
    from app.ingest import ingest, open_store

    settings = Settings(_env_file=None, index_dir=work / "index-sample")
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    embedder = load_embedder(settings)
    model = embedder.llama._model
    documents = load_corpus(sample).documents
    source_tokens = sum(embedder.count_tokens(document.text) for document in documents)

    def embedded_tokens(texts):  # what the model sees: word pieces + [CLS] [SEP], cut at its limit
        return sum(min(embedder.count_tokens(text) + 2, embedder.max_tokens) for text in texts)

    model.encode(["warm up"])
    started = time.perf_counter()
    report = ingest(settings, sample, progress=False)
    ours_seconds = time.perf_counter() - started
    texts = open_store(settings, embedder).passages.get(include=["documents"])["documents"]

    started = time.perf_counter()
    model.encode(texts, batch_size=settings.embed_batch_size)
    raw_seconds = time.perf_counter() - started

    llama_embed = HuggingFaceEmbedding(model_name=str(model_path(settings)), device="cpu")
    llama_embed.get_text_embedding("warm up")
    started = time.perf_counter()
    llama_documents = SimpleDirectoryReader(str(sample), recursive=True, required_exts=[".txt", ".md"]).load_data()
    index = VectorStoreIndex.from_documents(llama_documents, embed_model=llama_embed)
    llama_seconds = time.perf_counter() - started
    llama_texts = [node.get_content() for node in index.docstore.docs.values()]

    def row(seconds, passages, tokens_seen):
        return {"seconds": round(seconds, 1), "passages": passages, "passages_per_s": round(passages / seconds, 2),
                "tokens_per_s": round(source_tokens / seconds, 1), "tokens_embedded": tokens_seen}

    return {"documents": len(documents), "source_tokens": source_tokens,
            "ours": row(ours_seconds, report.passages_embedded, embedded_tokens(texts)),
            "raw_encode": row(raw_seconds, len(texts), embedded_tokens(texts)),
            "llama_default": row(llama_seconds, len(llama_texts), embedded_tokens(llama_texts)),
            "batch_size": settings.embed_batch_size}


# --- child processes: ingest and serve --------------------------------------------------------------

def child_env(index: Path, extra: dict | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAGQA_")}
    env["RAGQA_INDEX_DIR"] = str(index)
    return env | (extra or {})


def child_ingest(index: Path, folders: list[Path], log: Path) -> dict:
    """`ragqa ingest` as a child process: wall time, its own summary, peak RSS (from wait4)."""
    started = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "app.cli", "ingest", *map(str, folders)],
                                   stdout=out, stderr=subprocess.STDOUT, env=child_env(index), cwd=ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    summary = next((line for line in log.read_text().splitlines() if line.startswith("documents:")), "")
    if process.returncode != 0:
        raise RuntimeError(f"ingest failed ({process.returncode}); see {log}")
    numbers = re.search(r"(\d+) added, (\d+) updated, (\d+) unchanged.*?(\d+) embedded, (\d+) in index; ([\d.]+) s",
                        summary)
    added, updated, unchanged, embedded, total, seconds = numbers.groups()
    return {"wall_seconds": round(wall, 1), "ingest_seconds": float(seconds), "added": int(added),
            "unchanged": int(unchanged), "passages_embedded": int(embedded), "passages": int(total),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "summary": summary}


def serve_and_measure(index: Path, ingest_folders: list[Path] | None, questions: list[str], work: Path,
                      load: tuple[int, int] | None = None, env: dict | None = None) -> dict:
    result = {}
    if ingest_folders:
        result["ingest"] = child_ingest(index, ingest_folders, work / "ingest-small.log")
    port = free_port()
    log = open(work / f"serve-{port}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=child_env(index, env), cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        health = _wait_healthy(process, url)
        result |= {"documents": health["documents"], "passages": health["passages"]}
        result |= ask_latency(url, questions)
        if load:
            report = run_load(url, *load)
            result["load"] = {"summary": report.summary(), "errors": len(report.errors), "shed": report.shed,
                              "answered": report.answered, "answers_per_s": round(report.answered / report.seconds, 2),
                              "p50_ms": round(statistics.median(report.latencies_ms)),
                              "p95_ms": round(report.percentile(0.95))}
        result["server_peak_rss_mb"] = round(_vm_hwm_kb(process.pid) / 1024)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    return result


def _wait_healthy(process: subprocess.Popen, url: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ragqa serve exited with {process.returncode}")
        try:
            response = httpx.get(f"{url}/healthz", timeout=5)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("ragqa serve did not become healthy")


def ask_latency(url: str, questions: list[str], warmup: int = 5) -> dict:
    """One client, one question at a time, after a few warm-up questions: client-side wall time."""
    latencies, retrieve, answer = [], [], []
    with httpx.Client(base_url=url, timeout=120) as http:
        for question in questions[:warmup]:
            http.post("/api/ask", json={"question": question}).raise_for_status()
        for question in questions:
            started = time.perf_counter()
            response = http.post("/api/ask", json={"question": question})
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            timings = response.json()["timings_ms"]
            retrieve.append(timings["retrieve"])
            answer.append(timings["answer"])
    ordered = sorted(latencies)
    return {"questions": len(latencies), "p50_ms": round(statistics.median(latencies)),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))]),
            "retrieve_p50_ms": round(statistics.median(retrieve)), "answer_p50_ms": round(statistics.median(answer))}


def _vm_hwm_kb(pid: int) -> int:
    match = re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) if match else 0


# --- the report ------------------------------------------------------------------------------------

def write_report(out: Path) -> None:
    """BENCHMARKS.md, and the raw results beside it in the work folder (to re-render or compare)."""
    from scripts.bench_report import render

    out.write_text(render(RESULTS), encoding="utf-8")
    if RESULTS.get("work"):
        Path(RESULTS["work"], "results.json").write_text(json.dumps(RESULTS, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
