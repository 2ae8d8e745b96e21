"""The answer-type table: every row's examples classify to the row, and its check tells the sentence
that holds the answer from the one that only sounds like it (tests generated from the table)."""

import pytest

from app.answer.answer_types import ANSWER_TYPES, amount_asked, answer_type, asked_clause
from app.answer.question import QuestionProfile
from app.terms import TermStats

EXAMPLES = [(row.name, *example) for row in ANSWER_TYPES for example in row.examples]


@pytest.mark.parametrize("row, question, holds, lacks", EXAMPLES)
def test_each_example_question_takes_its_row(row, question, holds, lacks):
    assert answer_type(question).name == row


@pytest.mark.parametrize("row, question, holds, lacks", EXAMPLES)
def test_each_row_check_holds_its_answer_and_not_the_adjacent_detail(row, question, holds, lacks):
    stats = TermStats([holds, lacks, "the order and the program and the guidance"])
    profile = QuestionProfile.build(question, stats)
    assert profile.holds_answer_type(holds, stats)
    if row != "description":
        assert not profile.holds_answer_type(lacks, stats)
        assert profile.holds_basic_type(holds, stats)


def test_every_row_has_examples_and_the_last_row_takes_every_question():
    assert all(row.examples for row in ANSWER_TYPES)
    assert ANSWER_TYPES[-1].name == "description" and answer_type("Tell me about it.").name == "description"


@pytest.mark.parametrize("question, asked", [
    ("According to Biden's 2021 proclamation, who was appointed to the post?", "who was appointed to the post?"),
    ("Under the March 2025 order, when does a tariff expire?", "when does a tariff expire?"),
    # a question word in the leading clause: the question starts there
    ("On what date did the Senate confirm Ann Lee, whom Biden nominated?",
     "On what date did the Senate confirm Ann Lee, whom Biden nominated?"),
    ("Who signed it?", "Who signed it?"),
])
def test_a_leading_clause_that_names_the_source_is_not_the_question(question, asked):
    assert asked_clause(question) == asked


def test_a_time_counted_from_an_event_answers_when_but_not_on_what_date():
    stats = TermStats(["The tariff expires 1 year after the date on which it was imposed.", "the order"])
    sentence = "The tariff expires 1 year after the date on which it was imposed."
    assert QuestionProfile.build("When does the tariff expire?", stats).holds_answer_type(sentence, stats)
    assert not QuestionProfile.build("On what date does the tariff expire?", stats).holds_answer_type(sentence, stats)


@pytest.mark.parametrize("question, amount", [
    ("What percentage of eligible costs does the federal government cover?", "proportion"),
    ("What share of cancers diagnosed today could be prevented?", "proportion"),
    ("How much did the new helicopter cost to build?", "money"),
    ("What was the total dollar amount of Federal aid the State received?", "money"),
    ("What was the estimated dollar value of the homes destroyed?", "money"),
    ("How much did the company invest in Kenya?", "money"),
    ("How many grants were awarded?", None),  # a count, whatever it counts
    ("By how much did consumer spending grow in the second quarter?", None),  # a change: units or percent
    ("By how much is the science budget increasing each year?", None),
    ("What was the GDP price index in the second quarter?", None),  # an index is not money
    ("How much clean power must be added to the grid?", None),
])
def test_the_kind_of_amount_asked_for(question, amount):
    assert amount_asked(question) == amount


@pytest.mark.parametrize("question, sentence, holds", [
    ("What percentage of eligible costs does the federal government cover?",
     "Federal funding is available on a cost-sharing basis for 75 percent of eligible costs.", True),
    ("What percentage of eligible costs does the federal government cover?",
     "The President declared that a major disaster exists in the State after storms on April 11 to 12, 2024.", False),
    ("How much did the new helicopter cost to build?", "The helicopter cost $85 million to build.", True),
    ("How much did the new helicopter cost to build?",
     "The helicopter is one of the most iconic machines, and it flew 72 times.", False),
])
def test_a_number_of_another_kind_is_not_the_amount_asked_for(question, sentence, holds):
    """"What percentage" needs a proportion and "how much did it cost" money; a date or a count is neither."""
    stats = TermStats([sentence])
    assert QuestionProfile.build(question, stats).holds_answer_type(sentence, stats) is holds


def test_a_document_names_its_subject_once_and_answers_in_a_later_passage(tmp_path):
    """The question names the storm; the document says it in its first passage and names the officer
    in its last. The answer is the later passage's sentence, not an abstention."""
    from app.assistant import Assistant
    from tests.conftest import indexed_corpus

    filler = " ".join(f"Relief crews cleared road number {n} and restored power to the towns along it." for n in range(40))
    document = ("Today, the President declared that an emergency exists in the State of Carolina due to Hurricane "
                f"Mira beginning on September 28, 2022. {filler} The Administrator named Jonah Abernathy as the "
                "Federal Coordinating Officer for Federal recovery operations in the affected areas.")
    other = "Hurricane preparedness week reminds families to keep supplies ready before the storm season."
    settings = indexed_corpus(tmp_path, {"declaration.txt": document, "week.txt": other}, chunk_tokens=120)
    assistant = Assistant.load(settings)
    passages = assistant.search("What is the name of the official named Federal Coordinating Officer for the Hurricane Mira emergency?")
    assert len({p.doc_id for p in passages}) < len(passages)  # the document is retrieved as several passages
    answer = assistant.ask("What is the name of the official named Federal Coordinating Officer for the Hurricane Mira emergency?")
    assert not answer.abstained
    assert "Jonah Abernathy" in answer.citations[0].quote


@pytest.mark.parametrize("question, text, expected", [
    ("Which executive order first declared the national emergency?",
     "The emergency was declared in Executive Order 13611 of May 16, 2012.", True),
    ("Which executive order first declared the national emergency?",
     "The order first declared the national emergency to deal with the threat.", False),
    ("Which counties were designated for public assistance?", "The counties of Kauai and Maui were designated.", True),
    ("Which counties were designated for public assistance?", "Several counties were designated for public assistance.", False),
    ("Which executive order did Executive Order 14024 expand?", "Executive Order 14024 expanded the emergency.", False),
    ("How did the order change the rules?", "Executive Order 13611 changed the rules.", False),  # no kind asked
])
def test_a_thing_of_the_asked_kind_is_named_next_to_its_kind(question, text, expected):
    """The kind_instance feature: a new name or number within a few words of the asked kind's word."""
    stats = TermStats([text, "the counties of the state", "an executive order of the president"])
    assert QuestionProfile.build(question, stats).names_instance(text, stats) is expected
