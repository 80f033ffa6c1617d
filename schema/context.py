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


def not_over_websocket() -> ManaError:
    return ManaError(ErrorCode.NOT_OVER_WEBSOCKET, NOT_OVER_WEBSOCKET_MESSAGE)


def changes_session(resolver):
    """Mark a resolver ``(info, ...)`` that changes the session: refused over WebSocket, before any work.

    (The WebSocket consumer also refuses any use of ``request.session`` with the same code, for a
    session-changing resolver that forgot this mark.)
    """

    @functools.wraps(resolver)
    async def refuse_over_websocket(info: Info, *args, **kwargs):
        if info.context.over_websocket:
            raise not_over_websocket()
        return await resolver(info, *args, **kwargs)

    return refuse_over_websocket


def viewer_of(info: Info) -> Viewer:
    return info.context.viewer


def require_viewer(info: Info) -> Viewer:
    """The signed-in viewer, or the UNAUTHENTICATED error every root field gives anonymous callers."""
    viewer = viewer_of(info)
    if not viewer.is_authenticated:
        raise unauthenticated()
    return viewer
