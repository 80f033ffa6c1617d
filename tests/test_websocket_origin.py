"""The WebSocket endpoint accepts only pages of Mana's own hosts (channels'
``AllowedHostsOriginValidator`` in settings/asgi.py).

A browser sends the session cookie with a WebSocket opened from any site and does not apply CORS
to it, so without this check a page of another site could act as the signed-in user
(cross-site WebSocket hijacking): the Origin header is what tells the two apart. strawberry's
consumer refuses an Origin that differs from the Host header as well, but it trusts the Host
header, which a DNS-rebinding page controls, and lets a handshake without an Origin through;
comparing the Origin with ALLOWED_HOSTS closes both, and is what these tests pin.

A handshake with neither a cookie nor an Origin is an integrator's client, not a browser's: it holds
no credential until connection_init presents an API token, so it is let through
(settings/websocket_origin.py).
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


async def test_a_cookie_with_a_foreign_origin_is_refused_even_with_a_token_in_init(demo, gql):
    communicator, connected = await _connect(b"https://evil.example", await _signed_in_cookie(gql))
    assert connected is False
    await communicator.wait()


async def _token_of(national_code: str) -> str:
    from models.api_tokens import create_api_token
    from models.users import RoleAssignment

    role = await RoleAssignment.objects.select_related("user").filter(user__national_code=national_code).afirst()
    return (await sync_to_async(create_api_token)(role.user, role, "integration", None))[1]


async def _me(communicator, init_payload: dict | None) -> dict:
    init = {"type": "connection_init"}
    if init_payload is not None:
        init["payload"] = init_payload
    await communicator.send_json_to(init)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ME}})
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "next", message
    return message["payload"]["data"]


async def test_an_integrator_without_origin_or_cookie_signs_in_with_a_token(demo):
    communicator, connected = await _connect(None)
    assert connected is True
    data = await _me(communicator, {"authorization": f"Bearer {await _token_of('0010000021')}"})
    assert data == {"me": {"user": {"nationalCode": "0010000021"}}}
    await communicator.disconnect()


async def test_without_origin_cookie_or_token_the_socket_is_anonymous(demo):
    communicator, connected = await _connect(None)
    assert connected is True
    assert await _me(communicator, None) == {"me": None}
    await communicator.disconnect()


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
