"""A scripted HTTP server on 127.0.0.1 for testing the adapters to outside services.

    with StubServer() as stub:
        stub.reply(Reply(503, "busy"), Reply(200, {"match": True}))
        ... stub.url ...
        stub.requests  # what the adapter sent: method, path, headers, body

Replies are served in order; when they run out, the last one repeats. A Reply with ``delay``
sleeps before answering (past a client's read timeout).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Do not wait for a handler still sleeping past a client's timeout.
    block_on_close = False


class StubServer:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._replies: list[Reply] = [Reply()]
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                reply = stub._next(Received("POST", self.path, dict(self.headers), body))
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if isinstance(payload, (dict, list)):
                    data, content_type = json.dumps(payload).encode(), "application/json"
                elif isinstance(payload, bytes):
                    data, content_type = payload, "application/octet-stream"
                else:
                    data, content_type = str(payload).encode(), "text/html"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout) before the answer

            def log_message(self, format, *args) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def reply(self, *replies: Reply) -> None:
        with self._lock:
            self._replies = list(replies)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port_url() -> str:
    """A local URL nobody listens on (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
