"""Documents through the HTTP API (app.documents): uploads with each outcome, one document's text,
deletion of uploads only, the key and the localhost rule. A real index of a small corpus, the real
model, FastAPI's TestClient over the full app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.assistant import Assistant
from tests.conftest import indexed_corpus

ORDER = "The Quentaria trade order was signed on July 23, 2025 by the minister of commerce."
CABLES = "Zanzibarite cables were laid by the Marine Cable Company in Kenya in 2019."
NEW = "The Florvian data centre opened in Nairobi in March 2026 with four thousand servers."
KEY = "documents-key"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    settings = indexed_corpus(tmp_path_factory.mktemp("documents"), {"order.txt": ORDER, "cables.txt": CABLES},
                              max_file_bytes=5000)
    return Assistant.load(settings)


def app_with(assistant, **settings):
    """The same index behind an app with other settings."""
    other = Assistant(assistant.settings.model_copy(update=settings), assistant.retriever, assistant.answerer)
    return TestClient(create_app(other), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(assistant):
    with TestClient(create_app(assistant), raise_server_exceptions=False) as test_client:
        yield test_client


def upload(client, *files, **kwargs):
    response = client.post("/api/documents", files=[("files", file) for file in files], **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def doc_ids(client) -> set[str]:
    return {doc["doc_id"] for doc in client.get("/api/documents").json()["documents"]}


def test_an_upload_is_indexed_cited_and_deleted(client, assistant):
    outcome = upload(client, ("florvian.txt", NEW.encode(), "text/plain"))
    assert outcome == {"added": ["uploads/florvian"], "updated": [], "unchanged": [], "rejected": []}
    uploads = assistant.settings.corpus_dir / "uploads"
    assert (uploads / "florvian.txt").read_text(encoding="utf-8") == NEW
    listed = {doc["doc_id"]: doc for doc in client.get("/api/documents").json()["documents"]}
    assert listed["uploads/florvian"]["uploaded"] and not listed["order"]["uploaded"]
    answer = client.post("/api/ask", json={"question": "When did the Florvian data centre open?"}).json()
    assert not answer["abstained"] and "March 2026" in answer["answer"]
    citation = answer["citations"][0]
    assert citation["doc_id"] == "uploads/florvian"
    assert citation["link"] == f"/view/uploads/florvian?start={citation['start']}&end={citation['end']}"
    detail = client.get("/api/documents/uploads/florvian").json()
    assert detail["text"] == NEW and detail["title"] == "florvian"

    response = client.delete("/api/documents/uploads/florvian")
    assert response.status_code == 200 and response.json() == {"removed": ["uploads/florvian"]}
    assert not (uploads / "florvian.txt").exists() and "uploads/florvian" not in doc_ids(client)
    again = client.post("/api/ask", json={"question": "When did the Florvian data centre open?"}).json()
    assert again["abstained"] and again["citations"] == []
    assert client.delete("/api/documents/uploads/florvian").status_code == 404


def test_the_same_file_again_is_unchanged_and_a_new_version_updated(client):
    first = upload(client, ("notes.md", b"# Notes\n\nThe Velmar bridge closed in June 2024.", "text/markdown"))
    assert first["added"] == ["uploads/notes"]
    assert upload(client, ("notes.md", b"# Notes\n\nThe Velmar bridge closed in June 2024."))["unchanged"] == \
        ["uploads/notes"]
    assert upload(client, ("notes.md", b"# Notes\n\nThe Velmar bridge reopened in May 2025."))["updated"] == \
        ["uploads/notes"]
    assert "reopened" in client.get("/api/documents/uploads/notes").json()["text"]
    client.delete("/api/documents/uploads/notes")


def test_bad_uploads_are_rejected_with_a_reason_and_nothing_is_lost(client, assistant):
    before = client.get("/api/documents").json()["documents"]
    outcome = upload(
        client,
        ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"),
        ("empty.txt", b""),
        ("fake.pdf", b"%PDF-1.4 this is not really a PDF"),
        ("big.txt", b"word " * 2000),
        ("copy.txt", ORDER.encode()),
        ("picture.png", b"\x89PNG\r\n"),
        ("binary.txt", b"\x00\x01\x02 binary"),
    )
    reasons = {item["file"]: item["error"] for item in outcome["rejected"]}
    assert outcome["added"] == outcome["updated"] == outcome["unchanged"] == []
    assert "unsupported file type" in reasons["../../etc/passwd"]
    assert reasons["empty.txt"] == "empty file"
    assert "not a readable PDF" in reasons["fake.pdf"]
    assert "larger than 5,000 bytes" in reasons["big.txt"]
    assert reasons["copy.txt"] == "same text as the indexed document order"
    assert "unsupported file type" in reasons["picture.png"]
    assert "binary content" in reasons["binary.txt"]
    assert client.get("/api/documents").json()["documents"] == before
    uploads = assistant.settings.corpus_dir / "uploads"
    assert sorted(path.name for path in uploads.iterdir()) == []  # nothing stored, no leftovers
    assert not (assistant.settings.corpus_dir.parent / "etc").exists()


def test_names_are_made_safe_and_never_overwrite_another_document(client, assistant):
    outcome = upload(client, ("../../outside/Trade Report (final).txt", b"The Ostrava plant made 300 turbines."),
                     ("trade-report-final.md", b"The Ostrava plant made 400 turbines in 2023."),
                     ("twice.txt", b"The Kellan port handled nine ships."),
                     ("twice.txt", b"The Kellan port handled ten ships."))
    assert outcome["rejected"] == []
    assert sorted(outcome["added"]) == ["uploads/Trade-Report-final", "uploads/trade-report-final",
                                        "uploads/twice", "uploads/twice-2"]
    names = sorted(path.name for path in (assistant.settings.corpus_dir / "uploads").iterdir())
    assert names == ["Trade-Report-final.txt", "trade-report-final.md", "twice-2.txt", "twice.txt"]
    for doc_id in outcome["added"]:
        assert client.delete(f"/api/documents/{doc_id}").status_code == 200


def test_a_document_of_a_users_folder_is_not_deleted(client, assistant):
    response = client.delete("/api/documents/order")
    assert response.status_code == 409
    message = response.json()["error"]
    assert "ragqa remove" in message and "ragqa ingest" in message and "order.txt" in message
    assert (assistant.settings.corpus_dir / "order.txt").is_file() and "order" in doc_ids(client)
    assert client.get("/api/documents/nothing-here").status_code == 404


def test_a_missing_files_field_is_a_4xx(client):
    response = client.post("/api/documents", data={"other": "x"})
    assert response.status_code == 422 and "files" in response.json()["error"]


def test_changes_need_the_key_when_one_is_set(assistant):
    with app_with(assistant, api_key=KEY) as locked:
        assert locked.post("/api/documents", files=[("files", ("a.txt", b"x"))]).status_code == 401
        assert locked.delete("/api/documents/order").status_code == 401
        assert locked.get("/api/documents/order").status_code == 401
        good = {"Authorization": f"Bearer {KEY}"}
        assert locked.delete("/api/documents/order", headers=good).status_code == 409  # past the key


def test_a_server_bound_beyond_localhost_without_a_key_changes_nothing(assistant):
    with app_with(assistant, host="0.0.0.0") as public:
        response = public.post("/api/documents", files=[("files", ("a.txt", b"The Arlen dam opened."))])
        assert response.status_code == 403 and "RAGQA_API_KEY" in response.json()["error"]
        assert public.delete("/api/documents/order").status_code == 403
        assert public.get("/api/documents/order").status_code == 200  # reading is fine
    with app_with(assistant, host="0.0.0.0", api_key=KEY) as keyed:
        assert keyed.delete("/api/documents/order", headers={"Authorization": f"Bearer {KEY}"}).status_code == 409
