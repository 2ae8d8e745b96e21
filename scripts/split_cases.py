"""Split eval cases by document into dev (fitted on) and test (only scored), as eval/<set>/{dev,test}.jsonl.

    python scripts/split_cases.py coverage eval/cases.jsonl
    python scripts/split_cases.py whitehouse CASES.jsonl... [--documents DOCS.txt...] [--append]

A document's answerable cases all go to one split (a case belongs to its first source; further
sources are alternatives that state the same fact). coverage: whole documents are drawn (seeded) for
test until they hold 40% of the answerable cases; unanswerable cases (which cite nothing) go to test
by a hash of their id, at the same share. whitehouse: a case's split is its document's role in
eval/whitehouse/documents.tsv; an unanswerable case is about the document its "about" field names
(the field is dropped from the split files), or when it has none, the document (of the lists it was
written from, --documents) whose text shares most of its words. --append adds the cases to the split
files as they are (a later batch of cases), instead of writing them anew. Run once when cases are
added; the split files are what is committed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

from app.eval_sets import eval_sets, listed_documents
from app.terms import content_terms

TEST_SHARE = 0.4
SEED = 20261202


def _write(name: str, split: dict[str, list[dict]], append: bool = False) -> None:
    for part, cases in split.items():
        path = eval_sets()[name].cases(part)
        path.parent.mkdir(parents=True, exist_ok=True)
        before = path.read_text(encoding="utf-8") if append and path.is_file() else ""
        path.write_text(before + "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
        cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        print(f"{path}: {len(cases)} cases, {sum(not c['answerable'] for c in cases)} unanswerable")


def _by_hash(case_id: str) -> bool:
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 100 < TEST_SHARE * 100


def split_coverage(cases: list[dict]) -> dict[str, list[dict]]:
    answerable = [c for c in cases if c["answerable"]]
    documents = sorted({c["sources"][0] for c in answerable})
    random.Random(SEED).shuffle(documents)
    test_docs: set[str] = set()
    for doc in documents:
        if sum(c["sources"][0] in test_docs for c in answerable) >= TEST_SHARE * len(answerable):
            break
        test_docs.add(doc)
    in_test = [c["sources"][0] in test_docs if c["answerable"] else _by_hash(c["id"]) for c in cases]
    return {"dev": [c for c, t in zip(cases, in_test) if not t], "test": [c for c, t in zip(cases, in_test) if t]}


def split_whitehouse(cases: list[dict], documents: list[str]) -> dict[str, list[dict]]:
    whitehouse = eval_sets()["whitehouse"]
    source = whitehouse.source
    roles = dict(listed_documents(whitehouse.listing))
    terms = {doc: content_terms((source / f"{doc}.md").read_text(encoding="utf-8")) for doc in documents}
    split: dict[str, list[dict]] = {"dev": [], "test": []}
    for case in cases:
        if case["answerable"]:
            doc = case["sources"][0]
        elif "about" in case:
            doc = case.pop("about")
        else:
            asked = content_terms(case["question"])
            doc = max(documents, key=lambda d: len(asked & terms[d]) / (len(asked) or 1))
        split["test" if roles[doc] == "test" else "dev"].append(case)
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", choices=("coverage", "whitehouse"))
    parser.add_argument("cases", nargs="+", type=Path)
    parser.add_argument("--documents", nargs="*", type=Path, default=[])
    parser.add_argument("--append", action="store_true", help="add to the split files (whitehouse)")
    args = parser.parse_args()
    cases = [json.loads(line) for path in args.cases for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    if args.set == "coverage":
        _write("coverage", split_coverage(cases))
    else:
        documents = [line.strip() for path in args.documents for line in path.read_text().splitlines() if line.strip()]
        _write("whitehouse", split_whitehouse(cases, documents), append=args.append)


if __name__ == "__main__":
    main()
