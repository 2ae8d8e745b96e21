"""The chat page in a real browser: headless Debian chromium (Playwright) against a real uvicorn
server running the full app over a real index. Asks, streams, cites, follows up, and shows that
document and user text is escaped (no injected script runs, no javascript: link appears).

Needs /usr/bin/chromium (Debian's `chromium` package); without it these tests fail, they do not skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.api import create_app
from app.assistant import Assistant
from app.server import background_server
from tests.conftest import ROOT, coverage_corpus_dir, indexed_corpus, make_settings

ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "When did the Commerce Department warn about Huawei's Ascend chips?"
ROW_TITLE = "Huawei doubles down on developing countries for cloud and AI"
TIMEOUT_MS = 90_000

EVIL_TEXT = """The Quentaria Tourism Board publishes this guide for visitors.

The zorblax festival <script>window.__injected = 1</script> takes place every June in Quentaria, see \
[the festival site](javascript:window.__injected=2) for tickets.

Visitors are advised to book lodging early because hotels fill up quickly during the festival week.
"""
EVIL_SOURCES = [{"file": "zorblax-festival.txt", "title": 'Zorblax guide <img src=x onerror="window.__injected=3">',
                 "publisher": "<b>Quentaria</b> Board", "date": "2025-06-01",
                 "url": "javascript:window.__injected=4", "kind": "guide"}]


def _serve(tmp_path_factory, name: str, corpus: Path):
    from app.ingest import ingest

    settings = make_settings(tmp_path_factory.mktemp(name))
    ingest(settings, corpus, progress=False)
    with background_server(create_app(Assistant.load(settings))) as url:
        yield url


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    yield from _serve(tmp_path_factory, "browser", coverage_corpus_dir())


@pytest.fixture(scope="module")
def evil_url(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("evil-corpus")
    (corpus / "zorblax-festival.txt").write_text(EVIL_TEXT, encoding="utf-8")
    (corpus / "SOURCES.json").write_text(json.dumps(EVIL_SOURCES), encoding="utf-8")
    yield from _serve(tmp_path_factory, "evil", corpus)


def block_outside(context) -> list[str]:
    """Let the page reach this machine only; returns the list of outside requests it tried."""
    tried: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:")):
            request_route.continue_()
        else:
            tried.append(url)
            request_route.abort()

    context.route("**/*", route)
    return tried


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1100})
    block_outside(context)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_chat(page, url: str) -> None:
    page.goto(f"{url}/")
    page.locator("#question textarea").wait_for(state="visible", timeout=TIMEOUT_MS)


def ask(page, question: str):
    """Type, press Enter, wait for the finished answer; returns the last bot message."""
    finished = page.locator("#chat [data-testid='bot'] .ragqa-final")
    before = finished.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#chat [data-testid='bot'] .ragqa-final\").length > n",
        arg=before, timeout=TIMEOUT_MS)
    return page.locator("#chat [data-testid='bot']").last


def test_chat_answers_with_numbered_sources(page, server_url):
    open_chat(page, server_url)
    message = ask(page, QUESTION)
    text = message.inner_text()
    assert "May" in text and "[1]" in text and ROW_TITLE in text and "Rest of World" in text
    assert "Extractive answer" in text
    quote = message.locator("details blockquote").first
    assert not quote.is_visible()
    message.locator("details summary").first.click()
    assert quote.is_visible() and "Ascend AI chips" in quote.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)


def test_sources_link_to_their_urls(page, server_url):
    open_chat(page, server_url)
    message = ask(page, "What is the American AI Exports Program?")
    link = message.locator("details summary a").first
    assert link.get_attribute("href").startswith("https://www.whitehouse.gov/")
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert "[1]" in message.inner_text()


def test_follow_up_question(page, server_url):
    open_chat(page, server_url)
    first = ask(page, "Which Pakistani company teamed up with Huawei to build a new cloud data center?")
    assert "Indus Cloud" in first.inner_text()
    follow = ask(page, "and in which month did they announce it?")
    text = follow.inner_text()
    assert "August" in text and "[1]" in text
    assert "Read as:" in text and "Indus Cloud and Huawei announced" in text  # resolved against the first answer
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "follow-up.png"), full_page=True)
    page.locator("#clear").click()
    page.wait_for_function("document.querySelectorAll(\"#chat [data-testid='bot']\").length === 0")
    alone = ask(page, "and in which month did they announce it?")  # a new conversation has no earlier turn
    assert "Read as:" not in alone.inner_text()


def test_documents_tab_lists_the_corpus(page, server_url):
    open_chat(page, server_url)
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#documents table")
    table.wait_for(state="visible")
    assert table.locator("tbody tr").count() == 12
    assert ROW_TITLE in table.inner_text() and "Rest of World" in table.inner_text()
    assert table.locator("a[href^='https://']").count() >= 10


def test_document_and_user_text_is_escaped(page, evil_url):
    open_chat(page, evil_url)
    message = ask(page, 'When does the zorblax festival take place? <img src=x onerror="window.__injected=5">')
    message.locator("details summary").first.click()
    chat = page.locator("#chat")
    text = chat.inner_text()
    assert "<script>window.__injected = 1</script>" in text
    assert "[the festival site](javascript:window.__injected=2)" in text
    assert 'Zorblax guide <img src=x onerror="window.__injected=3">' in text
    assert "<b>Quentaria</b> Board" in text
    assert '<img src=x onerror="window.__injected=5">' in text  # the user's own text, shown as typed
    for selector in ("script", "img", "a[href^='javascript']", "b"):
        assert chat.locator(selector).count() == 0, selector
    assert chat.locator("a").count() == chat.locator("a[href^='/view/']").count() == 1  # ours; javascript: is not linked
    page.get_by_role("tab", name="Documents").click()
    documents = page.locator("#documents")
    assert "Zorblax guide <img" in documents.inner_text()
    assert documents.locator("img, script, b").count() == 0
    assert documents.locator("a").count() == documents.locator("a[href^='/view/']").count() == 1  # ours only
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__injected") == "undefined"
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_role("tab", name="Chat").click()
    page.screenshot(path=str(ARTIFACTS / "escaping.png"), full_page=True)



# --- documents from the page, citations in their document, the docs pages offline --------------

SMALL_CORPUS = {"order.txt": "The Quentaria trade order was signed on July 23, 2025 by the minister of commerce.",
                "cables.txt": "Zanzibarite cables were laid by the Marine Cable Company in Kenya in 2019."}
UPLOAD = ("The Florvian data centre opened in Nairobi in March 2026. " + "Its halls hold racks of servers.\n" * 150
          + "The Florvian operators said the site draws forty megawatts from the grid.")
UPLOAD_QUESTION = "How many megawatts does the Florvian site draw?"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A server over a small writable corpus (uploads go there) that notices other ingests at once."""
    settings = indexed_corpus(tmp_path_factory.mktemp("small"), SMALL_CORPUS, refresh_seconds=0.0)
    with background_server(create_app(Assistant.load(settings))) as url:
        yield url, settings


def documents_count(page) -> int:
    return int(page.locator("#documents .ragqa-count").inner_text().split()[0])


def open_documents_tab(page, url) -> int:
    """Open the chat page's Documents tab; the number of documents it lists."""
    open_chat(page, url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#documents .ragqa-count").wait_for()
    return documents_count(page)


def test_upload_ask_open_the_citation_delete_and_abstain(page, small, tmp_path):
    url, settings = small
    before = open_documents_tab(page, url)
    upload = tmp_path / "florvian.txt"
    upload.write_text(UPLOAD, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.locator("#upload-outcome li").first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#upload-outcome").inner_text().strip() == "added: uploads/florvian"
    page.wait_for_function(f"() => document.querySelector('#documents .ragqa-count').innerText.startsWith('{before + 1} ')")

    page.get_by_role("tab", name="Chat").click()
    message = ask(page, UPLOAD_QUESTION)
    assert "forty megawatts" in message.inner_text() and "[1]" in message.inner_text()
    message.locator("details summary").first.click()
    with page.context.expect_page() as opened:
        message.locator("a.ragqa-view").first.click()
    viewer = opened.value
    viewer.wait_for_load_state()
    mark = viewer.locator("mark#quote")
    assert "forty megawatts" in mark.inner_text()
    box, height = mark.bounding_box(), viewer.viewport_size["height"]
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= height, "the quote is scrolled into view"
    assert viewer.evaluate("window.scrollY") > 0  # the quote is far down: the page scrolled to it
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "viewer.png"))
    viewer.close()

    page.get_by_role("tab", name="Documents").click()
    page.locator("#delete-choice input").click()
    page.get_by_role("option", name="florvian (uploads/florvian)").click()
    page.locator("#delete").click()
    page.locator("#confirm-delete").click()
    page.locator("#delete-outcome p").wait_for(timeout=TIMEOUT_MS)
    assert "Deleted uploads/florvian" in page.locator("#delete-outcome").inner_text()
    page.wait_for_function(f"() => document.querySelector('#documents .ragqa-count').innerText.startsWith('{before} ')")
    assert not (settings.corpus_dir / "uploads" / "florvian.txt").exists()
    page.get_by_role("tab", name="Chat").click()
    again = ask(page, UPLOAD_QUESTION)
    assert "does not say" in again.inner_text() and "Sources" not in again.inner_text()


def test_the_options_panel_applies_to_the_next_question(page, small):
    url, _settings = small
    open_chat(page, url)
    page.locator("#options").get_by_text("Options").first.click()
    page.locator("#retriever").get_by_text("bm25").click()
    page.locator("#date-from textarea, #date-from input").first.fill("2030-01-01")
    message = ask(page, "When was the Quentaria trade order signed?")
    text = message.inner_text()
    assert "Options: retriever bm25, from 2030-01-01." in text
    assert "does not say" in text  # no document is dated after 2030


def test_the_documents_tab_follows_an_ingest_from_another_process(page, small, tmp_path):
    import subprocess
    import sys

    from tests.conftest import settings_env

    url, settings = small
    before = open_documents_tab(page, url)
    other = tmp_path / "other"
    other.mkdir()
    (other / "arlen.txt").write_text("The Arlen dam opened in 2021 on the Sava river.", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(other)], env=settings_env(settings),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "1 added" in done.stdout, done.stderr
    page.wait_for_function(f"() => document.querySelector('#documents .ragqa-count').innerText.startsWith('{before + 1} ')",
                           timeout=TIMEOUT_MS)
    assert "arlen" in page.locator("#documents").inner_text()


def test_docs_and_redoc_render_with_no_network(browser, small):
    url, _settings = small
    context = browser.new_context()
    tried = block_outside(context)
    docs = context.new_page()
    docs.goto(f"{url}/docs")
    docs.locator(".swagger-ui .opblock").first.wait_for(timeout=TIMEOUT_MS)
    assert docs.locator(".swagger-ui .opblock").count() >= 10 and "/api/documents" in docs.inner_text(".swagger-ui")
    assert tried == []  # Swagger UI asked nothing of the outside
    docs.goto(f"{url}/redoc")
    docs.get_by_text("/api/documents/{doc_id}").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    docs.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    context.close()
    assert tried == []  # nor ReDoc (its bundle's badge, once fetched from cdn.redoc.ly, is inline: app.api)
