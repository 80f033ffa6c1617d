"""GraphQL over WebSocket (graphql-transport-ws) through Channels, with the session's viewer."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from settings.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

PERIODS = "query { periods { title } }"


async def _run(query: str, cookie: str | None = None) -> dict:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(
        application, "/graphql/", subprotocols=["graphql-transport-ws"], headers=headers
    )
    connected, subprotocol = await communicator.connect()
    assert connected and subprotocol == "graphql-transport-ws"
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": query}})
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return message


async def test_anonymous_websocket_query_is_unauthenticated(demo):
    message = await _run(PERIODS)
    assert message["type"] in {"next", "error"}
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_session_cookie_signs_the_websocket_in(demo, gql):
    from asgiref.sync import sync_to_async

    await sync_to_async(gql.login)("0010000021")
    cookie = f"{settings.SESSION_COOKIE_NAME}={gql.http.cookies[settings.SESSION_COOKIE_NAME].value}"
    message = await _run(PERIODS, cookie)
    assert message["type"] == "next"
    assert message["payload"]["data"] == {"periods": [{"title": "دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲"}]}


async def test_each_operation_on_a_socket_reads_fresh_rows(demo, gql):
    """One socket, two operations: the second must not be answered from the first one's loaders."""
    from asgiref.sync import sync_to_async

    from models.models import Organization

    await sync_to_async(gql.login)("0032054009")  # فاطمه: her subordinates' units come through a loader
    cookie = f"{settings.SESSION_COOKIE_NAME}={gql.http.cookies[settings.SESSION_COOKIE_NAME].value}"
    query = "query { me { subordinates { organization { id name } } } }"
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())]
    communicator = WebsocketCommunicator(
        application, "/graphql/", subprotocols=["graphql-transport-ws"], headers=headers
    )
    await communicator.connect()
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"

    async def names(operation_id: str) -> set[str]:
        await communicator.send_json_to({"id": operation_id, "type": "subscribe", "payload": {"query": query}})
        message = await communicator.receive_json_from(timeout=5)
        assert message["type"] == "next", message
        assert (await communicator.receive_json_from(timeout=5))["type"] == "complete"
        return {s["organization"]["name"] for s in message["payload"]["data"]["me"]["subordinates"]}

    before = await names("1")
    renamed = sorted(before)[0]
    await sync_to_async(Organization.objects.filter(name=renamed).update)(name="نام تازه")
    after = await names("2")
    await communicator.disconnect()
    assert after == (before - {renamed}) | {"نام تازه"}
