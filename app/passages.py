"""Split a document into passages the model really sees, each with exact character offsets.

llama-index's SentenceSplitter does the packing (whole sentences up to a token budget, with
overlap); we give it the model's own tokenizer, so `chunk_tokens` counts the word pieces
all-MiniLM-L6-v2 embeds (it truncates at 256), and our punkt sentence function, so it never cuts
inside "U.S." or a sentence. Offsets are checked here: every passage's text is the document's text
at start:end, or ingest stops, because citations are built on them. llama-index is imported by the
functions that split (ingest); retrieval needs only `date_number`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from app.sentences import split_sentences

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import TextNode

    from app.corpus import SourceDocument
    from app.embedding import Embedder

SPLITTER_VERSION = 10  # bump when the splitting logic or the readable text changes: old indexes ask for a rebuild


def make_splitter(embedder: Embedder, chunk_tokens: int, overlap_tokens: int) -> SentenceSplitter:
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        tokenizer=_counting(embedder, chunk_tokens),
        chunking_tokenizer_fn=split_sentences,
        include_metadata=False,
        include_prev_next_rel=False,
    )


def _counting(embedder: Embedder, budget: int):
    """The splitter's tokenizer. SentenceSplitter only asks how many word pieces a text has to compare
    it with the budget, and first asks it of the whole document, then of each paragraph, then of each
    sentence. A whitespace-separated word is at least one word piece, so a text of more words than the
    budget is over it without being tokenized; its words stand in for its pieces (the splitter then
    splits it further, as it would have: on 4,550 passages the same passages, and 4.3 -> 3.0
    CPU-seconds of splitting). The one exception is a "word" of only characters the tokenizer drops
    (control or zero-width characters, lone combining marks): enough of them can make a text that
    fits count as over, and the splitter then cuts it where exact counting would not, into passages
    that still fit and sit at their offsets."""
    def token_ids(text: str) -> list:
        words = text.split()
        return words if len(words) > budget else embedder.token_ids(text)
    return token_ids


def passage_id(doc_id: str, start: int, text: str) -> str:
    """Stable id from content: the same text at the same place gets the same id on every ingest."""
    return hashlib.sha256(f"{doc_id}\x00{start}\x00{text}".encode("utf-8")).hexdigest()[:32]


def date_number(date: str) -> int:
    """'2025-07-23' -> 20250723 so that Chroma can filter date ranges; 0 when unknown."""
    digits = date.replace("-", "")
    return int(digits.ljust(8, "0")[:8]) if digits[:4].isdigit() else 0


def split_document(document: SourceDocument, splitter: SentenceSplitter) -> list[TextNode]:
    """Passages of one document as llama-index nodes carrying our metadata."""
    from llama_index.core import Document
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    chunks = splitter.get_nodes_from_documents([Document(text=document.text, id_=document.doc_id)])
    nodes: list[TextNode] = []
    cursor = 0
    for chunk in chunks:
        text = chunk.get_content()
        start = chunk.start_char_idx
        if start is None or document.text[start:start + len(text)] != text:
            start = document.text.find(text, max(0, cursor - len(text)))
        if start < 0:
            raise ValueError(f"passage not found verbatim in {document.doc_id}")
        end = start + len(text)
        cursor = end
        metadata = {
            "doc_id": document.doc_id,
            **document.metadata,
            "date_int": date_number(document.metadata.get("date", "")),
            "start": start,
            "end": end,
            "page": document.page_at(start) or 0,
        }
        node = TextNode(
            id_=passage_id(document.doc_id, start, text),
            text=text,
            metadata=metadata,
            start_char_idx=start,
            end_char_idx=end,
            excluded_embed_metadata_keys=list(metadata),
            excluded_llm_metadata_keys=list(metadata),
        )
        node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=document.doc_id)
        nodes.append(node)
    return nodes
