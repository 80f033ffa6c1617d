"""A body over the limit is a 413 REQUEST_TOO_LARGE in the GraphQL error format, refused unread.

Three layers, each through the real entry point: the ASGI application (settings.asgi, in front of
Django, which otherwise spools the whole body before any view runs), daphne itself (which buffers a
body before calling the application), and Django's own DATA_UPLOAD_MAX_MEMORY_SIZE check in the
GraphQL view (the test Client's path).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from settings.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
TYPENAME = json.dumps({"query": "{ __typename }"}).encode()
CSRF = "a" * 32  # an unmasked CSRF secret: the same value in the cookie and the header passes the check
MULTIPART = b"multipart/form-data; boundary=mana"


def http_scope(headers: list[tuple[bytes, bytes]], path: str = "/graphql/") -> dict:
    base = [
        (b"host", b"localhost"),
        (b"cookie", b"csrftoken=" + CSRF.encode()),
        (b"x-csrftoken", CSRF.encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": base + headers,
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }


class Client:
    """Feeds the body in chunks and records how much of it the application asked for."""

    def __init__(self, chunks) -> None:
        self.chunks = iter(chunks)
        self.body_done = False
        self.receive_calls = 0
        self.bytes_taken = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        self.receive_calls += 1
        if self.body_done:
            # The body is complete: the next message would be the client going away.
            await asyncio.Event().wait()
        chunk = next(self.chunks, None)
        if chunk is None:
            self.body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        self.bytes_taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")

    def json(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"))


def endless(chunk_size: int = 64 * 1024):
    while True:
        yield b"x" * chunk_size


def assert_too_large(client: Client, limit: int) -> None:
    assert client.status == 413
    (error,) = client.json()["errors"]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "maxBytes": limit}
    assert any("\u0600" <= c <= "\u06ff" for c in error["message"])


def assert_no_traceback_logged(caplog) -> None:
    # Django notes every 4xx answer in one WARNING line ("Request Entity Too Large: /graphql/");
    # what must not be there is the SuspiciousOperation's ERROR with its traceback.
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert not [r for r in caplog.records if r.name.startswith("django.security")]


@pytest.fixture
def limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    settings.EVIDENCE_MAX_BYTES = 300_000
    return {"json": 100_000, "multipart": 400_000}


# --- the ASGI guard ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, content_type", [("json", b"application/json"), ("multipart", MULTIPART)])
async def test_an_over_limit_content_length_is_refused_before_the_body_is_read(limits, kind, content_type):
    declared = limits[kind] + 1
    client = Client(endless())
    headers = [(b"content-type", content_type), (b"content-length", str(declared).encode())]

    await application(http_scope(headers), client.receive, client.send)

    assert_too_large(client, limits[kind])
    assert client.receive_calls == 0


@pytest.mark.parametrize("kind, content_type", [("json", b"application/json"), ("multipart", MULTIPART)])
async def test_a_chunked_body_is_cut_off_at_the_limit(limits, kind, content_type):
    chunk = 64 * 1024
    client = Client(endless(chunk))

    await application(http_scope([(b"content-type", content_type)]), client.receive, client.send)

    assert_too_large(client, limits[kind])
    # Reading stopped with the chunk that crossed the limit.
    assert limits[kind] < client.bytes_taken <= limits[kind] + chunk


async def test_a_body_under_the_limit_is_served(limits):
    declared = [(b"content-type", b"application/json"), (b"content-length", str(len(TYPENAME)).encode())]
    chunked = [(b"content-type", b"application/json")]
    for headers, chunks in ((declared, [TYPENAME]), (chunked, [TYPENAME[:5], TYPENAME[5:]])):
        client = Client(chunks)
        await application(http_scope(headers), client.receive, client.send)
        assert client.status == 200, client.sent
        assert client.json() == {"data": {"__typename": "Query"}}


async def test_an_upload_of_the_evidence_limit_passes_the_guard(limits):
    """The multipart limit leaves room for one evidence file and the operations/map parts."""
    body = (
        b'--mana\r\nContent-Disposition: form-data; name="operations"\r\n\r\n' + TYPENAME + b"\r\n"
        b'--mana\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n'
        b'--mana\r\nContent-Disposition: form-data; name="0"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + b"x" * 300_000 + b"\r\n--mana--\r\n"
    )
    client = Client([body])
    headers = [(b"content-type", MULTIPART), (b"content-length", str(len(body)).encode())]
    await application(http_scope(headers), client.receive, client.send)
    assert client.status == 200, client.sent
    assert client.json() == {"data": {"__typename": "Query"}}


# --- Django's in-memory limit (the test Client does not pass through the ASGI guard) -------------


def test_a_json_body_over_djangos_memory_limit_is_a_coded_413_without_a_logged_traceback(gql, limits, caplog):
    caplog.set_level(logging.INFO)
    response = gql.post("{ __typename }", {"padding": "x" * 200_000})

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "maxBytes": 100_000}
    assert_no_traceback_logged(caplog)


def test_multipart_form_fields_over_djangos_memory_limit_are_a_coded_413(gql, limits, caplog):
    caplog.set_level(logging.INFO)
    operations = json.dumps({"query": "{ __typename }", "variables": {"padding": "x" * 200_000}})
    response = gql.http.post("/graphql/", data={"operations": operations, "map": "{}"})

    assert response.status_code == 413
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["REQUEST_TOO_LARGE"]
    assert_no_traceback_logged(caplog)


def test_too_many_form_fields_are_a_coded_413(gql, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"f{i}": "x" for i in range(20)}
    response = gql.http.post("/graphql/", data={"operations": TYPENAME.decode(), "map": "{}", **fields})
    assert response.status_code == 413
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["REQUEST_TOO_LARGE"]


# --- daphne, which buffers a whole body before the application sees it ---------------------------


@pytest.fixture(scope="module")
def daphne_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "MANA_EVIDENCE_MAX_BYTES": "300000"}
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "settings.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("daphne did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _response(sock: socket.socket) -> tuple[int, dict]:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    headers = dict(line.lower().split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(headers[b"content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), json.loads(body)


def _request_head(port: int, content_type: str, framing: str) -> bytes:
    return (
        f"POST /graphql/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Cookie: csrftoken={CSRF}\r\nX-CSRFToken: {CSRF}\r\n{framing}\r\n\r\n"
    ).encode()


def test_daphne_answers_an_over_limit_content_length_before_the_body_is_sent(daphne_server):
    with socket.create_connection(("127.0.0.1", daphne_server)) as sock:
        # 400 MB announced; not a byte of it sent.
        sock.sendall(_request_head(daphne_server, "multipart/form-data; boundary=x", "Content-Length: 400000000"))
        status, body = _response(sock)
    assert status == 413
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


def test_daphne_cuts_a_chunked_body_off_at_the_limit(daphne_server):
    chunk = b"x" * 65536
    with socket.create_connection(("127.0.0.1", daphne_server)) as sock:
        sock.sendall(_request_head(daphne_server, "application/json", "Transfer-Encoding: chunked"))
        sent = 0
        try:
            # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is the JSON limit; keep sending past it.
            while sent < 20_000_000:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                sock.setblocking(False)
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break  # the answer is there
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, body = _response(sock)
    assert status == 413
    assert body["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE", "maxBytes": 2_621_440}
    assert sent < 20_000_000


def test_daphne_serves_a_body_under_the_limit(daphne_server):
    with socket.create_connection(("127.0.0.1", daphne_server)) as sock:
        head = _request_head(daphne_server, "application/json", f"Content-Length: {len(TYPENAME)}")
        sock.sendall(head + TYPENAME)
        status, body = _response(sock)
    assert (status, body) == (200, {"data": {"__typename": "Query"}})
