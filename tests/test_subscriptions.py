"""Live updates: inboxUpdated and referralChanged over graphql-transport-ws, scoped per subscriber,
published after commit (models/events.py, subscriptions/)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from settings.asgi import application
from subscriptions import live
from subscriptions.publish import drain
from tests.workflow_helpers import (
    ALI,
    FATEMEH,
    FINISH,
    HASAN,
    REFER,
    RETURN,
    SARA,
    SAVE,
    assignment_id,
    client_for,
    mutate,
    user_id,
)

pytestmark = pytest.mark.django_db(transaction=True)

INBOX = """subscription { inboxUpdated { kind at registrationRequest { trackingCode }
  referral { id status assignee { nationalCode } referrer { nationalCode }
  assignment { indicator { title } } performance { value } } } }"""
CHANGED = "subscription($id: ID!) { referralChanged(id: $id) { id status version performance { value } } }"
PERIODS = "query { periods { title } }"


def cookie_of(client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.http.cookies[settings.SESSION_COOKIE_NAME].value}"


async def open_socket(cookie: str | None = None, init: bool = True, payload: dict | None = None):
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    socket = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-transport-ws"], headers=headers)
    connected, _ = await socket.connect()
    assert connected
    if init:
        message = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await socket.send_json_to(message)
        assert (await socket.receive_json_from(timeout=5))["type"] == "connection_ack"
    return socket


async def subscribe(socket, operation_id: str, query: str, variables: dict | None = None) -> None:
    payload = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    await socket.send_json_to({"id": operation_id, "type": "subscribe", "payload": payload})


async def until_listening(count: int) -> None:
    """Subscriptions start listening asynchronously: wait until ``count`` of them do."""
    for _ in range(500):
        if live.listening >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{live.listening} subscriptions listening, expected {count}")


async def inbox_socket(client) -> WebsocketCommunicator:
    socket = await open_socket(cookie_of(client))
    await subscribe(socket, "inbox", INBOX)
    return socket


async def received(socket) -> dict:
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]


async def nothing_more(*sockets) -> None:
    await drain()
    for socket in sockets:
        assert await socket.receive_nothing(timeout=0.3), await socket.receive_output()


def refer_input(indicator: str, assignee: str) -> dict:
    return {"source": assignment_id(indicator), "assignee": user_id(assignee), "deadline": "1402/11/18"}


async def refer(client, indicator: str, assignee: str) -> dict:
    payload = await sync_to_async(mutate)(client, REFER, await sync_to_async(refer_input)(indicator, assignee))
    assert payload["errors"] == [], payload
    return payload["referral"]


async def close_all(*sockets) -> None:
    for socket in sockets:
        await socket.disconnect()
    await until_gone()


async def until_gone() -> None:
    for _ in range(500):
        if live.listening == 0:
            return
        await asyncio.sleep(0.01)


@pytest.fixture
def people(demo) -> dict:
    return {code: client_for(code) for code in (ALI, FATEMEH, HASAN)}


async def test_a_referral_reaches_the_assignee_and_a_submission_the_referrer_and_no_one_else(people):
    ali, fatemeh, hasan = [await inbox_socket(people[code]) for code in (ALI, FATEMEH, HASAN)]
    await until_listening(3)

    referral = await refer(people[ALI], "MOE-02", FATEMEH)

    event = (await received(fatemeh))["inboxUpdated"]
    assert event["kind"] == "ASSIGNED"
    assert event["at"]
    assert event["referral"]["id"] == referral["id"]
    assert event["referral"]["assignee"] == {"nationalCode": FATEMEH}
    assert event["referral"]["referrer"] == {"nationalCode": ALI}
    # Resolved in her own scope: the indicator of what was referred to her is readable.
    assert event["referral"]["assignment"]["indicator"]["title"]
    assert event["referral"]["status"] == "IN_PROGRESS"
    # The actor's own inbox changed too (his other tabs); the other ministry's leader hears nothing.
    assert (await received(ali))["inboxUpdated"]["kind"] == "ASSIGNED"
    await nothing_more(hasan)

    saved = await sync_to_async(mutate)(
        people[FATEMEH], SAVE, {"referral": referral["id"], "version": 0, "value": "12"}
    )
    assert saved["errors"] == [], saved
    # A saved draft is not an inbox event (referralChanged carries it).
    await nothing_more(ali, fatemeh, hasan)
    finished = await sync_to_async(mutate)(
        people[FATEMEH], FINISH, {"referral": referral["id"], "version": referral["version"]}
    )
    assert finished["errors"] == [], finished

    event = (await received(ali))["inboxUpdated"]
    assert event["kind"] == "SUBMITTED"
    assert event["referral"]["status"] == "SUBMITTED"
    assert Decimal(event["referral"]["performance"]["value"]) == 12
    assert (await received(fatemeh))["inboxUpdated"]["kind"] == "SUBMITTED"
    await nothing_more(hasan)

    returned = await sync_to_async(mutate)(
        people[ALI], RETURN, {"referral": referral["id"], "version": referral["version"] + 1, "reason": "کامل کنید"}
    )
    assert returned["errors"] == [], returned
    assert (await received(fatemeh))["inboxUpdated"]["kind"] == "RETURNED"
    assert (await received(ali))["inboxUpdated"]["kind"] == "RETURNED"
    await close_all(ali, fatemeh, hasan)


async def test_a_rolled_back_change_announces_nothing(people, monkeypatch):
    from models import workflow
    from models.errors import DomainError
    from models.referrals import Referral

    fatemeh = await inbox_socket(people[FATEMEH])
    await until_listening(1)

    def refused_late(referral):
        # A refusal after the referral, its timeline event and its announcement were made.
        raise DomainError("CONFLICT", "هم‌زمان تغییر کرد.")

    monkeypatch.setattr(workflow, "grant_on_create", refused_late)
    payload = await sync_to_async(mutate)(people[ALI], REFER, await sync_to_async(refer_input)("MOE-02", FATEMEH))
    assert [error["code"] for error in payload["errors"]] == ["CONFLICT"]
    assert not await Referral.objects.filter(assignment__indicator__code="MOE-02").aexists()
    await nothing_more(fatemeh)
    await close_all(fatemeh)


async def test_switching_role_stops_the_next_event_and_switching_back_resumes(demo):
    from models.users import RoleAssignment
    from schema.ids import encode_global_id

    ali, sara = await sync_to_async(client_for)(ALI), await sync_to_async(client_for)(SARA)
    socket = await inbox_socket(sara)
    await until_listening(1)
    await refer(ali, "MOE-02", SARA)
    assert (await received(socket))["inboxUpdated"]["kind"] == "ASSIGNED"

    roles = {
        role.organization.code: encode_global_id("RoleAssignment", role.pk)
        async for role in RoleAssignment.objects.filter(user__national_code=SARA).select_related("organization")
    }
    switch = "mutation($i: SwitchRoleInput!) { switchRole(input: $i) { errors { code } } }"
    result = await sync_to_async(sara.data)(switch, {"i": {"roleAssignment": roles["MOE-TAVANIR"]}})
    assert result["switchRole"]["errors"] == []
    # Referred to her at headquarters: not in the subsidiary role's inbox, so not delivered.
    await refer(ali, "MOE-03", SARA)
    await nothing_more(socket)

    result = await sync_to_async(sara.data)(switch, {"i": {"roleAssignment": roles["MOE-HQ"]}})
    await refer(ali, "MOE-04", SARA)
    assert (await received(socket))["inboxUpdated"]["kind"] == "ASSIGNED"
    await close_all(socket)


async def test_a_withdrawn_permission_stops_the_next_event(people):
    from guardian.shortcuts import remove_perm

    from models.referrals import Referral
    from models.users import User

    fatemeh = await inbox_socket(people[FATEMEH])
    await until_listening(1)
    referral = await refer(people[ALI], "MOE-02", FATEMEH)
    assert (await received(fatemeh))["inboxUpdated"]["kind"] == "ASSIGNED"

    await sync_to_async(mutate)(people[FATEMEH], SAVE, {"referral": referral["id"], "version": 0, "value": "3"})
    await sync_to_async(mutate)(people[FATEMEH], FINISH, {"referral": referral["id"], "version": referral["version"]})
    assert (await received(fatemeh))["inboxUpdated"]["kind"] == "SUBMITTED"

    # An administrator withdraws her view of it; Ali then returns it to her.
    user = await User.objects.aget(national_code=FATEMEH)
    row = await Referral.objects.aget(assignment__indicator__code="MOE-02")
    await sync_to_async(remove_perm)("mana.view_referral", user, row)
    returned = await sync_to_async(mutate)(
        people[ALI], RETURN, {"referral": referral["id"], "version": referral["version"] + 1, "reason": "اصلاح"}
    )
    assert returned["errors"] == []
    await nothing_more(fatemeh)
    await close_all(fatemeh)


async def test_referral_changed_in_scope_and_out_of_scope(people):
    referral = await refer(people[ALI], "MOE-02", FATEMEH)
    fatemeh = await open_socket(cookie_of(people[FATEMEH]))
    hasan = await open_socket(cookie_of(people[HASAN]))
    await subscribe(fatemeh, "changed", CHANGED, {"id": referral["id"]})
    # Out of scope and missing: the same NOT_FOUND, for that subscription only.
    from schema.ids import encode_global_id

    await subscribe(hasan, "theirs", CHANGED, {"id": referral["id"]})
    await subscribe(hasan, "missing", CHANGED, {"id": encode_global_id("Referral", 987654)})
    answers = {}
    while sum(answers.get(i, [{}])[-1].get("type") in {"complete", "error"} for i in ("theirs", "missing")) < 2:
        message = await hasan.receive_json_from(timeout=5)
        answers.setdefault(message["id"], []).append(message)
    for operation_id in ("theirs", "missing"):
        first = answers[operation_id][0]
        errors = first["payload"]["errors"] if first["type"] == "next" else first["payload"]
        assert [error["extensions"]["code"] for error in errors] == ["NOT_FOUND"]
        assert answers[operation_id][-1]["type"] in {"complete", "error"}
    assert answers["theirs"][0]["payload"] == answers["missing"][0]["payload"]
    # Hasan's socket goes on.
    await subscribe(hasan, "periods", PERIODS)
    assert (await hasan.receive_json_from(timeout=5))["type"] == "next"
    assert (await hasan.receive_json_from(timeout=5))["type"] == "complete"

    await until_listening(1)
    saved = await sync_to_async(mutate)(
        people[FATEMEH], SAVE, {"referral": referral["id"], "version": 0, "value": "7"}
    )
    assert saved["errors"] == []
    changed = (await received(fatemeh))["referralChanged"]
    assert changed["id"] == referral["id"]
    assert Decimal(changed["performance"]["value"]) == 7
    await nothing_more(hasan)
    await close_all(fatemeh, hasan)


async def test_completing_one_subscription_leaves_its_siblings(people):
    socket = await open_socket(cookie_of(people[FATEMEH]))
    await subscribe(socket, "a", INBOX)
    await subscribe(socket, "b", INBOX)
    await until_listening(2)
    await socket.send_json_to({"id": "a", "type": "complete"})
    for _ in range(500):
        if live.listening == 1:
            break
        await asyncio.sleep(0.01)
    assert live.listening == 1
    await refer(people[ALI], "MOE-02", FATEMEH)
    message = await socket.receive_json_from(timeout=5)
    assert message["id"] == "b" and message["payload"]["data"]["inboxUpdated"]["kind"] == "ASSIGNED"
    await nothing_more(socket)
    await close_all(socket)


async def test_subscriptions_per_connection_are_limited(people, settings):
    settings.MANA_WS_MAX_SUBSCRIPTIONS = 2
    socket = await open_socket(cookie_of(people[FATEMEH]))
    await subscribe(socket, "a", INBOX)
    await subscribe(socket, "b", INBOX)
    await subscribe(socket, "c", INBOX)
    message = await socket.receive_json_from(timeout=5)
    assert message["id"] == "c" and message["type"] == "error"
    assert [error["extensions"]["code"] for error in message["payload"]] == ["TOO_MANY_SUBSCRIPTIONS"]
    assert any("\u0600" <= ch <= "\u06ff" for ch in message["payload"][0]["message"])
    await until_listening(2)
    await refer(people[ALI], "MOE-02", FATEMEH)
    ids = {(await socket.receive_json_from(timeout=5))["id"] for _ in range(2)}
    assert ids == {"a", "b"}
    await close_all(socket)


async def test_connections_per_person_are_limited(people, settings):
    settings.MANA_WS_MAX_CONNECTIONS_PER_PERSON = 2
    cookie = cookie_of(people[FATEMEH])
    first, second = await open_socket(cookie), await open_socket(cookie)
    third = await open_socket(cookie, init=False)
    await third.send_json_to({"type": "connection_init"})
    closed = await third.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4429, "reason": "Too many connections for this person"}
    # Someone else is not affected, and closing one socket makes room for another.
    other = await open_socket(cookie_of(people[ALI]))
    await first.disconnect()
    again = await open_socket(cookie)
    await close_all(second, other, again)


async def test_a_socket_that_crashes_is_counted_out_and_leaves_its_group(people, monkeypatch):
    """An exception in the consumer (daphne closes with 1011; disconnect() never runs) must not
    keep one of the person's connections: the redis-py timeout of bench/live_updates.py once did."""
    from channels.layers import get_channel_layer
    from django.core.cache import cache

    from subscriptions.consumers import ManaGraphQLWSConsumer, _connections_key
    from subscriptions.publish import user_group

    original = ManaGraphQLWSConsumer.dispatch

    async def dispatch(self, message):
        if message.get("type") == "test.crash":
            raise RuntimeError("the channel layer failed")
        await original(self, message)

    monkeypatch.setattr(ManaGraphQLWSConsumer, "dispatch", dispatch)
    fatemeh = await sync_to_async(user_id_of)(FATEMEH)
    socket = await open_socket(cookie_of(people[FATEMEH]))
    assert await sync_to_async(cache.get)(_connections_key(fatemeh)) == 1
    layer = get_channel_layer()
    await layer.group_send(user_group(fatemeh), {"type": "test.crash"})
    with pytest.raises(RuntimeError):
        await socket.receive_output(timeout=5)
    assert await sync_to_async(cache.get)(_connections_key(fatemeh)) == 0
    if hasattr(layer, "groups"):  # the in-memory layer shows its groups; Redis keeps them server-side
        assert not layer.groups.get(user_group(fatemeh))


def user_id_of(national_code: str) -> int:
    from models.users import User

    return User.objects.get(national_code=national_code).pk


async def test_logout_over_http_closes_that_sessions_sockets(people):
    fatemeh = await inbox_socket(people[FATEMEH])
    ali = await inbox_socket(people[ALI])
    await until_listening(2)
    result = await sync_to_async(people[FATEMEH].data)("mutation { logout { errors { code } } }")
    assert result["logout"]["errors"] == []
    closed = await fatemeh.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401, "reason": "Session ended"}
    # Ali's socket is not touched, and still delivers.
    await refer(people[ALI], "MOE-02", FATEMEH)
    assert (await received(ali))["inboxUpdated"]["kind"] == "ASSIGNED"
    await close_all(fatemeh, ali)


async def test_an_expired_session_ends_its_sockets(people, settings):
    from django.contrib.sessions.models import Session

    settings.MANA_WS_SESSION_CHECK_INTERVAL = 0.1
    socket = await open_socket(cookie_of(people[FATEMEH]))
    key = people[FATEMEH].http.cookies[settings.SESSION_COOKIE_NAME].value
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.utils import timezone

        await Session.objects.filter(session_key=key).aupdate(expire_date=timezone.now())
    closed = await socket.receive_output(timeout=5)
    assert closed["code"] == 4401
    await socket.disconnect()


async def test_a_bearer_token_socket_receives_its_events(people):
    from models.api_tokens import create_api_token
    from models.users import RoleAssignment, User

    user = await User.objects.aget(national_code=FATEMEH)
    role = await RoleAssignment.objects.filter(user=user).afirst()
    _, secret = await sync_to_async(create_api_token)(user, role, "live", None)
    socket = await open_socket(payload={"authorization": f"Bearer {secret}"})
    await subscribe(socket, "inbox", INBOX)
    await until_listening(1)
    await refer(people[ALI], "MOE-02", FATEMEH)
    assert (await received(socket))["inboxUpdated"]["kind"] == "ASSIGNED"
    await close_all(socket)


async def _token_socket(national_code: str, name: str = "live"):
    """(socket, token id) of a socket signed in with a new API token of ``national_code``."""
    from models.api_tokens import create_api_token
    from models.users import RoleAssignment

    role = await RoleAssignment.objects.select_related("user").filter(user__national_code=national_code).afirst()
    token, secret = await sync_to_async(create_api_token)(role.user, role, name, None)
    return await open_socket(payload={"authorization": f"Bearer {secret}"}), token


async def me_over(socket, operation_id: str = "me") -> dict | None:
    await subscribe(socket, operation_id, "query { me { user { nationalCode } activeRole { organization { code } } } }")
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "next", message
    assert (await socket.receive_json_from(timeout=5))["type"] == "complete"
    return message["payload"]["data"]["me"]


async def test_websocket_frames_carry_persian_as_persian(people):
    socket = await open_socket(cookie_of(people[FATEMEH]))
    await subscribe(socket, "periods", PERIODS)
    frame = await socket.receive_from(timeout=5)
    assert "دوره ارزیابی" in frame and "\\u06" not in frame
    await close_all(socket)


async def test_revoking_a_token_closes_its_sockets_and_only_those(people):
    from schema.ids import encode_global_id

    revoked, token = await _token_socket(FATEMEH, "revoked")
    kept, _ = await _token_socket(FATEMEH, "kept")
    cookie = await open_socket(cookie_of(people[FATEMEH]))
    assert (await me_over(revoked))["user"] == {"nationalCode": FATEMEH}

    revoke = "mutation($i: RevokeApiTokenInput!) { revokeApiToken(input: $i) { errors { code } } }"
    result = await sync_to_async(people[FATEMEH].data)(revoke, {"i": {"token": encode_global_id("ApiToken", token.pk)}})
    assert result["revokeApiToken"]["errors"] == []

    closed = await revoked.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "Token no longer valid"}
    # Her other token and her session are not touched.
    assert (await me_over(kept))["user"] == {"nationalCode": FATEMEH}
    assert (await me_over(cookie))["user"] == {"nationalCode": FATEMEH}
    await close_all(revoked, kept, cookie)


async def test_the_admin_consoles_revocation_closes_the_tokens_sockets(people):
    from django.http import HttpRequest
    from django.test import AsyncClient
    from django.urls import reverse

    from tests.conftest import DEMO_PASSWORD

    socket, token = await _token_socket(FATEMEH)
    console = AsyncClient()
    assert await sync_to_async(console.login)(request=HttpRequest(), national_code="0010000011", password=DEMO_PASSWORD)
    response = await console.post(
        reverse("admin:mana_apitoken_changelist"), {"action": "revoke_selected", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    closed = await socket.receive_output(timeout=5)
    assert closed["code"] == 4403
    await socket.disconnect()


async def test_a_rolled_back_revocation_closes_nothing(people):
    from django.db import transaction

    from models.api_tokens import revoke_tokens
    from models.credentials import ApiToken

    socket, token = await _token_socket(FATEMEH)

    def revoke_then_fail():
        with transaction.atomic():
            revoke_tokens(ApiToken.objects.filter(pk=token.pk))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await sync_to_async(revoke_then_fail)()
    await drain()
    assert await socket.receive_nothing(timeout=0.3)
    assert (await me_over(socket))["user"] == {"nationalCode": FATEMEH}
    await close_all(socket)


async def test_an_expired_token_ends_its_socket(people, settings):
    from django.utils import timezone

    from models.credentials import ApiToken

    settings.MANA_WS_SESSION_CHECK_INTERVAL = 0.1
    socket, token = await _token_socket(FATEMEH)
    await ApiToken.objects.filter(pk=token.pk).aupdate(expires_at=timezone.now())
    closed = await socket.receive_output(timeout=5)
    assert closed["code"] == 4403
    await socket.disconnect()


async def test_each_operation_on_a_socket_runs_as_the_viewer_is_now(demo):
    """A role switched over HTTP is the next query's role on the open socket; a deactivated
    account's next operation finds the socket signed out, and it closes."""
    from models.users import RoleAssignment, User
    from schema.ids import encode_global_id

    sara = await sync_to_async(client_for)(SARA)
    socket = await open_socket(cookie_of(sara))
    assert (await me_over(socket, "1"))["activeRole"]["organization"]["code"] == "MOE-HQ"
    role = await RoleAssignment.objects.aget(user__national_code=SARA, organization__code="MOE-TAVANIR")
    switch = "mutation($i: SwitchRoleInput!) { switchRole(input: $i) { errors { code } } }"
    variables = {"i": {"roleAssignment": encode_global_id("RoleAssignment", role.pk)}}
    result = await sync_to_async(sara.data)(switch, variables)
    assert result["switchRole"]["errors"] == []
    assert (await me_over(socket, "2"))["activeRole"]["organization"]["code"] == "MOE-TAVANIR"

    await User.objects.filter(national_code=SARA).aupdate(is_active=False)
    await subscribe(socket, "3", "query { me { user { nationalCode } } }")
    outputs = [await socket.receive_output(timeout=5)]
    while outputs[-1]["type"] != "websocket.close":
        outputs.append(await socket.receive_output(timeout=5))
    assert outputs[-1]["code"] == 4401
    # Nothing answered as her after the account was deactivated.
    assert FATEMEH not in str(outputs) and SARA not in str(outputs)
    await socket.disconnect()


async def test_a_registration_request_reaches_its_approver(people):
    from tests.test_registration import submit

    ali = await inbox_socket(people[ALI])
    await until_listening(1)
    assert (await sync_to_async(submit)())["errors"] == []
    event = (await received(ali))["inboxUpdated"]
    assert event["kind"] == "REGISTRATION_REQUEST" and event["referral"] is None
    await close_all(ali)


class UnreachableLayer(InMemoryChannelLayer):
    """Redis down, as the publisher meets it: every send fails."""

    async def group_send(self, group, message):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


async def test_an_unreachable_channel_layer_still_commits_and_logs_once(people, settings, caplog):
    from models.referrals import Referral

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.test_subscriptions.UnreachableLayer"}}
    caplog.set_level(logging.WARNING, logger="subscriptions.publish")
    referral = await refer(people[ALI], "MOE-02", FATEMEH)
    await drain()
    assert await Referral.objects.filter(pk__isnull=False, assignment__indicator__code="MOE-02").aexists()
    assert referral["status"] == "IN_PROGRESS"
    failures = [r for r in caplog.records if r.name == "subscriptions.publish"]
    # Once per publication: the inbox event, and the unit's changed figures (dashboards).
    messages = sorted(r.getMessage() for r in failures)
    assert len(messages) == 2, messages
    assert "ASSIGNED" in messages[0] and "figures of unit" in messages[1], messages


# --- the protocol's answers to bad input; other connections unaffected ---------------------------


async def _closed(socket) -> dict:
    output = await socket.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output


async def _still_answers(socket) -> None:
    await subscribe(socket, "check", PERIODS)
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "next" and message["payload"]["data"]["periods"], message
    assert (await socket.receive_json_from(timeout=5))["type"] == "complete"


@pytest.fixture
def bystander_cookie(people) -> str:
    return cookie_of(people[ALI])


async def test_malformed_message_closes_with_4400(bystander_cookie):
    bystander = await open_socket(bystander_cookie)
    socket = await open_socket(bystander_cookie)
    await socket.send_to(text_data="{not json")
    assert (await _closed(socket))["code"] == 4400
    await _still_answers(bystander)
    await close_all(bystander, socket)


async def test_an_unknown_operation_name_closes_with_4400(bystander_cookie):
    bystander = await open_socket(bystander_cookie)
    socket = await open_socket(bystander_cookie)
    payload = {"query": "subscription Inbox { inboxUpdated { kind } }", "operationName": "Missing"}
    await socket.send_json_to({"id": "1", "type": "subscribe", "payload": payload})
    assert (await _closed(socket))["code"] == 4400
    await _still_answers(bystander)
    await close_all(bystander, socket)


async def test_duplicate_subscription_id_closes_with_4409(bystander_cookie):
    bystander = await open_socket(bystander_cookie)
    socket = await open_socket(bystander_cookie)
    await subscribe(socket, "same", INBOX)
    await subscribe(socket, "same", INBOX)
    assert (await _closed(socket))["code"] == 4409
    await _still_answers(bystander)
    await close_all(bystander, socket)


async def test_subscribe_before_ack_closes_with_4401(bystander_cookie):
    bystander = await open_socket(bystander_cookie)
    socket = await open_socket(bystander_cookie, init=False)
    await subscribe(socket, "early", INBOX)
    assert (await _closed(socket))["code"] == 4401
    await _still_answers(bystander)
    await close_all(bystander, socket)


async def test_two_inits_close_with_4429(bystander_cookie):
    bystander = await open_socket(bystander_cookie)
    socket = await open_socket(bystander_cookie)
    await socket.send_json_to({"type": "connection_init"})
    assert (await _closed(socket))["code"] == 4429
    await _still_answers(bystander)
    await close_all(bystander, socket)


async def test_no_init_in_time_closes_with_4408(bystander_cookie, settings):
    bystander = await open_socket(bystander_cookie)
    settings.MANA_WS_INIT_TIMEOUT = 0.2
    socket = await open_socket(bystander_cookie, init=False)
    assert (await _closed(socket))["code"] == 4408
    await _still_answers(bystander)
    await close_all(bystander, socket)


async def test_an_invalid_subscription_document_is_an_error_for_that_operation_only(people):
    socket = await open_socket(cookie_of(people[FATEMEH]))
    await subscribe(socket, "bad", "subscription { inboxUpdated { nope } }")
    message = await socket.receive_json_from(timeout=5)
    assert message["id"] == "bad" and message["type"] == "error"
    assert [error["extensions"]["code"] for error in message["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]
    await _still_answers(socket)
    await close_all(socket)


async def test_anonymous_subscription_is_unauthenticated():
    socket = await open_socket()
    await subscribe(socket, "inbox", INBOX)
    message = await socket.receive_json_from(timeout=5)
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [error["extensions"]["code"] for error in errors] == ["UNAUTHENTICATED"]
    await close_all(socket)


@pytest.mark.django_db
def test_a_subscription_over_http_is_refused_with_a_code(gql):
    for document in ("subscription { inboxUpdated { kind } }", "subscription S { referralChanged(id: \"x\") { id } }"):
        result = gql.execute(document)
        assert result["data"] is None
        assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], result
        assert "WebSocket" in result["errors"][0]["message"]
