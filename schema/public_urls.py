"""Absolute addresses for what the API links to (evidence downloads, captcha images, Sina sign-in),
so that a client on another host (a web app on its own origin, an integrator's script) can use
them as they are.

The base is ``MANA_PUBLIC_URL`` when set. Otherwise it is the request's own scheme and host, as
Django builds them (``build_absolute_uri``: ALLOWED_HOSTS, SECURE_PROXY_SSL_HEADER,
USE_X_FORWARDED_HOST and USE_X_FORWARDED_PORT all apply). Over WebSocket there is no HTTP request:
the handshake's headers stand in for one, checked the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

# The base built from a WebSocket handshake, kept in its scope: one per connection, not per field.
_SCOPE_KEY = "mana.public_base"


def absolute_url(request, path: str) -> str | None:
    """``path`` (as reverse() gives it) as an absolute address; None when over WebSocket the
    handshake's host is not one of ALLOWED_HOSTS (and MANA_PUBLIC_URL is unset)."""
    if settings.MANA_PUBLIC_URL:
        return settings.MANA_PUBLIC_URL + path
    if isinstance(request, HttpRequest):
        # Its host was checked against ALLOWED_HOSTS before any view ran (CommonMiddleware).
        return request.build_absolute_uri(path)
    # Over WebSocket the context's request is the consumer.
    scope = getattr(request, "scope", None)
    if scope is None:
        return None
    if _SCOPE_KEY not in scope:
        scope[_SCOPE_KEY] = _base_of_handshake(scope)
    base = scope[_SCOPE_KEY]
    return None if base is None else base + path


def public_url(request, path: str) -> str:
    """``absolute_url``, or ``path`` itself where no trustworthy host is known (a WebSocket
    handshake with a host outside ALLOWED_HOSTS): the server never answers a host it was not told."""
    return absolute_url(request, path) or path


class _HandshakeRequest(HttpRequest):
    """The WebSocket handshake as an HTTP request: its headers in META, its scheme from the scope."""

    def __init__(self, scope: dict) -> None:
        super().__init__()
        for raw_name, raw_value in scope.get("headers") or []:
            name = "HTTP_" + raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            # Repeated headers are one comma-separated value, as a WSGI server gives them.
            self.META[name] = f"{self.META[name]},{value}" if name in self.META else value
        self._secure = scope.get("scheme") in {"wss", "https"}
        # Read only without a Host header (as in PEP 333); daphne gives the listening address.
        host, port = scope.get("server") or (None, None)
        self.META["SERVER_NAME"] = str(host or "")
        self.META["SERVER_PORT"] = str(port or ("443" if self._secure else "80"))

    def _get_scheme(self) -> str:
        return "https" if self._secure else "http"


def _base_of_handshake(scope: dict) -> str | None:
    try:
        return _HandshakeRequest(scope).build_absolute_uri("/").removesuffix("/")
    except DisallowedHost:
        return None
