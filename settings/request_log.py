"""One log line per request, with a request id, and the HTTP request metrics.

Each request gets an id: the client's ``X-Request-ID`` when it sends a sensible one (a proxy or a
client that already tagged the request), else a new one. It is echoed in the response's
``X-Request-ID`` and added to every log record written while the request is served
(``RequestIdFilter``), so a request's line and, say, an error logged inside one of its resolvers
share it.

The line (logger ``mana.request``, INFO; JSON with settings' ``MANA_LOG_FORMAT=json``) holds the
request id, method, path, status, duration, the GraphQL operation's name and type, the user's id
and the client address — never the query string, the body, variables, headers or cookies, which
is where passwords, tokens and one-time codes travel.

The GraphQL view and its schema extension add what only they know with ``note`` (the operation,
the viewer of a token request).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from asgiref.sync import markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty
from prometheus_client import Counter, Histogram

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the client is echoed in a header and written to the logs: only these characters.
_SENSIBLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_NOTES_ATTRIBUTE = "mana_log_notes"
# Labels are bounded: a method a client invents is counted as "OTHER".
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# A decoded path may hold line breaks («%0A»): not in a text log line, where they would forge lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

logger = logging.getLogger("mana.request")
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("mana_request_id", default=None)

HTTP_REQUESTS = Counter(
    "mana_http_requests", "HTTP requests answered, by method, route and status.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "mana_http_request_duration_seconds", "Time to answer an HTTP request, by method and route.", ["method", "route"]
)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record written while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


def note(request: object, **fields: object) -> None:
    """Add fields to the request's log line (``operation_name``, ``operation_type``, ``user_id``)."""
    if isinstance(request, HttpRequest):
        request.__dict__.setdefault(_NOTES_ATTRIBUTE, {}).update(fields)


def request_id_for(request: HttpRequest) -> str:
    presented = request.headers.get(REQUEST_ID_HEADER, "")
    return presented if _SENSIBLE_REQUEST_ID.fullmatch(presented) else uuid.uuid4().hex


class RequestLogMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)  # tells Django's handler to await this middleware

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = await self.get_response(request)
        finally:
            current_request_id.reset(token)
        duration = time.perf_counter() - started
        response[REQUEST_ID_HEADER] = request_id
        route = _route_of(request)
        method = request.method if request.method in _METHODS else "OTHER"
        HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        HTTP_DURATION.labels(method, route).observe(duration)
        fields = {
            "request_id": request_id,
            "method": method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 1),
            "operation_name": None,
            "operation_type": None,
            "user_id": None,
            "remote_addr": request.META.get("REMOTE_ADDR"),
            **request.__dict__.get(_NOTES_ATTRIBUTE, {}),
        }
        if fields["user_id"] is None:
            fields["user_id"] = _signed_in_user_id(request)
        operation = f" {fields['operation_type']} {fields['operation_name']}" if fields["operation_type"] else ""
        logger.info(
            "%s %s %s %.1f ms%s",
            method,
            _CONTROL.sub("?", request.path),
            response.status_code,
            fields["duration_ms"],
            operation,
            extra=fields,
        )
        return response


def _route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request (bounded, unlike paths with ids in them)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        # Static files are answered before URL resolution (settings/static_files.py).
        static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        return "static" if request.path_info.startswith(static_prefix) else "unmatched"
    return "/" + match.route if match.route else match.view_name or "unmatched"


def _signed_in_user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id if the request already read it (never a query just for the log)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk
