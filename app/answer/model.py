"""The fitted model that decides: which candidate answers, and whether any does.

A logistic regression over app.answer.features.FEATURES, fitted by scripts/fit_answerer.py on the dev
splits of the eval sets (with cross-validation for its regularisation and its threshold) and stored
in model.json beside this file with its weights, intercept, threshold, the feature names and a hash
of the dev cases it was fitted on. tests/test_model.py fails when the features or the cases no
longer match the file: refit then.

The probability is the model's estimate that the candidate quote answers the question; the best
candidate is quoted when its probability reaches the threshold, and the answer abstains otherwise.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.answer.features import FEATURES

MODEL_FILE = Path(__file__).with_name("model.json")


def feature_set_hash(features: tuple[str, ...] = FEATURES) -> str:
    return hashlib.sha256("\n".join(features).encode()).hexdigest()[:16]


def cases_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class AnswerModel:
    weights: np.ndarray  # one per feature, FEATURES order
    intercept: float
    threshold: float
    features: tuple[str, ...]
    fitted_on: str  # hash of the dev cases
    feature_hash: str

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-(rows @ self.weights + self.intercept)))

    def to_json(self, **extra) -> str:
        data = {"features": list(self.features), "weights": dict(zip(self.features, np.round(self.weights, 4).tolist())),
                "intercept": round(self.intercept, 4), "threshold": round(self.threshold, 4),
                "feature_set_hash": self.feature_hash, "cases_hash": self.fitted_on, **extra}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "AnswerModel":
        data = json.loads(text)
        features = tuple(data["features"])
        return cls(np.array([data["weights"][name] for name in features]), float(data["intercept"]),
                   float(data["threshold"]), features, data["cases_hash"], data["feature_set_hash"])


@functools.cache
def load_model(path: Path = MODEL_FILE) -> AnswerModel:
    model = AnswerModel.from_json(path.read_text(encoding="utf-8"))
    if model.features != FEATURES:
        raise RuntimeError(f"{path} was fitted on other features: run scripts/fit_answerer.py")
    return model
