"""Fit the extractive answerer's evidence model (abstain or answer) on the dev splits of the eval sets.

    .venv/bin/python scripts/fit_evidence.py [coverage] [whitehouse]

Runs every case with abstention off, records the features of the quote the answerer chose, and fits
an L2-regularised logistic regression of "this quote answers the question" (answerable case whose
`expect` patterns all match = 1; unanswerable case = 0; answerable cases answered wrongly are left
out: no threshold can make them right). Prints the coefficients for app/answer/extractive.py and
for both the current and the refit coefficients, the threshold in the middle of the widest range that
gets the most cases right. Before adopting a
refit, compare both by cross-validation: on a set this small a refit can fit noise. Each set is
scored on its own corpus and index (app.eval_sets, under eval/.work/); test splits are never read.
On 2026-12-02 (both dev splits, 275 cases): the refit's best threshold was 0.185 against the 0.188
in use.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from app.answer import extractive
from app.assistant import Assistant
from app.config import Settings
from app.eval_sets import EVAL, eval_sets, prepare
from app.evaluate import load_cases

FEATURES = list(extractive.EVIDENCE_COEFFICIENTS)


def collect(settings: Settings, cases_path: Path):
    assistant = Assistant.load(settings.model_copy(update={"abstain_threshold": 0.0}))
    rows, labels = [], []
    for case in load_cases(cases_path):
        _answer, passages = assistant.ask_with_passages(case.question)
        chosen = assistant.answerer.extract(case.question, passages)
        if chosen.abstained:
            continue
        text = " ".join(c.text for c in chosen.candidates)
        correct = all(re.search(p, text, re.I) for p in case.expect)
        if case.answerable and not correct:
            continue
        rows.append([chosen.candidates[0].features.get(name, 0.0) for name in FEATURES])
        labels.append(1.0 if case.answerable else 0.0)
    return np.asarray(rows), np.asarray(labels)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 0.002, steps: int = 40000, rate: float = 1.0):
    weights, bias = np.zeros(x.shape[1]), 0.0
    # Balance the classes: unanswerable cases are few but matter as much.
    sample = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ weights + bias)))
        gradient = (p - y) * sample
        weights -= rate * (x.T @ gradient / len(y) + l2 * weights)
        bias -= rate * gradient.mean()
    return weights, bias


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The middle of the widest range of thresholds that gets the most cases right (answerable kept,
    unanswerable abstained; each question counts once, as it does for a user): as far as this set
    allows from the cases on either side."""
    grid = np.round(np.arange(0.05, 0.95, 0.005), 3)
    right = np.array([(scores[y == 1] >= t).sum() + (scores[y == 0] < t).sum() for t in grid])
    best = np.flatnonzero(right == right.max())
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    widest = max(runs, key=len)
    return float((grid[widest[0]] + grid[widest[-1]]) / 2)


def report(name: str, scores: np.ndarray, y: np.ndarray) -> None:
    print(f"{name}: best threshold {best_threshold(scores, y):.3f}")
    for threshold in np.arange(0.2, 0.8, 0.05):
        kept = scores >= threshold
        print(f"  threshold {threshold:.2f}: answered-correct kept {kept[y == 1].mean():.2f}, "
              f"unanswerable abstained {(~kept[y == 0]).mean():.2f}")


def main() -> None:
    """The dev splits of the eval sets named (default: both), each on its own corpus and index."""
    rows, labels = [], []
    for name in sys.argv[1:] or ["coverage", "whitehouse"]:
        x, y = collect(prepare(name, Settings(_env_file=None), EVAL / ".work"), eval_sets()[name].cases("dev"))
        rows.append(x)
        labels.append(y)
    x, y = np.vstack(rows), np.concatenate(labels)
    current = np.array([extractive.evidence(dict(zip(FEATURES, row))) for row in x])
    report("coefficients in app/answer/extractive.py", current, y)
    weights, bias = fit(x, y)
    print(f"EVIDENCE_INTERCEPT = {bias:.2f}")
    print("EVIDENCE_COEFFICIENTS = {" + ", ".join(f'"{n}": {w:.2f}' for n, w in zip(FEATURES, weights)) + "}")
    report("refit coefficients", 1 / (1 + np.exp(-(x @ weights + bias))), y)


if __name__ == "__main__":
    main()
