"""The candidate features: their order, the gaps to a question's best candidate, the length cap, and
how the question word is matched against a quote's words (on the packaged model's token vectors)."""

from dataclasses import dataclass, field

import numpy as np
import pytest

from app.answer.features import (
    CLOSEST_PIECES,
    FEATURES,
    LENGTH_CAP,
    length_feature,
    matrix,
    pieces_at,
    question_word_match,
    relative_features,
)
from app.answer.question import question_word_spans
from app.quantized import TokenVectors


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


def test_the_pieces_inside_the_question_words_are_taken():
    vectors = np.eye(4, dtype=np.float16)
    tokens = TokenVectors(np.array([[0, 4], [5, 8], [8, 11], [12, 20]]), vectors)
    assert pieces_at(tokens, [(5, 11)]).tolist() == vectors[1:3].tolist()  # a word cut into two pieces
    assert pieces_at(tokens, []).shape == (0, 4)
    assert pieces_at(TokenVectors(np.zeros((0, 2), dtype=int), vectors[:0]), [(0, 4)]).shape == (0, 4)


def test_the_match_is_the_mean_of_the_closest_pieces_to_any_question_word():
    asking = np.array([[1.0, 0.0], [0.0, 1.0]])
    quote = np.array([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6], [0.0, -1.0], [-1.0, 0.0]])
    # each piece's best cosine to either question word: 1.0, 0.8, 0.8, 0.0, 0.0; the CLOSEST_PIECES best
    assert CLOSEST_PIECES == 3 and question_word_match(asking, quote) == pytest.approx((1.0 + 0.8 + 0.8) / 3)
    assert question_word_match(asking[:0], quote) == 0.0 and question_word_match(asking, quote[:0]) == 0.0


@pytest.mark.parametrize("question, holds, lacks", [
    ("When did the Commerce Department warn about Huawei's Ascend chips?",
     "On May 13, 2025, the Commerce Department warned about Huawei's Ascend chips.",
     "The Commerce Department warned about Huawei's Ascend chips."),
    ("Who leads the program?", "Howard Lutnick leads the program.", "The program is led well."),
    ("Where were the talks held?", "The talks were held in Geneva.", "The talks were held in secret."),
    ("How much did the new cloud region cost?",
     "The new cloud region cost $300 million.",
     "The new cloud region was expensive to build."),
])
def test_a_quote_holding_what_the_question_word_asks_for_matches_it_better(embedder, question, holds, lacks):
    """The reason for the feature, on the real model: the same sentence with and without the asked detail.
    A lean, not a check (features.py): "Who signed the order?" matched "The order was signed." better than
    "President Trump signed the order.", so it is one feature among the others, weighed by the fit."""
    vectors, pieces = embedder.embed_with_tokens([question, holds, lacks])
    asking = pieces_at(pieces[0], question_word_spans(question))
    assert len(asking) == 1
    assert question_word_match(asking, pieces[1].vectors) > question_word_match(asking, pieces[2].vectors)
