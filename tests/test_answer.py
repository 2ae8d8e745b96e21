"""End to end over the real coverage corpus: cited answers and abstentions."""

import pytest

from app.answer.cite import UnfaithfulCitation, verify_citations
from app.errors import RagqaError

COMMERCE = "When did the Commerce Department warn that using Huawei's Ascend chips could break export controls?"


def assert_faithful(assistant, answer):
    for citation in answer.citations:
        text = assistant.store.document_text(citation.doc_id)
        assert text[citation.start:citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.answer


def test_commerce_guidance_month(assistant):
    answer = assistant.ask(COMMERCE)
    assert not answer.abstained
    assert "May" in answer.answer
    assert answer.citations[0].doc_id == "restofworld-huawei-global-south-ai"
    assert answer.citations[0].publisher == "Rest of World"
    assert_faithful(assistant, answer)


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_each_retriever_answers_with_verbatim_quotes(assistant, retriever):
    answer = assistant.ask("Which countries did Huawei pitch its Ascend 910B processors to?", retriever=retriever)
    assert not answer.abstained
    assert "Thailand" in answer.answer and "Saudi Arabia" in answer.answer
    assert_faithful(assistant, answer)


@pytest.mark.parametrize("question", [
    "What was Huawei's annual revenue from its Kenyan cloud business?",
    "Who won the 2022 football World Cup?",
    "How many Ascend chips did Huawei ship to Brazil in 2023?",
])
def test_questions_the_corpus_does_not_answer_abstain(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained
    assert answer.citations == []
    assert "does not say" in answer.answer


def test_search_returns_passages_with_scores(assistant):
    passages = assistant.search("Malaysia AI servers powered by Huawei chips", k=3)
    assert len(passages) == 3
    assert any("Malaysia" in p.text for p in passages)
    assert all(p.score > 0 for p in passages)


def test_unfaithful_citation_is_caught(assistant):
    citation = assistant.ask(COMMERCE).citations[0].model_copy(update={"start": 0})
    with pytest.raises(UnfaithfulCitation):
        verify_citations([citation], assistant.store.document_text)


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_bad_questions_are_rejected(assistant, question):
    with pytest.raises(RagqaError):
        assistant.ask(question)



@pytest.mark.parametrize("question, focus", [
    ("What kinds of infrastructure does the resolution prioritise?", "infrastructure"),
    ("What kind of infrastructure does the resolution prioritise?", "infrastructure"),
    ("Which types of support can the group offer exporters?", "support"),
    ("What sort of penalties apply?", "penalties"),
    ("How much revenue did it lose?", "revenue"),
])
def test_the_thing_asked_about_is_found(question, focus):
    """"What kinds of X" asks about X (the answerer checks the passage for it), not about "kinds"."""
    from app.answer.extractive import FOCUS

    assert [m.group(1) for m in FOCUS.finditer(question)] == [focus]


@pytest.mark.parametrize("question, amount", [
    ("What percentage of eligible costs does the federal government cover?", "proportion"),
    ("What share of cancers diagnosed today could be prevented?", "proportion"),
    ("How much did the new helicopter cost to build?", "money"),
    ("What was the total dollar amount of Federal aid the State received?", "money"),
    ("How much did the company invest in Kenya?", "money"),
    ("How many grants were awarded?", None),  # a count, whatever it counts
    ("By how much did consumer spending grow in the second quarter?", None),  # a change: units or percent
    ("By how much is the science budget increasing each year?", None),
    ("What was the GDP price index in the second quarter?", None),  # an index is not money
    ("How much clean power must be added to the grid?", None),
])
def test_the_kind_of_amount_asked_for(question, amount):
    from app.answer.extractive import amount_asked

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
    from app.answer.extractive import QuestionProfile
    from app.terms import TermStats

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
