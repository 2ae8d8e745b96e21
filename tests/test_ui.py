"""The chat page's building blocks (app.ui) without a browser: rendering, options, example questions,
what the page offers by where it listens. tests/test_browser.py drives the page itself in Chromium."""

from __future__ import annotations

import pytest

from app import ui
from app.documents import DocumentDesk, Rejected, UploadOutcome
from app.errors import RagqaError
from app.retrieve import SearchFilters
from app.schema import Answer, Citation, DocumentInfo
from tests.conftest import make_settings

CITATION = Citation(n=1, doc_id="uploads/a", title="A", quote="The quote.", start=3, end=13,
                    link="/view/uploads/a?start=3&end=13")


def test_a_citation_links_to_its_quote_in_the_document_and_nothing_else_is_linked():
    html = ui.render_citation(CITATION)
    assert 'href="/view/uploads/a?start=3&amp;end=13"' in html and "Open in the document" in html
    forged = ui.render_citation(CITATION.model_copy(update={"link": "javascript:alert(1)"}))
    assert "href" not in forged


def test_the_answer_says_how_it_was_made_and_with_which_options():
    answer = Answer(question="q", answer="The quote. [1]", abstained=False, citations=[CITATION])
    html = ui.render_answer(answer, "q", options="retriever bm25, k 3")
    assert "Extractive answer" in html and "Options: retriever bm25, k 3." in html
    generated = ui.render_answer(answer.model_copy(update={"mode": "generative"}), "q")
    assert "Generated answer" in generated and "Options:" not in generated


def test_options_become_ask_options_and_defaults_are_left_out():
    settings = make_settings(__import__("pathlib").Path("/tmp"))
    assert ui.asked_options("", "", ui.ANY_PUBLISHER, "hybrid", settings.top_k, settings) == \
        {"k": None, "retriever": None, "filters": None}
    options = ui.asked_options("2025-01-01", " ", "Rest of World", "bm25", 3, settings)
    assert options == {"k": 3, "retriever": "bm25", "filters": SearchFilters("2025-01-01", None, "Rest of World")}
    assert ui.describe_options(options) == "retriever bm25, k 3, from 2025-01-01, publisher Rest of World"
    with pytest.raises(RagqaError, match="to: not a date"):
        ui.asked_options("", "last week", ui.ANY_PUBLISHER, "hybrid", 6, settings)


def test_example_questions_come_from_a_file_or_none(tmp_path):
    settings = make_settings(tmp_path)
    assert ui.load_examples(settings) == []  # no EXAMPLES.txt in the corpus folder: none
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "EXAMPLES.txt").write_text("# comment\nWhen was it signed?\n\nWho signed it?\n")
    assert ui.load_examples(settings) == ["When was it signed?", "Who signed it?"]
    other = tmp_path / "mine.txt"
    other.write_text("What is it?\n")
    assert ui.load_examples(settings.model_copy(update={"examples_file": str(other)})) == ["What is it?"]
    assert ui.load_examples(settings.model_copy(update={"examples_file": "none"})) == []


def test_no_example_question_or_reveal_delay_is_in_the_code():
    source = open(ui.__file__, encoding="utf-8").read()
    assert "Huawei" not in source and "time.sleep" not in source and "STREAM_SECONDS" not in source


def test_documents_and_upload_outcomes_are_escaped():
    docs = [DocumentInfo(doc_id="x", title="<b>X</b>", publisher="<i>P</i>", uploaded=True, link="/view/x")]
    html = ui.render_documents(docs)
    assert "1 documents in the index" in html and "&lt;b&gt;X&lt;/b&gt;" in html and "uploaded" in html
    assert 'href="/view/x"' in html and "<b>" not in html
    outcome = ui.render_outcome(UploadOutcome(added=["uploads/a"], rejected=[Rejected(file="<x>.png", error="bad")]))
    assert "added: uploads/a" in outcome and "rejected: &lt;x&gt;.png — bad" in outcome


class FakeStore:  # build_ui reads nothing from it until the page loads
    def generation(self):
        return ""


class Holder:  # nor the documents: they are listed when a page opens, not at start-up
    def __init__(self, settings):
        self.settings, self.store = settings, FakeStore()


@pytest.mark.parametrize(("host", "key", "offered"), [("127.0.0.1", None, True), ("0.0.0.0", None, False),
                                                       ("0.0.0.0", "k", True)])
def test_upload_and_delete_are_offered_only_where_changes_are_allowed(tmp_path, host, key, offered):
    settings = make_settings(tmp_path, host=host, api_key=key)
    holder = Holder(settings)
    page = ui.build_ui(holder, DocumentDesk(holder))
    config = page.get_config_file()
    visible = {c["props"].get("elem_id"): c["props"].get("visible", True) for c in config["components"]}
    texts = " ".join(str(c["props"].get("value", "")) for c in config["components"])
    assert ("Uploads and deletion are off" in texts) is (not offered)
    assert visible["key"] is bool(key and offered)
