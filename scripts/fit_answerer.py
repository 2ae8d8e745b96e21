"""Fit the answerer's model (app/answer/model.json) on the dev splits of the eval sets.

    .venv/bin/python scripts/fit_answerer.py [--sets coverage,whitehouse] [--refresh] [--dry-run]

1. Every dev case is retrieved on its own set's corpus and index (app.eval_sets, under eval/.work/)
   and its shortlisted candidates measured (app.answer.features); a candidate is labelled 1 when its
   text matches every `expect` pattern of an answerable case, 0 otherwise (every candidate of an
   unanswerable case is 0). The measurements are cached in eval/.work/ (--refresh measures again).
   Each answerable dev question that states a year is also asked again with a year no indexed passage
   states ("Biden's 2022 proclamation" -> "Biden's 2028 proclamation"): a false premise, which must be
   abstained on (`premise_variant`). These made-up questions are trained on, in their document's fold,
   and never scored: the figures are the real dev cases'.
2. A conditional logit (each question's candidates and "abstain" compete: `fit`) is cross-validated
   with folds grouped by document (a document's cases are all in one fold, as the dev/test split is
   made): for each L2 penalty, each question's best candidate out of fold is either right, wrong, or
   abstained at a threshold. For each strength the threshold is the one with the most cases right
   (compared by the mean of its neighbours, within the false-abstention bound); the strength kept is
   the weakest whose figure is within a case of the best (`choose_penalty`).
3. The model is refitted on every dev case with that strength and written, with the threshold, the
   cross-validated figures, the feature names and a hash of the dev cases (tests/test_model.py checks
   them). Test splits are never read here.
"""

from __future__ import annotations

import argparse
import pickle
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.answer.features import FEATURES, matrix  # noqa: E402
from app.answer.model import MODEL_FILE, AnswerModel, cases_hash, feature_set_hash  # noqa: E402
from app.eval_sets import EVAL, eval_sets, prepare  # noqa: E402
from app.evaluate import load_cases  # noqa: E402

PENALTIES = (0.0003, 0.001, 0.003, 0.01)  # L2 penalty on the weights
THRESHOLDS = np.round(np.arange(0.02, 0.98, 0.01), 2)
FOLDS = 5
OBJECTIVE = "right"
SMOOTHING = 5  # thresholds each side (0.01 apart) averaged when comparing thresholds
# Between thresholds that get about as many cases right, answering wins: an answerable question met
# with "the corpus does not say" is the failure users notice first. The bound is the product's
# (issue 13: false abstention <= 0.08 on folders never seen), applied out of fold on the dev splits.
MAX_FALSE_ABSTENTION = 0.08
# A false premise: a year of the question moved this many years or more later (to one no passage states).
# Measured 2026-12-07 before these variants were trained on: the fitted model answered about half of
# them (408 White House and 3 coverage dev questions), e.g. tests/test_lexicon.py's "2031 guidance" at
# 0.145 against a threshold of 0.20. Trained on, the dev cross-validation lost nothing (the mean of three
# assignments of documents to folds, right 0.789 -> 0.792 without question_word, 0.804 -> 0.806 with it).
PREMISE_YEARS = range(6, 30)
YEAR = re.compile(r"\b(?:19[5-9]\d|20\d\d)\b")
MEASURED = 2  # the cache's layout: 2 = with the false-premise variants


@dataclass
class Question:
    case_id: str
    group: str  # the case's document (unanswerable cases: their own id's document part)
    answerable: bool
    rows: np.ndarray  # candidates x features
    labels: np.ndarray  # 1 = the candidate's text matches every expect pattern
    question: str = ""
    texts: tuple[str, ...] = ()  # the candidates' quotes (for reading the fit's mistakes)
    vectors: np.ndarray | None = None  # the question's embedding, then the candidates'
    premise: bool = False  # a made-up false-premise variant (premise_variant): trained on, never scored


def premise_variant(question: str, uses) -> str | None:
    """`question` with its first year moved to the first later year (PREMISE_YEARS) that no indexed
    passage states (`uses`: app.terms.TermStats.uses); None when it states no year."""
    found = YEAR.search(question)
    if found is None:
        return None
    year = int(found.group(0))
    later = next((str(year + step) for step in PREMISE_YEARS if not uses(str(year + step))), None)
    return None if later is None else question[:found.start()] + later + question[found.end():]


def measure(set_name: str, refresh: bool) -> list[Question]:
    cache = EVAL / ".work" / f"fit-{set_name}-dev.pkl"
    dev = eval_sets()[set_name].cases("dev")
    key = (cases_hash([dev]), feature_set_hash(), MEASURED)
    if cache.is_file() and not refresh:
        saved_key, questions = pickle.loads(cache.read_bytes())
        if saved_key == key:
            return questions
    from app.answer import extractive
    from app.assistant import Assistant
    from app.config import Settings

    # Measuring needs no fitted weights (they only order the result), and the file may have been fitted
    # on other features: a model of zeros over the current features stands in.
    neutral = AnswerModel(np.zeros(len(FEATURES)), 0.0, 0.5, FEATURES, "", feature_set_hash())
    extractive.load_model = lambda: neutral
    assistant = Assistant.load(prepare(set_name, Settings(_env_file=None), EVAL / ".work"))
    questions = []
    for case in load_cases(dev):
        _answer, passages = assistant.ask_with_passages(case.question)
        group = case.sources[0] if case.sources else (passages[0].doc_id if passages else case.id)
        questions.append(_measured(assistant, case.id, group, case.question, case.answerable, case.expect, passages))
        variant = premise_variant(case.question, assistant.answerer.stats.uses) if case.answerable else None
        if variant is not None:
            _answer, passages = assistant.ask_with_passages(variant)
            questions.append(_measured(assistant, f"{case.id}#premise", group, variant, False, [], passages,
                                       premise=True))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps((key, questions)))
    return questions


def _measured(assistant, case_id: str, group: str, question: str, answerable: bool, expect: list[str], passages,
              premise: bool = False) -> Question:
    candidates = assistant.answerer.scored_candidates(question, passages)
    labels = [float(answerable and all(re.search(p, c.text, re.I) for p in expect)) for c in candidates]
    vectors = [assistant.answerer.encoder.embed_texts([question])[0]] + [c.vector for c in candidates]
    return Question(case_id, group, answerable, matrix(candidates).reshape(-1, len(FEATURES)), np.asarray(labels),
                    question, tuple(c.text for c in candidates), np.asarray(vectors, dtype=np.float32), premise)


def fit(questions: list[Question], penalty: float) -> tuple[np.ndarray, float]:
    """A conditional logit over each question's candidates and one more choice, "abstain": the
    candidates' scores are x . w, the abstain choice's score is a constant c. An answerable question's
    right candidates are its target, an unanswerable question's target is abstaining (weighted so the
    two kinds count equally). Minimised with L-BFGS and an L2 penalty on w. Compared with a
    logistic regression over candidates one by one (scikit-learn's, tried first), it learns what
    makes one candidate better than the others of its question: out of fold on the dev splits
    (2026-12-06) the best candidate was right for 0.81 of the answerable cases against 0.79.
    Returns (w, -c): the probability of a candidate, sigmoid(x . w - c), is the chance it beats abstaining."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    # Answerable questions with no right candidate teach nothing about which candidate is right.
    kept = [q for q in questions if len(q.rows) and (not q.answerable or q.labels.any())]
    answerable = sum(q.answerable for q in kept)
    unanswerable_weight = answerable / max(len(kept) - answerable, 1)
    size = kept[0].rows.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, c = theta[:size], theta[size]
        total, gradient = 0.0, np.zeros(size + 1)
        for q in kept:
            scores = q.rows @ w
            every = np.append(scores, c)
            normaliser = logsumexp(every)
            share = np.exp(every - normaliser)
            if q.answerable:
                right = q.labels > 0
                target = logsumexp(scores[right])
                weight, total_q = 1.0, normaliser - target
                share[:-1][right] -= np.exp(scores[right] - target)
            else:
                weight, total_q = unanswerable_weight, normaliser - c
                share[-1] -= 1.0
            total += weight * total_q
            gradient[:size] += weight * (q.rows.T @ share[:-1])
            gradient[size] += weight * share[-1]
        gradient /= len(kept)
        gradient[:size] += 2 * penalty * w
        return total / len(kept) + penalty * float(w @ w), gradient

    theta = minimize(loss, np.zeros(size + 1), jac=True, method="L-BFGS-B").x
    return theta[:size], -float(theta[size])


def outcomes(questions: list[Question], weights: np.ndarray, intercept: float) -> list[tuple[bool, float, bool]]:
    """Per question: (answerable, best candidate's probability, best candidate is right)."""
    result = []
    for q in questions:
        if not len(q.rows):
            result.append((q.answerable, 0.0, False))
            continue
        scores = 1 / (1 + np.exp(-(q.rows @ weights + intercept)))
        best = int(np.argmax(scores))
        result.append((q.answerable, float(scores[best]), bool(q.labels[best])))
    return result


def figures(results: list[tuple[bool, float, bool]], threshold: float) -> dict[str, float]:
    answerable = [(p, right) for a, p, right in results if a]
    unanswerable = [p for a, p, _ in results if not a]
    accuracy = sum(p >= threshold and right for p, right in answerable) / max(len(answerable), 1)
    false_abstention = sum(p < threshold for p, _ in answerable) / max(len(answerable), 1)
    recall = sum(p < threshold for p in unanswerable) / max(len(unanswerable), 1)
    return {"accuracy": accuracy, "abstention_recall": recall, "false_abstention": false_abstention,
            "balanced": (accuracy + recall) / 2,
            "right": (accuracy * len(answerable) + recall * len(unanswerable)) / max(len(results), 1)}


def folds(questions: list[Question]) -> list[int]:
    """A fold per question, documents kept whole, assigned round-robin in order of first appearance."""
    groups = list(dict.fromkeys(q.group for q in questions))
    fold_of = {group: i % FOLDS for i, group in enumerate(groups)}
    return [fold_of[q.group] for q in questions]


def cross_validate(questions: list[Question]):
    assignment = folds(questions)
    scored = []
    for strength in PENALTIES:
        results: list = []
        for fold in range(FOLDS):
            train = [q for q, f in zip(questions, assignment) if f != fold]
            weights, intercept = fit(train, strength)
            held = [q for q, f in zip(questions, assignment) if f == fold and not q.premise]  # made-up: not scored
            results += outcomes(held, weights, intercept)
        per_threshold = [figures(results, t) for t in THRESHOLDS]
        raw = np.array([f[OBJECTIVE] for f in per_threshold])
        # The share of cases right is a step function of the threshold and flat near its top: a lone
        # peak between two cases is noise. Thresholds are compared by their neighbourhood's mean.
        smooth = np.convolve(np.pad(raw, SMOOTHING, mode="edge"), np.ones(2 * SMOOTHING + 1) / (2 * SMOOTHING + 1), "valid")
        allowed = np.array([f["false_abstention"] <= MAX_FALSE_ABSTENTION for f in per_threshold])
        smooth = np.where(allowed, smooth, -1.0)
        top = float(smooth.max())
        tied = THRESHOLDS[smooth >= top - 1e-9]
        threshold = float(tied[len(tied) // 2])  # the middle of the best thresholds
        chosen = figures(results, threshold)
        print(f"penalty {strength}: {OBJECTIVE} {top:.3f} at threshold {threshold:.2f} {chosen}")
        scored.append((top, strength, threshold, chosen))
    return choose_penalty(scored, sum(not q.premise for q in questions))


def choose_penalty(scored: list[tuple], cases: int) -> tuple:
    """Of (figure, penalty, threshold, figures) per penalty, the weakest penalty within a case of the best.
    Penalties that far apart are tied (the folds' assignment alone moves the figure more), and the tie
    goes to the weakest: L2 shrinks first the weights of features that fire on few dev questions, such as
    numbers_unknown (a number no passage states: 3 dev questions), and the product needs those. Written
    after a refit chose 0.001 over 0.0003 by one case (right 0.787 against 0.786 on 716 dev cases) and
    answered tests/test_lexicon.py's "2031 guidance" question; before, the best figure won outright."""
    most = max(choice[0] for choice in scored)
    return min((choice for choice in scored if choice[0] >= most - 1 / cases - 1e-9), key=lambda choice: choice[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="coverage,whitehouse")
    parser.add_argument("--refresh", action="store_true", help="measure the candidates again")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write model.json")
    args = parser.parse_args()
    names = args.sets.split(",")
    questions = [q for name in names for q in measure(name, args.refresh)]
    positives = sum(q.labels.any() for q in questions if q.answerable)
    answerable = sum(q.answerable for q in questions)
    made_up = sum(q.premise for q in questions)
    print(f"{len(questions) - made_up} dev cases (and {made_up} false-premise variants, trained on, not scored); "
          f"a right candidate on the shortlist for {positives} of {answerable} answerable")
    _, strength, threshold, cv = cross_validate(questions)
    weights, intercept = fit(questions, strength)
    model = AnswerModel(weights, intercept, threshold, FEATURES,
                        cases_hash([eval_sets()[name].cases("dev") for name in names]), feature_set_hash())
    print(model.to_json())
    if not args.dry_run:
        MODEL_FILE.write_text(model.to_json(
            fitted=str(date.today()), sets=names, l2_penalty=strength,
            cross_validated={k: round(v, 3) for k, v in cv.items()},
            answerable_with_right_candidate=f"{positives} of {answerable}"), encoding="utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
