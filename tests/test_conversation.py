"""Follow-up questions: recognised, resolved before retrieval against the earlier turn, answered."""

import pytest

from app.conversation import ask_in_turn, condense, is_follow_up

QUESTION = "When did the Commerce Department warn about Huawei's Ascend chips?"
ROW = "restofworld-huawei-global-south-ai"


@pytest.mark.parametrize("question", ["and in which month was that?", "what about Egypt?", "What about Egypt?",
                                      "Who signed it?", "When?", "Why did they do that?", "And the year?"])
def test_follow_ups_are_recognised(question):
    assert is_follow_up(question)


@pytest.mark.parametrize("question", [QUESTION, "Which countries has Huawei expanded cloud coverage in?",
                                      "What does the order say that American companies must do?"])
def test_standalone_questions_are_left_alone(question):
    assert not is_follow_up(question)
    assert condense(question, ["Something asked before about the AI diffusion rule?"]) == question


def test_condense_puts_a_follow_up_that_asks_first():
    """A follow-up with its own question word leads, so what it asks for (a month) is read from it."""
    assert condense("and in which month was that?", [QUESTION]) == f"in which month was that: {QUESTION}"
    assert condense("and in which month was that?", []) == "and in which month was that?"
    assert condense("and in Kenya?", [QUESTION]) == f"{QUESTION} and in Kenya?"


def test_a_when_follow_up_gives_the_date_the_sentence_before_states(assistant):
    """"What did Malaysia decide?" then "and when was that?": the month is in the sentence before."""
    first = "What did Malaysia decide about Huawei chips?"
    assert "Malaysia" in assistant.ask(first).answer
    follow_up = ask_in_turn(assistant, "and when was that?", [first])
    assert "In May" in follow_up.answer and "Malaysia" in follow_up.answer


def test_condense_what_about_replaces_the_previous_substitution():
    history = ["Where has Huawei expanded cloud coverage?", "what about Kenya?"]
    assert condense("what about Egypt?", history) == "Where has Huawei expanded cloud coverage? what about Egypt?"


def test_condense_chains_pronoun_follow_ups():
    history = ["Which executive order promotes AI exports?", "when was it signed?"]
    assert condense("who signed it?", history) == \
        "who signed it: when was it signed: Which executive order promotes AI exports?"


def test_condense_respects_the_length_limit():
    resolved = condense("and why?", ["word " * 500], max_chars=100)
    assert len(resolved) <= 100 and resolved.startswith("why: word")


def test_follow_up_answer_uses_the_earlier_turn(assistant):
    answer = ask_in_turn(assistant, "and in which month was that?", [QUESTION])
    assert not answer.abstained and "May" in answer.answer
    assert answer.citations[0].doc_id == ROW


@pytest.mark.parametrize("question, previous_answer, resolved", [
    ("and when was that?", "Malaysia retracted its remarks. [1]", "when was that: Malaysia retracted its remarks. [1]"),
    ("what about Egypt?", "Huawei expanded in Kenya.", f"{QUESTION} what about Egypt?"),  # asks nothing of its own
    ("and in Kenya?", "Huawei expanded in Kenya.", f"{QUESTION} and in Kenya?"),
    # a date follow-up: the previous answer's own dates are what it asks for, not part of the question
    ("and in which month did they announce it?", "In August, Indus Cloud and Huawei announced a data center.",
     "in which month did they announce it: Indus Cloud and Huawei announced a data center."),
    ("and who announced it?", "In August, Indus Cloud announced a data center.",
     "who announced it: In August, Indus Cloud announced a data center."),
])
def test_a_follow_up_with_its_own_question_word_is_read_against_the_previous_answer(question, previous_answer,
                                                                                     resolved):
    assert condense(question, [QUESTION], previous_answer=previous_answer) == resolved


def test_a_follow_up_after_an_abstention_is_read_against_the_previous_question(assistant):
    asked = "Who won the 2022 football World Cup?"
    assert assistant.ask(asked).abstained
    assert ask_in_turn(assistant, "and when was that?", [asked]).question == f"when was that: {asked}"
