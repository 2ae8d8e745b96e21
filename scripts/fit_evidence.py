"""Fit the extractive answerer's evidence model (abstain or answer) on an eval cases file.

    .venv/bin/python scripts/fit_evidence.py [eval/cases.jsonl]

Runs every case with abstention off, records the features of the quote the answerer chose, and fits
an L2-regularised logistic regression of "this quote answers the question" (answerable case whose
`expect` patterns all match = 1; unanswerable case = 0; answerable cases answered wrongly are left
out: no threshold can make them right). Prints the coefficients for app/answer/extractive.py and
the threshold that keeps false abstention at or under 10%. Uses the index in RAGQA_INDEX_DIR.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from app.answer import extractive
from app.assistant import Assistant
from app.config import Settings
from app.evaluate import load_cases

FEATURES = list(extractive.EVIDENCE_COEFFICIENTS)


def collect(cases_path: Path):
    assistant = Assistant.load(Settings(abstain_threshold=0.0))
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


def main() -> None:
    x, y = collect(Path(sys.argv[1] if len(sys.argv) > 1 else "eval/cases.jsonl"))
    weights, bias = fit(x, y)
    scores = 1 / (1 + np.exp(-(x @ weights + bias)))
    print(f"EVIDENCE_INTERCEPT = {bias:.2f}")
    print("EVIDENCE_COEFFICIENTS = {" + ", ".join(f'"{n}": {w:.2f}' for n, w in zip(FEATURES, weights)) + "}")
    for threshold in np.arange(0.2, 0.8, 0.05):
        kept = scores >= threshold
        print(f"threshold {threshold:.2f}: answered-correct kept {kept[y == 1].mean():.2f}, "
              f"unanswerable abstained {(~kept[y == 0]).mean():.2f}")


if __name__ == "__main__":
    main()
