# Two commands for users: `make run` and `make test`. Everything else is what they build on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED_CORPUS := ../shared/corpus

export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

CHROMIUM := /usr/bin/chromium

.PHONY: setup corpus index run test test-llm bench clean

## setup: create .venv and install the pinned set (idempotent; torch's CPU build first)
setup: $(STAMP) $(CHROMIUM)

## the browser tests drive Debian's chromium (never `playwright install`, which downloads)
$(CHROMIUM):
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -c "from app.config import Settings; from app.embedding import load_embedder; load_embedder(Settings())"
	touch $(STAMP)

## corpus: fill corpus/ from ../shared/corpus when it holds nothing but its README
corpus:
	@if [ -d $(SHARED_CORPUS) ] && [ -z "$$(ls -A corpus | grep -v '^README.md$$')" ]; then \
		cp -r $(SHARED_CORPUS)/. corpus/ && chmod -R u+w corpus && echo "copied $(SHARED_CORPUS) into corpus/"; fi

## index: bring index/ in line with corpus/ (incremental: unchanged documents are not embedded again)
index: setup corpus
	$(BIN)/ragqa ingest

## run: set up, bring the index up to date, serve the chat page and API on http://127.0.0.1:7860
run: index
	$(BIN)/ragqa serve --host 127.0.0.1 --port 7860

## test: set up, lint, then the whole test suite (unit, integration, eval gates on the test splits)
test: setup corpus
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## test-llm: generative answers against a real llama.cpp server with SmolLM2-135M (installs both once; the first
## time builds llama.cpp, ~12 min): the real_llm tests, ragqa eval --llm on both eval sets' test splits, README's
## llm figures and docs/llm_sample.md (long: not part of test)
test-llm: setup corpus
	bash scripts/test_llm.sh

clean:
	rm -rf $(VENV) index/chroma.sqlite3 index/*/ eval/.work

## bench: ingest/query/memory/load measurements side by side, written to BENCHMARKS.md (long: not part of test)
BENCH_ARGS ?=
bench: setup corpus
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
