"""The answering core every interface shares: load the model and index once, then ask and search.

`Assistant.load(settings)` is the one place the pieces are wired; the CLI, the HTTP API, the chat
page and the eval all call the same `ask`, so they give the same answers.

Answers are extractive by default. With `settings.llm` set, an LLM writes the answer and only the
sentences their citations support are kept (app.answer.generative); the extractive answer stays the
fallback whenever generation fails or nothing it wrote is supported. `ask_events` yields the
verified text as it grows, for the interfaces that stream.

An ingest may run while the assistant answers (another process, even another machine on a Chroma
server). Retrieved passages are therefore kept only when their document's current text holds them
at start:end: a passage of a document not yet committed, or of a version being replaced, is left
out instead of producing a citation that cannot be verified. Document texts are cached and
re-read when a passage no longer matches the cached copy. The lexical index and term statistics
(app.lexical, memory-mapped from disk) are re-opened, or rebuilt, in a background thread and swapped
in when an ingest has stamped a new index generation; it checks at most every `settings.refresh_seconds`.

No lock serialises questions: what a question changes lives in its own call (the retriever, the
answerer and the encoders hold only read-only state), so the HTTP API and the chat page answer
several at once, each in its own worker thread.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator

from app.answer.cite import inline_answer, verify_citations
from app.answer.extractive import ExtractiveAnswerer, to_citation
from app.answer.generative import Generated, GenerativeAnswerer, Partial
from app.config import RetrieverName, Settings
from app.embedding import load_embedder
from app.ingest import is_upload, open_store
from app.lexical import current_index
from app.retrieve import Retriever, SearchFilters
from app.schema import Answer, Citation, DocumentInfo, Passage, view_link
from app.store import DocumentRecord
from app.validation import check_k, check_question

TEXT_CACHE_DOCUMENTS = 512
ABSTAIN_TEXT = "The corpus does not say: none of the indexed documents answers this question."


class Assistant:
    def __init__(self, settings: Settings, retriever: Retriever, answerer: ExtractiveAnswerer,
                 generator: GenerativeAnswerer | None = None):
        self.settings = settings
        self.retriever = retriever
        self.store = retriever.store
        self.answerer = answerer
        self.generator = generator
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._texts_lock = threading.Lock()  # guards the cache's order only; reads from the store run unlocked
        self._generation = retriever.lexical.generation  # the generation what we hold was built from
        self._checked_at = time.monotonic()
        self._reload_lock = threading.Lock()
        self._reloading: threading.Thread | None = None

    @classmethod
    def load(cls, settings: Settings) -> "Assistant":
        embedder = load_embedder(settings)
        store = open_store(settings, embedder)
        lexical = current_index(store, settings)
        retriever = Retriever(store, embedder, lexical, settings.hybrid_bm25_weight)
        stats = lexical.stats
        answerer = ExtractiveAnswerer(embedder, stats, settings.rerank_sentences,
                                      settings.abstain_threshold)
        generator = None
        if settings.llm != "none":
            from app.answer.llm import LLMClient
            from app.answer.support import SupportChecker

            generator = GenerativeAnswerer(LLMClient(settings),
                                           SupportChecker(embedder, stats, settings.llm_support_threshold))
        assistant = cls(settings, retriever, answerer, generator)
        answerer.document_text = assistant.document_text  # by-lines read the same cached, current texts
        return assistant

    def check_question(self, question: str) -> str:
        return check_question(question, self.settings)

    def check_k(self, k: int | None) -> int:
        return check_k(k, self.settings)

    def search(self, query: str, k: int | None = None, retriever: RetrieverName | None = None,
               filters: SearchFilters | None = None) -> list[Passage]:
        query = self.check_question(query)
        self.refresh_if_changed()
        return self.retriever.retrieve(query, self.check_k(k), retriever or self.settings.retriever, filters)

    def ask(self, question: str, k: int | None = None, retriever: RetrieverName | None = None,
            filters: SearchFilters | None = None) -> Answer:
        return self.ask_with_passages(question, k, retriever, filters)[0]

    def ask_extractive(self, question: str) -> Answer:
        """The extractive answer even when an LLM is configured: what a follow-up is resolved against
        (app.conversation), without a second generation that would cost an LLM call and could differ."""
        return self._final(self._events(question, None, None, None, generate=False))[0]

    def ask_with_passages(self, question: str, k: int | None = None, retriever: RetrieverName | None = None,
                          filters: SearchFilters | None = None) -> tuple[Answer, list[Passage]]:
        """The answer and the passages it was chosen from (the eval scores retrieval on them)."""
        return self._final(self._events(question, k, retriever, filters))

    @staticmethod
    def _final(events: Iterator[Partial | tuple[Answer, list[Passage]]]) -> tuple[Answer, list[Passage]]:
        """The (answer, passages) an `_events` run ends with, past any partial text."""
        for event in events:
            if isinstance(event, tuple):
                return event
        raise AssertionError("_events always ends with the answer")

    def ask_events(self, question: str, k: int | None = None, retriever: RetrieverName | None = None,
                   filters: SearchFilters | None = None) -> Iterator[Partial | Answer]:
        """`Partial` events with the verified text so far (generative only), then the Answer."""
        for event in self._events(question, k, retriever, filters):
            yield event[0] if isinstance(event, tuple) else event

    def _events(self, question, k, retriever, filters,
                generate: bool = True) -> Iterator[Partial | tuple[Answer, list[Passage]]]:
        question = self.check_question(question)
        self.refresh_if_changed()
        started = time.perf_counter()
        passages = self.retriever.retrieve(question, self.check_k(k), retriever or self.settings.retriever, filters)
        passages, texts = self._current(passages)
        retrieved = time.perf_counter()
        timings = {"retrieve": round((retrieved - started) * 1000, 1)}
        if self.generator is None or not passages or not generate:
            answer = self._extractive(question, passages)
        else:
            generated = None
            for event in self.generator.run(question, passages):
                if isinstance(event, Partial):
                    yield event
                else:
                    generated = event
            answer = self._from_generated(question, passages, generated)
        verify_citations(answer.citations, lambda doc_id: texts.get(doc_id) or self.document_text(doc_id))
        self._locate(answer.citations)
        timings["answer"] = round((time.perf_counter() - retrieved) * 1000, 1)
        answer.timings_ms = timings
        yield answer, passages

    def _extractive(self, question: str, passages: list[Passage]) -> Answer:
        extract = self.answerer.extract(question, passages)
        if extract.abstained:
            return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True, citations=[])
        citations = [to_citation(n, candidate) for n, candidate in enumerate(extract.candidates, start=1)]
        return Answer(question=question, answer=inline_answer([c.quote for c in citations]), abstained=False,
                      citations=citations)

    def _from_generated(self, question: str, passages: list[Passage], generated: Generated) -> Answer:
        extra = {"mode": "generative", "note": generated.note, "dropped": generated.dropped}
        if generated.status == "answered":
            return Answer(question=question, answer=generated.text, abstained=False, citations=generated.citations,
                          **extra)
        if generated.status == "refused":
            return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True, citations=[], **extra)
        return self._extractive(question, passages).model_copy(update=extra | {"mode": "extractive"})

    def _locate(self, citations: list[Citation]) -> None:
        """Each citation's link to the quote in its document, and a PDF quote's own page (its passage
        may begin on the page before)."""
        for citation in citations:
            citation.link = view_link(citation.doc_id, citation.start, citation.end)
            if citation.page:
                record = self.store.document_record(citation.doc_id)
                citation.page = (record.page_at(citation.start) if record else None) or citation.page

    def refresh_now(self) -> None:
        """Reload at once if the index changed (after an upload or delete through this process)."""
        with self._reload_lock:
            self._checked_at = float("-inf")
        reload = self.refresh_if_changed()
        if reload is not None:
            reload.join()

    def refresh_if_changed(self) -> threading.Thread | None:
        """When an ingest changed the index since we loaded it, start opening (or building) the lexical
        index of the new generation in the background (the thread is returned; questions meanwhile use
        the old one)."""
        now = time.monotonic()
        if now - self._checked_at < self.settings.refresh_seconds:
            return None
        with self._reload_lock:
            if self._reloading is not None and self._reloading.is_alive():
                return self._reloading
            self._checked_at = now
            generation = self.store.generation()
            if generation == self._generation:
                return None
            self._reloading = threading.Thread(target=self._reload, name="ragqa-reload", daemon=True)
            self._reloading.start()
            return self._reloading

    def _reload(self) -> None:
        try:
            lexical = current_index(self.store, self.settings)
            retriever, stats = self.retriever.with_lexical(lexical), lexical.stats
        except Exception as error:  # noqa: BLE001 - keep answering with what we have; retry at the next check
            print(f"ragqa: warning: could not reload the index ({type(error).__name__}: {error})", file=sys.stderr)
            return
        self.retriever, self.answerer.stats = retriever, stats
        if self.generator is not None:
            self.generator.checker.stats = stats
        self._generation = lexical.generation

    def document_text(self, doc_id: str, refresh: bool = False) -> str | None:
        """The document's text as stored (cached; `refresh` reads it again). Safe from several threads."""
        with self._texts_lock:
            cached = None if refresh else self._texts.get(doc_id)
            if cached is not None:
                self._texts.move_to_end(doc_id)
                return cached
        text = self.store.document_text(doc_id)
        with self._texts_lock:
            if text is None:
                self._texts.pop(doc_id, None)
                return None
            self._texts[doc_id] = text
            self._texts.move_to_end(doc_id)
            if len(self._texts) > TEXT_CACHE_DOCUMENTS:
                self._texts.popitem(last=False)
        return text

    def _current(self, passages: list[Passage]) -> tuple[list[Passage], dict[str, str]]:
        """The passages their document's current text still holds (see the module docstring), and
        those texts: one text per document for the whole answer, so that two passages of one document
        retrieved from either side of a rewrite are never both kept, and citations are verified against
        the text they were chosen from."""
        texts: dict[str, str | None] = {}
        for passage in passages:
            if passage.doc_id not in texts:
                texts[passage.doc_id] = self.document_text(passage.doc_id)
            text = texts[passage.doc_id]
            if text is None or text[passage.start:passage.end] != passage.text:
                texts[passage.doc_id] = self.document_text(passage.doc_id, refresh=True)
        kept = [p for p in passages if (text := texts[p.doc_id]) is not None and text[p.start:p.end] == p.text]
        return kept, {doc_id: text for doc_id, text in texts.items() if text is not None}

    def documents(self) -> list[DocumentInfo]:
        return sorted((self.document_info(record) for record in self.store.document_records().values()),
                      key=lambda info: info.doc_id)

    def document_info(self, record: DocumentRecord) -> DocumentInfo:
        described = {k: str(v) for k, v in record.metadata.items() if k in DocumentInfo.model_fields}
        return DocumentInfo(**described, doc_id=record.doc_id, passages=record.passages,
                            uploaded=is_upload(record, self.settings), link=view_link(record.doc_id))
