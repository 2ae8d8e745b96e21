"""Write README's eval figures from a real run: both eval sets, dev and test side by side.

    .venv/bin/python scripts/eval_report.py [--readme README.md]

For each eval set (app.eval_sets) it lays out the corpus, brings its index up to date, scores the
dev split with the hybrid retriever and the test split with all three retrievers, and replaces the
block between `<!-- eval:start -->` and `<!-- eval:end -->` in README with the tables, the date and
the machine. It also writes the table of what each set is made of (cases, the documents they cite,
the corpus) between `<!-- eval-sets:start -->` and `<!-- eval-sets:end -->`; `--sets-only` writes
that table alone (it needs no index). Nothing in either block is typed by hand
(tests/test_eval_report.py checks the sets table against the case files).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from app import evaluate as ev
from app.config import Settings, offline_environment
from app.eval_sets import EVAL, ROOT, composition, eval_sets, prepare

sys.path.insert(0, str(ROOT))
from scripts.bench import machine  # noqa: E402  (the bench's description of the machine)

METRICS = ("cases", "accuracy", "abstention_recall", "false_abstention", "hit@1", "hit@5", "citation_precision",
           "citation_faithfulness", "quotes_without_markup", "latency_p50_ms")
START, END = "<!-- eval:start -->", "<!-- eval:end -->"
SETS_START, SETS_END = "<!-- eval-sets:start -->", "<!-- eval-sets:end -->"
CORPUS = {  # how each set's corpus is made (app.eval_sets)
    "coverage": "the coverage documents (`corpus/`)",
    "whitehouse": "White House documents listed in `eval/whitehouse/documents.tsv`",
}


def sets_table() -> str:
    """README's table of the eval sets, counted from their case files and corpora."""
    rows = ["| set | corpus | documents | cases (dev / test) | documents cited (dev / test) | unanswerable |",
            "|---|---|---|---|---|---|"]
    for name, eval_set in eval_sets().items():
        found = composition(eval_set)
        documents = f"{found.documents}" + (f", {found.distractors} of them distractors" if found.distractors else "")
        total = sum(found.cases.values())
        rows.append(f"| `{name}` (`eval/{name}/`) | {CORPUS.get(name, name)} | {documents} | "
                    f"{found.cases['dev']} / {found.cases['test']} | "
                    f"{found.case_documents['dev']} / {found.case_documents['test']} | "
                    f"{found.unanswerable} of {total} ({found.unanswerable / max(total, 1):.0%}) |")
    return "\n".join(rows)


def table(columns: dict[str, dict[str, float]]) -> str:
    rows = ["| metric | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for metric in METRICS:
        cells = [f"{summary[metric]:.0f}" if metric in ("cases", "latency_p50_ms") else f"{summary[metric]:.3f}"
                 for summary in columns.values()]
        rows.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--sets-only", action="store_true", help="write only the table of the eval sets")
    args = parser.parse_args()
    offline_environment()
    replace_block(args.readme, SETS_START, SETS_END, sets_table())
    if args.sets_only:
        return
    cpu = machine()
    blocks = [f"Written by `scripts/eval_report.py` on {dt.date.today().isoformat()} ({cpu['cores']} x {cpu['cpu']}, "
              "no GPU)."]
    for name, eval_set in eval_sets().items():
        settings = prepare(name, Settings(_env_file=None), EVAL / ".work")
        dev = ev.load_cases(eval_set.cases("dev"))
        test = ev.load_cases(eval_set.cases("test"))
        dev_summary, _ = ev.evaluate(settings, dev, ["hybrid"])
        test_summaries, _ = ev.evaluate(settings, test, ["dense", "bm25", "hybrid"])
        columns = {"dev (hybrid)": dev_summary["hybrid"]} | {f"test ({k})": v for k, v in test_summaries.items()}
        blocks.append(f"**{name}** ({len(dev)} dev / {len(test)} test cases):\n\n{table(columns)}")
        print(f"{name}: dev {ev.headline('hybrid', dev_summary['hybrid'])}\n{name}: test "
              f"{ev.headline('hybrid', test_summaries['hybrid'])}", flush=True)
    blocks.append(fitted_model_line())
    replace_block(args.readme, START, END, "\n\n".join(blocks))


def fitted_model_line() -> str:
    """The answerer model's own cross-validated figures on the dev splits (what it was fitted on)."""
    import json

    from app.answer.model import MODEL_FILE

    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    cv = data.get("cross_validated", {})
    return (f"The answerer's model (`app/answer/model.json`, fitted {data.get('fitted', '?')} on the dev splits of "
            f"{', '.join(data.get('sets', []))}; threshold {data['threshold']}), out of fold in 5-fold cross-validation "
            f"grouped by document (the best candidate as the answer): accuracy {cv.get('accuracy', 0):.3f}, abstention "
            f"recall {cv.get('abstention_recall', 0):.3f}, false abstention {cv.get('false_abstention', 0):.3f}. "
            f"The dev columns above are in-sample; the test columns are the honest ones.")


def _split(path: Path, start: str, end: str) -> tuple[str, str, str]:
    content = path.read_text(encoding="utf-8")
    if start not in content or end not in content:
        raise SystemExit(f"{path} has no {start} ... {end} block")
    head, rest = content.split(start, 1)
    inside, tail = rest.split(end, 1)
    return head, inside.strip("\n"), tail


def read_block(path: Path, start: str, end: str) -> str:
    """The text between the markers `start` and `end` of a file (README's written blocks)."""
    return _split(path, start, end)[1]


def replace_block(path: Path, start: str, end: str, text: str) -> None:
    """Replace what stands between the markers with `text` (scripts/llm_report.py writes its block so too)."""
    head, _, tail = _split(path, start, end)
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
