"""The `ragqa` command as a user runs it: real process, real index, one-line errors."""

import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import coverage_corpus_dir
from tests.local_server import free_port

RAGQA = [sys.executable, "-m", "app.cli"]


def run(args, env_index, **extra_env):
    env = {**os.environ, "RAGQA_INDEX_DIR": str(env_index), **extra_env}
    return subprocess.run([*RAGQA, *args], capture_output=True, text=True, env=env, timeout=300)


def test_ask_json_and_plain(coverage_settings, assistant):
    done = run(["ask", "When did the Commerce Department warn about Huawei's Ascend chips?", "--json"],
               coverage_settings.index_dir)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    # the same core as the HTTP API and the chat page (tests/test_api.py checks those against it)
    same = assistant.ask("When did the Commerce Department warn about Huawei's Ascend chips?").model_dump()
    assert (answer["answer"], answer["citations"]) == (same["answer"], same["citations"])
    assert set(answer) == {"question", "answer", "abstained", "citations", "timings_ms", "mode", "note", "dropped"}
    assert (answer["mode"], answer["note"], answer["dropped"]) == ("extractive", "", [])  # the defaults
    assert "May" in answer["answer"] and answer["citations"][0]["doc_id"] == "restofworld-huawei-global-south-ai"
    plain = run(["ask", "When did the Commerce Department warn about Huawei's Ascend chips?"], coverage_settings.index_dir)
    assert plain.returncode == 0
    assert "Sources:" in plain.stdout and "[1] " in plain.stdout and "Rest of World" in plain.stdout


def test_binary_laden_question_gets_the_answer_of_its_words(coverage_settings):
    noisy = os.fsdecode(b"When did the Commerce \x01Department warn \xff\xfeabout Huawei's Ascend chips?\x1b")
    done = run(["ask", noisy, "--json"], coverage_settings.index_dir)
    assert done.returncode == 0, done.stderr
    assert "May" in json.loads(done.stdout)["answer"]


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
        # Linux caps one argument at 128 KiB, so a 1 MB question cannot reach argv; 120 KB can
        (["ask", "x" * 120_000], coverage_settings.index_dir, "longer than 2000"),
        (["ask", os.fsdecode(b"\x01\x02\xff\xfe\x7f")], coverage_settings.index_dir, "question is empty"),
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


def test_ingest_of_another_folder_keeps_the_corpus_and_remove_forgets_it(tmp_path):
    corpus, other = tmp_path / "corpus", tmp_path / "other"
    for folder, name, text in ((corpus, "a.txt", "Huawei built a data center in Algeria."),
                               (other, "b.txt", "The Velmar bridge closed in June 2024.")):
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
    env = {"RAGQA_CORPUS_DIR": str(corpus)}
    assert "1 added" in run(["ingest"], tmp_path / "idx", **env).stdout  # no folder, none remembered: the corpus
    done = run(["ingest", str(other)], tmp_path / "idx", **env)
    assert done.returncode == 0 and "1 added, 0 updated, 0 unchanged, 0 removed" in done.stdout, done.stderr
    (other / "c.txt").write_text("The Arlen dam opened in 2021.", encoding="utf-8")
    done = run(["ingest"], tmp_path / "idx", **env)  # every remembered folder
    assert "1 added, 0 updated, 2 unchanged, 0 removed" in done.stdout
    done = run(["remove", str(other)], tmp_path / "idx", **env)
    assert done.returncode == 0 and "2 removed (b, c)" in done.stdout and str(corpus.resolve()) in done.stdout
    assert (other / "b.txt").is_file()
    done = run(["remove", str(other)], tmp_path / "idx", **env)
    assert done.returncode == 1 and "is not a folder of this index" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    found = json.loads(run(["search", "Velmar bridge Arlen dam data center", "--json"], tmp_path / "idx", **env).stdout)
    assert {passage["doc_id"] for passage in found} == {"a"}


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


def test_commands_use_the_chroma_server_when_configured(chroma_url, tmp_path):
    """With RAGQA_CHROMA_URL the commands work as embedded (test_ingest runs the library in both
    modes) and keep nothing on local disk."""
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "order.txt").write_text("The order was signed on July 23, 2025.", encoding="utf-8")
    server = {"RAGQA_CHROMA_URL": chroma_url, "RAGQA_COLLECTION": "cli-test"}
    done = run(["ingest", str(corpus)], tmp_path / "idx", **server)
    assert done.returncode == 0 and "1 added" in done.stdout, done.stderr
    done = run(["ask", "When was the order signed?", "--json"], tmp_path / "idx", **server)
    answer = json.loads(done.stdout)
    assert "July 23, 2025" in answer["answer"] and answer["citations"][0]["doc_id"] == "order"
    assert not (tmp_path / "idx").exists()


def test_unreachable_or_malformed_chroma_url_is_one_line(tmp_path):
    for url, message in [("http://127.0.0.1:9", "cannot use the Chroma server"), ("not-a-url", "http://host:port")]:
        done = run(["ask", "anything"], tmp_path / "idx", RAGQA_CHROMA_URL=url)
        assert done.returncode == 1 and message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


HEAVY_MODULES = ("torch", "sentence_transformers", "transformers")
# what answering does without: llama-index (app.retrieve), NLTK's optional scipy.stats and scikit-learn
# (app.sentences), tiktoken (llama-index's default splitter)
ANSWERING_SKIPS = HEAVY_MODULES + ("llama_index.core", "sqlalchemy", "scipy.stats", "sklearn", "tiktoken")
# what a no-op ingest decides without (app.manifest): the store, the passage splitter, the encoder
INDEX_MODULES = ("chromadb", "llama_index.core", "onnxruntime", "nltk", "bm25s")


def test_ask_search_and_a_no_op_ingest_import_only_what_they_use(coverage_settings, assistant):
    # the int8 file exists (the session's assistant made it); what each command imports is read in its process
    code = textwrap.dedent("""
        import sys
        from app.cli import main
        assert main(ARGS) == 0
        print(sorted(m for m in MODULES if m in sys.modules))
    """)
    env = {**os.environ, "RAGQA_INDEX_DIR": str(coverage_settings.index_dir),
           "RAGQA_CORPUS_DIR": str(coverage_settings.corpus_dir)}
    for args, modules in ((["ask", "When did the Commerce Department warn about Huawei's Ascend chips?"], ANSWERING_SKIPS),
                          (["search", "Ascend chips"], ANSWERING_SKIPS), (["ingest"], HEAVY_MODULES + INDEX_MODULES)):
        script = code.replace("ARGS", repr(args)).replace("MODULES", repr(modules))
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1] == "[]", (args, done.stdout)
    assert "0 added, 0 updated, 12 unchanged" in done.stdout


def test_serve_with_two_workers_answers_as_the_assistant_does(coverage_settings, assistant):
    port = free_port()
    env = {**os.environ, "RAGQA_INDEX_DIR": str(coverage_settings.index_dir), "RAGQA_MAX_CONCURRENT_REQUESTS": "16"}
    server = subprocess.Popen([*RAGQA, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.5)
        questions = ["When did the Commerce Department warn about Huawei's Ascend chips?",
                     "Where has Huawei expanded its cloud coverage?", "Who won the 2022 football World Cup?"] * 4

        def ask(question):
            response = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=120)
            assert response.status_code == 200, response.text
            return response.json()

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, questions))
        # each worker's encoder keeps a thread per core (app.server.serve): none is given a share of them
        workers = [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
        environments = [Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") for pid in workers]
        assert len(workers) >= 2 and not [entry for environment in environments for entry in environment
                                          if entry.startswith(b"RAGQA_ENCODER_THREADS=")]
        for question, found in zip(questions, answers):
            expected = assistant.ask(question).model_dump()
            assert (found["answer"], found["citations"]) == (expected["answer"], expected["citations"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "2 workers" in server.stderr.read()


def test_the_ragqa_command_leaves_its_objects_to_the_operating_system(coverage_settings):
    # app.cli.entry: Python's last collection at exit would walk every object the libraries made
    script = "import gc, sys\nfrom app.cli import entry\nassert entry() == 0\nprint(gc.get_freeze_count())"
    env = {**os.environ, "RAGQA_INDEX_DIR": str(coverage_settings.index_dir)}
    done = subprocess.run([sys.executable, "-c", script, "search", "Ascend chips"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip().splitlines()[-1]) > 10_000
