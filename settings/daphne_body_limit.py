"""The body limit inside daphne, which holds a whole request body before Mana's code runs.

daphne (Twisted) receives a body completely before it calls the application: into a temporary
file, then onto the application's queue all at once (django/daphne#483); and Twisted parses a
multipart body into memory first, for ``request.args`` that daphne never uses. An upload so cost
the worker about ten times its size (bench/results/oversized_uploads.md) before Django or
``settings.body_limits`` saw a byte of it.

``BodyLimitedWebRequest`` stops that where the bytes arrive: a ``Content-Length`` over
``body_limit`` is answered 413 as soon as the headers are in, a chunked body is answered 413 once
it passes the limit, and whatever the client still sends is dropped, never kept. daphne takes
its request class from ``daphne.http_protocol.WebRequest`` whenever it builds a connection, so
``install()`` (called by settings/asgi.py, which daphne imports before it listens) replaces that
name; under another ASGI server this module changes nothing.
"""

from __future__ import annotations

import io

from daphne import http_protocol

from settings.body_limits import body_limit, too_large_body

# After answering 413 the client may still be sending (a client that writes its whole body before
# it reads, as httpx does, sees the answer only then): keep draining and dropping its bytes until it
# is done, but no longer than this (nginx's lingering_time), so it reads the answer instead of a
# reset connection. Draining costs no memory.
LINGER_SECONDS = 30.0


class BodyLimitedWebRequest(http_protocol.WebRequest):
    def __init__(self, *args, **kwargs) -> None:
        # Django parses the body itself; Twisted's own parse would read all of it into memory.
        kwargs.setdefault("parsePOSTFormSubmission", False)
        super().__init__(*args, **kwargs)
        self.body_limit: int | None = None
        self.body_received = 0
        self.body_refused = False
        self._linger = None

    def gotLength(self, length: int | None) -> None:
        # Called once the headers are in, before any of the body is read.
        content_type = (self.requestHeaders.getRawHeaders(b"content-type") or [b""])[0]
        self.body_limit = body_limit(content_type.decode("latin-1"))
        if length is not None and self.body_limit is not None and length > self.body_limit:
            self.content = io.BytesIO()
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.body_refused:
            return
        self.body_received += len(data)
        if self.body_limit is not None and self.body_received > self.body_limit:
            self.content.close()
            self.content = io.BytesIO()
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version) -> None:
        if self.body_refused:
            # The client has sent everything and has its answer: nothing reaches the application.
            self._close()
            return
        super().requestReceived(command, path, version)

    def connectionLost(self, reason) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        super().connectionLost(reason)

    def _refuse(self) -> None:
        self.body_refused = True
        # No "100 Continue" after the refusal (Twisted sends it after gotLength for Expect: 100-continue).
        self.requestHeaders.removeHeader(b"expect")
        body = too_large_body(self.body_limit)
        head = (
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(body)
        )
        self.channel.transport.write(head + body)
        # The channel's callLater imports the reactor only now, so importing this module never
        # installs one (daphne installs its asyncio reactor itself).
        self._linger = self.channel.callLater(LINGER_SECONDS, self._close)

    def _close(self) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        self.channel.loseConnection()


def install() -> None:
    http_protocol.WebRequest = BodyLimitedWebRequest
