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
from app.evaluate import load_cases  # noqa: E402

GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def reciprocal_rank(doc_ids: list[str], sources: list[str]) -> float:
    """1 / the rank of the first passage from one of the case's sources (0 when none is retrieved), as the eval's mrr."""
    return next((1.0 / rank for rank, doc_id in enumerate(doc_ids, 1) if doc_id in sources), 0.0)


def mean_reciprocal_ranks(set_name: str) -> dict[float, float]:
    from app.assistant import Assistant
    from app.config import Settings
    from app.retrieve import Retriever

    assistant = Assistant.load(prepare(set_name, Settings(_env_file=None), EVAL / ".work"))
    cases = [case for case in load_cases(eval_sets()[set_name].cases("dev")) if case.answerable and case.sources]
    base = assistant.retriever
    ranks = {}
    for weight in GRID:
        retriever = Retriever(base.store, base.embedder, base.lexical, weight)
        found = [[p.doc_id for p in retriever.retrieve(case.question, assistant.settings.top_k)] for case in cases]
        ranks[weight] = sum(reciprocal_rank(ids, case.sources) for ids, case in zip(found, cases)) / len(cases)
    return ranks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="coverage,whitehouse")
    names = parser.parse_args().sets.split(",")
    by_set = {name: mean_reciprocal_ranks(name) for name in names}
    print("weight  " + "  ".join(f"{name:>10}" for name in names) + "        mean")
    means = {}
    for weight in GRID:
        means[weight] = sum(by_set[name][weight] for name in names) / len(names)
        print(f"{weight:6.1f}  " + "  ".join(f"{by_set[name][weight]:10.3f}" for name in names) + f"  {means[weight]:10.3f}")
    best = max(GRID, key=lambda weight: (round(means[weight], 3), -weight))
    print(f"best BM25 weight on the dev splits: {best} (mean reciprocal rank {means[best]:.3f})")


if __name__ == "__main__":
    main()
