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
from tests.conftest import ROOT, coverage_corpus_dir, make_settings

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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1100})
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
    page.evaluate("""() => {  // record the answer's length at each change: it should grow in steps
        window.__lengths = [];
        new MutationObserver(() => {
            const bots = document.querySelectorAll("#chat [data-testid='bot']");
            if (bots.length) window.__lengths.push(bots[bots.length - 1].innerText.length);
        }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true});
    }""")
    message = ask(page, QUESTION)
    text = message.inner_text()
    assert "May" in text and "[1]" in text and ROW_TITLE in text and "Rest of World" in text
    assert len(set(page.evaluate("window.__lengths"))) > 3, "the answer should stream in, not arrive at once"
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
    assert "Read as:" in text and "Pakistani company" in text  # resolved against the first question
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
    assert chat.locator("a").count() == 0  # the javascript: URL is not linked
    page.get_by_role("tab", name="Documents").click()
    documents = page.locator("#documents")
    assert "Zorblax guide <img" in documents.inner_text()
    assert documents.locator("img, script, a").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__injected") == "undefined"
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_role("tab", name="Chat").click()
    page.screenshot(path=str(ARTIFACTS / "escaping.png"), full_page=True)

