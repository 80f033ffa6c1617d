"""Live updates as clients receive them from real servers: the README's clients, the embedded
default (one process, in-memory channel layer) and two processes over Redis.

A referral made by the main leader (علی, وزارت نیرو) reaches فاطمه فرهاد's ``inboxUpdated`` — on
a socket signed in with an API token and on one signed in with the session cookie — and the main
leader's own subscribed socket, within a fraction of a second; a main leader of another ministry
and a colleague the referral does not concern receive nothing. Under "redis" the subscribers are
on one daphne process and the mutation goes to another: only the Redis channel layer can carry
the event between them.

The Python subscriber is gql's WebSocket transport, configured as the README shows; the JavaScript
one is the graphql-ws client (tests/conformance/live_client.mjs, Node.js 20+ required: without it
these fail, they do not skip). Redis: REDIS_URL, or a local Redis at 127.0.0.1:6379 (db 14) when
unset; only when neither is there are the "redis" cases skipped (CI's PostgreSQL run sets REDIS_URL).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import subprocess
import time

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import DEMO_PASSWORD, PASSED_CAPTCHA
from tests.live_server import ROOT, ServerDatabase, daphnes, npm_packages, tool
from tests.workflow_helpers import ALI, FATEMEH, HASAN, SARA

CONFORMANCE = ROOT / "tests" / "conformance"
LOCAL_REDIS = "redis://127.0.0.1:6379/14"
# "A fraction of a second" from the event's commit to the subscriber, measured on the event's own
# timestamp (server and client share the clock); the wait itself allows more, to report the figure.
FRACTION_OF_A_SECOND = 0.8

# Run as `python -c SEED <national codes…>`: the first one the assignee, every one given a token.
SEED = """
import json
import sys
import django
django.setup()
from models.api_tokens import create_api_token
from models.demo import load_demo
from models.indicators import Assignment, Indicator
from models.users import RoleAssignment
from schema.ids import encode_global_id
load_demo()
tokens = {}
for code in sys.argv[1:]:
    role = RoleAssignment.objects.select_related("user").filter(user__national_code=code).order_by("id").first()
    tokens[code] = create_api_token(role.user, role, "live clients", None)[1]
# The demo's unreferred assignments are fewer than these tests refer: more like them, at headquarters.
template = Assignment.objects.select_related("indicator").get(indicator__code="MOE-02", period__year=1402)
for n in range(10):
    indicator = Indicator.objects.create(
        code=f"LIVE-{n:02}", title=f"{template.indicator.title} ({n})", kind=template.indicator.kind,
        unit=template.indicator.unit, nature=template.indicator.nature,
    )
    Assignment.objects.create(
        indicator=indicator, organization=template.organization, period=template.period, target=template.target,
        weight=template.weight, score_cap=template.score_cap, deadline=template.deadline,
    )
pending = Assignment.objects.filter(indicator__code__startswith="LIVE-").order_by("indicator__code")
fatemeh = RoleAssignment.objects.filter(user__national_code=sys.argv[1]).first().user_id
print(json.dumps({
    "tokens": tokens,
    "assignments": [encode_global_id("Assignment", a.pk) for a in pending],
    "fatemeh": encode_global_id("User", fatemeh),
}))
"""

INBOX = gql("subscription { inboxUpdated { kind at referral { id status assignee { nationalCode } } } }")
ME = gql("{ me { user { nationalCode } } }")
REFER = """mutation($input: ReferInput!) { refer(input: $input) { errors { code message } referral { id } } }"""


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    import redis

    try:
        redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        return None
    return LOCAL_REDIS


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo database the servers share, and what the seed printed (tokens, ids)."""
    tmp_path = tmp_path_factory.mktemp("live_clients")
    with ServerDatabase(tmp_path, "live", {"MANA_API_TOKEN_RATE": "10000/m"}) as database:
        seeded = json.loads(database.run("-c", SEED, FATEMEH, ALI, HASAN, SARA).strip().splitlines()[-1])
        seeded["unreferred"] = list(seeded["assignments"])
        yield database, seeded


@pytest.fixture(scope="module", params=["embedded", "redis"])
def deployment(request, served, tmp_path_factory):
    """(the server subscribers connect to, the server the mutation goes to, the seed's data)."""
    database, seeded = served
    env = dict(database.env)
    env.pop("REDIS_URL", None)
    count = 1
    if request.param == "redis":
        url = _redis_url()
        if url is None:
            pytest.skip("no Redis: REDIS_URL is unset and nothing answers at 127.0.0.1:6379")
        env["REDIS_URL"] = url
        count = 2
    with daphnes(env, tmp_path_factory.mktemp(request.param), count) as servers:
        yield servers[0], servers[-1], seeded


def _transport(server, token: str | None = None, cookie: str | None = None) -> WebsocketsTransport:
    """As the README configures gql: the token in connection_init, or the cookie with the Origin a
    browser page of the site would send."""
    if token is not None:
        return WebsocketsTransport(
            url=server.ws_url,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"authorization": f"Bearer {token}"},
        )
    return WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        headers={"Cookie": cookie, "Origin": server.base},
    )


async def _session_cookie(server, national_code: str) -> str:
    """Sign in over HTTP as a web client does (a cookie-less JSON login needs no CSRF token)."""
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server.url,
            json={
                "query": "mutation($input: LoginInput!) { login(input: $input) { errors { code } } }",
                "variables": {
                    "input": {"nationalCode": national_code, "password": DEMO_PASSWORD, "captcha": PASSED_CAPTCHA}
                },
            },
        )
        assert response.json()["data"]["login"]["errors"] == [], response.text
        return f"sessionid={response.cookies['sessionid']}"


class Subscriber:
    """One gql session subscribed to inboxUpdated; its events (with their arrival time) in a queue."""

    def __init__(self, name: str, transport: WebsocketsTransport) -> None:
        self.name = name
        self.client = Client(transport=transport)
        self.events: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> Subscriber:
        self.session = await self.client.connect_async()
        self._task = asyncio.create_task(self._listen())
        # A query answered on the same socket after the subscribe message: the subscription is in place.
        self.me = (await self.session.execute(ME))["me"]
        await asyncio.sleep(0.2)
        return self

    async def _listen(self) -> None:
        async for result in self.session.subscribe(INBOX):
            await self.events.put((time.time(), result["inboxUpdated"]))

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close_async()


async def _refer(server, seeded: dict) -> str:
    """The main leader refers one of his unreferred assignments to فاطمه over HTTP (API token)."""
    source = seeded["unreferred"].pop(0)
    variables = {"input": {"source": source, "assignee": seeded["fatemeh"], "deadline": "1402/11/18"}}
    async with httpx.AsyncClient() as http:
        response = await http.post(
            server.url,
            json={"query": REFER, "variables": variables},
            headers={"Authorization": f"Bearer {seeded['tokens'][ALI]}"},
        )
    payload = response.json()["data"]["refer"]
    assert payload["errors"] == [], payload
    return payload["referral"]["id"]


def _latency(received_at: float, event: dict) -> float:
    return received_at - datetime.datetime.fromisoformat(event["at"]).timestamp()


async def test_a_referral_reaches_fatemeh_and_the_main_leader_and_nobody_else(deployment):
    subscribe_on, mutate_on, seeded = deployment
    tokens = seeded["tokens"]
    cookie = await _session_cookie(subscribe_on, FATEMEH)
    async with (
        Subscriber("fatemeh/token", _transport(subscribe_on, token=tokens[FATEMEH])) as by_token,
        Subscriber("fatemeh/cookie", _transport(subscribe_on, cookie=cookie)) as by_cookie,
        Subscriber("ali", _transport(subscribe_on, cookie=await _session_cookie(subscribe_on, ALI))) as ali,
        Subscriber("hasan", _transport(subscribe_on, token=tokens[HASAN])) as hasan,
        Subscriber("sara", _transport(subscribe_on, cookie=await _session_cookie(subscribe_on, SARA))) as sara,
    ):
        assert by_token.me == by_cookie.me == {"user": {"nationalCode": FATEMEH}}
        assert hasan.me == {"user": {"nationalCode": HASAN}}

        referral = await _refer(mutate_on, seeded)

        # فاطمه's two sockets, and the main leader's own (the referrer's other tabs follow too).
        for subscriber in (by_token, by_cookie, ali):
            received_at, event = await asyncio.wait_for(subscriber.events.get(), timeout=10)
            assert event["kind"] == "ASSIGNED"
            assert event["referral"] == {"id": referral, "status": "IN_PROGRESS", "assignee": {"nationalCode": FATEMEH}}
            latency = _latency(received_at, event)
            assert latency < FRACTION_OF_A_SECOND, f"{subscriber.name}: {latency:.3f} s from commit to message"
        await asyncio.sleep(0.5)
        # Another ministry's main leader, and علی's subordinate whom the referral does not concern.
        assert hasan.events.empty() and sara.events.empty()


async def test_a_socket_idle_past_the_channel_layers_blocking_wait_still_receives(deployment):
    """channels-redis waits for a socket's next message with a blocking read of 5 s; redis-py 8's
    default 5 s read timeout used to cut it, crash the consumer and close the socket with 1011
    (bench/live_updates.py). Idle for longer than that, the socket must still be open and deliver."""
    subscribe_on, mutate_on, seeded = deployment
    async with Subscriber("fatemeh/idle", _transport(subscribe_on, token=seeded["tokens"][FATEMEH])) as idle:
        await asyncio.sleep(7)
        referral = await _refer(mutate_on, seeded)
        _, event = await asyncio.wait_for(idle.events.get(), timeout=10)
        assert event["referral"]["id"] == referral


@pytest.mark.parametrize("credential", ["token", "cookie"])
async def test_the_graphql_ws_client_receives_the_referral(deployment, credential):
    subscribe_on, mutate_on, seeded = deployment
    node = tool("node")
    npm_packages(CONFORMANCE, "graphql-ws")
    env = {**os.environ, "MANA_WS_URL": subscribe_on.ws_url, "MANA_WAIT_MS": "20000"}
    if credential == "token":
        env["MANA_TOKEN"] = seeded["tokens"][FATEMEH]
    else:
        env["MANA_COOKIE"] = await _session_cookie(subscribe_on, FATEMEH)
        env["MANA_ORIGIN"] = subscribe_on.base
    client = await asyncio.create_subprocess_exec(
        node, "live_client.mjs", cwd=CONFORMANCE, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        ready = json.loads(await asyncio.wait_for(client.stdout.readline(), timeout=30) or b'{"error": "no output"}')
        assert ready == {"ready": {"user": {"nationalCode": FATEMEH}}}, ready
        await asyncio.sleep(0.2)
        referral = await _refer(mutate_on, seeded)
        line = await asyncio.wait_for(client.stdout.readline(), timeout=30)
        received_at = time.time()
        outcome = json.loads(line or b'{"error": "no output"}')
        assert "event" in outcome, (outcome, (await client.stderr.read()).decode())
        event = outcome["event"]["inboxUpdated"]
        assert event["kind"] == "ASSIGNED" and event["referral"]["id"] == referral
        # Node's start-up is not in it: the line is written as the message arrives.
        assert _latency(received_at, event) < FRACTION_OF_A_SECOND + 0.2
        assert await asyncio.wait_for(client.wait(), timeout=10) == 0
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()


def test_the_demo_has_enough_unreferred_assignments_for_these_tests(served):
    # Four referrals per deployment (above); fewer would fail them with a confusing refusal.
    assert len(served[1]["assignments"]) >= 8


def test_the_readme_configures_gql_as_these_tests_do():
    readme = (ROOT / "README.md").read_text()
    for fragment in (
        "WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL",
        'init_payload={"authorization": "Bearer mana_…"}',
        'headers={"Cookie": "sessionid=…", "Origin": "https://mana.example"}',
        "webSocketImpl: WebSocket",
    ):
        assert fragment in readme, fragment

