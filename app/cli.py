"""`ragqa`: thin command line over the Assistant. Parse, call, print; every error is one line.

Sub-commands: ingest, remove, ask, search, eval, serve.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import textwrap
from pathlib import Path

from app.config import Settings
from app.errors import RagqaError
from app.validation import check_index_exists, check_k, check_question

RETRIEVERS = ("dense", "bm25", "hybrid")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ragqa", description="Cited answers from a folder of documents.")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="add folders of documents to the index, or bring them up to date")
    ingest.add_argument("path", nargs="*", type=Path,
                        help="folder(s) to add or bring up to date; the index's other folders are left alone "
                             "(default: every folder the index was built from, or RAGQA_CORPUS_DIR)")
    ingest.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    ingest.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")

    remove = commands.add_parser("remove", help="forget folders of the index and remove their documents "
                                                "(the files are not touched)")
    remove.add_argument("folder", nargs="+", type=Path, help="a folder the index was built from")

    ask = commands.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question")
    _retrieval_options(ask)
    ask.add_argument("--json", action="store_true", help="print the Answer JSON")

    search = commands.add_parser("search", help="show the passages retrieved for a query, with scores")
    search.add_argument("query")
    _retrieval_options(search)
    search.add_argument("--json", action="store_true", help="print JSON")

    evaluate = commands.add_parser("eval", help="score the eval cases (accuracy, abstention, retrieval, citations)")
    evaluate.add_argument("--cases", type=Path, action="append",
                          help="JSONL file of cases, scored against the current index; may be repeated "
                               "(default: both splits of the coverage set, eval/coverage/)")
    evaluate.add_argument("--set", choices=("coverage", "whitehouse"), dest="eval_set",
                          help="score an eval set on its own corpus and index (laid out and brought up to date "
                               "under eval/.work/): its cases of --split")
    evaluate.add_argument("--split", choices=("dev", "test", "all"), default="all",
                          help="with --set: dev (what the answerer was built on), test (only scored) or all")
    evaluate.add_argument("--retriever", choices=(*RETRIEVERS, "all"), default="hybrid",
                          help="one method, or all three side by side")
    evaluate.add_argument("--json", type=Path, metavar="OUT", help="write summary and per-case results")
    evaluate.add_argument("--report", type=Path, metavar="OUT.md", help="write the table as Markdown")
    evaluate.add_argument("--thresholds", type=Path, help="TOML of minimums/maximums; exit 1 when missed")
    evaluate.add_argument("--distractors", type=Path, metavar="DIR",
                          help="also run over an index of the corpus plus DIR and report the drop")
    evaluate.add_argument("--limit", type=int, metavar="N",
                          help="score N of the cases, spread evenly over them in file order (default: all)")
    evaluate.add_argument("--llm", action="store_true",
                          help="answer through the OpenAI-compatible LLM (RAGQA_LLM_* settings) and add citation metrics")
    evaluate.add_argument("--llm-base-url", metavar="URL", help="with --llm: the server (default: RAGQA_LLM_BASE_URL)")
    evaluate.add_argument("--llm-model", metavar="NAME", help="with --llm: the model (default: RAGQA_LLM_MODEL)")
    serve = commands.add_parser("serve", help="serve the chat page and the HTTP API")
    serve.add_argument("--host", default=None, help="address to listen on (default: RAGQA_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, default=7860, help="port")
    serve.add_argument("--workers", type=int, default=None,
                       help="processes answering on the one port (default: the number of cores)")
    return parser


def _retrieval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--k", type=int, default=None, help="passages to retrieve (1-50)")
    parser.add_argument("--retriever", choices=RETRIEVERS, default=None, help="retrieval method (default: hybrid)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return COMMANDS[args.command](args, settings)
    except RagqaError as problem:
        print(f"ragqa: error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ragqa: interrupted", file=sys.stderr)
        return 130
    except Exception as problem:  # the edge: one line, not a traceback (RAGQA_DEBUG=1 shows it)
        if os.environ.get("RAGQA_DEBUG"):
            raise
        print(f"ragqa: unexpected error: {type(problem).__name__}: {problem}", file=sys.stderr)
        return 2


def run_ingest(args, settings: Settings) -> int:
    from app.ingest import ingest

    report = ingest(settings, args.path or None, rebuild=args.rebuild, progress=True if args.progress else None)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.summary())
    return 0


def run_remove(args, settings: Settings) -> int:
    check_index_exists(settings)
    from app.ingest import remove_roots

    report = remove_roots(settings, args.folder)
    print(report.summary())
    print(f"folders of the index: {', '.join(report.roots) or 'none'}")
    return 0


def _check_retrieval_input(text: str, args, settings: Settings) -> None:
    """Input errors and a missing index come back before anything heavy is imported."""
    check_question(text, settings)
    check_k(args.k, settings)
    check_index_exists(settings)


def run_ask(args, settings: Settings) -> int:
    _check_retrieval_input(args.question, args, settings)
    from app.assistant import Assistant

    answer = Assistant.load(settings).ask(args.question, k=args.k, retriever=args.retriever)
    if args.json:
        print(json.dumps(answer.model_dump(), ensure_ascii=False, indent=2))
        return 0
    print(textwrap.fill(answer.answer, width=100))
    if answer.note:
        print(textwrap.fill(f"({answer.note})", width=100))
    if answer.citations:
        print("\nSources:")
    for citation in answer.citations:
        where = ", ".join(part for part in (citation.publisher, citation.date, citation.url) if part)
        print(f"[{citation.n}] {citation.title} — {where}")
        print(textwrap.indent(textwrap.fill(f"“{' '.join(citation.quote.split())}”", width=96), "    "))
    return 0


def run_search(args, settings: Settings) -> int:
    _check_retrieval_input(args.query, args, settings)
    from app.assistant import Assistant

    passages = Assistant.load(settings).search(args.query, k=args.k, retriever=args.retriever)
    if args.json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return 0
    for rank, passage in enumerate(passages, start=1):
        print(f"{rank}. [{passage.score:.4f}] {passage.doc_id} ({passage.start}:{passage.end}) {passage.title}")
        print(textwrap.indent(textwrap.shorten(" ".join(passage.text.split()), width=300), "    "))
    return 0


def run_eval(args, settings: Settings) -> int:
    from app import evaluate as ev

    if args.llm:
        update = {"llm": "openai-compatible", "llm_base_url": args.llm_base_url or settings.llm_base_url,
                  "llm_model": args.llm_model or settings.llm_model}
        settings = settings.model_copy(update=update)
    elif args.llm_base_url or args.llm_model:
        raise RagqaError("--llm-base-url and --llm-model go with --llm")
    else:
        settings = settings.model_copy(update={"llm": "none"})  # the extractive gate, whatever RAGQA_LLM says
    from app.eval_sets import EVAL, eval_sets, prepare

    if args.eval_set and args.cases:
        raise RagqaError("--set scores the set's own cases; --cases goes without it")
    if args.eval_set:
        files = eval_sets()[args.eval_set].case_files(args.split)
        settings = prepare(args.eval_set, settings, EVAL / ".work", progress=sys.stderr.isatty())
    else:
        files = args.cases or eval_sets()["coverage"].case_files()
    cases = ev.spread([case for path in files for case in ev.load_cases(path)], args.limit)
    thresholds = ev.load_thresholds(args.thresholds, args.eval_set) if args.thresholds else None
    retrievers = list(RETRIEVERS) if args.retriever == "all" else [args.retriever]
    summaries, results = ev.evaluate(settings, cases, retrievers, args.distractors)
    print(ev.format_table(summaries))
    main = retrievers[-1]
    if args.json:
        ev.write_json(args.json, ev.results_json(summaries[main], results) | {"runs": summaries})
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(ev.format_markdown(summaries, f"Eval of {', '.join(map(str, files))}"), encoding="utf-8")
    failures = ev.gate_failures(summaries[main], thresholds) if thresholds else []
    for failure in failures:
        print(f"below threshold: {failure}", file=sys.stderr)
    print(ev.headline(main, summaries[main]))
    return 1 if failures else 0


def run_serve(args, settings: Settings) -> int:
    from app.server import serve

    if args.workers is not None and not 1 <= args.workers <= 64:
        raise RagqaError("--workers must be between 1 and 64")
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


COMMANDS = {"ingest": run_ingest, "remove": run_remove, "ask": run_ask, "search": run_search, "eval": run_eval, "serve": run_serve}


def entry() -> int:
    """The `ragqa` command: `main`, then the objects it made are left to the operating system. Python's
    last collection at exit walks every object the libraries made (0.35 s after an ingest of 813
    passages, a twentieth of its time); frozen objects are skipped, and nothing of ours needs a
    finalizer to run (each Chroma write commits, the manifest and BM25 files are renamed into place).
    Not in `main`, which the tests call in their own long-lived process."""
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(entry())
