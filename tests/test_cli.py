"""The `ragqa` command as a user runs it: real process, real index, one-line errors."""

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import coverage_corpus_dir

RAGQA = [sys.executable, "-m", "app.cli"]


def run(args, env_index, **extra_env):
    env = {**os.environ, "RAGQA_INDEX_DIR": str(env_index), **extra_env}
    return subprocess.run([*RAGQA, *args], capture_output=True, text=True, env=env, timeout=300)


def test_ask_json_and_plain(coverage_settings):
    done = run(["ask", "When did the Commerce Department warn about Huawei's Ascend chips?", "--json"],
               coverage_settings.index_dir)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {"question", "answer", "abstained", "citations", "timings_ms", "mode", "note", "dropped"}
    assert (answer["mode"], answer["note"], answer["dropped"]) == ("extractive", "", [])  # the defaults
    assert "May" in answer["answer"] and answer["citations"][0]["doc_id"] == "restofworld-huawei-global-south-ai"
    plain = run(["ask", "When did the Commerce Department warn about Huawei's Ascend chips?"], coverage_settings.index_dir)
    assert plain.returncode == 0
    assert "Sources:" in plain.stdout and "[1] " in plain.stdout and "Rest of World" in plain.stdout


def test_search_shows_scores(coverage_settings):
    done = run(["search", "Pakistan Indus Cloud data center", "--k", "2"], coverage_settings.index_dir)
    assert done.returncode == 0
    assert done.stdout.startswith("1. [") and "restofworld" in done.stdout


def test_errors_are_one_line_without_traceback(coverage_settings, tmp_path):
    cases = [
        (["ask", "   "], coverage_settings.index_dir, "question is empty"),
        (["ask", "anything"], tmp_path / "no-index", "run `ragqa ingest` first"),
        (["ingest", str(tmp_path / "missing")], tmp_path / "idx", "no such folder"),
        (["ask", "x", "--k", "0"], coverage_settings.index_dir, "k must be between"),
    ]
    for args, index, message in cases:
        done = run(args, index)
        assert done.returncode != 0, args
        assert message in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_ingest_prints_summary_and_warnings(tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Huawei built a data center in Algeria.")
    (corpus / "bad.pdf").write_bytes(b"garbage")
    done = run(["ingest", str(corpus)], tmp_path / "idx")
    assert done.returncode == 0
    assert "documents: 1 added" in done.stdout
    assert "warning: skipped bad.pdf" in done.stderr


OFFLINE_SCRIPT = textwrap.dedent("""
    import socket, sys
    def refuse(*args, **kwargs):
        raise OSError("network disabled by test")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    from pathlib import Path
    from app.config import Settings
    from app.ingest import ingest
    from app.assistant import Assistant
    settings = Settings(_env_file=None, index_dir=Path(sys.argv[2]))
    ingest(settings, Path(sys.argv[1]), progress=False)
    answer = Assistant.load(settings).ask("When did the Commerce Department warn about Huawei's Ascend chips?")
    assert "May" in answer.answer, answer
    print("OFFLINE-OK")
""")


def test_ingest_and_ask_work_with_networking_disabled(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    done = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT, str(coverage_corpus_dir()), str(tmp_path / "idx")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "OFFLINE-OK" in done.stdout
