"""The Gradio chat page: ask, read the answer and its numbered sources, manage the documents.

`build_ui(assistant, desk)` returns a `gr.Blocks` without launching it; `app.api.create_app` mounts it
at `/`. An extractive answer appears whole as soon as it is chosen; with an LLM configured, each
answer sentence appears once it has been verified, and the final message says what verification
removed. Each answer says whether it was quoted (extractive) or generated, and which options (date
range, publisher, retriever, k; the Options panel) it was asked with. Every source links to the
quote highlighted in its document (app.viewer).

The Documents tab lists what is indexed now: it is redrawn whenever the index generation changes,
whoever changed it (this page, the API, a `ragqa ingest` in another process), checked every few
seconds. Uploads (several files, drag and drop) and deletion of uploaded documents (after a
confirmation) go through app.documents like the API's; with RAGQA_API_KEY set they need the key, and
a server listening beyond localhost without a key offers neither.

Example questions come from a file (settings.examples_file, default EXAMPLES.txt in the corpus
folder), never from the code: the page serves whatever corpus it is given.

Every message is HTML built here from escaped text (the Chatbot's Markdown rendering is off and its
sanitiser on), so a document or a user cannot inject markup, scripts or links: a `<script>` shows as
text and `[x](javascript:...)` stays literal. Only http(s) URLs and our own /view links become links.
"""

from __future__ import annotations

import contextlib
import re
from html import escape
from pathlib import Path
from urllib.parse import urlparse

import gradio as gr

from app.answer.generative import Partial
from app.config import Settings
from app.conversation import stream_in_turn
from app.corpus import EXAMPLES_FILE, SUPPORTED_SUFFIXES
from app.documents import UploadOutcome, changes_allowed, key_matches
from app.errors import ApiError, RagqaError
from app.retrieve import SearchFilters
from app.schema import VIEW_PATH, Answer, Citation, DocumentInfo
from app.validation import check_date

ABSTAINED_NOTE = "No source to show. Try other words, or see the Documents tab for what the corpus covers."
LISTING_PLACEHOLDER = "<p>Listing the documents…</p>"
DOCUMENTS_POLL_SECONDS = 3.0  # how often an open page asks whether the index changed (one small read)
ANY_PUBLISHER = "any publisher"
MODES = {"extractive": "Extractive answer: sentences quoted from the sources.",
         "generative": "Generated answer: each sentence checked against the sources it cites."}
CSS = """
.ragqa-sources { margin-top: .6em; border-top: 1px solid var(--border-color-primary); padding-top: .4em; }
.ragqa-sources details { margin: .25em 0; }
.ragqa-sources summary { cursor: pointer; }
.ragqa-sources blockquote { margin: .3em 0 .3em 1.2em; padding-left: .6em; border-left: 3px solid #aaa; }
.ragqa-meta, .ragqa-read-as, .ragqa-note, .ragqa-dropped, .ragqa-mode { opacity: .75; font-size: .9em; }
.ragqa-docs td, .ragqa-docs th { padding: .25em .5em; text-align: left; vertical-align: top; }
.ragqa-docs .ragqa-date { white-space: nowrap; }
"""


def load_examples(settings: Settings) -> list[str]:
    """The example questions of settings.examples_file ('' = EXAMPLES.txt in the corpus folder, 'none' =
    none): one a line, '#' lines and blank lines skipped; a missing file gives none."""
    if settings.examples_file.strip().lower() == "none":
        return []
    path = Path(settings.examples_file) if settings.examples_file else settings.corpus_dir / EXAMPLES_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")][:20]


def safe_url(url: str) -> str | None:
    """The URL when it is plain http(s), else None (no javascript:, data:, relative links)."""
    url = (url or "").strip()
    parsed = urlparse(url)
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


def _text(value: str) -> str:
    """Escaped text for an element's content, whitespace collapsed (no markup survives)."""
    return escape(" ".join((value or "").split()), quote=False)


def render_question(question: str) -> str:
    return f"<p>{_text(question)}</p>"


def _view_link(link: str, label: str) -> str:
    """A link to our document viewer (only a /view/ path of this server is ever linked this way)."""
    if not link.startswith(VIEW_PATH):
        return ""
    return f'<a class="ragqa-view" href="{escape(link, quote=True)}" target="_blank" rel="noopener">{label}</a>'


def render_citation(citation: Citation) -> str:
    url = safe_url(citation.url)
    title = _text(citation.title) or _text(citation.doc_id)
    if url:
        title = f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    meta = ", ".join([_text(citation.publisher) or "unknown publisher", _text(citation.date) or "undated"])
    page = f", page {citation.page}" if citation.page else ""
    return (
        f"<details><summary><strong>[{citation.n}]</strong> {title}"
        f' <span class="ragqa-meta">— {meta}{page}</span></summary>'
        f"<blockquote>“{_text(citation.quote)}”</blockquote>"
        f"<p>{_view_link(citation.link, 'Open in the document')}</p></details>"
    )


def describe_options(options: dict) -> str:
    """The options a question was asked with, in words ('' for the defaults)."""
    filters: SearchFilters | None = options.get("filters")
    parts = []
    if options.get("retriever"):
        parts.append(f"retriever {options['retriever']}")
    if options.get("k"):
        parts.append(f"k {options['k']}")
    if filters and filters.date_from:
        parts.append(f"from {filters.date_from}")
    if filters and filters.date_to:
        parts.append(f"to {filters.date_to}")
    if filters and filters.publisher:
        parts.append(f"publisher {filters.publisher}")
    return ", ".join(parts)


def render_answer(answer: Answer | None, typed: str | None = None, partial: str | None = None,
                  options: str = "") -> str:
    """One assistant message: the answer (or `partial` of it while streaming), then its sources."""
    if partial is not None:
        return f'<div class="ragqa-answer ragqa-streaming"><p>{_text(partial)}</p></div>'
    parts = [f"<p>{_text(answer.answer)}</p>"]
    if typed is not None and " ".join(typed.split()) != answer.question:
        parts.append(f'<p class="ragqa-read-as">Read as: “{_text(answer.question)}”</p>')
    if answer.note:
        parts.append(f'<p class="ragqa-note"><em>{_text(answer.note)}</em></p>')
    if answer.abstained:
        parts.append(f"<p><em>{escape(ABSTAINED_NOTE)}</em></p>")
    elif answer.citations:
        sources = "".join(render_citation(citation) for citation in answer.citations)
        parts.append(f'<div class="ragqa-sources"><p><strong>Sources</strong></p>{sources}</div>')
    if answer.dropped:
        items = "".join(f"<li>“{_text(d.text)}” — {_text(d.reason)}</li>" for d in answer.dropped)
        parts.append(f'<details class="ragqa-dropped"><summary>Removed by citation check ({len(answer.dropped)})'
                     f"</summary><ul>{items}</ul></details>")
    asked_with = f" Options: {_text(options)}." if options else ""
    parts.append(f'<p class="ragqa-mode">{escape(MODES[answer.mode])}{asked_with}</p>')
    return f'<div class="ragqa-answer ragqa-final">{"".join(parts)}</div>'


def render_problem(message: str) -> str:
    return f'<div class="ragqa-answer ragqa-final ragqa-problem"><p><em>{_text(message)}</em></p></div>'


def render_documents(documents: list[DocumentInfo]) -> str:
    rows = []
    for doc in documents:
        url = safe_url(doc.url)
        title = _text(doc.title)
        if url:
            title = f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        date = _text(doc.date) or "—"
        origin = "uploaded" if doc.uploaded else "folder"
        rows.append(f"<tr><td>{title}</td><td>{_text(doc.publisher)}</td><td class='ragqa-date'>{date}</td>"
                    f"<td>{doc.passages}</td><td>{origin}</td><td>{_view_link(doc.link, 'read')}</td></tr>")
    head = "<tr><th>Title</th><th>Publisher</th><th>Date</th><th>Passages</th><th>From</th><th></th></tr>"
    return (f'<p class="ragqa-count">{len(documents)} documents in the index.</p>'
            f'<table class="ragqa-docs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>')


def render_outcome(outcome: UploadOutcome) -> str:
    """The API's per-file outcome of an upload, as a list."""
    items = [f"<li>{label}: {_text(doc_id)}</li>" for label, ids in
             (("added", outcome.added), ("updated", outcome.updated), ("unchanged", outcome.unchanged))
             for doc_id in ids]
    items += [f"<li>rejected: {_text(item.file)} — {_text(item.error)}</li>" for item in outcome.rejected]
    return f'<ul class="ragqa-outcome">{"".join(items)}</ul>' if items else "<p>Nothing was sent.</p>"


def asked_options(date_from: str, date_to: str, publisher: str, retriever: str, k: float, settings: Settings) -> dict:
    """The Options panel as ask options (defaults left out), or a RagqaError naming a bad date."""
    filters = SearchFilters(check_date((date_from or "").strip() or None, "from"),
                            check_date((date_to or "").strip() or None, "to"),
                            None if publisher in (None, "", ANY_PUBLISHER) else publisher)
    k = settings.top_k if k is None else int(k)
    return {"k": None if k == settings.top_k else k,
            "retriever": None if retriever in (None, settings.retriever) else retriever,
            "filters": None if filters.is_empty() else filters}


def stream_steps(text: str):
    """Growing prefixes of `text`, a few words at a time, ending with the whole text."""
    words = re.findall(r"\S+\s*", text)
    step = max(1, len(words) // 30)
    for end in range(step, len(words), step):
        yield "".join(words[:end])
    yield text


def build_ui(assistant, desk) -> gr.Blocks:
    """The chat page over `assistant`, its documents changed through `desk` (not launched)."""
    settings = assistant.settings
    editable = changes_allowed(settings)

    def documents_view(seen: str, force: bool = False):
        """(table, publisher choices, deletable uploads, generation) when the index changed since `seen`."""
        generation = assistant.store.generation()
        if generation == seen and not force:
            return gr.skip(), gr.skip(), gr.skip(), seen
        documents = assistant.documents()
        uploads = [(f"{doc.title} ({doc.doc_id})", doc.doc_id) for doc in documents if doc.uploaded]
        names = [ANY_PUBLISHER, *sorted({doc.publisher for doc in documents if doc.publisher})]
        return (render_documents(documents), gr.update(choices=names),
                gr.update(choices=uploads, value=None), generation)

    def add_question(message: str, history: list):
        message = (message or "").strip()
        if not message:
            return "", history, ""
        return "", [*history, {"role": "user", "content": render_question(message)}], message

    def respond(message: str, history: list, asked: list[str], date_from: str, date_to: str, publisher: str,
                retriever: str, k: float):
        if not message:
            yield history, asked
            return
        answer = None
        try:
            options = asked_options(date_from, date_to, publisher, retriever, k, settings)
            with contextlib.closing(stream_in_turn(assistant, message, asked, **options)) as events:
                for event in events:
                    if isinstance(event, Partial):  # a verified sentence of a generative answer
                        yield [*history, {"role": "assistant", "content": render_answer(None, partial=event.text)}], asked
                    else:
                        answer = event
        except RagqaError as problem:
            yield [*history, {"role": "assistant", "content": render_problem(str(problem))}], asked
            return
        shown = render_answer(answer, message, options=describe_options(options))
        yield [*history, {"role": "assistant", "content": shown}], [*asked, message]

    def upload(files: list[str] | None, key: str, seen: str, progress=gr.Progress()):
        if not key_matches(settings, key):
            return "<p>Enter the server's API key to change documents.</p>", None, *documents_view(seen)
        paths = [Path(path) for path in files or []]
        progress(0, desc=f"indexing {len(paths)} file{'s' if len(paths) != 1 else ''}")
        with contextlib.ExitStack() as stack:
            outcome = desk.add([(path.name, stack.enter_context(open(path, "rb"))) for path in paths])
        return render_outcome(outcome), None, *documents_view(seen, force=True)

    def ask_to_delete(doc_id: str | None):
        if not doc_id:
            return gr.update(visible=False), "<p>Choose an uploaded document first.</p>"
        return gr.update(visible=True), f"<p>Delete {_text(doc_id)} from the index, and its uploaded file?</p>"

    def delete(doc_id: str | None, key: str, seen: str):
        if not key_matches(settings, key):
            return gr.update(visible=False), "<p>Enter the server's API key to change documents.</p>", \
                *documents_view(seen)
        try:
            removed = desk.delete(doc_id or "").removed
            message = f"<p>Deleted {_text(', '.join(removed))}.</p>"
        except (ApiError, RagqaError) as problem:  # not found, not an upload, or an index problem, in words
            message = f"<p>{_text(getattr(problem, 'message', str(problem)))}</p>"
        return gr.update(visible=False), message, *documents_view(seen, force=True)

    examples = load_examples(settings)
    with gr.Blocks(title="ragqa — cited answers", analytics_enabled=False) as page:
        gr.Markdown("## Cited answers from the document corpus\n"
                    "Every answer quotes the documents and numbers its sources; follow-up questions work. "
                    "For programs: the [HTTP API](docs) (OpenAI-compatible at `/v1`).")
        seen = gr.State("")
        with gr.Tabs():
            with gr.Tab("Chat", elem_id="chat-tab"):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="chat", height=520, render_markdown=False, sanitize_html=True,
                    latex_delimiters=[], allow_tags=False, feedback_options=None, buttons=[],
                    placeholder="Ask about the documents in the corpus.",
                )
                asked = gr.State([])
                pending = gr.State("")
                with gr.Row():
                    box = gr.Textbox(show_label=False, placeholder="Type a question and press Enter",
                                     elem_id="question", scale=6, autofocus=True, max_lines=4)
                    send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                    clear = gr.Button("New chat", elem_id="clear", scale=1)
                with gr.Accordion("Options", open=False, elem_id="options"):
                    with gr.Row():
                        date_from = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="date-from", max_lines=1)
                        date_to = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="date-to", max_lines=1)
                        publisher = gr.Dropdown([ANY_PUBLISHER], value=ANY_PUBLISHER, label="Publisher",
                                                elem_id="publisher")
                    with gr.Row():
                        retriever = gr.Radio(["hybrid", "dense", "bm25"], value=settings.retriever, label="Retriever",
                                             elem_id="retriever")
                        k = gr.Slider(1, 50, value=settings.top_k, step=1, label="Passages (k)", elem_id="k")
                if examples:
                    gr.Examples(examples, inputs=box, label="Example questions")
            with gr.Tab("Documents", elem_id="documents-tab"):
                # filled when a page opens (page.load below): listing every document at start-up made it grow
                # with the index, and the list went into every page's config only to be replaced at once
                table = gr.HTML(LISTING_PLACEHOLDER, elem_id="documents")
                key = gr.Textbox(label="API key (needed to change documents)", type="password", elem_id="key",
                                 visible=editable and bool(settings.api_key))
                with gr.Group(visible=editable):
                    files = gr.File(label="Add documents: drop files here (.txt .md .html .pdf)", file_count="multiple",
                                    file_types=sorted(SUPPORTED_SUFFIXES), elem_id="upload")
                    outcome = gr.HTML(elem_id="upload-outcome")
                    with gr.Row():
                        doomed = gr.Dropdown([], label="Uploaded document", elem_id="delete-choice", scale=4)
                        remove = gr.Button("Delete…", elem_id="delete", scale=1)
                    with gr.Row(visible=False, elem_id="confirm") as confirm:
                        confirm_text = gr.HTML(elem_id="confirm-text")
                        yes = gr.Button("Yes, delete", variant="stop", elem_id="confirm-delete")
                        no = gr.Button("Cancel", elem_id="cancel-delete")
                    deleted = gr.HTML(elem_id="delete-outcome")
                if not editable:
                    gr.Markdown("Uploads and deletion are off: this server listens beyond localhost without "
                                "`RAGQA_API_KEY`. Add documents with `ragqa ingest FOLDER`.")
        view_outputs = [table, publisher, doomed, seen]
        for trigger in (box.submit, send.click):
            trigger(add_question, [box, chatbot], [box, chatbot, pending], api_visibility="private").then(
                respond, [pending, chatbot, asked, date_from, date_to, publisher, retriever, k], [chatbot, asked],
                api_visibility="private")
        clear.click(lambda: ([], [], ""), None, [chatbot, asked, pending], api_visibility="private")
        chatbot.clear(lambda: ([], ""), None, [asked, pending], api_visibility="private")
        page.load(lambda: documents_view("", force=True), None, view_outputs, api_visibility="private")
        gr.Timer(DOCUMENTS_POLL_SECONDS).tick(documents_view, [seen], view_outputs, api_visibility="private",
                                              show_progress="hidden")
        if editable:
            files.upload(upload, [files, key, seen], [outcome, files, *view_outputs], api_visibility="private")
            remove.click(ask_to_delete, [doomed], [confirm, confirm_text], api_visibility="private")
            no.click(lambda: (gr.update(visible=False), ""), None, [confirm, confirm_text], api_visibility="private")
            yes.click(delete, [doomed, key, seen], [confirm, deleted, *view_outputs], api_visibility="private")
    return page
