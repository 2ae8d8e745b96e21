"""Adjacent-detail questions: a quote must hold the specific thing asked, not only its kind."""

import numpy as np
import pytest

from app.answer.features import FEATURES
from app.answer.question import QuestionProfile
from app.answer.specifics import (
    asked_action,
    counted_terms,
    counts,
    dates_outside_frame,
    people_with_other_titles,
    states_action,
    states_new_date,
)
from app.terms import TermStats

CORPUS = ["The order directs the secretary to act. The plan lists policy actions for the program.",
          "Mr. Coons submitted a resolution. The director thanked them for the introduction."]


@pytest.fixture(scope="module")
def stats() -> TermStats:
    return TermStats(CORPUS)


@pytest.mark.parametrize("question, text, expected", [
    ("On exactly which day in April 2025 was the order signed?", "In April 2025, the President signed it.", False),
    ("On exactly which day in April 2025 was the order signed?", "On April 23, 2025, the President signed it.", True),
    ("When in 2019 was the order signed?", "It was signed on May 15, 2019.", True),
    ("When in 2019 was the order signed?", "It was signed in 2019.", False),
    ("On exactly which day in April 2025 was the order signed?", "- In January 2025, he signed one.", False),  # outside
    ("When in 2019 was the order signed?", "It was signed on May 15.", True),
    ("When was the 2019 order continued?", "It was continued in May 2024.", True),  # not a time frame
    ("When was the May 2024 notice signed?", "THE WHITE HOUSE, May 8, 2024.", True),
    ("When was the May 2024 notice signed?", "The notice of May 2024 continues it.", False),
    ("In what year was Huawei barred?", "Washington barred it in 2019.", True),
    ("In what year was Huawei barred?", "It was signed on 5/15/2019.", True),
    ("In what year was Huawei barred?", "Companies may be barred.", False),  # "may" the verb
    ("When was the notice signed?", "JOSEPH R. BIDEN JR. THE WHITE HOUSE, MAY 8, 2024.", True),
])
def test_a_date_answer_dates_more_than_the_question_does(question, text, expected):
    assert states_new_date(question, text) is expected


@pytest.mark.parametrize("question, text, expected", [
    ("How many industry consortium proposals has the program received?", "Within 90 days of this order, act.", False),
    ("How many industry consortium proposals has the program received?", "It has received 12 proposals.", True),
    ("How many policy actions does the plan identify?", "It identifies over 90 Federal policy actions.", True),
    ("How many countries are exempt?", "More than 50 countries are exempt.", True),
    ("How many GPUs can a buyer order?", "Orders of up to 1,700 advanced GPUs need no license.", True),
    ("How many packages were selected?", "Three packages were selected.", True),
    # no listed word after the counted noun: the words after "how many" are what it counts
    ("How many vacant federal civilian positions went unfilled?", "The policy runs through October 15, 2025: no position may be filled.",
     False),
    ("How many vacant federal civilian positions went unfilled?", "About 2,400 vacant positions went unfilled.", True),
    # an initialism's dots ended what is counted at "U": the count fell back to any number, "one stroke" too
    ("How many U.S. aluminum smelters were idled?", "Five U.S. aluminum smelters were idled.", True),
    ("How many U.S. aluminum smelters were idled?", "With one stroke of the pen, the era of idled smelters ended.", False),
])
def test_a_count_counts_what_the_question_counts(question, text, expected):
    assert counts(counted_terms(question), text) is expected


def test_a_question_without_a_counted_noun_asks_for_any_number():
    assert counted_terms("How many of the allies are in Europe?") == set()


def test_what_is_counted_reads_past_an_initialism():
    assert counted_terms("How many U.S. aluminum smelters were idled?") == counted_terms("How many aluminum smelters?")
    assert counted_terms("How many U.N. members voted?") >= counted_terms("How many members?")


def test_a_date_outside_the_question_time_frame_is_still_a_new_date():
    question = "On what date did the tornadoes occur that led to a declaration in May 2024?"
    text = "The areas were affected by tornadoes on March 14, 2024."
    assert states_new_date(question, text, framed=False) and not states_new_date(question, text)
    assert dates_outside_frame(question, text)
    assert not dates_outside_frame(question, "The declaration was approved on May 20, 2024.")
    assert not dates_outside_frame(question, "The declaration was approved in May 2024.")  # no new date


def test_a_person_named_with_another_title_is_not_the_one_asked_for():
    text = "Today, President Donald J. Trump signed it; Secretary of State Marco Rubio and Secretary Lutnick spoke."
    assert people_with_other_titles("secretary", text) == {"Donald", "Trump"}  # people_in may take either
    assert {"Rubio", "Lutnick"} <= people_with_other_titles("president", text)
    assert not {"Donald", "Trump"} & people_with_other_titles("president", text)


@pytest.mark.parametrize("question, text, expected", [
    ("Who introduced Michael Kratsios at the meeting?", "President Trump began executing the plan.", False),
    ("Who introduced Michael Kratsios at the meeting?", "Ambassador Jane Smith introduced Kratsios.", True),
    ("Who led the U.S. team at the Geneva talks?", "Jake Sullivan led the team in Geneva.", True),  # irregular past
    ("Who led the U.S. team at the Geneva talks?", "President Biden met President Xi.", False),
    ("Who chairs the action group?", "The group is chaired by the Secretary of State.", True),
])
def test_who_did_it_needs_the_action_in_the_sentence(question, text, expected):
    assert states_action(asked_action(question), text) is expected


def test_who_is_asks_no_action():
    assert asked_action("Who is the Commerce Secretary?") is None


@pytest.mark.parametrize("question, text, expected", [
    ("What is the name of the Secretary of Commerce running the program?", "President Donald J. Trump signed it.",
     False),
    ("What is the name of the Secretary of Commerce running the program?", "Secretary Howard Lutnick runs it.", True),
    ("Which senator submitted the resolution?", "Mr. Coons submitted it.", True),  # a courtesy title contradicts nothing
    ("How many proposals has the program received?", "Within 90 days of the order, it opens.", False),
    ("On exactly which day in April 2025 was the order signed?", "In April 2025, it was signed.", False),
    ("Who signed the order?", "DONALD J. TRUMP THE WHITE HOUSE, July 23, 2025.", True),  # a by-line says no verb
])
def test_the_answerer_holds_a_quote_to_the_specific_thing_asked(stats, question, text, expected):
    assert QuestionProfile.build(question, stats).holds_answer_type(text, stats) is expected


def test_a_quote_that_does_not_say_the_asked_action_is_marked(stats):
    """"Who introduced X" is answered by a sentence that says the introducing: a feature of the model
    (action_missing), no longer part of the type check, since a nomination list or "an op-ed by X"
    answers "who was nominated" or "who wrote" without the verb."""
    profile = QuestionProfile.build("Who introduced the director?", stats)
    assert profile.misses_action("President Trump began executing the plan.")
    assert not profile.misses_action("Senator Cotton introduced the director at the hearing.")
    assert not QuestionProfile.build("What is the name of the director?", stats).misses_action("The plan began.")


@pytest.mark.parametrize("question", [
    "What is the name of the Secretary of Commerce who must set up the American AI Exports Program?",
    # the sentence about the model names none; a sentence with other names (UAE, Thailand) is not about it
    "Huawei launched an Arabic large language model in Egypt: what is it called?",
])
def test_adjacent_detail_questions_abstain_on_the_coverage_corpus(assistant, question):
    assert assistant.ask(question).abstained


def test_a_quote_without_the_specific_date_asked_scores_below_the_one_with_it(assistant):
    """The check is a feature of the fitted model, not a veto: "which day of April 2025" is answered
    better by a sentence with a day than by the same words with only "In April 2025"."""
    question = "On exactly which day of April 2025 did the President sign the order on AI education for youth?"
    passages = assistant.retriever.retrieve(question, 6, "hybrid")
    scored = assistant.answerer.scored_candidates(question, passages)
    month_only = next(c for c in scored if "In April 2025, President Trump signed" in c.text)
    assert month_only.features["type_specific"] == 0.0 and month_only.features["type_basic"] == 1.0
    with_day = month_only.features | {"type_specific": 1.0, "typed_beyond_title": month_only.features["beyond_title"]}
    rows = assistant.answerer.model.probabilities

    assert rows(np.array([[with_day.get(n, 0.0) for n in FEATURES]]))[0] > month_only.score


@pytest.mark.parametrize("question, sentence, joined", [
    ("When did Malaysia retract its remarks?", "The same month, Malaysia retracted its remarks.", True),
    ("When did Malaysia retract its remarks?", "- Malaysia retracted its remarks.", False),  # a list item
    ("Which department did Malaysia answer?", "The same month, Malaysia retracted its remarks.", False),  # not a date
])
def test_a_sentence_takes_the_date_of_the_one_before_unless_it_is_a_list_item(stats, question, sentence, joined):
    from app.answer.extractive import Candidate, ExtractiveAnswerer
    from app.schema import Passage

    previous = "- In May, the Commerce Department issued guidance on the chips."
    text = f"{previous}\n{sentence}"
    passage = Passage(id="p", doc_id="d", title="t", text=text, start=0, end=len(text))
    candidate = Candidate(passage, 0, len(previous) + 1, len(text), sentence)
    profile = QuestionProfile.build(question, stats)
    answerer = ExtractiveAnswerer.__new__(ExtractiveAnswerer)  # only its stats are read here
    answerer.stats = stats
    quote = answerer._joined_with_previous(candidate, (0, len(previous)), profile).text
    assert (quote == text) is joined


