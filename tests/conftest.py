"""Shared fixtures: real Chroma in temp folders, the real packaged model, the real coverage corpus."""

from __future__ import annotations

import os
import shutil
import uuid
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
    return Settings(_env_file=None, **({"index_dir": tmp / "index", "corpus_dir": tmp / "corpus"} | overrides))


def indexed_corpus(tmp: Path, documents: dict[str, str], **overrides) -> Settings:
    """Settings of a real index of `documents` (file name: text), written to tmp/corpus and ingested."""
    from app.ingest import ingest

    (tmp / "corpus").mkdir()
    for name, text in documents.items():
        (tmp / "corpus" / name).write_text(text, encoding="utf-8")
    settings = make_settings(tmp, **overrides)
    ingest(settings, progress=False)
    return settings


STORES = ["embedded", "server"]


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory) -> str:
    """A real Chroma server (`chroma run` from the installed chromadb) for the whole session."""
    from tests.chroma_server import chroma_server

    folder = tmp_path_factory.mktemp("chroma-server")
    with chroma_server(folder / "data", folder / "chroma.log") as url:
        yield url


@pytest.fixture(params=STORES)
def settings(request, tmp_path: Path) -> Settings:
    """An empty corpus folder and an empty index: embedded in tmp, or a fresh collection on the server."""
    (tmp_path / "corpus").mkdir()
    if request.param == "server":
        url = request.getfixturevalue("chroma_url")
        return make_settings(tmp_path, chroma_url=url, collection=f"t{uuid.uuid4().hex[:12]}")
    return make_settings(tmp_path)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a `ragqa` subprocess use the same index as `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAGQA_")}
    env.update(RAGQA_INDEX_DIR=str(settings.index_dir), RAGQA_CORPUS_DIR=str(settings.corpus_dir),
               RAGQA_COLLECTION=settings.collection)
    if settings.chroma_url:
        env["RAGQA_CHROMA_URL"] = settings.chroma_url
    return env


@pytest.fixture(scope="session")
def embedder():
    """The packaged model with the default settings (app.embedding loads it once per process)."""
    from app.embedding import load_embedder

    return load_embedder(Settings(_env_file=None))


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


@pytest.fixture(scope="session")
def whitehouse_assistant(tmp_path_factory):
    """The White House eval set's corpus (740 documents laid out from ../shared/whitehouse) and its index,
    built once per test session (the eval gate and the fusion weight's check both read it)."""
    from app.assistant import Assistant
    from app.eval_sets import prepare

    settings = prepare("whitehouse", make_settings(tmp_path_factory.mktemp("wh")), tmp_path_factory.mktemp("wh-work"))
    return Assistant.load(settings)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
                    "the browser tests do not skip without it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
