"""The eval sets this project is measured on, each with its corpus and its dev and test splits.

- coverage: the coverage corpus (corpus/, filled from ../shared/corpus) and eval/coverage/*.jsonl;
- whitehouse: a subset of ../shared/whitehouse (eval/whitehouse/documents.tsv lists it: the
  documents cases were written from, and distractors from all six folders) and eval/whitehouse/*.jsonl.
Cases are split by document: a document's cases are all in dev or all in test. The answerer is
fitted on dev (scripts/fit_answerer.py); test is only scored, and `make test` gates on it.

`prepare(name, settings, workdir)` lays out the set's corpus and brings its index up to date
(incremental, so a second run costs seconds), and returns settings that point at it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.errors import IndexMismatch, RagqaError

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "eval"
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class EvalSet:
    name: str
    source: Path  # the folder the documents come from
    listing: Path | None = None  # when only some of its documents make the corpus

    def cases(self, split: str) -> Path:
        return EVAL / self.name / f"{split}.jsonl"

    def case_files(self, split: str | None = None) -> list[Path]:
        return [self.cases(s) for s in SPLITS if split in (None, "all", s)]


def eval_sets(shared: Path = ROOT.parent / "shared") -> dict[str, EvalSet]:
    corpus = ROOT / "corpus" if any((ROOT / "corpus").glob("*.txt")) else shared / "corpus"
    return {
        "coverage": EvalSet("coverage", corpus),
        "whitehouse": EvalSet("whitehouse", shared / "whitehouse", EVAL / "whitehouse" / "documents.tsv"),
    }


def listed_documents(listing: Path) -> list[tuple[str, str]]:
    """(doc id, role) per line of a listing: role is dev, test or distractor."""
    rows = [line.split("\t") for line in listing.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(doc_id, role) for doc_id, role in rows]


@dataclass(frozen=True)
class Composition:
    """What an eval set is made of (README's table of the sets is written from it, never typed)."""

    documents: int  # in its corpus
    distractors: int  # documents no case was written from (0 when the corpus is not a listing)
    case_documents: dict[str, int]  # split -> documents its cases cite
    cases: dict[str, int]  # split -> cases
    unanswerable: int  # over both splits


def composition(eval_set: EvalSet) -> Composition:
    """Count the set's cases, the documents they cite and its corpus (a listing's lines, or the files
    the loader would take from its folder)."""
    from app.corpus import load_corpus
    from app.evaluate import load_cases

    cases = {split: load_cases(eval_set.cases(split)) for split in SPLITS}
    if eval_set.listing is not None:
        roles = [role for _, role in listed_documents(eval_set.listing)]
        documents, distractors = len(roles), roles.count("distractor")
    else:
        documents, distractors = len(load_corpus(eval_set.source).documents), 0
    return Composition(
        documents=documents, distractors=distractors,
        case_documents={split: len({source for case in found for source in case.sources}) for split, found in cases.items()},
        cases={split: len(found) for split, found in cases.items()},
        unanswerable=sum(not case.answerable for found in cases.values() for case in found))


def lay_out(eval_set: EvalSet, dest: Path) -> Path:
    """The set's corpus folder: its source itself, or `dest` holding a copy of the listed documents
    (same relative paths, so doc ids are those the cases cite)."""
    if not eval_set.source.is_dir():
        raise RagqaError(f"the {eval_set.name} eval set needs its documents in {eval_set.source}")
    if eval_set.listing is None:
        return eval_set.source
    listed = listed_documents(eval_set.listing)
    missing = [doc_id for doc_id, _ in listed if not (eval_set.source / f"{doc_id}.md").is_file()]
    if missing:
        raise RagqaError(f"{len(missing)} documents of {eval_set.listing.name} are not in {eval_set.source} "
                         f"(first: {missing[0]})")
    for doc_id, _ in listed:
        target = dest / f"{doc_id}.md"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(eval_set.source / f"{doc_id}.md", target)
    return dest


def prepare(name: str, settings: Settings, workdir: Path, progress: bool = False) -> Settings:
    """Settings whose corpus and (up-to-date) index are those of eval set `name`, under `workdir`."""
    from app.ingest import ingest

    sets = eval_sets()
    if name not in sets:
        raise RagqaError(f"no eval set {name!r} (known: {', '.join(sets)})")
    corpus = lay_out(sets[name], workdir / name / "corpus")
    prepared = settings.model_copy(update={"corpus_dir": corpus, "index_dir": workdir / name / "index",
                                           "chroma_url": None})
    try:  # exclusive: the set's index holds exactly its corpus
        ingest(prepared, corpus, progress=progress, exclusive=True)
    except IndexMismatch:  # an eval index is ours to rebuild: made by an older version of the code
        ingest(prepared, corpus, progress=progress, rebuild=True, exclusive=True)
    return prepared
