"""The Gradio chat page: ask, watch the answer stream in, read the numbered sources.

`build_ui(assistant)` returns a `gr.Blocks` without launching it; `app.api.create_app` mounts it
at `/`. Extractive answers are revealed a few words at a time; with an LLM configured, each answer
sentence appears once it has been verified, and the final message says what verification removed. Every message is HTML built here from escaped text (the Chatbot's Markdown rendering is
off and its sanitiser on), so a document or a user cannot inject markup, scripts or links: a
`<script>` shows as text and `[x](javascript:...)` stays literal. Only http(s) URLs become links.
"""

from __future__ import annotations

import contextlib
import re
import time
from html import escape
from urllib.parse import urlparse

import gradio as gr

from app.answer.generative import Partial
from app.conversation import stream_in_turn
from app.errors import RagqaError
from app.schema import Answer, Citation, DocumentInfo

EXAMPLES = [
    "When did the Commerce Department warn about Huawei's Ascend chips?",
    "Where has Huawei expanded its cloud coverage?",
    "What is the American AI Exports Program?",
    "What did Jake Sullivan say about AI and national security?",
]
ABSTAINED_NOTE = "No source to show. Try other words, or see the Documents tab for what the corpus covers."
STREAM_SECONDS = 1.2  # how long the word-by-word reveal of one answer takes at most
CSS = """
.ragqa-sources { margin-top: .6em; border-top: 1px solid var(--border-color-primary); padding-top: .4em; }
.ragqa-sources details { margin: .25em 0; }
.ragqa-sources summary { cursor: pointer; }
.ragqa-sources blockquote { margin: .3em 0 .3em 1.2em; padding-left: .6em; border-left: 3px solid #aaa; }
.ragqa-meta, .ragqa-read-as, .ragqa-note, .ragqa-dropped { opacity: .75; font-size: .9em; }
.ragqa-docs td, .ragqa-docs th { padding: .25em .5em; text-align: left; vertical-align: top; }
.ragqa-docs .ragqa-date { white-space: nowrap; }
"""


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
        f"<blockquote>“{_text(citation.quote)}”</blockquote></details>"
    )


def render_answer(answer: Answer | None, typed: str | None = None, partial: str | None = None) -> str:
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
        rows.append(f"<tr><td>{title}</td><td>{_text(doc.publisher)}</td><td class='ragqa-date'>{date}</td>"
                    f"<td>{doc.passages}</td></tr>")
    head = "<tr><th>Title</th><th>Publisher</th><th>Date</th><th>Passages</th></tr>"
    return (f"<p>{len(documents)} documents in the index.</p>"
            f'<table class="ragqa-docs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>')


def stream_steps(text: str):
    """Growing prefixes of `text`, a few words at a time, ending with the whole text."""
    words = re.findall(r"\S+\s*", text)
    step = max(1, len(words) // 30)
    for end in range(step, len(words), step):
        yield "".join(words[:end])
    yield text


def build_ui(assistant) -> gr.Blocks:
    """The chat page over `assistant` (not launched)."""

    def add_question(message: str, history: list):
        message = (message or "").strip()
        if not message:
            return "", history, ""
        return "", [*history, {"role": "user", "content": render_question(message)}], message

    def respond(message: str, history: list, asked: list[str]):
        if not message:
            yield history, asked
            return
        answer, streamed = None, False
        try:
            with contextlib.closing(stream_in_turn(assistant, message, asked)) as events:
                for event in events:
                    if isinstance(event, Partial):  # a verified sentence of a generative answer
                        streamed = True
                        yield [*history, {"role": "assistant", "content": render_answer(None, partial=event.text)}], asked
                    else:
                        answer = event
        except RagqaError as problem:
            yield [*history, {"role": "assistant", "content": render_problem(str(problem))}], asked
            return
        asked = [*asked, message]
        steps = [] if streamed else list(stream_steps(answer.answer))
        for partial in steps[:-1]:
            yield [*history, {"role": "assistant", "content": render_answer(answer, partial=partial)}], asked
            time.sleep(STREAM_SECONDS / len(steps))
        yield [*history, {"role": "assistant", "content": render_answer(answer, message)}], asked

    with gr.Blocks(title="ragqa — cited answers", analytics_enabled=False) as page:
        gr.Markdown("## Cited answers from the document corpus\n"
                    "Every answer quotes the documents and numbers its sources; follow-up questions work. "
                    "For programs: the [HTTP API](docs) (OpenAI-compatible at `/v1`).")
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
                gr.Examples(EXAMPLES, inputs=box, label="Example questions")
            with gr.Tab("Documents", elem_id="documents-tab"):
                gr.HTML(render_documents(assistant.documents()), elem_id="documents")
        for trigger in (box.submit, send.click):
            trigger(add_question, [box, chatbot], [box, chatbot, pending], api_visibility="private").then(
                respond, [pending, chatbot, asked], [chatbot, asked], api_visibility="private")
        clear.click(lambda: ([], [], ""), None, [chatbot, asked, pending], api_visibility="private")
        chatbot.clear(lambda: ([], ""), None, [asked, pending], api_visibility="private")
    return page
