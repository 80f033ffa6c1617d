"""API tokens through the real endpoint: made by a signed-in person for one of their roles, used the
way an integrator uses them (curl: only an Authorization header), refused once revoked, expired,
or when the person or the role is gone; throttled per token; the secret shown once and never again."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from models.api_tokens import LAST_USED_RESOLUTION
from models.credentials import ApiToken
from models.demo import DEMO_PASSWORD
from models.organization import Organization
from models.users import RoleAssignment, User
from permissions.viewer import ACTIVE_ROLE_SESSION_KEY
from schema.ids import encode_global_id
from tests.conftest import PASSED_CAPTCHA, GraphQLClient
from tests.workflow_helpers import ALI, FATEMEH, SARA

pytestmark = pytest.mark.django_db

TOKEN_FIELDS = "id name prefix role { id role organization { code } } createdAt expiresAt revokedAt lastUsedAt"
CREATE = f"""mutation($input: CreateApiTokenInput!) {{ createApiToken(input: $input) {{
  errors {{ field code message }} secret token {{ {TOKEN_FIELDS} }} }} }}"""
REVOKE = f"""mutation($input: RevokeApiTokenInput!) {{ revokeApiToken(input: $input) {{
  errors {{ field code message }} token {{ {TOKEN_FIELDS} }} }} }}"""
LIST = f"query {{ apiTokens(first: 20) {{ totalCount edges {{ node {{ {TOKEN_FIELDS} }} }} }} }}"
ME = "query { me { user { nationalCode } activeRole { id organization { code } } } }"
ORGANIZATIONS = "query { organizations(first: 100) { edges { node { id code } } } }"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Node { id } } }"


def signed_in(national_code: str) -> GraphQLClient:
    client = GraphQLClient()
    client.login(national_code)
    return client


def role_id(national_code: str, organization_code: str) -> str:
    role = RoleAssignment.objects.get(user__national_code=national_code, organization__code=organization_code)
    return encode_global_id("RoleAssignment", role.pk)


def create(client: GraphQLClient, role: str, name: str = "داشبورد استانی", expires_at: str | None = None) -> dict:
    variables = {"input": {"name": name, "role": role}}
    if expires_at is not None:
        variables["input"]["expiresAt"] = expires_at
    return client.data(CREATE, variables)["createApiToken"]


def made(client: GraphQLClient, role: str, name: str = "داشبورد استانی", expires_at: str | None = None) -> dict:
    payload = create(client, role, name, expires_at)
    assert payload["errors"] == [], payload
    return payload


def curl(secret: str) -> GraphQLClient:
    """An integrator's client: no cookie, no CSRF token, CSRF enforced — only the Authorization header."""
    return GraphQLClient(Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}"))


def refusal(response) -> tuple[int, str, str]:
    body = response.json()
    (error,) = body["errors"]
    return response.status_code, error["extensions"]["code"], response.get("WWW-Authenticate", "")


def state() -> list[tuple]:
    return list(ApiToken.objects.order_by("pk").values_list("pk", "name", "revoked_at", "expires_at", "secret_hash"))


# --- the story -------------------------------------------------------------------------------------


def test_create_use_compare_revoke(demo, settings):
    """Sara holds two roles. A token for her subsidiary role sees what her session sees in that role,
    not what her headquarters role sees; revoked, it is refused with TOKEN_REVOKED."""
    settings.MANA = {**settings.MANA, "INTROSPECTION": "signed-in"}
    sara = signed_in(SARA)
    tavanir, headquarters = role_id(SARA, "MOE-TAVANIR"), role_id(SARA, "MOE-HQ")
    expires = (timezone.localtime() + datetime.timedelta(days=30)).replace(microsecond=0)
    payload = made(sara, tavanir, expires_at=expires.isoformat())
    secret, token = payload["secret"], payload["token"]
    assert token["name"] == "داشبورد استانی"
    assert token["role"]["id"] == tavanir and token["role"]["organization"]["code"] == "MOE-TAVANIR"
    assert datetime.datetime.fromisoformat(token["expiresAt"]) == expires
    assert token["revokedAt"] is None and token["lastUsedAt"] is None
    # mana_<12 hex>_<43 url-safe characters: 256 bits>; only the hash of the secret part is stored.
    head, prefix, tail = secret.split("_", 2)
    assert head == "mana" and prefix == token["prefix"] and len(prefix) == 12 and len(tail) == 43
    row = ApiToken.objects.get(prefix=prefix)
    assert row.secret_hash == hashlib.sha256(tail.encode()).hexdigest()
    assert tail not in json.dumps(list(ApiToken.objects.values()), default=str)

    integrator = curl(secret)
    me = integrator.data(ME)["me"]
    assert me["user"]["nationalCode"] == SARA
    assert me["activeRole"]["organization"]["code"] == "MOE-TAVANIR"
    # Introspection is open to token callers where it is closed to anonymous ones.
    assert integrator.data("{ __schema { queryType { name } } }")["__schema"]["queryType"]["name"] == "Query"
    assert GraphQLClient().error_codes("{ __schema { queryType { name } } }") == ["UNAUTHENTICATED"]

    # The same person through a session in the same role sees exactly the same units.
    through_token = {e["node"]["code"] for e in integrator.data(ORGANIZATIONS)["organizations"]["edges"]}
    session = sara.http.session
    session[ACTIVE_ROLE_SESSION_KEY] = RoleAssignment.objects.get(
        user__national_code=SARA, organization__code="MOE-TAVANIR"
    ).pk
    session.save()
    through_session = {e["node"]["code"] for e in sara.data(ORGANIZATIONS)["organizations"]["edges"]}
    assert through_token == through_session and "MOE-TAVANIR" in through_token
    # Her other role's unit is out of the token's reach: not listed, null by id.
    assert "MOE-HQ" not in through_token
    hq = encode_global_id("Organization", Organization.objects.get(code="MOE-HQ").pk)
    assert integrator.data(NODE, {"id": hq})["node"] is None
    session[ACTIVE_ROLE_SESSION_KEY] = RoleAssignment.objects.get(
        user__national_code=SARA, organization__code="MOE-HQ"
    ).pk
    session.save()
    assert sara.data(NODE, {"id": hq})["node"]["id"] == hq
    assert headquarters != tavanir

    # Listed for its owner, with the time of its last use and never the secret.
    listed = sara.data(LIST)["apiTokens"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["lastUsedAt"] is not None
    assert listed["edges"][0]["node"]["id"] == token["id"]

    revoked = sara.data(REVOKE, {"input": {"token": token["id"]}})["revokeApiToken"]
    assert revoked["errors"] == [] and revoked["token"]["revokedAt"] is not None
    response = integrator.post(ME)
    assert refusal(response) == (401, "TOKEN_REVOKED", 'Bearer error="invalid_token"')
    assert response.json()["errors"][0]["message"]
    # Revoking again changes nothing (the first revocation's time stands).
    again = sara.data(REVOKE, {"input": {"token": token["id"]}})["revokeApiToken"]
    assert again["errors"] == [] and again["token"]["revokedAt"] == revoked["token"]["revokedAt"]
    # Revoked, its name is free again.
    assert made(sara, tavanir)["token"]["name"] == "داشبورد استانی"


def test_get_and_multipart_requests_with_a_token(demo):
    secret = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))["secret"]
    integrator = curl(secret).http
    response = integrator.get("/graphql/", {"query": ME})
    assert response.status_code == 200
    assert response.json()["data"]["me"]["activeRole"]["organization"]["code"] == "MOE-HQ"
    response = integrator.post("/graphql/", data={"operations": json.dumps({"query": ME}), "map": "{}"})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["me"]["user"]["nationalCode"] == SARA


def test_a_token_ignores_the_session_and_sets_no_cookie(demo):
    """A browser signed in as Ali sending Sara's token acts as Sara; nothing is written to Ali's
    session and no cookie (session or CSRF) is set."""
    secret = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))["secret"]
    ali = signed_in(ALI)
    session_cookie = ali.http.cookies[django_settings.SESSION_COOKIE_NAME].value
    response = ali.http.post(
        "/graphql/",
        data=json.dumps({"query": ME}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200
    assert response.json()["data"]["me"]["user"]["nationalCode"] == SARA
    assert not response.cookies
    assert ali.http.cookies[django_settings.SESSION_COOKIE_NAME].value == session_cookie
    assert ali.data(ME)["me"]["user"]["nationalCode"] == ALI


def test_a_token_does_not_sign_in_out_or_switch(demo):
    sara = signed_in(SARA)
    secret = made(sara, role_id(SARA, "MOE-HQ"))["secret"]
    integrator = curl(secret)
    login = (
        "mutation($input: LoginInput!) { login(input: $input) { errors { code } } }",
        {"input": {"nationalCode": SARA, "password": DEMO_PASSWORD, "captcha": PASSED_CAPTCHA}},
    )
    for document, variables in (login, ("mutation { logout { errors { code } } }", None)):
        response = integrator.post(document, variables)
        assert response.status_code == 200
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["NOT_WITH_TOKEN"]
        assert not response.cookies
    assert integrator.data(ME)["me"]["user"]["nationalCode"] == SARA


def test_a_token_cannot_make_tokens(demo):
    secret = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))["secret"]
    before = state()
    payload = create(curl(secret), role_id(SARA, "MOE-TAVANIR"), name="دیگری")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_WITH_TOKEN", None)]
    assert payload["secret"] is None and payload["token"] is None
    assert state() == before


# --- when a token stops working ------------------------------------------------------------------


def test_expired_token(demo):
    sara = signed_in(SARA)
    payload = made(sara, role_id(SARA, "MOE-HQ"), expires_at=(timezone.now() + datetime.timedelta(hours=1)).isoformat())
    integrator = curl(payload["secret"])
    assert integrator.data(ME)["me"]["user"]["nationalCode"] == SARA
    ApiToken.objects.filter(prefix=payload["token"]["prefix"]).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert refusal(integrator.post(ME)) == (401, "TOKEN_EXPIRED", 'Bearer error="invalid_token"')


def test_deactivated_owner(demo):
    secret = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))["secret"]
    User.objects.filter(national_code=SARA).update(is_active=False)
    assert refusal(curl(secret).post(ME)) == (401, "INVALID_TOKEN", 'Bearer error="invalid_token"')
    User.objects.filter(national_code=SARA).update(is_active=True)
    assert curl(secret).data(ME)["me"]["user"]["nationalCode"] == SARA


def test_withdrawn_role(demo):
    sara = signed_in(SARA)
    secret = made(sara, role_id(SARA, "MOE-TAVANIR"))["secret"]
    other = made(sara, role_id(SARA, "MOE-HQ"), name="دیگری")["secret"]
    RoleAssignment.objects.get(user__national_code=SARA, organization__code="MOE-TAVANIR").delete()
    assert refusal(curl(secret).post(ME)) == (401, "INVALID_TOKEN", 'Bearer error="invalid_token"')
    # The token of her remaining role still works; given to someone else (the admin console can), it does not.
    assert curl(other).data(ME)["me"]["activeRole"]["organization"]["code"] == "MOE-HQ"
    role = RoleAssignment.objects.get(user__national_code=SARA, organization__code="MOE-HQ")
    RoleAssignment.objects.filter(pk=role.pk).update(user=User.objects.get(national_code=ALI))
    response = curl(other).post(ME)
    assert refusal(response) == (401, "INVALID_TOKEN", 'Bearer error="invalid_token"')


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer mana_0123456789ab_" + "A" * 43,  # well formed, unknown
        "Bearer mana_short",  # malformed
        "Bearer ",  # empty
        "bearer",  # no token at all
        "Bearer  mana_0123456789ab_" + "A" * 42 + "%",
    ],
)
def test_bad_tokens_are_401_never_anonymous(demo, authorization):
    response = Client(enforce_csrf_checks=True).post(
        "/graphql/",
        data=json.dumps({"query": "{ __typename }"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
    )
    assert refusal(response) == (401, "INVALID_TOKEN", 'Bearer error="invalid_token"')
    assert response.json()["data"] is None


def test_another_authorization_scheme_is_not_manas(demo):
    """Basic authentication (a proxy in front of a staging site, say) is left alone: the request is
    served as without the header — anonymous here, and with the usual CSRF rules."""
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION="Basic c2FyYTpwYXNz")
    response = client.post("/graphql/", data=json.dumps({"query": ME}), content_type="application/json")
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    response = client.post("/graphql/", data={"operations": json.dumps({"query": ME}), "map": "{}"})
    assert response.status_code == 403


def test_a_wrong_secret_looks_like_an_unknown_token(demo):
    secret = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))["secret"]
    wrong = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    unknown = "mana_" + "f" * 12 + secret[17:]
    answers = [curl(value).post("{ __typename }") for value in (wrong, unknown)]
    assert answers[0].status_code == answers[1].status_code == 401
    assert answers[0].json() == answers[1].json()
    # Revoking and expiring are told only to someone holding the whole token.
    ApiToken.objects.update(revoked_at=timezone.now())
    assert refusal(curl(wrong).post("{ __typename }"))[1] == "INVALID_TOKEN"


# --- throttling and last use ------------------------------------------------------------------------


def test_throttled_per_token_then_recovers(demo, settings):
    sara = signed_in(SARA)
    first = made(sara, role_id(SARA, "MOE-HQ"))["secret"]
    second = made(sara, role_id(SARA, "MOE-HQ"), name="دیگری")["secret"]
    # Counted by the token's (random) prefix in the shared cache: nothing carries over from other
    # tests or runs, and nothing is cleared (a shared Redis holds other runs' keys too).
    settings.MANA_API_TOKEN_RATE = "2/2s"
    integrator = curl(first)
    for _ in range(5):
        response = integrator.post("{ __typename }")
        if response.status_code == 429:
            break
        assert response.status_code == 200
    else:
        pytest.fail("never throttled")
    status, code, _ = refusal(response)
    assert (status, code) == (429, "RATE_LIMITED")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 2
    # Another token of the same person counts on its own.
    assert curl(second).post("{ __typename }").status_code == 200
    time.sleep(retry_after + 0.05)
    assert integrator.data("{ __typename }") == {"__typename": "Query"}


def test_last_use_is_written_at_most_once_a_minute(demo):
    payload = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))
    integrator = curl(payload["secret"])
    token = ApiToken.objects.get(prefix=payload["token"]["prefix"])

    def updates() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert integrator.data("{ __typename }") == {"__typename": "Query"}
        return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]]

    assert len(updates()) == 1
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first_use is not None
    assert updates() == []  # a second request within the minute writes nothing
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - LAST_USED_RESOLUTION)
    assert len(updates()) == 1
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first_use


# --- refusals of the mutations: each changes nothing ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "role", "expires", "code", "field"),
    [
        ("داشبورد", lambda: role_id(FATEMEH, "MOE-HQ"), None, "NOT_OWN_ROLE", "role"),
        ("داشبورد", lambda: encode_global_id("RoleAssignment", 2**62), None, "NOT_OWN_ROLE", "role"),
        ("داشبورد", lambda: encode_global_id("Organization", 1), None, "INVALID_ID", "role"),
        ("داشبورد", lambda: "not-an-id", None, "INVALID_ID", "role"),
        ("داشبورد", lambda: role_id(SARA, "MOE-HQ"), "2020-01-01T00:00:00+03:30", "EXPIRY_IN_PAST", "expiresAt"),
        ("داشبورد", lambda: role_id(SARA, "MOE-HQ"), "9999-12-31T23:00:00-12:00", "EXPIRY_TOO_FAR", "expiresAt"),
        ("داشبورد", lambda: role_id(SARA, "MOE-HQ"), "9999-06-01T00:00:00", "EXPIRY_TOO_FAR", "expiresAt"),
        ("داشبورد", lambda: role_id(SARA, "MOE-HQ"), "0001-01-01T00:00:00+14:00", "EXPIRY_IN_PAST", "expiresAt"),
        ("داشبورد", lambda: role_id(SARA, "MOE-HQ"), "0001-01-01T00:00:00", "EXPIRY_IN_PAST", "expiresAt"),
        ("   ", lambda: role_id(SARA, "MOE-HQ"), None, "TOKEN_NAME_REQUIRED", "name"),
        ("ن" * 101, lambda: role_id(SARA, "MOE-HQ"), None, "TOKEN_NAME_TOO_LONG", "name"),
        ("موجود", lambda: role_id(SARA, "MOE-TAVANIR"), None, "TOKEN_NAME_TAKEN", "name"),
    ],
)
def test_create_refusals_change_nothing(demo, name, role, expires, code, field):
    sara = signed_in(SARA)
    made(sara, role_id(SARA, "MOE-HQ"), name="موجود")
    before = state()
    payload = create(sara, role(), name, expires)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], payload
    assert all(e["message"] for e in payload["errors"])
    assert payload["secret"] is None and payload["token"] is None
    assert state() == before


def test_revoke_refusals_change_nothing(demo):
    fatemehs = made(signed_in(FATEMEH), role_id(FATEMEH, "MOE-HQ"))["token"]["id"]
    sara = signed_in(SARA)
    before = state()
    for value, code in (
        (fatemehs, "NOT_FOUND"),
        (encode_global_id("ApiToken", 2**62), "NOT_FOUND"),
        (encode_global_id("Referral", 1), "INVALID_ID"),
    ):
        payload = sara.data(REVOKE, {"input": {"token": value}})["revokeApiToken"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "token")], payload
        assert payload["token"] is None
    assert state() == before


# --- every root field: anonymous, out of scope, in scope --------------------------------------------


def test_anonymous_is_refused_everywhere(demo):
    anonymous = GraphQLClient()
    sara_token = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))["token"]["id"]
    before = state()
    assert anonymous.error_codes(LIST) == ["UNAUTHENTICATED"]
    assert anonymous.error_codes(CREATE, {"input": {"name": "x", "role": role_id(SARA, "MOE-HQ")}}) == [
        "UNAUTHENTICATED"
    ]
    assert anonymous.error_codes(REVOKE, {"input": {"token": sara_token}}) == ["UNAUTHENTICATED"]
    assert anonymous.error_codes(NODE, {"id": sara_token}) == ["UNAUTHENTICATED"]
    assert state() == before


def test_tokens_are_their_owners_only(demo):
    """Another person — even the owner's own leader, even through a token — sees nothing of them."""
    sara_token = made(signed_in(SARA), role_id(SARA, "MOE-HQ"))["token"]["id"]
    ali = signed_in(ALI)
    ali_token = made(ali, role_id(ALI, "MOE"))
    for reader in (ali, curl(ali_token["secret"])):
        assert reader.data(NODE, {"id": sara_token})["node"] is None
        assert reader.data(NODES, {"ids": [sara_token, ali_token["token"]["id"]]})["nodes"] == [
            None,
            {"__typename": "ApiToken", "id": ali_token["token"]["id"]},
        ]
        listed = reader.data(LIST)["apiTokens"]
        assert [e["node"]["id"] for e in listed["edges"]] == [ali_token["token"]["id"]]
    assert signed_in(SARA).data(NODE, {"id": sara_token})["node"] == {"__typename": "ApiToken", "id": sara_token}


# --- the secret: shown once, then nowhere -----------------------------------------------------------------


def test_secret_never_shown_again_nor_logged(demo, caplog):
    caplog.set_level(logging.DEBUG)
    sara = signed_in(SARA)
    payload = made(sara, role_id(SARA, "MOE-HQ"))
    secret, token_id = payload["secret"], payload["token"]["id"]
    tail = secret.split("_", 2)[2]
    integrator = curl(secret)
    integrator.data(ME)
    # Refusals log their reason and the public prefix, never what was presented.
    curl(secret[:-1] + "x").post(ME)
    curl(secret + "x").post(ME)
    later = [
        sara.post(LIST).content,
        sara.post(NODE, {"id": token_id}).content,
        integrator.post(LIST).content,
        sara.post("{ __schema { types { name fields { name } } } }").content,
    ]
    ApiToken.objects.update(revoked_at=timezone.now())
    later.append(integrator.post(ME).content)
    for content in later:
        assert tail.encode() not in content
    assert b"secret" not in sara.post(NODE, {"id": token_id}).content

    console = Client()
    assert console.login(request=HttpRequest(), national_code="0010000011", password=DEMO_PASSWORD)
    pk = ApiToken.objects.get().pk
    pages = [
        console.get(reverse("admin:mana_apitoken_changelist")),
        console.get(reverse("admin:mana_apitoken_changelist"), {"q": payload["token"]["prefix"]}),
        console.get(reverse("admin:mana_apitoken_change", args=[pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert payload["token"]["prefix"] in page.content.decode()
        assert tail not in page.content.decode()
        assert ApiToken.objects.get().secret_hash not in page.content.decode()
    for record in caplog.records:
        assert tail not in record.getMessage(), record.getMessage()


# --- the admin console ------------------------------------------------------------------------------------


def test_admin_lists_searches_and_revokes_but_does_not_add(demo):
    sara = signed_in(SARA)
    tokens = [made(sara, role_id(SARA, "MOE-HQ"), name=name)["token"] for name in ("الف", "ب")]
    console = Client()
    assert console.login(request=HttpRequest(), national_code="0010000011", password=DEMO_PASSWORD)
    html = console.get(reverse("admin:mana_apitoken_changelist"), {"q": tokens[0]["prefix"]}).content.decode()
    assert tokens[0]["prefix"] in html and tokens[1]["prefix"] not in html
    assert 'dir="rtl"' in html
    assert console.get(reverse("admin:mana_apitoken_add")).status_code == 403
    first = ApiToken.objects.get(prefix=tokens[0]["prefix"])
    response = console.post(
        reverse("admin:mana_apitoken_changelist"), {"action": "revoke_selected", "_selected_action": [first.pk]}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert ApiToken.objects.get(prefix=tokens[1]["prefix"]).revoked_at is None
    assert refusal(curl("mana_" + tokens[0]["prefix"] + "_" + "A" * 43).post(ME))[0] == 401
    # Staff without the change permission see no revoke action.
    clerk = User.objects.get(national_code=FATEMEH)
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    viewer = Client()
    assert viewer.login(request=HttpRequest(), national_code=FATEMEH, password=DEMO_PASSWORD)
    html = viewer.get(reverse("admin:mana_apitoken_changelist")).content.decode()
    assert "revoke_selected" not in html


# --- WebSocket -----------------------------------------------------------------------------------------


async def _socket(payload: dict | None, cookie: str | None = None):
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(
        _application(), "/graphql/", subprotocols=["graphql-transport-ws"], headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    message = {"type": "connection_init"}
    if payload is not None:
        message["payload"] = payload
    await communicator.send_json_to(message)
    return communicator


def _application():
    from settings.asgi import application

    return application


@pytest.mark.django_db(transaction=True)
async def test_websocket_signs_in_with_a_token(demo):
    sara = await sync_to_async(signed_in)(SARA)
    secret = (await sync_to_async(made)(sara, await sync_to_async(role_id)(SARA, "MOE-TAVANIR")))["secret"]
    # A socket whose handshake carries Ali's cookie: the token decides.
    ali = await sync_to_async(signed_in)(ALI)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={ali.http.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    communicator = await _socket({"authorization": f"Bearer {secret}"}, cookie)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ME}})
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert message["type"] == "next", message
    me = message["payload"]["data"]["me"]
    assert me["user"]["nationalCode"] == SARA and me["activeRole"]["organization"]["code"] == "MOE-TAVANIR"
    # Without authorization, the cookie stands.
    communicator = await _socket(None, cookie)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": ME}})
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert message["payload"]["data"]["me"]["user"]["nationalCode"] == ALI


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "authorization", ["Bearer mana_0123456789ab_" + "A" * 43, "Bearer nope", "Basic c2FyYTpwYXNz", 42]
)
async def test_websocket_bad_token_closes_4403(demo, authorization):
    communicator = await _socket({"authorization": authorization})
    closed = await communicator.receive_output(timeout=5)
    await communicator.disconnect()
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "Forbidden"}, closed


@pytest.mark.django_db(transaction=True)
async def test_websocket_revoked_token_closes_4403(demo):
    sara = await sync_to_async(signed_in)(SARA)
    secret = (await sync_to_async(made)(sara, await sync_to_async(role_id)(SARA, "MOE-HQ")))["secret"]
    await sync_to_async(ApiToken.objects.update)(revoked_at=timezone.now())
    communicator = await _socket({"authorization": f"Bearer {secret}"})
    closed = await communicator.receive_output(timeout=5)
    await communicator.disconnect()
    assert closed["type"] == "websocket.close" and closed["code"] == 4403


# --- GraphQL over HTTP: the media types -------------------------------------------------------------------


def _post(body: str, accept: str | None = None, **extra):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    return Client(enforce_csrf_checks=True).post(
        "/graphql/", data=body, content_type="application/json", **headers, **extra
    )


def test_graphql_response_json_when_preferred(demo):
    typename = json.dumps({"query": "{ __typename }"})
    for accept in ("application/graphql-response+json", "application/graphql-response+json, application/json;q=0.9"):
        response = _post(typename, accept)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/graphql-response+json")
        assert response.json() == {"data": {"__typename": "Query"}}
    for accept in (None, "*/*", "application/json", "application/json, application/graphql-response+json;q=0.5"):
        response = _post(typename, accept)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{"},  # does not parse
        {"query": "{ noSuchField }"},  # does not validate
        {"query": "query($id: ID!) { __typename }", "variables": {"id": None}},  # variables do not fit
    ],
)
def test_request_errors_by_media_type(demo, body):
    modern = _post(json.dumps(body), "application/graphql-response+json")
    assert modern.status_code == 400
    assert "data" not in modern.json() and modern.json()["errors"][0]["extensions"]["code"]
    legacy = _post(json.dumps(body), "application/json")
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None and legacy.json()["errors"][0]["extensions"]["code"]


def test_field_errors_stay_200_with_data(demo):
    response = _post(json.dumps({"query": "{ me { user { nationalCode } } }"}), "application/graphql-response+json")
    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("operation_name", [{"obj": "ect"}, 0, False, ["array"]])
def test_operation_name_must_be_a_string(demo, operation_name):
    response = _post(json.dumps({"query": "{ __typename }", "operationName": operation_name}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_refusals_before_graphql_follow_the_media_type(demo):
    response = _post(
        json.dumps({"query": "{ __typename }"}), "application/graphql-response+json", HTTP_AUTHORIZATION="Bearer x"
    )
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/graphql-response+json")
    assert response.json() == {
        "errors": [{"message": response.json()["errors"][0]["message"], "extensions": {"code": "INVALID_TOKEN"}}]
    }
