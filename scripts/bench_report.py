"""BENCHMARKS.md and benchmarks.png from the results scripts/bench.py collected: each figure beside its
baseline, ratios and medians, targets (issue 15) met or missed. Stages that did not run are listed as
not measured, so a partial run still reads correctly.

The projection to a million passages is a straight line through the measured sizes (least squares);
the Chroma sizing rule is Chroma's own: the HNSW index is held in RAM, vectors x dimensions x 4 bytes.
"""

from __future__ import annotations

MISSING = "not measured (stage did not finish)"
DIMENSION = 384
MILLION = 1_000_000
LOAD_QUESTIONS = "coverage dev"


def render(results: dict) -> str:
    machine = results.get("machine", {})
    args = results.get("args", {})
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`scripts/bench.py`); every figure below comes from one run on the machine described.",
        "",
        f"- date: {machine.get('date', '?')}; CPU: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, no GPU; "
        f"RAM {machine.get('ram_gb', '?')} GB; Python {machine.get('python', '?')}",
        f"- throughput sample: coverage corpus + {args.get('sample', '?')} White House fact sheets; middle index: "
        f"coverage + {args.get('medium', '?')} White House documents; load test {args.get('load', '?')} (clients x requests)",
        "- baseline: commit d30c2e4 (fp32 PyTorch encoder, BM25 rebuilt in memory at start, one lock on answering), "
        "run from a worktree with the same venv, on its own indexes of the same files",
        "- 1-minute load average before -> after each stage (2 cores; a stage accounts for up to ~2): "
        + "; ".join(f"{name} {data['load_average'][0]} -> {data['load_average'][1]}"
                    for name, data in results.items() if isinstance(data, dict) and "load_average" in data),
        "",
    ]
    lines += _throughput(results.get("throughput"))
    lines += _cold(results.get("cold_cli"), results.get("throughput"))
    lines += _sizes(results.get("sizes"))
    lines += _workers(results.get("workers"), args.get("load", "?"))
    lines += _eval(results.get("eval"))
    return "\n".join(lines) + "\n"


def _throughput(data: dict | None) -> list[str]:
    lines = ["## Ingest: int8 against fp32 on the same files", ""]
    if not data:
        return lines + [MISSING, ""]
    ours, fp32, raw, llama = data["ours_int8"], data["ours_fp32"], data["raw_fp32_encode"], data["llama_default"]
    lines += [
        f"{data['passages']} passages. Word pieces = what the model reads ([CLS]/[SEP] included, cut at its 256)."
        + (f" Our ingest, fp32 encode and llama-index's default: median of {data['runs']} interleaved rounds "
           f"(runs, s: ours {ours['runs_s']}, fp32 encode {raw['runs_s']}, llama-index {llama['runs_s']}); "
           "the rest once." if "runs" in data else ""),
        "",
        "| pipeline | seconds | passages/s | word pieces/s |",
        "|---|---|---|---|",
        f"| `ragqa ingest`, int8 encoder (child process, wall) | {ours['wall_seconds']} | {ours['passages_per_s']} | "
        f"{ours['word_pieces_per_s']:,} |",
        f"| `ragqa ingest`, fp32 PyTorch encoder (child process, wall) | {fp32['wall_seconds']} | {fp32['passages_per_s']} | "
        f"{fp32['word_pieces_per_s']:,} |",
        *([f"| int8 encoder alone, same passages (warm, in process) | {data['raw_int8_encode']['seconds']} | "
           f"{data['raw_int8_encode']['passages_per_s']} | {data['raw_int8_encode']['word_pieces_per_s']:,} |"]
          if "raw_int8_encode" in data else []),
        f"| fp32 `SentenceTransformer.encode` of the same passages (warm, in process) | {raw['seconds']} | "
        f"{raw['passages_per_s']} | {raw['word_pieces_per_s']:,} |",
        f"| llama-index default pipeline (SimpleDirectoryReader, SentenceSplitter defaults, HuggingFaceEmbedding) | "
        f"{llama['seconds']} | {llama['passages_per_s']} | {llama['word_pieces_per_s']:,} |",
        "",
        f"- end-to-end int8 ingest against fp32 encode alone: **{ours['passages_per_s'] / raw['passages_per_s']:.2f}x** "
        f"passages/s (target ≥ 2x); against the llama-index default: "
        f"**{ours['word_pieces_per_s'] / llama['word_pieces_per_s']:.2f}x** word pieces/s (target ≥ 2x).",
        *([f"- the int8 encoder alone against fp32 encode alone: "
           f"**{data['raw_int8_encode']['passages_per_s'] / raw['passages_per_s']:.2f}x** passages/s; the rest of an "
           "ingest (interpreter start and imports, reading and rendering the files, splitting, writing to Chroma, "
           "the lexical index) is what keeps the end-to-end figure below it."] if "raw_int8_encode" in data else []),
        f"- no-op re-ingest of the same files: {data['noop']['wall_seconds']} s wall against "
        f"{ours['wall_seconds']} s for the first ingest, **{data['noop']['wall_seconds'] / ours['wall_seconds']:.1%}** "
        "(target ≤ 5%).",
        "",
    ]
    return lines


def _cold(data: dict | None, throughput: dict | None) -> list[str]:
    lines = ["## Cold command line (median of 5, wall)", ""]
    if not data:
        return lines + [MISSING, ""]
    ours, base = data["ours_ask"]["median_s"], data["baseline_ask"]["median_s"]
    lines += [
        "| command | median s | runs |",
        "|---|---|---|",
        f"| `ragqa ask` on the coverage index | {ours} | {data['ours_ask']['runs_s']} |",
        f"| baseline `ragqa ask`, same question and files | {base} | {data['baseline_ask']['runs_s']} |",
        f"| `python -c \"import sentence_transformers\"` | {data['import_sentence_transformers']['median_s']} | "
        f"{data['import_sentence_transformers']['runs_s']} |",
        f"| `ragqa ask \"\"` (an input error) | {data['ours_input_error']['median_s']} | {data['ours_input_error']['runs_s']} |",
        "",
        f"- `ragqa ask` takes **{ours / base:.0%}** of the baseline's time (target ≤ 35%, and ≤ 3 s: {ours} s); "
        f"an input error {data['ours_input_error']['median_s']} s (target ≤ 0.5 s).",
        "",
    ]
    return lines


def _slope(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares line (intercept, per passage) through (passages, value) points."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points) or 1.0
    per = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - per * mean_x, per


def _sizes(data: dict | None) -> list[str]:
    lines = ["## Start-up, memory and latency against index size (one server process)", ""]
    if not data or not data.get("rows"):
        return lines + [MISSING, ""]
    rows = data["rows"]
    lines += ["| passages | ingest s (int8) | /healthz ready s (median of starts) | RSS MB | ask p50 / p95 ms | baseline ready s | "
              "baseline RSS MB | baseline ask p50 / p95 ms |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ours, base = row["ours"], row.get("baseline")
        lines.append(f"| {row['passages']:,} | {row['ingest']['wall_seconds']} | {ours['ready_s']} | {ours['rss_mb']} | "
                     f"{ours['p50_ms']} / {ours['p95_ms']} | "
                     + (f"{base['ready_s']} | {base['rss_mb']} | {base['p50_ms']} / {base['p95_ms']} |" if base
                        else "— | — | — |"))
    if len(rows) >= 2:
        _, ours_per = _slope([(r["passages"], r["ours"]["rss_mb"]) for r in rows])
        based = [(r["passages"], r["baseline"]["rss_mb"]) for r in rows if r.get("baseline")]
        lines += ["", f"- serving RSS grows **{ours_per * 1000:.1f} MB per 1,000 passages** (target ≤ 10)"
                  + (f"; the baseline's {_slope(based)[1] * 1000:.1f} MB." if len(based) >= 2 else ".")]
        lines += _ingest_at_size(rows)
        starts = rows[-1]["ours"].get("ready_runs_s")
        lines.append(f"- `/healthz` ready at {rows[-1]['passages']:,} passages with a current lexical cache: "
                     f"**{rows[-1]['ours']['ready_s']} s** (target ≤ 5 s)"
                     + (f", the median of {len(starts)} starts {starts}." if starts else "."))
        lines += _projection(rows)
    lines += ["", "![latency and RSS against index size, projected to a million passages](benchmarks.png)", ""]
    return lines


def _ingest_at_size(rows: list[dict]) -> list[str]:
    """The ingest target again where interpreter start, imports and model loading weigh little."""
    row = next((r for r in rows if r.get("fp32_encode")), None)
    if row is None:
        return []
    ours, fp32 = row["ingest"]["passages_per_s"], row["fp32_encode"]["passages_per_s"]
    base = row.get("baseline_ingest", {}).get("passages_per_s")
    llama = row.get("llama_default")
    against_llama = (f"; {row['word_pieces_per_s']:,} word pieces/s against llama-index's default pipeline's "
                     f"{llama['word_pieces_per_s']:,} on the same files: **{row['word_pieces_per_s'] / llama['word_pieces_per_s']:.2f}x** "
                     "(target ≥ 2x)") if llama and row.get("word_pieces_per_s") else ""
    return [f"- ingest at {row['passages']:,} passages: `ragqa ingest` {ours} passages/s end to end against fp32 "
            f"`SentenceTransformer.encode` of the same passages at {fp32}/s (warm, in process): **{ours / fp32:.2f}x** "
            "(target ≥ 2x)" + against_llama + (f"; the baseline's ingest {base}/s." if base else ".")]


def _projection(rows: list[dict]) -> list[str]:
    base_mb, per_mb = _slope([(r["passages"], r["ours"]["rss_mb"]) for r in rows])
    hnsw_mb = MILLION * DIMENSION * 4 / 2**20
    at_million = base_mb + per_mb * MILLION
    return [
        f"- projected to {MILLION:,} passages: ~{at_million / 1024:.1f} GB per serving process (the line through the "
        f"measured sizes, which includes the process's own copy of Chroma's HNSW index when embedded); Chroma's sizing "
        f"rule puts that index at {hnsw_mb / 1024:.2f} GB ({MILLION:,} x {DIMENSION} x 4 bytes).",
        "- embedded, every worker process holds its own HNSW copy; with a Chroma server (`RAGQA_CHROMA_URL`) one "
        "server holds it and the workers only what the line's intercept and the lexical index's mapped pages cost. "
        "Use a Chroma server once N workers x the per-process figure no longer fits the machine's RAM, or the "
        "corpus must be shared by several machines.",
    ]


def _workers(data: dict | None, load: str) -> list[str]:
    lines = [f"## Answers in parallel (coverage index, load test {load} clients x questions)", ""]
    if not data:
        return lines + [MISSING, ""]
    runs = data.get("2_workers", {}).get("runs_answers_per_s")
    if runs:
        lines += [f"Each server first takes one load test that is not counted (it fills the encoder's cache), then the "
                  f"one-client rate is measured and the load test run {len(runs)} times, the median run shown (2 workers' "
                  f"runs, answers/s: {runs}).", ""]
    lines += ["| workers | one client answers/s | 20 clients answers/s | p50 ms | p95 ms | errors, all runs | "
              "shed (429), all runs | RSS MB |",
              "|---|---|---|---|---|---|---|---|"]
    labels = {"1_workers": "1", "2_workers": "2", "2_workers_no_cache": "2, encoder vector cache off"}
    for name, row in data.items():
        if name in labels:
            lines.append(f"| {labels[name]} | {row['one_client_answers_per_s']} | {row['answers_per_s']} | "
                         f"{row['p50_ms']} | {row['p95_ms']} | {row['errors']} | {row['shed']} | {row['rss_mb']} |")
    one, two = data.get("1_workers"), data.get("2_workers")
    if one and two:
        lines += ["", f"- 2 workers under load: **{two['answers_per_s'] / one['one_client_answers_per_s']:.2f}x** the "
                  f"one-client rate of one worker ({two['answers_per_s'] / two['one_client_answers_per_s']:.2f}x the "
                  f"one-client rate of the same two workers; target ≥ 1.7x), p95 {two['p95_ms']} ms "
                  f"(target ≤ 1,500), {two['errors']} errors in all its runs."]
    cold = data.get("2_workers_no_cache")
    if cold:
        lines += [f"- the load test asks the same {LOAD_QUESTIONS} questions over and over, so after the first round "
                  "the encoder's cache (`RAGQA_ENCODER_REMEMBERED_TEXTS`) holds every question's and sentence's "
                  f"vector; without it, as for questions never asked before: {cold['answers_per_s']} answers/s "
                  f"({cold['answers_per_s'] / cold['one_client_answers_per_s']:.2f}x its one-client rate), p95 "
                  f"{cold['p95_ms']} ms, {cold['errors']} errors in all its runs."]
    return lines + [""]


def _eval(data: dict | None) -> list[str]:
    lines = ["## Eval figures on the int8 index and on an fp32 index (hybrid retrieval)", ""]
    if not data:
        return lines + [MISSING, ""]
    metrics = ("accuracy", "abstention_recall", "false_abstention", "citation_precision")
    lines += ["| set | cases | " + " | ".join(f"{m} int8 / fp32" for m in metrics) + " | largest gap |",
              "|---|---|" + "---|" * (len(metrics) + 1)]
    for name, row in data["rows"].items():
        int8, fp32 = row["onnx-int8"], row["torch"]
        gap = max(abs(int8[m] - fp32[m]) for m in metrics)
        lines.append(f"| {name} | {int8['cases']} | " + " | ".join(f"{int8[m]:.3f} / {fp32[m]:.3f}" for m in metrics)
                     + f" | {gap:.3f} |")
    return lines + ["", "- target: every gap ≤ 0.01. One case is 1/cases of accuracy and 1/(unanswerable cases) of "
                        "abstention recall, so on a small split a single case moves a figure by more than 0.01.", ""]


def chart(results: dict, path) -> None:
    """Latency and RSS against index size, measured and projected to a million passages (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["sizes"]["rows"]
    if len(rows) < 2:
        return
    sizes = [r["passages"] for r in rows]
    figure, (rss_axis, latency_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, key, label in ((rss_axis, "rss_mb", "serving RSS (MB)"), (latency_axis, "p50_ms", "ask p50 (ms)")):
        ours = [r["ours"][key] for r in rows]
        base_rows = [r for r in rows if r.get("baseline")]
        intercept, per = _slope(list(zip(sizes, ours)))
        axis.plot(sizes, ours, "o-", label="ragqa (int8, mmap BM25)")
        if base_rows:
            axis.plot([r["passages"] for r in base_rows], [r["baseline"][key] for r in base_rows], "s--",
                      label="baseline d30c2e4")
        axis.plot([sizes[-1], MILLION], [intercept + per * sizes[-1], intercept + per * MILLION], ":",
                  label="projection (least squares)")
        axis.set_xscale("log")
        axis.set_xlabel("passages in the index")
        axis.set_ylabel(label)
        axis.grid(True, alpha=.3)
    hnsw = [n * DIMENSION * 4 / 2**20 for n in (sizes[0], MILLION)]
    rss_axis.plot([sizes[0], MILLION], hnsw, "-.", label="Chroma HNSW in RAM (n x 384 x 4 B)")
    rss_axis.axhline(results.get("machine", {}).get("ram_gb", 24) * 1024 / 2, color="grey", lw=.8)
    rss_axis.text(sizes[0], results.get("machine", {}).get("ram_gb", 24) * 1024 / 2 * 1.05,
                  "2 embedded workers fill RAM above this line: use a Chroma server", fontsize=7)
    rss_axis.legend(fontsize=7)
    figure.suptitle(f"ragqa serving cost against index size ({results.get('machine', {}).get('date', '')})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
