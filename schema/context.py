"""The per-request context: the viewer, the data loaders that batch nested lookups, the transport."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from strawberry import Info
from strawberry.django.context import StrawberryDjangoContext

from permissions.viewer import Viewer
from schema.errors import ErrorCode, ManaError, unauthenticated
from schema.loaders import Loaders

NOT_OVER_WEBSOCKET_MESSAGE = (
    "ورود، خروج و هر کاری که نشست را تغییر می‌دهد فقط از راه HTTP (POST /graphql/) انجام می‌شود، نه WebSocket."
)


@dataclass
class ManaContext(StrawberryDjangoContext):
    viewer: Viewer = None  # type: ignore[assignment]
    loaders: Loaders = field(default=None)  # type: ignore[assignment]
    # Over WebSocket there is no HTTP response to carry a new session cookie, and the
    # connection's session was read once, at the handshake.
    over_websocket: bool = False
    # Over WebSocket: the connection_init payload (strawberry sets it where the attribute exists);
    # its «authorization» signs the socket in with an API token (subscriptions/consumers.py).
    connection_params: dict | None = None


NOT_WITH_TOKEN_MESSAGE = (
    "با توکن API نمی‌توان وارد شد، خارج شد، رمز عبور یا نقش را تغییر داد: توکن به یک کاربر و یک نقش بسته است."
)


def not_over_websocket() -> ManaError:
    return ManaError(ErrorCode.NOT_OVER_WEBSOCKET, NOT_OVER_WEBSOCKET_MESSAGE)


def not_with_token() -> ManaError:
    return ManaError(ErrorCode.NOT_WITH_TOKEN, NOT_WITH_TOKEN_MESSAGE)


def changes_session(resolver):
    """Mark a resolver ``(info, ...)`` that changes the session: refused over WebSocket, and to a
    caller authenticated by an API token (a token has no session, and a leaked one must not sign
    anyone in, change a password or switch roles), before any work.

    (The WebSocket consumer also refuses any use of ``request.session`` with the same code, and so
    does a token-authenticated HTTP request (schema/bearer.py), for a session-changing resolver
    that forgot this mark.)
    """

    @functools.wraps(resolver)
    async def refuse_over_websocket(info: Info, *args, **kwargs):
        if info.context.over_websocket:
            raise not_over_websocket()
        if info.context.viewer.api_token is not None:
            raise not_with_token()
        return await resolver(info, *args, **kwargs)

    return refuse_over_websocket


def viewer_of(info: Info) -> Viewer:
    return info.context.viewer


PASSWORD_CHANGE_REQUIRED_MESSAGE = (
    "با رمز عبور موقتی که پیامک شد وارد شده‌اید؛ پیش از هر کار دیگری رمز عبور تازه‌ای برگزینید (changePassword)."
)


def require_signed_in(info: Info) -> Viewer:
    """The signed-in viewer, even one who must change a temporary password first."""
    viewer = viewer_of(info)
    if not viewer.is_authenticated:
        raise unauthenticated()
    return viewer


def require_viewer(info: Info) -> Viewer:
    """The signed-in viewer, or the UNAUTHENTICATED error every root field gives anonymous callers.

    Someone signed in with credentials sent by SMS gets PASSWORD_CHANGE_REQUIRED instead, from
    every root field but changePassword and logout, until they pick their own password.
    """
    viewer = require_signed_in(info)
    if viewer.user.must_change_password:
        raise ManaError(ErrorCode.PASSWORD_CHANGE_REQUIRED, PASSWORD_CHANGE_REQUIRED_MESSAGE)
    return viewer
