"""BM25 over every passage, kept on disk and memory-mapped, with the term statistics the answerer reads.

Before, each serving process read every passage out of Chroma at start (and after each ingest), held
them all as llama-index nodes and built llama-index's BM25Retriever in memory: ~45 MB per 1,000
passages per process, and a start-up that grew with the corpus. Now the index is built once per index
generation (by the ingest that changed it, or by the first process that finds no current copy), saved
with bm25s's own `save`, and opened with `BM25.load(mmap=True)`: the score matrix stays in the page
cache, shared by every process on the machine, and only the vocabulary is a Python object. Passage ids
are a memory-mapped numpy array beside it; texts and metadata of the hits are read from Chroma.

Why bm25s and not SQLite FTS5: bm25s is what llama-index's BM25Retriever runs on, so ranking is the
same as before (same tokenizer pattern, English stop words and Snowball stemmer, the last one
app.terms's, one per thread; same BM25 variant and parameters), and the eval figures did not move; FTS5's bm25() has other defaults and its own
tokenizers (porter, no stop words), which would have changed retrieval for no gain in memory.

The text BM25 sees is what it saw before: "title: <title>" and the passage (llama-index's EMBED-mode
content with only the title kept). `TermStats` (inverse document frequencies of content words over the
passages, for the answerer and the support check) is computed in the same pass and saved beside it.

A copy is named by the index generation it was built from (app.store stamps a new one whenever an
ingest changes the index), so a process sees whether its copy is current with one small read, and
several processes on one Chroma server each keep their own current copy (in their cache folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from app.config import Settings
from app.store import Store
from app.terms import TermStats, stemmer

LEXICAL_VERSION = 1  # bump when what is saved or how text is tokenized changes
TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # llama-index BM25Retriever's default


@dataclass
class LexicalHit:
    passage_id: str
    score: float


class LexicalIndex:
    """A loaded (memory-mapped) BM25 index and the term statistics of the same passages."""

    def __init__(self, bm25: bm25s.BM25 | None, ids: np.ndarray, stats: TermStats, generation: str):
        self.bm25 = bm25
        self.ids = ids
        self.stats = stats
        self.generation = generation

    @property
    def size(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int) -> list[LexicalHit]:
        """The best `k` passages for `query` with a positive BM25 score, best first."""
        if self.bm25 is None or not self.size or k < 1:
            return []
        tokens = bm25s.tokenize(query, stemmer=stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False)
        if not tokens.ids[0]:
            return []
        found, scores = self.bm25.retrieve(tokens, k=min(k, self.size), show_progress=False, n_threads=1)
        return [LexicalHit(str(self.ids[int(i)]), float(s)) for i, s in zip(found[0], scores[0]) if s > 0]


def bm25_text(title: str, text: str) -> str:
    """What BM25 indexes for a passage (llama-index's EMBED-mode content with only the title kept)."""
    return f"title: {title}\n\n{text}"


def copy_folder(cache_root: Path, generation: str) -> Path:
    return cache_root / f"{generation or 'empty'}-v{LEXICAL_VERSION}"


def build(passages, generation: str) -> LexicalIndex:
    """Index `passages`, an iterable of (id, text, title) read from the store (in memory until saved)."""
    ids, texts, frequency_source = [], [], []
    for passage_id, text, title in passages:
        ids.append(passage_id)
        texts.append(bm25_text(title, text))
        frequency_source.append(text)
    stats = TermStats(frequency_source)
    del frequency_source
    if not ids:
        return LexicalIndex(None, np.array([], dtype="U1"), stats, generation)
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), token_pattern=TOKEN_PATTERN,
                            show_progress=False)
    del texts
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    return LexicalIndex(bm25, np.array(ids), stats, generation)


def save(index: LexicalIndex, folder: Path) -> None:
    """Write the index to `folder` atomically (a temp folder beside it, renamed)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        if index.bm25 is not None:
            index.bm25.save(str(work), show_progress=False)
        np.save(work / "ids.npy", index.ids)
        stats = {"count": index.stats.count, "frequency": index.stats.frequency,
                 "common_words": sorted(index.stats.common_words)}
        (work / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
        (work / "generation.txt").write_text(index.generation, encoding="utf-8")
        try:
            os.rename(work, folder)
        except OSError:  # another process saved the same generation first: theirs is as good
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def load(folder: Path) -> LexicalIndex:
    """Open a saved index, memory-mapped (raises OSError/ValueError when it is missing or damaged)."""
    ids = np.load(folder / "ids.npy", mmap_mode="r")
    bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False) if len(ids) else None
    raw = json.loads((folder / "stats.json").read_text(encoding="utf-8"))
    stats = TermStats.from_counts(raw["count"], raw["frequency"], raw["common_words"])
    return LexicalIndex(bm25, ids, stats, (folder / "generation.txt").read_text(encoding="utf-8"))


def remove_other_copies(cache_root: Path, keep: Path) -> None:
    """Delete saved copies of other generations (a process still reading one keeps its mapped pages)."""
    for folder in cache_root.glob("*-v*"):
        if folder != keep and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def cache_root(settings: Settings) -> Path:
    """Where this index's lexical copies live: beside an embedded index; for a Chroma server, in this
    machine's cache, one folder per server and collection."""
    if not settings.chroma_url:
        return settings.index_dir / "lexical"
    key = hashlib.sha256(f"{settings.chroma_url}\x00{settings.collection}".encode()).hexdigest()[:16]
    return settings.model_cache_dir / "lexical" / key


def ensure_saved(store: Store, settings: Settings) -> None:
    """Make sure a copy for the store's current generation is saved (ingest calls this, so the first
    question after it opens the copy instead of building one)."""
    if not (copy_folder(cache_root(settings), store.generation()) / "generation.txt").is_file():
        current_index(store, settings)


def current_index(store: Store, settings: Settings) -> LexicalIndex:
    """The lexical index of the store's current generation: the saved copy when there is one, else built
    from the store (and saved, unless an ingest changed the index meanwhile)."""
    generation = store.generation()
    root = cache_root(settings)
    folder = copy_folder(root, generation)
    try:
        return load(folder)
    except (OSError, ValueError, KeyError):
        pass
    index = build(store.lexical_rows(), generation)
    if store.generation() == generation:
        try:
            save(index, folder)
            remove_other_copies(root, keep=folder)
        except OSError:  # a read-only cache: keep the index in memory only
            pass
    return index
