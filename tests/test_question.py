"""Question analysis: what a question asks about, and how a sentence is held to it."""

import pytest

from app.answer.question import FOCUS, QuestionProfile, question_word_spans
from app.config import Settings
from app.embedding import load_embedder
from app.terms import TermStats


@pytest.mark.parametrize("question, focus", [
    ("What kinds of infrastructure does the resolution prioritise?", "infrastructure"),
    ("What kind of infrastructure does the resolution prioritise?", "infrastructure"),
    ("Which types of support can the group offer exporters?", "support"),
    ("What sort of penalties apply?", "penalties"),
    ("How much revenue did it lose?", "revenue"),
])
def test_the_thing_asked_about_is_found(question, focus):
    """"What kinds of X" asks about X (the answerer checks the passage for it), not about "kinds"."""
    assert [m.group(1) for m in FOCUS.finditer(question)] == [focus]


def test_the_question_is_analysed_once_into_its_row_and_details():
    stats = TermStats(["The Commerce Secretary Howard Lutnick leads the program."])
    profile = QuestionProfile.build("What is the name of the Secretary of Commerce who leads the program?", stats)
    assert profile.kind.name == "person" and profile.title == "secretary" and profile.asks_a_kind
    profile = QuestionProfile.build("How many ships did the Navy seize in <b>2019</b>?", stats)
    assert profile.kind.name == "count" and "ship" in profile.counted and profile.numbers == ["2019"]
    assert "<b>" not in profile.text  # pasted markup is not part of what is asked
    assert not QuestionProfile.build("What does the order direct agencies to do?", stats).asks_a_kind


def test_neighbouring_terms_of_the_question_are_found_side_by_side():
    stats = TermStats(["Export controls apply."])
    profile = QuestionProfile.build("Which export controls apply to chips?", stats)
    assert profile.bigram_share("Export controls apply to chips.") == 1.0
    assert 0.0 < profile.bigram_share("The new export controls apply to them.") < 1.0
    assert profile.bigram_share("Chips: controls on their export.") == 0.0


def test_a_number_no_passage_states_is_an_unknown_premise():
    stats = TermStats(["The 2025 guidance covers 13,611 chips.", "Executive Order 14117 of 2024."])
    assert QuestionProfile.build("What did the 2031 guidance say?", stats).numbers_unknown
    assert not QuestionProfile.build("What did the 2025 guidance say?", stats).numbers_unknown
    assert not QuestionProfile.build("Which order covers 13,611 chips?", stats).numbers_unknown
    assert not QuestionProfile.build("What did the guidance say?", stats).numbers_unknown
    profile = QuestionProfile.build("What did Executive Order 14999 say?", stats)
    assert profile.context_features("Executive Order 14117")["numbers_unknown"] == 1.0


def test_a_date_outside_the_time_frame_is_a_feature_not_a_failed_check():
    stats = TermStats(["The areas were affected by tornadoes on March 14, 2024."])
    profile = QuestionProfile.build("On what date did the tornadoes occur that led to a declaration in May 2024?", stats)
    text = "The areas were affected by tornadoes on March 14, 2024."
    assert profile.holds_answer_type(text, stats) and profile.dates_outside_frame(text)
    assert not profile.dates_outside_frame("The declaration was approved on May 20, 2024.")
    assert not QuestionProfile.build("What did the tornadoes destroy in May 2024?", stats).dates_outside_frame(text)


def test_a_document_dated_away_from_every_date_of_the_question_is_dated_elsewhere():
    """"Biden's March 2023 proclamation" and a proclamation of 2024-03-29: another year's document."""
    stats = TermStats(["The Advanced Research Projects Agency for Health got $2.5 billion."])
    profile = QuestionProfile.build("According to Biden's March 2023 proclamation, how much did the agency get?", stats)
    assert profile.dated_elsewhere("2024-03-29")
    assert not profile.dated_elsewhere("2023-03-30") and not profile.dated_elsewhere("2023-04-02")
    assert not profile.dated_elsewhere("")  # an undated document
    across_a_new_year = QuestionProfile.build("What did the December 2024 order revoke?", stats)
    assert not across_a_new_year.dated_elsewhere("2025-01-03") and across_a_new_year.dated_elsewhere("2025-03-03")
    in_a_year = QuestionProfile.build("What did the 2023 proclamation on National Mentoring Month say?", stats)
    assert not in_a_year.dated_elsewhere("2022-12-30")  # issued the month before the year it is for
    assert not in_a_year.dated_elsewhere("2023-07-01") and in_a_year.dated_elsewhere("2024-03-01")
    assert not QuestionProfile.build("How much did the agency get?", stats).dated_elsewhere("2024-03-29")
    # an event's date is no document's: "after the April 2024 storms" dates no document
    assert not QuestionProfile.build("Which county was covered after the April 2024 storms?", stats).dated_elsewhere("2025-03-01")


def test_a_question_for_the_number_naming_a_document_takes_that_number():
    stats = TermStats(["Executive Order 14036 of July 9, 2021, is hereby revoked."])
    profile = QuestionProfile.build("What is the number of the executive order on competition?", stats)
    assert profile.reference_number and profile.holds_answer_type("Executive Order 14036 is hereby revoked.", stats)
    asked = QuestionProfile.build("What is the number of the order that replaced Executive Order 14036?", stats)
    assert not asked.holds_answer_type("Executive Order 14036 is hereby revoked.", stats)  # the question's own
    assert not QuestionProfile.build("What is the total number of chips?", stats).reference_number


def test_a_common_word_the_corpus_never_uses_is_no_premise_but_a_rare_one_is():
    """"decide" is a word the documents put otherwise ("retracted"); "Kirin" a thing they never mention."""
    stats = TermStats(["The Malaysia government retracted its remarks about Huawei chips."])
    whole_word = load_embedder(Settings(_env_file=None)).is_whole_word
    profile = QuestionProfile.build("What did Malaysia decide about Huawei chips?", stats, whole_word)
    assert "decid" not in profile.keys and {"malaysia", "huawei"} <= profile.keys
    assert "decid" in QuestionProfile.build("What did Malaysia decide about Huawei chips?", stats).keys
    assert "kirin" in QuestionProfile.build("What did Malaysia say about kirin chips?", stats, whole_word).keys


@pytest.mark.parametrize("question, asked_with", [
    ("When did the Commerce Department warn about Ascend chips?", ["When"]),
    ("According to Biden's 2021 proclamation, who was appointed?", ["who"]),
    ("How much did the program cost, and which agency paid?", ["How", "which"]),
    ("Name the official who signed the order.", ["who"]),  # a question word anywhere: it points at the asked
    ("List the counties named in the declaration.", ["List"]),  # no question word: the first word
    ("", []),
])
def test_the_words_a_question_asks_with_are_found(question, asked_with):
    """question_word_spans: the spans whose model vectors the question_word feature reads."""
    assert [question[a:b] for a, b in question_word_spans(question)] == asked_with


def test_the_profile_keeps_the_question_words_of_the_question_as_given():
    """Spans in the text the model reads (markup included), not in the profile's text without markup."""
    question = "<b>Who</b> signed the order?"
    profile = QuestionProfile.build(question, TermStats(["The President signed the order."]))
    assert profile.asked_with == question_word_spans(question) == [(3, 6)]
    assert "<b>" not in profile.text
