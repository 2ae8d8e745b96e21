"""Fuzz the HTTP API from its own OpenAPI schema with schemathesis: no input may produce a 5xx.

Bounded and deterministic (hypothesis derandomize, a fixed number of examples per operation), run
in-process over ASGI against the real app and a real index. Every 500 this found was fixed in the
app, not excluded here. (schemathesis' pytest loader `from_fixture` does not run under pytest 9,
so each operation's strategy is driven by hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from app.api import create_app
from app.assistant import Assistant
from app.ingest import ingest
from tests.conftest import make_settings

EXAMPLES_PER_OPERATION = 15  # per operation and mode


@pytest.fixture(scope="module")
def api_schema(assistant):
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(assistant))


@pytest.fixture(scope="module")
def changing_schema(tmp_path_factory):
    """Operations that change documents get an index of their own (the shared coverage index stays as it is)."""
    tmp = tmp_path_factory.mktemp("fuzz-documents")
    (tmp / "corpus").mkdir()
    (tmp / "corpus" / "order.txt").write_text("The order was signed on July 23, 2025.", encoding="utf-8")
    settings = make_settings(tmp)
    ingest(settings, progress=False)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(Assistant.load(settings)))


def test_the_schema_lists_every_fuzzed_operation(api_schema):
    listed = {(operation.ok().method.upper(), operation.ok().path) for operation in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


OPERATIONS = [("POST", "/api/ask"), ("POST", "/api/search"), ("GET", "/api/documents"), ("GET", "/v1/models"),
              ("POST", "/v1/chat/completions"), ("GET", "/healthz"), ("POST", "/api/documents"),
              ("GET", "/api/documents/{doc_id}"), ("DELETE", "/api/documents/{doc_id}"), ("GET", "/view/{doc_id}")]
CHANGING = {("POST", "/api/documents"), ("DELETE", "/api/documents/{doc_id}")}
# valid bodies (positive) and bodies that break the schema (negative; only operations with a body have any)
CASES = [(method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS] + [
    (method, path, GenerationMode.NEGATIVE) for method, path in OPERATIONS if method == "POST"]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_input_makes_the_api_fail(request, method, path, mode):
    schema = request.getfixturevalue("changing_schema" if (method, path) in CHANGING else "api_schema")
    operation = schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def no_server_error(case):
        response = case.call()
        assert response.status_code < 500, (case.body, response.status_code, response.text[:300])
        if response.status_code >= 400:
            error = response.json()["error"]
            assert isinstance(error["message"] if path.startswith("/v1/") else error, str)

    no_server_error()
