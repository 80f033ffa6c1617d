"""How large a request body may be, and the ASGI guard that refuses a larger one unread.

Django checks ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when a view reads the body, and by then its
ASGI handler has already received the whole body (``ASGIHandler.read_body`` spools every byte
before the view runs). So the limit is enforced here, in front of Django: a declared
``Content-Length`` over the limit is answered 413 before a byte of the body is read, and a body
without one (chunked) is counted as it arrives and cut off at the limit.

The limits: an evidence upload (``multipart/form-data``) may carry one file of
``EVIDENCE_MAX_BYTES`` plus its ``operations`` and ``map`` parts, which Django bounds by
``DATA_UPLOAD_MAX_MEMORY_SIZE``; any other body (a JSON GraphQL request, an admin form) is bounded
by ``DATA_UPLOAD_MAX_MEMORY_SIZE`` itself. Both are read at request time, so tests can override them.

daphne buffers a body before the application sees it; ``settings.daphne_body_limit`` applies the
same limits there.
"""

from __future__ import annotations

import json

from django.conf import settings

from schema.errors import ErrorCode

# Django's own default, used for the multipart margin when the setting is switched off (None).
DEFAULT_FORM_FIELDS_BYTES = 2_621_440


def body_limit(content_type: str) -> int | None:
    """The largest body accepted with this Content-Type, in bytes (None: no limit)."""
    form_fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if content_type.strip().lower().startswith("multipart/form-data"):
        return settings.EVIDENCE_MAX_BYTES + (form_fields if form_fields is not None else DEFAULT_FORM_FIELDS_BYTES)
    return form_fields


def too_large_message(limit: int) -> str:
    return f"حجم درخواست از حد مجاز ({_megabytes(limit)} مگابایت) بیشتر است؛ فایل یا داده کوچک‌تری بفرستید."


def too_large_body(limit: int) -> bytes:
    """The 413 answer in the GraphQL error format (the same shape as ``schema.errors.error_response``)."""
    extensions = {"code": ErrorCode.REQUEST_TOO_LARGE.value, "maxBytes": limit}
    error = {"message": too_large_message(limit), "extensions": extensions}
    return json.dumps({"data": None, "errors": [error]}, ensure_ascii=False).encode()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def _declared_length(scope: dict) -> int | None:
    raw = _header(scope, b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


class BodyLimitMiddleware:
    """ASGI middleware: 413 ``REQUEST_TOO_LARGE`` for a body over ``body_limit``, read no further."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit((_header(scope, b"content-type") or b"").decode("latin-1"))
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(send, limit)
            return

        received = 0
        cut_off = False
        response_started = False

        async def limited_receive():
            nonlocal received, cut_off
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # To the application the client has gone away (Django drops the request
                    # quietly); the answer is sent below, and nothing more is read.
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if cut_off and not response_started:
            await _send_too_large(send, limit)


async def _send_too_large(send, limit: int) -> None:
    body = too_large_body(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is not wanted: the connection is not reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
