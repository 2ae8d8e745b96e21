"""The document viewer (app.viewer): /view/{doc_id}?start&end shows the indexed text with the span
highlighted, escaped, under a strict Content-Security-Policy; every citation links to it; a PDF
citation names the page its quote starts on. A real index, the real model, the full app."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.assistant import Assistant
from app.ingest import ingest
from tests.conftest import make_settings

EVIL = ("The zorblax festival <script>window.__x = 1</script> takes place every June in Quentaria. "
        "Tickets are sold at the harbour office.")
EVIL_SOURCES = [{"file": "festival.txt", "title": "Guide <img src=x onerror=alert(1)>", "publisher": "<b>Board</b>",
                 "date": "2025-06-01", "url": "javascript:alert(2)"}]
PAGE_ONE = "The Marlow report opens with a survey of regional ports and their traffic."
PAGE_TWO = "The Marlow report found that the Brenton terminal handled nine million containers in 2024."


def pdf(pages: list[str]) -> bytes:
    """A small valid PDF with one line of text per page (Helvetica), offsets computed for the xref."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(len(pages)))}] "
               f"/Count {len(pages)} >>",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for number, text in enumerate(pages):
        stream = f"BT /F1 10 Tf 20 700 Td ({text}) Tj ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {5 + 2 * number} 0 R >>")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("viewer")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "festival.txt").write_text(EVIL, encoding="utf-8")
    (corpus / "SOURCES.json").write_text(json.dumps(EVIL_SOURCES), encoding="utf-8")
    (corpus / "marlow.pdf").write_bytes(pdf([PAGE_ONE, PAGE_TWO]))
    settings = make_settings(tmp)
    ingest(settings, progress=False)
    with TestClient(create_app(Assistant.load(settings)), raise_server_exceptions=False) as test_client:
        yield test_client


def marked(html: str) -> str:
    found = re.search(r'<mark id="quote">(.*?)</mark>', html, re.DOTALL)
    return unescape(found.group(1)) if found else ""


def test_a_citation_link_shows_its_quote_highlighted_in_the_document(client):
    answer = client.post("/api/ask", json={"question": "When does the zorblax festival take place?"}).json()
    citation = answer["citations"][0]
    response = client.get(citation["link"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert marked(response.text) == citation["quote"]
    assert "scrollIntoView" in response.text


def test_document_text_and_metadata_are_escaped_under_a_strict_policy(client):
    start = EVIL.index("The zorblax")
    html = client.get(f"/view/festival?start={start}&end={start + 40}").text
    assert "<script>window.__x" not in html and "&lt;script&gt;window.__x" in html and "&lt;/script&gt; takes" in html
    assert "<img" not in html and "<b>Board" not in html and "javascript:" not in html
    assert "Guide &lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;Board&lt;/b&gt;" in html and "2025-06-01" in html
    policy = client.get("/view/festival").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy and "unsafe-inline" not in \
        policy.split("script-src")[1]


def test_the_whole_document_without_a_span_and_bad_spans_are_4xx(client):
    whole = client.get("/view/festival")
    assert whole.status_code == 200 and "<mark" not in whole.text and "harbour office" in whole.text
    for query in ("?start=5", "?start=10&end=5", "?start=0&end=100000", "?start=-1&end=3", "?start=a&end=3"):
        response = client.get(f"/view/festival{query}")
        assert 400 <= response.status_code < 500 and response.json()["error"], query
    assert client.get("/view/no-such-document").status_code == 404


def test_a_pdf_citation_names_the_page_its_quote_starts_on(client):
    answer = client.post("/api/ask", json={"question": "How many containers did the Brenton terminal handle?"}).json()
    assert not answer["abstained"], answer
    citation = answer["citations"][0]
    assert citation["doc_id"] == "marlow" and "nine million" in citation["quote"]
    assert citation["page"] == 2  # its passage starts on page 1
    search = client.post("/api/search", json={"query": "Brenton terminal containers", "k": 1}).json()["passages"][0]
    assert search["page"] == 1 and search["start"] < citation["start"]
    html = client.get(citation["link"]).text
    assert "page 2" in html and marked(html) == citation["quote"]
