"""The candidate features: their order, the gaps to a question's best candidate, the length cap."""

from dataclasses import dataclass, field

from app.answer.features import FEATURES, LENGTH_CAP, length_feature, matrix, relative_features


@dataclass
class Scored:
    features: dict = field(default_factory=dict)


def test_gaps_are_measured_from_the_best_candidate_of_the_question():
    candidates = [Scored({"meaning": 0.7, "words": 0.2}), Scored({"meaning": 0.4, "words": 0.9})]
    relative_features(candidates)
    assert [c.features["meaning_gap"] for c in candidates] == [0.0, 0.7 - 0.4]
    assert [c.features["words_gap"] for c in candidates] == [0.9 - 0.2, 0.0]


def test_rows_follow_the_feature_order_and_missing_features_are_zero():
    rows = matrix([Scored({"meaning": 0.5, "byline": 1.0})])
    assert rows.shape == (1, len(FEATURES))
    assert rows[0, FEATURES.index("meaning")] == 0.5 and rows[0, FEATURES.index("byline")] == 1.0
    assert rows.sum() == 1.5


def test_length_is_capped():
    assert length_feature("one two three") == 3 / LENGTH_CAP
    assert length_feature("word " * (LENGTH_CAP * 2)) == 1.0


def test_feature_names_are_unique():
    assert len(set(FEATURES)) == len(FEATURES)
