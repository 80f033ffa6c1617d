"""Denial of service through documents: size, tokens and cost are refused before any work, and a
large allowed document is parsed and validated without stopping the worker's other requests."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import AsyncClient

import schema.documents
from models.referrals import Referral, ReferralEvent
from schema.documents import documents
from tests.test_websocket import _run as run_over_websocket
from tests.workflow_helpers import ALI, FATEMEH, REFER, assignment_id, client_for, user_id

# The attack of issue 7: ~1 MB, 50,000 directives on one field; it took 5 s on the event loop.
DIRECTIVES = "{ __typename " + "@include(if: true) " * 50_000 + "}"
# Three nested connections of 100: a million rows asked for in a few lines.
THREE_CONNECTIONS = """{ organizations(first: 100) { edges { node {
  descendants(first: 100) { edges { node {
    assignments(period: "UGVyaW9kOjE=", first: 100) { edges { node { id target } } } } } } } } } }"""
# What the cost counts (schema/cost.py): 1 + 100 × (totalCount 1 + edges (1 + node (1 + code 1))).
ORGANIZATIONS = "{ organizations(first: 100) { totalCount edges { node { code } } } }"
ORGANIZATIONS_COST = 1 + 100 * (1 + (1 + (1 + 1)))


def _limits(settings, **changes) -> None:
    settings.MANA = {**settings.MANA, **changes}


def _only_error(result: dict) -> dict:
    assert result["data"] is None, result
    (error,) = result["errors"]
    return error


def _post(gql, query: str, **body):
    return gql.http.post("/graphql/", data=json.dumps({"query": query, **body}), content_type="application/json")


def _timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


# --- size and tokens, before parsing ------------------------------------------------------------


@pytest.mark.django_db
def test_the_one_megabyte_document_is_refused_by_its_size_before_parsing(gql, count_queries, monkeypatch):
    parsed = []
    monkeypatch.setattr(schema.documents, "parse_within_limits", lambda *args: parsed.append(args))
    with count_queries() as counter:
        response, seconds = _timed(lambda: _post(gql, DIRECTIVES))
    assert response.status_code == 200  # as every other refused document (validation errors)
    error = _only_error(response.json())
    limit = settings.MANA["MAX_DOCUMENT_BYTES"]
    assert error["extensions"] == {"code": "DOCUMENT_TOO_LARGE", "size": len(DIRECTIVES), "maxBytes": limit}
    assert "بایت" in error["message"]
    assert parsed == [] and counter.count == 0, counter.sql()
    assert seconds < 3, seconds  # it took 5 s to parse and validate; refusing it is a length check


@pytest.mark.django_db
def test_the_size_counts_bytes_not_characters(gql, settings):
    persian = '{ __typename @include(if: true) } # "' + "ا" * 600  # 2 bytes a letter in UTF-8
    _limits(settings, MAX_DOCUMENT_BYTES=1000)
    assert len(persian) < 1000 < len(persian.encode())
    error = _only_error(gql.execute(persian))
    assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    assert error["extensions"]["size"] == len(persian.encode())
    _limits(settings, MAX_DOCUMENT_BYTES=2000)
    assert gql.data(persian) == {"__typename": "Query"}


@pytest.mark.django_db
def test_too_many_tokens_stop_the_parser_at_the_limit(gql, settings, count_queries):
    # With the size limit lifted, the same 50,000 directives are stopped by the token limit: the
    # parser gives up after MAX_DOCUMENT_TOKENS tokens instead of reading 350,000.
    _limits(settings, MAX_DOCUMENT_BYTES=2 * 1024 * 1024)
    with count_queries() as counter:
        result, seconds = _timed(lambda: gql.execute(DIRECTIVES))
    error = _only_error(result)
    limit = settings.MANA["MAX_DOCUMENT_TOKENS"]
    assert error["extensions"] == {"code": "DOCUMENT_TOO_LARGE", "maxTokens": limit}
    assert "token" in error["message"]
    assert counter.count == 0, counter.sql()
    assert seconds < 3, seconds


@pytest.mark.django_db
def test_the_token_limit_counts_comments_and_lets_a_document_at_the_limit_through(gql, settings):
    _limits(settings, MAX_DOCUMENT_TOKENS=50)
    fields = "{ " + "__typename " * 48 + "}"  # 50 tokens with the braces
    assert gql.data(fields) == {"__typename": "Query"}
    assert _only_error(gql.execute("{ " + "__typename " * 49 + "}"))["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    padded = "{ __typename }\n" + "# padding\n" * 51
    assert _only_error(gql.execute(padded))["extensions"]["code"] == "DOCUMENT_TOO_LARGE"


@pytest.mark.django_db
def test_a_syntax_error_is_still_a_validation_failure(gql):
    assert gql.error_codes("{ periods { title ") == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.django_db
def test_a_repeated_document_is_parsed_and_validated_once(gql):
    document = "query Again { periods { title } }"
    assert gql.error_codes(document) == ["UNAUTHENTICATED"]  # anonymous: parsed and validated first
    parsed, validated = documents.parse_hits, documents.validation_hits
    assert gql.error_codes(document) == ["UNAUTHENTICATED"]
    # Cache hits: answered from the cache, on the event loop, with no thread hop.
    assert (documents.parse_hits, documents.validation_hits) == (parsed + 1, validated + 1)


@pytest.mark.django_db
def test_large_documents_are_not_kept(gql, settings):
    # A parsed document holds 100-250 times its text: long ones are parsed each time they come.
    documents.clear()
    large = "{ __typename } # " + "x" * schema.documents.LARGEST_CACHED_CHARS
    assert len(large) < settings.MANA["MAX_DOCUMENT_BYTES"]
    assert gql.data(large) == {"__typename": "Query"}
    assert gql.data("{ __typename }") == {"__typename": "Query"}
    assert gql.data(large) == {"__typename": "Query"}
    assert len(documents) == 1


# --- the event loop stays free -----------------------------------------------------------------


@pytest.mark.django_db
async def test_a_small_request_is_answered_while_a_large_document_is_validated(settings, monkeypatch):
    # A document within (raised) limits that takes about a second to parse and validate.
    _limits(settings, MAX_DOCUMENT_BYTES=1024 * 1024, MAX_DOCUMENT_TOKENS=1_000_000)
    large = "{ __typename " + "@include(if: true) " * 20_000 + "}"
    parsing = asyncio.Event()
    loop = asyncio.get_running_loop()
    parse = schema.documents.parse_within_limits
    parsed_in: list[threading.Thread] = []

    def observed_parse(*args):
        parsed_in.append(threading.current_thread())
        loop.call_soon_threadsafe(parsing.set)
        return parse(*args)

    monkeypatch.setattr(schema.documents, "parse_within_limits", observed_parse)
    client = AsyncClient()
    finished: list[str] = []

    async def request(name: str, query: str) -> dict:
        response = await client.post("/graphql/", {"query": query}, content_type="application/json")
        finished.append(name)
        return response.json()

    async def small_once_large_is_parsing() -> dict:
        await asyncio.wait_for(parsing.wait(), timeout=60)
        # The large document is now being parsed: on the event loop it would hold it until its
        # validation ended, and this request could not finish first.
        return await request("small", "{ __typename }")

    large_result, small_result = await asyncio.gather(request("large", large), small_once_large_is_parsing())
    assert finished == ["small", "large"]
    assert small_result == {"data": {"__typename": "Query"}}
    # Repeated directives: parsed, validated, and refused by validation.
    assert {error["extensions"]["code"] for error in large_result["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert threading.current_thread() not in parsed_in


# --- cost ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_three_nested_connections_of_a_hundred_are_refused_before_execution(demo, count_queries):
    ali = client_for(ALI)
    with count_queries() as context_only:
        assert ali.data("{ __typename }") == {"__typename": "Query"}
    with count_queries() as counter:
        error = _only_error(ali.execute(THREE_CONNECTIONS))
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > 100**3
    assert error["extensions"]["maxCost"] == settings.MANA["MAX_QUERY_COST"]
    assert str(error["extensions"]["cost"]) in error["message"]
    # Only the session and the viewer were read (as for any request): no resolver ran.
    assert counter.count == context_only.count, counter.sql()


@pytest.mark.django_db
def test_a_costly_mutation_is_refused_before_it_changes_anything(demo):
    ali = client_for(ALI)
    input = {"source": assignment_id("MOE-02"), "assignee": user_id(FATEMEH), "deadline": "1402/11/10"}
    costly = """mutation($input: ReferInput!) { refer(input: $input) { referral { assignment {
      referrals(first: 100) { edges { node { assignment {
        referrals(first: 100) { edges { node { organization { descendants(first: 100) { totalCount } } } } }
      } } } } } } } }"""

    def state() -> tuple:
        return (
            list(Referral.objects.order_by("id").values_list("id", "status", "version")),
            list(ReferralEvent.objects.order_by("id").values_list("id", "to_status")),
        )

    before = state()
    error = _only_error(ali.execute(costly, {"input": input}))
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert state() == before
    # The same input with an ordinary selection goes through: it was the cost that refused it.
    assert ali.data(REFER, {"input": input})["refer"]["errors"] == []
    assert state() != before


@pytest.mark.django_db
def test_the_cost_is_reported_when_asked_for(demo):
    ali = client_for(ALI)
    asked = _post(ali, ORGANIZATIONS, extensions={"cost": True}).json()
    assert "errors" not in asked, asked
    assert asked["extensions"] == {"cost": ORGANIZATIONS_COST, "maxCost": settings.MANA["MAX_QUERY_COST"]}
    # Not asked for, the answer is as it always was.
    assert "extensions" not in ali.execute(ORGANIZATIONS)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        # first/last from variables, the larger of both, the default page size when absent.
        ("query($n: Int) { organizations(first: $n) { edges { node { code } } } }", {"n": 5}, 1 + 5 * 3),
        ("query($n: Int = 7) { organizations(first: $n) { edges { node { code } } } }", {}, 1 + 7 * 3),
        ("{ organizations(first: 2, last: 9) { edges { node { code } } } }", {}, 1 + 9 * 3),
        ("{ organizations { edges { node { code } } } }", {}, 1 + 20 * 3),
        # Fragments count as written out; a skipped field does not count.
        (
            "{ organizations(first: 10) { ...Page } } fragment Page on OrganizationConnection "
            "{ edges { node { ...Unit } } } fragment Unit on Organization { code name }",
            {},
            1 + 10 * 4,
        ),
        ("query($no: Boolean!) { organizations(first: 10) { totalCount @skip(if: $no) } }", {"no": True}, 1),
        ("{ organizations(first: 10) { edges { ... on OrganizationEdge { cursor } } } }", {}, 1 + 10 * 2),
        # nodes(ids:) counts each id.
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', {}, 1 + 3 * 1),
    ],
)
def test_how_the_cost_is_counted(demo, query, variables, cost):
    ali = client_for(ALI)
    answer = _post(ali, query, variables=variables, extensions={"cost": True}).json()
    assert answer["extensions"]["cost"] == cost, answer


@pytest.mark.django_db
def test_the_limit_comes_from_the_settings(demo, settings):
    ali = client_for(ALI)
    _limits(settings, MAX_QUERY_COST=ORGANIZATIONS_COST)
    assert ali.data(ORGANIZATIONS)["organizations"]["totalCount"] > 0
    _limits(settings, MAX_QUERY_COST=ORGANIZATIONS_COST - 1)
    error = _only_error(ali.execute(ORGANIZATIONS))
    assert error["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": ORGANIZATIONS_COST,
        "maxCost": ORGANIZATIONS_COST - 1,
    }


@pytest.mark.django_db
def test_an_over_large_page_is_still_page_size_exceeded(demo):
    # The cost counts at most MAX_PAGE_SIZE per page: first: 1000 is refused for what it is.
    assert client_for(ALI).error_codes("{ organizations(first: 1000) { totalCount } }") == ["PAGE_SIZE_EXCEEDED"]


# --- over WebSocket ------------------------------------------------------------------------------


def _websocket_errors(message: dict) -> list[dict]:
    assert message["type"] in {"next", "error"}, message
    return message["payload"]["errors"] if message["type"] == "next" else message["payload"]


@pytest.mark.django_db(transaction=True)
async def test_over_websocket_an_oversized_document_is_refused(demo):
    (error,) = _websocket_errors(await run_over_websocket(DIRECTIVES))
    assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    assert error["extensions"]["maxBytes"] == settings.MANA["MAX_DOCUMENT_BYTES"]


@pytest.mark.django_db(transaction=True)
async def test_over_websocket_too_many_tokens_are_refused(demo, settings):
    _limits(settings, MAX_DOCUMENT_TOKENS=50)
    (error,) = _websocket_errors(await run_over_websocket("{ " + "__typename " * 60 + "}"))
    assert error["extensions"] == {"code": "DOCUMENT_TOO_LARGE", "maxTokens": 50}


@pytest.mark.django_db(transaction=True)
async def test_over_websocket_a_costly_document_is_refused(demo, gql):
    await sync_to_async(gql.login)(ALI)
    cookie = f"{settings.SESSION_COOKIE_NAME}={gql.http.cookies[settings.SESSION_COOKIE_NAME].value}"
    (error,) = _websocket_errors(await run_over_websocket(THREE_CONNECTIONS, cookie))
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > 100**3
