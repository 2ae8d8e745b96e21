"""Shared fixtures: real Chroma in temp folders, the real packaged model, the real coverage corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def coverage_corpus_dir() -> Path:
    """The coverage corpus: RAGQA_TEST_CORPUS, else ../shared/corpus, else the project's corpus/."""
    candidates = [os.environ.get("RAGQA_TEST_CORPUS"), ROOT.parent / "shared" / "corpus", ROOT / "corpus"]
    for candidate in candidates:
        if candidate and any(Path(candidate).glob("*.txt")):
            return Path(candidate)
    raise RuntimeError("no coverage corpus found: set RAGQA_TEST_CORPUS or fill corpus/ (make corpus)")


def make_settings(tmp: Path, **overrides) -> Settings:
    return Settings(_env_file=None, index_dir=tmp / "index", corpus_dir=tmp / "corpus", **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "corpus").mkdir()
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def coverage_settings(tmp_path_factory) -> Settings:
    """An index of the whole coverage corpus, built once per test session."""
    from app.ingest import ingest

    tmp = tmp_path_factory.mktemp("coverage")
    shutil.copytree(coverage_corpus_dir(), tmp / "corpus")
    settings = make_settings(tmp)
    ingest(settings, progress=False)
    return settings


@pytest.fixture(scope="session")
def assistant(coverage_settings):
    from app.assistant import Assistant

    return Assistant.load(coverage_settings)
