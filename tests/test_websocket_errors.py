"""Errors over WebSocket are formatted and masked exactly as over HTTP; the session is not changed there."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import DataError, OperationalError

from models.demo import DEMO_PASSWORD
from schema.errors import INTERNAL_MESSAGE
from settings.asgi import application
from tests.conftest import GraphQLClient

# CAPTCHA_TEST_MODE (tests/conftest.py) accepts this answer for any key.
PASSED = {"key": "-", "value": "PASSED"}

pytestmark = pytest.mark.django_db(transaction=True)

ALI = "0010000021"
PERIODS = "query { periods { title } }"
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { errors { code } me { user { nationalCode } } } }"""
LOGOUT = "mutation { logout { errors { code } } }"
ME = "query { me { user { nationalCode } } }"


async def ws_operation(query: str, variables: dict | None = None, cookie: str | None = None, subprotocol=None):
    """One operation over graphql-transport-ws; every message until it completes or fails."""
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(
        application, "/graphql/", subprotocols=[subprotocol or "graphql-transport-ws"], headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    payload = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": payload})
    messages = []
    while not messages or messages[-1]["type"] not in {"complete", "error"}:
        messages.append(await communicator.receive_json_from(timeout=5))
    await communicator.disconnect()
    return messages


def ws_errors(messages: list[dict]) -> list[dict]:
    last = messages[-1]
    if last["type"] == "error":
        return last["payload"]
    assert messages[0]["type"] == "next", messages
    return messages[0]["payload"]["errors"]


def has_persian(text: str) -> bool:
    return any("\u0600" <= character <= "\u06ff" for character in text)


@pytest.fixture
def production_errors(settings):
    settings.DEBUG = False


@pytest.fixture
def ali(demo) -> GraphQLClient:
    client = GraphQLClient()
    client.login(ALI)
    return client


async def _last_login(national_code: str):
    return (await get_user_model().objects.aget(national_code=national_code)).last_login


def cookie_of(client: GraphQLClient) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.http.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.mark.parametrize(
    "failure, code",
    [
        (AttributeError("'NoneType' object has no attribute 'secret_column'"), "INTERNAL_ERROR"),
        (DataError('value too long for type character varying(10)\nCONTEXT:  secret_column = "x"'), "INTERNAL_ERROR"),
        (OperationalError("server closed the connection unexpectedly secret_column"), "SERVICE_UNAVAILABLE"),
    ],
)
async def test_an_exception_in_a_resolver_reaches_the_client_coded_and_without_its_text(
    ali, production_errors, monkeypatch, failure, code
):
    def broken(info, on=None):
        raise failure

    monkeypatch.setattr("resolvers.me.periods", broken)
    messages = await ws_operation(PERIODS, cookie=cookie_of(ali))
    http = await sync_to_async(ali.execute)(PERIODS)

    errors = ws_errors(messages)
    assert [error["extensions"]["code"] for error in errors] == [code]
    assert "secret_column" not in str(messages)
    assert has_persian(errors[0]["message"])
    if code == "INTERNAL_ERROR":
        assert errors[0]["message"] == INTERNAL_MESSAGE
    # Exactly what HTTP answers: message, locations, path and extensions.
    assert errors == http["errors"]
    assert messages[0]["payload"]["data"] == http["data"]
    assert messages[-1]["type"] == "complete"


@pytest.mark.parametrize(
    "query, variables, code",
    [
        ("query { periods { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query { periods { title }", None, "GRAPHQL_VALIDATION_FAILED"),  # a syntax error
        ("query($id: ID!) { node(id: $id) { id } }", {"id": {"a": 1}}, "BAD_USER_INPUT"),
        ("query($on: JalaliDate) { periods(on: $on) { title } }", {"on": "1404/12/30"}, "INVALID_DATE"),
        (PERIODS, None, "UNAUTHENTICATED"),
    ],
)
async def test_refused_documents_are_coded_as_over_http(demo, query, variables, code):
    messages = await ws_operation(query, variables)
    http = await sync_to_async(GraphQLClient().execute)(query, variables)

    errors = ws_errors(messages)
    assert [error["extensions"]["code"] for error in errors] == [code]
    assert all(has_persian(error["message"]) for error in errors)
    assert errors == http["errors"]


async def test_login_over_websocket_is_refused_and_starts_no_session(demo):
    """Even with the right password: no session is started, and nothing else is written."""
    sessions_before = await Session.objects.acount()
    last_login_before = await _last_login(ALI)
    variables = {"input": {"nationalCode": ALI, "password": DEMO_PASSWORD, "captcha": PASSED}}

    messages = await ws_operation(LOGIN, variables)

    errors = ws_errors(messages)
    assert [error["extensions"]["code"] for error in errors] == ["NOT_OVER_WEBSOCKET"]
    assert has_persian(errors[0]["message"])
    assert messages[0]["payload"]["data"] is None
    assert await Session.objects.acount() == sessions_before
    assert await _last_login(ALI) == last_login_before


async def test_logout_over_websocket_is_refused_and_the_session_stays_signed_in(ali):
    cookie = cookie_of(ali)
    sessions_before = await sync_to_async(lambda: list(Session.objects.values_list("session_key", "session_data")))()

    messages = await ws_operation(LOGOUT, cookie=cookie)

    assert [error["extensions"]["code"] for error in ws_errors(messages)] == ["NOT_OVER_WEBSOCKET"]
    assert await sync_to_async(lambda: list(Session.objects.values_list("session_key", "session_data")))() == (
        sessions_before
    )
    me = await sync_to_async(ali.data)(ME)
    assert me["me"]["user"]["nationalCode"] == ALI
    # The WebSocket connection itself still answers as Fatemeh.
    messages = await ws_operation(ME, cookie=cookie)
    assert messages[0]["payload"]["data"]["me"]["user"]["nationalCode"] == ALI


async def test_any_resolver_that_touches_the_session_over_websocket_is_refused_with_the_code(ali, monkeypatch):
    """A future session-changing mutation that forgot ``changes_session`` is still refused, coded."""

    def switch_role(info, on=None):
        info.context.request.session["active_role"] = 1

    monkeypatch.setattr("resolvers.me.periods", switch_role)
    messages = await ws_operation(PERIODS, cookie=cookie_of(ali))
    assert [error["extensions"]["code"] for error in ws_errors(messages)] == ["NOT_OVER_WEBSOCKET"]


async def test_only_graphql_transport_ws_is_spoken(demo):
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    communicator = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-ws"], headers=headers)
    await communicator.connect()
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4406, "reason": "Subprotocol not acceptable"}
    await communicator.disconnect()
