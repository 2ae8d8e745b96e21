"""Choose BM25's weight in hybrid retrieval (Settings.hybrid_bm25_weight) on the dev splits of the eval sets.

    .venv/bin/python scripts/fit_fusion.py [--sets coverage,whitehouse]

Every dev case that names its sources is retrieved on its own set's corpus and index (app.eval_sets,
under eval/.work/) with each weight of a grid; the score of a weight is the mean over the sets of the
mean reciprocal rank of the case's sources among the `top_k` passages' documents. It prints the
table and the best weight (the lowest of equal ones: more of the dense list's reach). Only retrieval
is measured, so no answerer is involved; test splits are never read. The weight found goes in
app/config.py's default, and the answerer is refitted after it (scripts/fit_answerer.py), since the
fused score is one of its features.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.eval_sets import EVAL, eval_sets, prepare  # noqa: E402
from app.evaluate import gold_rank, load_cases  # noqa: E402

GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def reciprocal_rank(doc_ids: list[str], sources: list[str]) -> float:
    """1 / the rank of the first passage from one of the case's sources (0 when none is retrieved), as the eval's mrr."""
    rank = gold_rank(doc_ids, sources)
    return 1.0 / rank if rank else 0.0


def dev_cases(set_name: str) -> list:
    """The set's answerable dev cases that name their sources."""
    return [case for case in load_cases(eval_sets()[set_name].cases("dev")) if case.answerable and case.sources]


def mean_reciprocal_ranks(assistant, cases: list) -> dict[float, float]:
    """Per weight of the grid: the mean reciprocal rank of the cases' sources in `assistant`'s index."""
    from app.retrieve import Retriever

    base = assistant.retriever
    ranks = {}
    for weight in GRID:
        retriever = Retriever(base.store, base.embedder, base.lexical, weight)
        found = [[p.doc_id for p in retriever.retrieve(case.question, assistant.settings.top_k)] for case in cases]
        ranks[weight] = sum(reciprocal_rank(ids, case.sources) for ids, case in zip(found, cases)) / len(cases)
    return ranks


def best_weight(by_set: dict[str, dict[float, float]]) -> tuple[float, dict[float, float]]:
    """The weight of the best mean over the sets (to 3 decimals; the lowest of equal ones), and the means."""
    means = {weight: sum(ranks[weight] for ranks in by_set.values()) / len(by_set) for weight in GRID}
    return max(GRID, key=lambda weight: (round(means[weight], 3), -weight)), means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="coverage,whitehouse")
    names = parser.parse_args().sets.split(",")
    from app.assistant import Assistant
    from app.config import Settings

    by_set = {name: mean_reciprocal_ranks(Assistant.load(prepare(name, Settings(_env_file=None), EVAL / ".work")),
                                          dev_cases(name)) for name in names}
    best, means = best_weight(by_set)
    print("weight  " + "  ".join(f"{name:>10}" for name in names) + "        mean")
    for weight in GRID:
        print(f"{weight:6.1f}  " + "  ".join(f"{by_set[name][weight]:10.3f}" for name in names) + f"  {means[weight]:10.3f}")
    print(f"best BM25 weight on the dev splits: {best} (mean reciprocal rank {means[best]:.3f})")


if __name__ == "__main__":
    main()
