"""The WebSocket endpoint accepts only pages of Mana's own hosts (channels'
``AllowedHostsOriginValidator`` in settings/asgi.py).

A browser sends the session cookie with a WebSocket opened from any site and does not apply CORS
to it, so without this check a page of another site could act as the signed-in user
(cross-site WebSocket hijacking): the Origin header is what tells the two apart. strawberry's
consumer refuses an Origin that differs from the Host header as well, but it trusts the Host
header, which a DNS-rebinding page controls, and lets a handshake without an Origin through;
comparing the Origin with ALLOWED_HOSTS closes both, and is what these tests pin.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from settings.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ME = "query { me { user { nationalCode } } }"


async def _connect(
    origin: bytes | None, cookie: str | None = None, host: bytes = b"localhost"
) -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(
        application, "/graphql/", subprotocols=["graphql-transport-ws"], headers=headers
    )
    connected, _ = await communicator.connect()
    return communicator, connected


async def _signed_in_cookie(gql) -> str:
    await sync_to_async(gql.login)("0010000021")
    return f"{settings.SESSION_COOKIE_NAME}={gql.http.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (b"https://evil.example", b"localhost"),
        (b"http://localhost.evil.example", b"localhost"),  # a look-alike of an allowed host
        (b"null", b"localhost"),  # sandboxed frames and file:// pages
        # DNS rebinding: the page's own name resolves to Mana's address, so Origin and Host agree.
        (b"http://evil.example", b"evil.example"),
        (b"http://evil.example:8000", b"evil.example:8000"),
    ],
)
async def test_a_page_of_another_site_cannot_open_the_websocket(demo, gql, origin, host):
    cookie = await _signed_in_cookie(gql)
    communicator, connected = await _connect(origin, cookie, host)
    assert connected is False
    await communicator.wait()


async def test_a_connection_without_an_origin_is_refused(demo, gql):
    communicator, connected = await _connect(None, await _signed_in_cookie(gql))
    assert connected is False
    await communicator.wait()


async def test_a_page_of_an_allowed_host_opens_it_with_the_session(demo, gql):
    communicator, connected = await _connect(b"http://localhost", await _signed_in_cookie(gql))
    assert connected is True
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ME}})
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "next"
    assert message["payload"]["data"] == {"me": {"user": {"nationalCode": "0010000021"}}}
    await communicator.disconnect()
