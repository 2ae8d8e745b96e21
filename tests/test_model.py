"""The fitted model file: it matches the features and the dev cases it was fitted on, and it decides."""

import json

import numpy as np
import pytest

from app.answer.features import FEATURES
from app.answer.model import MODEL_FILE, AnswerModel, cases_hash, feature_set_hash, load_model
from app.eval_sets import eval_sets


def test_the_model_was_fitted_on_these_features_and_these_dev_cases():
    """Changing a feature or a dev case without refitting (scripts/fit_answerer.py) fails here."""
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert tuple(data["features"]) == FEATURES
    assert data["feature_set_hash"] == feature_set_hash()
    dev = [eval_sets()[name].cases("dev") for name in data["sets"]]
    assert data["cases_hash"] == cases_hash(dev)
    assert 0.0 < data["threshold"] < 1.0


def test_a_changed_case_or_feature_changes_the_hashes(tmp_path):
    cases = tmp_path / "dev.jsonl"
    cases.write_text('{"id": "a"}\n', encoding="utf-8")
    before = cases_hash([cases])
    cases.write_text('{"id": "b"}\n', encoding="utf-8")
    assert cases_hash([cases]) != before
    assert feature_set_hash(FEATURES + ("another",)) != feature_set_hash()


def test_probabilities_follow_the_weights_and_round_trip_through_json():
    model = AnswerModel(np.array([2.0, -1.0]), -0.5, 0.4, ("a", "b"), "cases", "features")
    rows = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 0.0]])
    probabilities = model.probabilities(rows)
    assert probabilities[0] > 0.5 > probabilities[2] > probabilities[1]
    again = AnswerModel.from_json(model.to_json(fitted="today"))
    assert np.allclose(again.probabilities(rows), probabilities) and again.threshold == 0.4
    assert model.probabilities(np.zeros((0, 2))).size == 0


def test_a_model_file_of_other_features_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(AnswerModel(np.array([1.0]), 0.0, 0.5, ("other",), "c", "f").to_json(), encoding="utf-8")
    with pytest.raises(RuntimeError, match="fit_answerer"):
        load_model(path)


def test_the_shipped_model_prefers_a_typed_answer_in_the_question_words():
    """Sanity of the fitted signs: more of the question's meaning and words, and the asked kind of
    answer, raise the probability; a name or number of the question missing from the document lowers it."""
    model = load_model()
    base = dict.fromkeys(FEATURES, 0.0) | {"meaning": 0.5, "words": 0.5, "context": 0.6, "type_asked": 1.0}

    def probability(**changes):
        row = base | changes
        return model.probabilities(np.array([[row[name] for name in FEATURES]]))[0]

    assert probability(meaning=0.8) > probability()
    assert probability(words=0.9, beyond_title=0.9) > probability()
    assert probability(type_specific=1.0, type_basic=1.0) > probability()
    assert probability(names_missing=1.0, numbers_missing=1.0) < probability()
    assert probability(numbers_unknown=1.0) < probability()
