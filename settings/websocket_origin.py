"""Which WebSocket handshakes must name an allowed Origin.

A browser sends the session cookie with a WebSocket opened from any site and applies no CORS to
it; the Origin header, which every browser sends and no page can forge, is what tells Mana's own
pages from another site's (cross-site WebSocket hijacking). So a handshake that carries a cookie
must come from an allowed host (ALLOWED_HOSTS, as channels' AllowedHostsOriginValidator checks).

A handshake with neither a cookie nor an Origin is not a browser's and carries no credential: it
is anonymous until ``connection_init`` presents an API token (``{"authorization": "Bearer …"}``),
which no other site's page holds. Integrators' clients (Python's gql, Node's graphql-ws over
``ws``) send no Origin, so these are let through; an Origin that is present is always checked.
"""

from __future__ import annotations

from channels.security.websocket import AllowedHostsOriginValidator


def _has_header(scope, name: bytes) -> bool:
    return any(header == name for header, _ in scope.get("headers", []))


class BrowserOriginValidator:
    """channels' allowed-hosts check for every handshake that a browser could have made with the
    person's cookie; a cookie-less one without an Origin goes straight to the application."""

    def __init__(self, application) -> None:
        self.application = application
        self.checked = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        if not _has_header(scope, b"origin") and not _has_header(scope, b"cookie"):
            return await self.application(scope, receive, send)
        return await self.checked(scope, receive, send)
