"""Readable, compact responses: Persian as Persian in UTF-8 (charset said), gzip when asked for —
and not where BREACH could read a secret out of the compressed size."""

from __future__ import annotations

import gzip
import json

import pytest
from django.test import AsyncClient, Client

from models.api_tokens import create_api_token
from models.users import RoleAssignment
from tests.conftest import GraphQLClient
from tests.workflow_helpers import ALI, client_for

pytestmark = pytest.mark.django_db

ORGANIZATIONS = "{ organizations(first: 20) { edges { node { id name } } } }"
PERSIAN_NAME = "وزارت نیرو"  # ALI's ministry, the first organization of his list
ESCAPED = b"\\u06"  # how json.dumps used to write every Persian letter
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
SAME_ORIGIN = {"Accept-Encoding": "gzip", "Sec-Fetch-Site": "same-origin"}
CROSS_SITE = {"Accept-Encoding": "gzip", "Sec-Fetch-Site": "cross-site"}


def escaped_the_old_way(body: bytes) -> bytes:
    """The same answer as strawberry's default encoder wrote it: compact, every non-ASCII character escaped."""
    return json.dumps(json.loads(body), separators=(",", ":")).encode()


def post(client: Client, query: str, **headers):
    return client.post("/graphql/", json.dumps({"query": query}), content_type="application/json", headers=headers)


def token_client(national_code: str, **defaults) -> Client:
    role = RoleAssignment.objects.filter(user__national_code=national_code).order_by("pk").first()
    _token, secret = create_api_token(role.user, role, "گزارش", None)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", **defaults)


def test_persian_is_sent_as_utf8_not_escaped(demo):
    response = client_for(ALI).post(ORGANIZATIONS)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert PERSIAN_NAME.encode("utf-8") in response.content
    assert ESCAPED not in response.content
    assert response.json()["data"]["organizations"]["edges"][0]["node"]["name"] == PERSIAN_NAME


def test_the_organization_list_is_about_half_its_escaped_size(demo):
    """The issue measured 2,296 bytes against 4,247 (54%): each Persian letter is 2 bytes, not 6."""
    response = client_for(ALI).post(ORGANIZATIONS)
    before = escaped_the_old_way(response.content)
    ratio = len(response.content) / len(before)
    assert json.loads(before) == response.json()
    assert 0.50 <= ratio <= 0.60, (len(response.content), len(before))


def test_graphql_response_json_says_utf8_too(demo):
    client = client_for(ALI).http
    response = post(client, ORGANIZATIONS, Accept=GRAPHQL_RESPONSE_JSON)
    assert response["Content-Type"] == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    assert PERSIAN_NAME.encode() in response.content
    # A request error under this media type (400, no data) is Persian and UTF-8 as well.
    refused = post(client, "{ organizations(", Accept=GRAPHQL_RESPONSE_JSON)
    assert refused.status_code == 400
    assert refused["Content-Type"] == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    assert ESCAPED not in refused.content and "درخواست".encode() in refused.content


def test_gzip_when_asked_and_only_then(demo):
    client = client_for(ALI).http
    plain = post(client, ORGANIZATIONS)
    assert "Content-Encoding" not in plain
    assert "Accept-Encoding" in plain["Vary"]

    compressed = post(client, ORGANIZATIONS, **{**SAME_ORIGIN, "Accept-Encoding": "gzip, deflate, br"})
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    assert json.loads(gzip.decompress(compressed.content)) == plain.json()
    assert len(compressed.content) < len(plain.content) / 2
    assert int(compressed["Content-Length"]) == len(compressed.content)

    brotli_only = post(client, ORGANIZATIONS, **{**SAME_ORIGIN, "Accept-Encoding": "br"})
    assert "Content-Encoding" not in brotli_only


def test_short_answers_are_not_compressed(gql):
    response = post(gql.http, "{ __typename }", **{"Accept-Encoding": "gzip"})
    assert response.content == b'{"data":{"__typename":"Query"}}'
    assert "Content-Encoding" not in response


def test_a_cookie_request_another_site_could_have_sent_is_not_compressed(demo):
    """BREACH: the person's session, text the attacker chooses reflected beside secrets, and the
    compressed size observed. Another site's page sends «Sec-Fetch-Site: cross-site» (or an old
    browser none at all); only the person's own pages, or the person, send same-origin or none."""
    client = client_for(ALI).http
    for site in ("cross-site", "same-site", None):
        headers = {"Accept-Encoding": "gzip"} | ({"Sec-Fetch-Site": site} if site else {})
        response = client.get("/graphql/", {"query": ORGANIZATIONS}, headers=headers)
        assert response.status_code == 200
        assert "Content-Encoding" not in response, site
        assert PERSIAN_NAME.encode() in response.content
    for site in ("same-origin", "none"):
        response = client.get("/graphql/", {"query": ORGANIZATIONS}, headers={**SAME_ORIGIN, "Sec-Fetch-Site": site})
        assert response["Content-Encoding"] == "gzip", site


def test_token_and_cookie_less_requests_are_compressed_whatever_their_site(demo):
    """No cookie, no one else's secret: what such a request reads, its sender could read himself."""
    integrator = token_client(ALI)
    response = post(integrator, ORGANIZATIONS, **CROSS_SITE)
    assert response["Content-Encoding"] == "gzip"
    edges = json.loads(gzip.decompress(response.content))["data"]["organizations"]["edges"]
    assert edges[0]["node"]["name"] == PERSIAN_NAME

    anonymous = post(Client(), "{ __schema { types { name } } }", **CROSS_SITE)
    assert anonymous["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(anonymous.content))["data"]["__schema"]["types"]


def test_images_are_not_compressed_again(gql):
    image_url = gql.data("{ captcha { imageUrl } }")["captcha"]["imageUrl"]
    response = gql.http.get(image_url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "Content-Encoding" not in response


def test_a_lone_surrogate_falls_back_to_escaped_json_instead_of_failing(demo):
    """JSON's «\\ud800» is a string UTF-8 cannot carry. Echoed in an error message (an id that is not
    one), the answer falls back to escaped ASCII: still JSON, still the same answer, never a 500."""
    body = '{"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": "\\ud800"}}'
    response = client_for(ALI).http.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert b"\\ud800" in response.content
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_ID"
    assert "\ud800" in error["message"]


async def test_a_curl_like_request_shows_persian():
    """curl sends «Accept: */*» and no Accept-Encoding: the body it prints is readable Persian."""
    response = await AsyncClient().post(
        "/graphql/",
        b'{"query": "{ periods { title } }"}',
        content_type="application/json",
        headers={"Accept": "*/*", "User-Agent": "curl/8.14.1"},
    )
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "Content-Encoding" not in response
    text = response.content.decode("utf-8")
    assert "ابتدا وارد سامانه شوید" in text and "\\u" not in text


def test_graphql_client_helper_reads_the_new_encoding(demo):
    """The suite's own client (and so every other test) reads the UTF-8 answers unchanged."""
    result = GraphQLClient(client_for(ALI).http).data(ORGANIZATIONS)
    assert result["organizations"]["edges"][0]["node"]["name"] == PERSIAN_NAME
