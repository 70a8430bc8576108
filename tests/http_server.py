"""A real HTTP server on 127.0.0.1 that replays recorded API answers, shared by every test folder.

Registered as a pytest plugin by tests/conftest.py, so the `server`, `fast_policy` and
`closed_port_url` fixtures are available everywhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nova_assets.lib.sources.http_client import HttpPolicy


@dataclass(frozen=True)
class Reply:
    """One canned answer; `delay_s` longer than the client timeout simulates a hung server."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    delay_s: float = 0.0


Responder = Reply | Callable[[str], Reply]  # a callable gets the raw request target (path + query)


class LocalServer:
    """Routes by the raw path (before '?'); each route answers its replies in order, the last one forever.

    A route registered with `prefix=True` answers every path that starts with it (paths that embed
    dates or a token); exact routes win.
    """

    def __init__(self) -> None:
        self.routes: dict[str, list[Responder]] = {}
        self.prefixes: list[str] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    reply = Reply  # tests build answers as server.reply(body, status=..., delay_s=...)

    def route(self, path: str, *replies: Responder, prefix: bool = False) -> None:
        self.routes[path] = list(replies)
        if prefix:
            self.prefixes.append(path)

    def hits(self, path: str, prefix: bool = False) -> list[str]:
        paths = [(target, target.split("?", 1)[0]) for target in self.requests]
        return [target for target, p in paths if (p.startswith(path) if prefix else p == path)]

    def _next_reply(self, target: str) -> Reply:
        with self._lock:
            self.requests.append(target)
            path = target.split("?", 1)[0]
            if path not in self.routes:
                path = next((p for p in self.prefixes if path.startswith(p)), path)
            replies = self.routes.get(path)
            if not replies:
                return Reply(b'{"error": "no route"}', status=404)
            responder = replies.pop(0) if len(replies) > 1 else replies[0]
        return responder(target) if callable(responder) else responder

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server._next_reply(self.path)
                time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> LocalServer:
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture
def fast_policy() -> HttpPolicy:
    """Tiny timeout and backoff keep the error-path tests fast; 3 attempts make retries observable."""
    return HttpPolicy(timeout_s=0.2, attempts=3, backoff_initial_s=0.01, backoff_max_s=0.02)


@pytest.fixture
def closed_port_url() -> str:
    """A URL where nothing listens, for connection-refused tests."""
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    return f"http://127.0.0.1:{port}"
