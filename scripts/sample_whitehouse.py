"""Draw the White House eval corpus: documents to write cases from, split by document, and distractors.

    python scripts/sample_whitehouse.py [../shared/whitehouse] > eval/whitehouse/documents.tsv

Case documents come only from presidential-actions/ and articles/ (the other four folders are kept
for a held-out check and appear here as distractors only). Exact duplicates (same body under two
names) are drawn once. Each line: doc id (path under the folder, no extension), role (dev, test or
distractor). The draw is seeded, so the file can be made again and checked.
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

CASE_FOLDERS = ("presidential-actions", "articles")
CASE_DOCUMENTS = 180
# A second draw (2026-12-07) of case documents, made after the first so that the first draw's
# documents and roles stay as they were: more dev cases to fit on, more test cases to gate on.
SECOND_DRAW = 80
THIRD_DRAW = 80  # 2026-12-07, later: the same again, drawn after the second (the first two stay as they were)
FOURTH_DRAW = 80  # 2026-12-07, a later session: the same again, drawn after the third
LATER_DRAWS = (SECOND_DRAW, THIRD_DRAW, FOURTH_DRAW)
DISTRACTORS = 560
TEST_SHARE = 0.4
MIN_BYTES, MAX_BYTES = 1_000, 40_000  # long enough to ask two questions of, short enough to read whole
SEED = 20261202


def main(root: Path) -> None:
    seen: set[str] = set()
    files: list[Path] = []
    for path in sorted(root.rglob("*.md")):
        digest = hashlib.sha256(path.read_text(encoding="utf-8").split("---", 2)[-1].encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            files.append(path)
    rng = random.Random(SEED)
    sources = [p for p in files if p.relative_to(root).parts[0] in CASE_FOLDERS
               and MIN_BYTES <= p.stat().st_size <= MAX_BYTES]
    chosen = rng.sample(sources, CASE_DOCUMENTS)
    listed = set(chosen)
    distractors = rng.sample([p for p in files if p not in listed], DISTRACTORS)
    tests = set(rng.sample(chosen, round(TEST_SHARE * CASE_DOCUMENTS)))
    listed |= set(distractors)
    for size in LATER_DRAWS:  # each drawn from the documents no earlier draw listed, its test share likewise
        drawn = rng.sample([p for p in sources if p not in listed], size)
        tests |= set(rng.sample(drawn, round(TEST_SHARE * size)))
        chosen += drawn
        listed |= set(drawn)
    taken = set(chosen)
    for path in sorted(chosen + distractors):
        role = "test" if path in tests else "dev" if path in taken else "distractor"
        print(f"{path.relative_to(root).with_suffix('').as_posix()}\t{role}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/whitehouse"))
