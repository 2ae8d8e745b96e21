"""GET /view/{doc_id}?start=S&end=E: a document's indexed text with a cited span highlighted.

The page every citation links to (`Citation.link`): the text citations point into, so the quote is
exactly the highlighted `<mark>`, scrolled into the middle of the window; above it the title,
publisher, date, the page of the span (PDFs) and the original URL when it is plain http(s).
Everything from the document is escaped; the one script is ours, allowed by its hash in the page's
Content-Security-Policy (nothing else may run, load or connect).
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from app.corpus import page_of
from app.errors import ApiError
from app.schema import VIEW_PATH
from app.ui import safe_url

SCROLL = "const m = document.getElementById('quote'); if (m) m.scrollIntoView({block: 'center'});"
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCROLL.encode()).digest()).decode()
POLICY = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{SCRIPT_HASH}'; img-src 'none'"
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52em; margin: 1.5em auto; padding: 0 1em; line-height: 1.5; }
header { border-bottom: 1px solid #ccc; margin-bottom: 1em; }
.meta { color: #555; }
.text { white-space: pre-wrap; }
mark { background: #ffe066; padding: .1em 0; }
"""


def render_document(doc_id: str, text: str, info, start: int | None, end: int | None, page: int | None) -> str:
    span = start is not None and end is not None
    body = (f"{escape(text[:start])}<mark id=\"quote\">{escape(text[start:end])}</mark>{escape(text[end:])}"
            if span else escape(text))
    url = safe_url(info.url)
    meta = [escape(info.publisher) or "unknown publisher", escape(info.date) or "undated"]
    if page:
        meta.append(f"page {page}")
    source = (f'<p class="meta">Original: <a href="{escape(url, quote=True)}" rel="noopener noreferrer">'
              f"{escape(url)}</a></p>" if url else "")
    title = escape(info.title or doc_id)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} — ragqa</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head>"
            f"<body><header><h1>{title}</h1><p class=\"meta\">{', '.join(meta)} · <code>{escape(doc_id)}</code></p>"
            f"{source}</header><main class=\"text\">{body}</main><script>{SCROLL}</script></body></html>")


def router(desk) -> APIRouter:
    view = APIRouter(tags=["documents"])

    @view.get(VIEW_PATH + "{doc_id:path}", response_class=HTMLResponse,
              summary="A document's text with the span start:end highlighted (what citations link to)")
    def show(doc_id: str, start: int | None = Query(None, ge=0), end: int | None = Query(None, ge=0)) -> HTMLResponse:
        detail = desk.document(doc_id)
        if (start is None) != (end is None):
            raise ApiError(400, "give both start and end, or neither")
        if start is not None and not start <= end <= len(detail.text):
            raise ApiError(400, f"start:end must lie within the document (0 to {len(detail.text)}), start first")
        page = page_of(detail.page_starts, start) if start is not None else None
        return HTMLResponse(render_document(doc_id, detail.text, detail, start, end, page),
                            headers={"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff"})

    return view
