"""Server mode details the parametrised suite (test_ingest) does not cover: the optional token.

The `chroma run` of chromadb 1.5 has no authentication of its own, so the token is checked by a
small reverse proxy in front of the real server that refuses requests without the right bearer
token; a client that did not send it would fail here.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.assistant import Assistant
from app.errors import RagqaError
from app.ingest import ingest
from tests.conftest import make_settings

TOKEN = "chroma-test-token"


def token_proxy(upstream: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _forward(self):
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": "Unauthorized", "message": "missing or wrong token"}')
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
            reply = httpx.request(self.command, upstream + self.path, content=body, headers=headers, timeout=60)
            self.send_response(reply.status_code)
            self.send_header("Content-Type", reply.headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        def log_message(self, *_args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    return proxy


@pytest.fixture
def proxy_url(chroma_url):
    proxy = token_proxy(chroma_url)
    yield f"http://127.0.0.1:{proxy.server_address[1]}"
    proxy.shutdown()


def test_token_is_sent_to_the_chroma_server(proxy_url, tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "order.txt").write_text("The order was signed on July 23, 2025.", encoding="utf-8")
    settings = make_settings(tmp_path, chroma_url=proxy_url, chroma_token=TOKEN, collection="token-test")
    assert len(ingest(settings, progress=False).added) == 1
    assert "July 23, 2025" in Assistant.load(settings).ask("When was the order signed?").answer
    for wrong in (None, "wrong-token"):
        with pytest.raises(RagqaError, match="Chroma server"):
            Assistant.load(settings.model_copy(update={"chroma_token": wrong}))
