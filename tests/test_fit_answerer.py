"""scripts/fit_answerer.py: the conditional logit learns which candidate answers and when to abstain, the
folds keep a document's cases together, the figures count what they say, and the penalty chosen is the
weakest of those within a case of the best, and false-premise variants are made, trained on and never scored."""

import numpy as np
import pytest

from scripts import fit_answerer
from scripts.fit_answerer import Question, choose_penalty, figures, fit, folds, outcomes, premise_variant


def _questions(count: int, rng: np.random.Generator) -> list[Question]:
    """Answerable questions whose right candidate has feature 0 high; unanswerable ones whose candidates
    all have it low. Feature 1 is noise."""
    questions = []
    for i in range(count):
        answerable = i % 3 != 0
        rows = rng.normal(0.0, 0.3, size=(4, 2))
        labels = np.zeros(4)
        if answerable:
            right = i % 4
            rows[right, 0] += 2.0
            labels[right] = 1.0
        questions.append(Question(f"case-{i}", f"doc-{i // 2}", answerable, rows, labels))
    return questions


def test_the_fit_prefers_the_right_candidate_and_abstains_without_one():
    questions = _questions(90, np.random.default_rng(7))
    weights, intercept = fit(questions, 0.001)
    assert weights[0] > 1.0 and abs(weights[1]) < weights[0] / 4
    results = outcomes(questions, weights, intercept)
    answered = figures(results, 0.5)
    assert answered["accuracy"] > 0.9 and answered["abstention_recall"] > 0.9


def test_figures_count_right_answers_abstentions_and_false_abstentions():
    results = [(True, 0.9, True), (True, 0.8, False), (True, 0.1, True), (False, 0.2, False), (False, 0.7, False)]
    got = figures(results, 0.5)
    assert got["accuracy"] == 1 / 3 and got["false_abstention"] == 1 / 3 and got["abstention_recall"] == 1 / 2
    assert got["right"] == 2 / 5


def test_a_documents_cases_share_a_fold():
    questions = _questions(40, np.random.default_rng(1))
    assignment = folds(questions)
    by_document: dict[str, set[int]] = {}
    for question, fold in zip(questions, assignment):
        by_document.setdefault(question.group, set()).add(fold)
    assert all(len(found) == 1 for found in by_document.values())
    assert len(set(assignment)) > 1


def test_the_weakest_penalty_within_a_case_of_the_best_is_kept():
    scored = [(0.786, 0.0003, 0.20, {}), (0.787, 0.001, 0.20, {}), (0.770, 0.01, 0.19, {})]
    assert choose_penalty(scored, 716)[1] == 0.0003  # one case of 716 apart: tied
    assert choose_penalty(scored, 10_000)[1] == 0.001  # the same gap is ten cases of 10,000: not tied
    assert choose_penalty(list(reversed(scored)), 716)[1] == 0.0003  # whatever the order tried


@pytest.mark.parametrize("question, stated, variant", [
    ("What did Biden's 2022 proclamation designate?", {"2022", "2025"},
     "What did Biden's 2028 proclamation designate?"),  # 2028: the first year 6 or more later no passage states
    ("What did the 2020 order direct between 2020 and 2021?", {"2020"}, "What did the 2026 order direct between 2020 and 2021?"),
    ("How many packages were selected?", set(), None),  # no year: no variant
    ("What did the order of 1999 say?", {str(year) for year in range(2005, 2029)}, None),  # every later year stated
])
def test_a_false_premise_variant_moves_a_year_to_one_no_passage_states(question, stated, variant):
    assert premise_variant(question, stated.__contains__) == variant


def test_false_premise_variants_are_trained_on_and_never_scored(monkeypatch):
    """cross_validate scores only the real dev cases: a variant's outcome never reaches the figures."""
    rng = np.random.default_rng(3)
    real = _questions(60, rng)
    made_up = [Question(f"{q.case_id}#premise", q.group, False, rng.normal(0.0, 0.3, size=(4, 2)), np.zeros(4),
                        premise=True) for q in real if q.answerable]
    scored_counts = []
    original = outcomes

    def counting(questions, weights, intercept):
        assert not any(q.premise for q in questions)
        scored_counts.append(len(questions))
        return original(questions, weights, intercept)

    trained_on = []
    original_fit = fit

    def recording(questions, penalty):
        trained_on.append(sum(q.premise for q in questions))
        return original_fit(questions, penalty)

    monkeypatch.setattr(fit_answerer, "outcomes", counting)
    monkeypatch.setattr(fit_answerer, "fit", recording)
    monkeypatch.setattr(fit_answerer, "PENALTIES", (0.001,))
    fit_answerer.cross_validate(real + made_up)
    assert sum(scored_counts) == len(real)  # every real case scored once, out of fold
    assert all(count > 0 for count in trained_on)  # each fold's fit saw variants of the other folds' documents
