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
