"""API tokens on the wire: «Authorization: Bearer mana_…» on HTTP, «authorization» in a WebSocket's
connection_init.

A request that presents a token is its owner acting in the token's role — nothing else: the
session and its cookie are not read, and nothing it does can write one (``NoSession``). A token that
does not authenticate is refused outright (HTTP 401, WebSocket close 4403), never served as
anonymous: an integrator with a mistyped or revoked token must hear so, not get empty lists. Each
token's requests are counted in the shared cache (django-ratelimit), MANA_API_TOKEN_RATE per window.

Only the token's public prefix and the reason of a refusal are ever logged, never the secret.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django_ratelimit.core import get_usage

from models.api_tokens import TokenRefused, authenticate_api_token
from permissions.viewer import Viewer, viewer_for_token
from schema.context import not_with_token
from schema.errors import ErrorCode, error_response

logger = logging.getLogger("mana.api_tokens")

WWW_AUTHENTICATE = 'Bearer error="invalid_token"'
RATE_LIMITED_MESSAGE = "درخواست‌های این توکن API از حد مجاز گذشته است؛ {seconds} ثانیه دیگر دوباره تلاش کنید."


@dataclass(frozen=True)
class Refusal:
    """Why a presented token is not served: the code and message answered, the HTTP status."""

    code: ErrorCode
    message: str
    status: int
    retry_after: int | None = None

    def response(self) -> JsonResponse:
        response = error_response(self.code, self.message, self.status)
        if self.status == 401:
            response["WWW-Authenticate"] = WWW_AUTHENTICATE
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        return response


def bearer_token(authorization: object) -> str | None:
    """The token of an «Authorization: Bearer <token>» value ("" when it is empty), or None without
    one. Another scheme is not Mana's (a proxy's Basic authentication in front of a staging site,
    say): the request is served as if it had no Authorization header."""
    if not isinstance(authorization, str):
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def viewer_for_token_string(presented: str, request: HttpRequest | None = None) -> Viewer | Refusal:
    """Authenticate a presented token and count the request against its rate (sync: it reads the
    database and the cache)."""
    try:
        token = authenticate_api_token(presented)
    except TokenRefused as refused:
        logger.info("API token refused: %s (prefix %s)", refused.reason, refused.prefix or "-")
        return Refusal(ErrorCode(refused.code), refused.message, 401)
    retry_after = _throttled(token.prefix, request)
    if retry_after is not None:
        logger.info("API token throttled (prefix %s)", token.prefix)
        return Refusal(
            ErrorCode.RATE_LIMITED, RATE_LIMITED_MESSAGE.format(seconds=retry_after), 429, retry_after=retry_after
        )
    return viewer_for_token(token)


def _throttled(prefix: str, request: HttpRequest | None) -> int | None:
    """Seconds until this token may be used again, or None while it is under its rate."""
    usage = get_usage(
        request or HttpRequest(),
        group="mana.api_token",
        key=lambda _group, _request: prefix,
        rate=settings.MANA_API_TOKEN_RATE,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    # django-ratelimit's window ends at the end of the second it names (its last whole second
    # still counts): time_left, counted from the start of this second, is one short.
    return max(1, usage["time_left"] + 1)


def authenticate_request(request: HttpRequest, presented: str) -> Viewer | Refusal:
    """The viewer of a request that presents a token; sealed off from the session."""
    outcome = viewer_for_token_string(presented, request)
    if isinstance(outcome, Viewer):
        # What SessionMiddleware and AuthenticationMiddleware left for this request belongs to
        # whatever cookie came along, not to the token: neither is read, nor written back.
        request.session = NoSession()
        request.user = outcome.user
    return outcome


class NoSession:
    """``request.session`` of a token-authenticated request.

    Any use of it (a login, a logout, a role switch that skipped ``changes_session``) is refused
    with NOT_WITH_TOKEN. SessionMiddleware, on the way out, reads ``accessed``, ``modified`` and
    ``is_empty``: an AttributeError there makes it leave the response alone — no session saved, no
    cookie set, and no cookie deleted either (the browser's own session, if one came along, stays).
    """

    _MIDDLEWARE_READS = frozenset({"accessed", "modified", "is_empty"})

    def __getattr__(self, name: str):
        if name in self._MIDDLEWARE_READS or name.startswith("__"):
            raise AttributeError(name)
        raise not_with_token()

    def _refuse(self, *_args, **_kwargs):
        raise not_with_token()

    __getitem__ = __setitem__ = __delitem__ = __contains__ = __iter__ = _refuse
