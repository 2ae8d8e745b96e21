"""Take the README's screenshots: the chat page with a source opened, and that citation opened in its
document (the viewer, quote highlighted); a real server over the index, headless chromium.

    .venv/bin/python scripts/screenshot.py [QUESTION] [OUT.png] [VIEW.png]

Uses the index of RAGQA_INDEX_DIR (default index/). The default question is answered from a
public-domain White House document, so the picture holds no third-party text.
"""

from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

from app.api import create_app
from app.assistant import Assistant
from app.config import Settings
from app.server import background_server

QUESTION = "What does the memorandum direct about the Political Declaration on Responsible Military Use of AI?"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def main() -> None:
    question = sys.argv[1] if len(sys.argv) > 1 else QUESTION
    out = sys.argv[2] if len(sys.argv) > 2 else "docs/chat.png"
    view_out = sys.argv[3] if len(sys.argv) > 3 else "docs/view.png"
    with background_server(create_app(Assistant.load(Settings()))) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.goto(f"{url}/")
        box = page.locator("#question textarea")
        box.wait_for(state="visible", timeout=60_000)
        box.fill(question)
        box.press("Enter")
        page.locator("#chat [data-testid='bot'] .ragqa-final").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let the streamed message settle before opening its source
        page.evaluate("() => document.querySelector(\"#chat [data-testid='bot'] details\").open = true")
        page.locator("#chat [data-testid='bot'] details blockquote").first.wait_for(state="visible", timeout=10_000)
        page.screenshot(path=out)
        with page.context.expect_page() as opened:
            page.locator("#chat [data-testid='bot'] a.ragqa-view").first.click()
        viewer = opened.value
        viewer.set_viewport_size({"width": 1100, "height": 760})
        viewer.locator("mark#quote").wait_for(state="visible", timeout=10_000)
        viewer.wait_for_timeout(500)
        viewer.screenshot(path=view_out)
        browser.close()
    print(f"wrote {out} and {view_out}")


if __name__ == "__main__":
    main()
