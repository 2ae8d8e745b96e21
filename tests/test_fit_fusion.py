"""scripts/fit_fusion.py: BM25's weight in hybrid retrieval is the one the dev splits choose, and the
choice follows the measured ranks."""

import pytest

from app.config import Settings
from scripts.fit_fusion import GRID, best_weight, dev_cases, mean_reciprocal_ranks, reciprocal_rank


def test_reciprocal_rank_is_that_of_the_first_gold_document():
    assert reciprocal_rank(["a", "b", "c"], ["c", "b"]) == 0.5
    assert reciprocal_rank(["a", "b"], ["z"]) == 0.0


def test_the_best_weight_is_the_best_mean_and_the_lowest_of_equal_ones():
    flat = dict.fromkeys(GRID, 0.5)
    assert best_weight({"one": flat | {0.7: 0.9}, "two": flat})[0] == 0.7
    assert best_weight({"one": flat | {0.7: 0.9, 0.9: 0.9}})[0] == 0.7


@pytest.mark.slow
def test_the_default_weight_is_the_one_the_dev_splits_choose(assistant, whitehouse_assistant):
    """Changing retrieval, the eval sets' dev cases or their corpora without running scripts/fit_fusion.py
    again (and setting its weight as Settings' default) fails here."""
    by_set = {"coverage": mean_reciprocal_ranks(assistant, dev_cases("coverage")),
              "whitehouse": mean_reciprocal_ranks(whitehouse_assistant, dev_cases("whitehouse"))}
    assert best_weight(by_set)[0] == Settings.model_fields["hybrid_bm25_weight"].default
