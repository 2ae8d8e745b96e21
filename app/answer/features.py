"""The evidence a candidate quote is judged on: one vector of generic features per candidate.

Every check the answerer makes is a feature here, never a veto: the fitted model (app.answer.model,
fitted by scripts/fit_answerer.py on the dev splits) decides how much each counts, so a check that
is wrong on documents of another kind costs a little score, not the answer. The features, each in
[0, 1] (README's "How it works" says what each is for):

- meaning: cosine of the question and the quote read after its document's title (the packaged model);
- meaning_gap: how far the best candidate's meaning is above this one's (a pointwise model then
  compares candidates of one question, not questions with each other);
- words, words_gap: IDF-weighted share of the question's terms in the quote, and the gap to the best;
- keys_quote: IDF-weighted share of the question's key terms in the quote itself;
- beyond_title: the words share counting only the question's terms its document's title lacks: the
  terms that tell one sentence of a document from another ("appointed", "coordinate" when the title
  already says "Guam Major Disaster Declaration"); typed_beyond_title: that share when the quote
  also holds the specific kind of answer asked for (0 otherwise);
- window_words: the words share over the quote and its neighbouring sentences (a subject named in
  the sentence before);
- bigrams: share of the question's neighbouring content-term pairs side by side in the quote;
- lead: the quote stands at its document's start, where news and fact sheets state the main facts;
- missing: IDF-weighted share of the question's key terms (names, numbers, the thing asked about,
  rare words the corpus never uses) absent from the quote's document (title, publisher, date, every
  retrieved passage);
- names_missing, numbers_missing: a name or number the question commits to is absent from the context;
- numbers_unknown: a number the question commits to is stated by no indexed passage at all ("the 2031
  guidance"): the question's premise is not in the corpus. The same for every candidate of a question,
  so it only moves answering against abstaining. "missing" counts such a number among the key terms,
  where it is one share among several (added 2026-12-07: dev cross-validation 0.788 -> 0.789, and the
  false-premise question of tests/test_lexicon.py abstains again after the refit on more dev cases).
  It fired on 3 dev questions, too few to weigh it (-0.2); since the fit also trains on false-premise
  variants of the dev questions (scripts/fit_answerer.py, premise_variant) it weighs -5;
- dated_elsewhere: the question dates the document it asks about ("Biden's March 2023 proclamation", "the
  2021 order": a document's name follows the date) and none of those dates is within a month of the quote's
  document's date: the proclamation of March 2024 had answered the question about the one of March 2023
  (added 2026-12-07: dev cross-validation right 0.815 -> 0.817, weight about -1.4; it counts against 6 of
  the 383 dev questions' right answers, most of them the same sentence in another year's document.
  Counting every date of the question, events' too, gave 0.819 but counted against 14 right answers);
- type_asked: the question asks for a kind of answer (app.answer.answer_types); type_basic: the quote
  holds that kind at all (a date, a number, a name); type_specific: it holds the specific thing asked
  (a new date in the question's time frame, the asked kind of amount, a count of what is counted, a
  person of the asked office);
- action_missing: a "who <verb>ed" question's action is not said in the quote ("who introduced X" and a
  sentence without "introduced"); part of type_specific until 2026-12-07, a feature of its own since, as
  a nomination list answers "who was nominated" without the verb (dev cross-validation 0.842 -> 0.849);
- dates_outside_frame: a date question, and the new dates the quote states all fall outside the time frame
  the question sets ("in May 2024"). Part of type_specific until 2026-12-07; a feature of its own since, as
  the frame may date another event than the one asked about ("the tornadoes that led Biden to approve a
  declaration in May 2024" struck in March). Dev cross-validation right 0.809 -> 0.812;
- kind_instance: a "which/what <kind>" question ("which executive order", "which counties") and the quote
  names a thing the question does not, within three words of a word of that kind ("Executive Order
  13611", "the counties of Harris, Liberty"): the question's kind of thing named, where the table's rows
  check only dates, amounts, people and places (added 2026-12-07: dev cross-validation right 0.789 ->
  0.801, most of it abstention recall; as a row of the table instead, type_asked for every such
  question, it lost: 0.764);
- passage_score: the fused retrieval score of the quote's passage.
- question_word: how closely the quote's words match the question's question word ("when", "who", "how")
  as the packaged model reads each word in its sentence: the mean of the three best cosines between the
  model's vectors of the question word's pieces and of the quote's pieces (its last hidden state, the
  vectors it pools into the sentence's). In context "when" leans towards dates and times, "where"
  towards places and "how much" towards sums, so a sentence that holds the asked kind of answer scores
  higher: a reading of the asked detail that the word lists and patterns of the table cannot give. A
  lean, not a check: "who signed the order" matched "the order was signed" better than "President Trump
  signed the order". The quote is read alone for it, without its title. Added 2026-12-07: dev
  cross-validation right 0.790 -> 0.800 (mean of six assignments of documents to folds); the mean of
  the best 1, 2, 3 or 5 cosines gave about the same, the words of the question other than its question
  word nothing.
The passage's rank and the question's share of words over the document ("context") are measured too,
to choose which candidates to embed, but are no features: dropped one at a time from the
cross-validated fit on the dev splits, the model got more cases right without them (2026-12-06).
- heading: the quote is a title line or fragment; byline: a signature or dateline block, for a
  question about the document's making; authoring: the quote says the making ("signed", "issued");
- joined: the quote took the sentence before it for the date it lacked;
- length: the quote's length in words (capped), a short fragment rarely answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FEATURES = ("meaning", "meaning_gap", "words", "words_gap", "keys_quote", "beyond_title", "typed_beyond_title", "window_words", "bigrams", "lead", "missing", "names_missing", "numbers_missing", "numbers_unknown", "dated_elsewhere",
            "type_asked", "type_basic", "type_specific", "action_missing", "dates_outside_frame", "kind_instance", "passage_score", "heading", "byline", "authoring",
            "joined", "length", "question_word")
LENGTH_CAP = 60  # words: longer quotes count as long
CLOSEST_PIECES = 3  # question_word: the mean of this many best cosines


def relative_features(candidates: Sequence) -> None:
    """The gaps to the question's best candidate, once every candidate's own features are known."""
    for name in ("meaning", "words"):
        best = max(c.features[name] for c in candidates)
        for candidate in candidates:
            candidate.features[f"{name}_gap"] = best - candidate.features[name]


def matrix(candidates: Sequence) -> np.ndarray:
    """The candidates' features as rows, in FEATURES order (missing ones are 0)."""
    return np.array([[c.features.get(name, 0.0) for name in FEATURES] for c in candidates], dtype=float)


def length_feature(text: str) -> float:
    return min(len(text.split()), LENGTH_CAP) / LENGTH_CAP


def pieces_at(tokens, spans: list[tuple[int, int]]) -> np.ndarray:
    """The vectors of a text's word pieces (app.quantized.TokenVectors) that overlap the character spans."""
    offsets = tokens.offsets
    if not len(offsets) or not spans:
        return tokens.vectors[:0]
    inside = np.zeros(len(offsets), dtype=bool)
    for start, end in spans:
        inside |= (offsets[:, 0] < end) & (offsets[:, 1] > start)
    return tokens.vectors[inside]


def question_word_match(asking: np.ndarray, quote: np.ndarray) -> float:
    """question_word: the mean of the CLOSEST_PIECES best cosines between any question-word piece and
    each of the quote's pieces (0 when either has none)."""
    if not len(asking) or not len(quote):
        return 0.0
    closest = (quote.astype(np.float32) @ asking.astype(np.float32).T).max(axis=1)
    return float(np.sort(closest)[-CLOSEST_PIECES:].mean())
