"""By-lines: the heading blocks where a document states who made it, when and where."""

from app.answer.headings import asks_about_authoring, byline_blocks, is_heading

ORDER = """Keeping Lighthouses Lit

By the authority vested in me as Governor, it is hereby ordered that every lighthouse on the coast stays lit at night.

Sec. 2. Keepers shall report outages to the harbour office within two days of noticing them.

ADA LOVELACE

THE HARBOUR OFFICE,

March 3, 2031.
"""


def test_signature_block_is_found_verbatim():
    blocks = [ORDER[start:end] for start, end in byline_blocks(ORDER)]
    assert "ADA LOVELACE\n\nTHE HARBOUR OFFICE,\n\nMarch 3, 2031." in blocks
    assert not any("every lighthouse" in block for block in blocks)  # sentences are not by-lines


def test_headings_and_statements():
    assert is_heading("THE HARBOUR OFFICE,")
    assert is_heading("March 3, 2031.")
    assert not is_heading("Keepers shall report outages to the harbour office within two days of noticing them.")
    assert not is_heading("Secretary of Defense Pete Hegseth: “Amen, Mr. President.”")  # a quoted statement
    assert is_heading("“AMERICA FIRST” TRADE POLICY")  # quoted words, no sentence


def test_only_questions_about_a_documents_making_look_at_by_lines():
    assert asks_about_authoring("When was the order on lighthouses signed?", "date")
    assert asks_about_authoring("Who signed the order on lighthouses?", "name")
    assert not asks_about_authoring("Which keepers signed the petition?", "name")  # not who/where
    assert not asks_about_authoring("When must keepers report outages?", "date")
    assert not asks_about_authoring("Who introduced the keeper before his remarks?", "name")  # another act
    assert asks_about_authoring("Who delivered the remarks on lighthouses?", "name")
    assert asks_about_authoring("Where did the keeper give his speech on lighthouses?", "name")
    assert asks_about_authoring("On which Gazette page does the lighthouse order begin?", "number")  # its header
    assert not asks_about_authoring("How many lighthouses does the order list?", "number")


def test_signing_date_of_an_order_comes_from_its_signature_block(assistant):
    answer = assistant.ask("On what date was the executive order promoting the export of the American AI "
                           "technology stack signed?")
    assert not answer.abstained
    assert "July 23, 2025" in answer.answer
    citation = answer.citations[0]
    assert citation.doc_id == "whitehouse-eo14320-promoting-export-american-ai-technology-stack-2025-07-23"
    assert assistant.store.document_text(citation.doc_id)[citation.start:citation.end] == citation.quote


def test_place_of_remarks_comes_from_the_dateline(assistant):
    answer = assistant.ask("Where did Kratsios deliver his remarks at the APEC Digital and AI Ministerial Meeting?")
    assert "Incheon" in answer.answer


def test_volume_and_page_of_an_order_come_from_its_header(assistant):
    answer = assistant.ask("What Federal Register volume printed Executive Order 13873, and on which page?")
    assert not answer.abstained
    assert "Vol. 84" in answer.answer and "22689" in answer.answer
    assert answer.citations[0].doc_id == "eo13873-ict-supply-chain-2019-05-15-excerpt"
