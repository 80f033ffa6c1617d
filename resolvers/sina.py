"""``sinaSignIn``: where a sign-in page sends a main leader to sign in through Sina."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from strawberry import Info

from integrations.sina import sina_available
from schema.types.sina import SinaSignIn


def sina_sign_in(info: Info) -> SinaSignIn | None:
    """Null while Sina is off: the sign-in page then offers only the password. Anonymous callers may ask."""
    if not sina_available():
        return None
    url = _absolute(info.context.request, reverse("sina-start"))
    return None if url is None else SinaSignIn(url=url)


def _absolute(request, path: str) -> str | None:
    if isinstance(request, HttpRequest):
        # The host was checked against ALLOWED_HOSTS before the view ran (CommonMiddleware).
        return request.build_absolute_uri(path)
    # Over WebSocket the context's request is the consumer: the address is built from the
    # handshake's Host, checked as Django checks an HTTP request's.
    scope = getattr(request, "scope", None) or {}
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = scope.get("scheme") in {"wss", "https"}
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        # "HTTP_X_FORWARDED_PROTO" → b"x-forwarded-proto", as the proxy sent it.
        name = proxy_header[0].removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        secure = secure or headers.get(name, b"").decode("latin-1") == proxy_header[1]
    return f"{'https' if secure else 'http'}://{host}{path}"
