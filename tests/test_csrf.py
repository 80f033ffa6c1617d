"""CSRF: a cookie session cannot be driven from another site; clients without a cookie (JSON) and
API tokens need no CSRF token.

Every request here goes through a client that enforces CSRF checks, as a browser-facing
deployment does. The «attacker» requests are what a page on another site can make a victim's
browser send: a form post (urlencoded or multipart) — or a JSON body, which a browser sends
cross-site only after a CORS preflight that Mana does not answer — with the victim's cookie.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from models.credentials import ApiToken
from models.users import RoleAssignment
from schema.ids import encode_global_id
from tests.conftest import PASSED_CAPTCHA, GraphQLClient
from tests.workflow_helpers import SARA

pytestmark = pytest.mark.django_db

CREATE = (
    "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { errors { code } secret token { id } } }"
)
LOGIN = "mutation($input: LoginInput!) { login(input: $input) { errors { code } me { user { nationalCode } } } }"
ME = "{ me { user { nationalCode } } }"


def victim() -> GraphQLClient:
    """Sara, signed in through the API from her own browser (a JSON sign-in needs no CSRF token)."""
    client = GraphQLClient(Client(enforce_csrf_checks=True))
    client.login(SARA)
    assert settings.SESSION_COOKIE_NAME in client.http.cookies
    return client


def create_variables() -> dict:
    role = RoleAssignment.objects.get(user__national_code=SARA, organization__code="MOE-HQ")
    return {"input": {"name": "ربوده", "role": encode_global_id("RoleAssignment", role.pk)}}


def multipart(query: str, variables: dict | None = None) -> dict:
    """The GraphQL multipart request format: what a cross-site <form enctype="multipart/form-data"> can send."""
    return {"operations": json.dumps({"query": query, "variables": variables or {}}), "map": "{}"}


def assert_csrf_refused(response) -> None:
    assert response.status_code == 403, response.content
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "CSRF"}


def test_cross_site_multipart_form_with_the_victims_cookie_is_refused(demo):
    sara = victim()
    assert_csrf_refused(sara.http.post("/graphql/", data=multipart(CREATE, create_variables())))
    assert not ApiToken.objects.exists()
    # The same request from her own page (with the CSRF token) would have made one: the refusal
    # above is the CSRF check, not a malformed request.
    response = sara.http.post(
        "/graphql/",
        data=multipart(CREATE, create_variables()),
        HTTP_X_CSRFTOKEN=sara.http.cookies[settings.CSRF_COOKIE_NAME].value,
    )
    assert response.status_code == 200 and response.json()["data"]["createApiToken"]["errors"] == []
    assert ApiToken.objects.count() == 1


def test_cross_site_urlencoded_form_with_the_victims_cookie_is_refused(demo):
    sara = victim()
    form = urlencode({"query": CREATE, "variables": json.dumps(create_variables())})
    assert_csrf_refused(sara.http.post("/graphql/", data=form, content_type="application/x-www-form-urlencoded"))
    # <form enctype="text/plain"> can carry a JSON-looking body; it is not JSON.
    body = json.dumps({"query": CREATE, "variables": create_variables()})
    assert_csrf_refused(sara.http.post("/graphql/", data=body, content_type="text/plain"))
    assert not ApiToken.objects.exists()


def test_json_with_the_session_cookie_needs_the_csrf_token(demo):
    sara = victim()
    assert_csrf_refused(sara.post(CREATE, create_variables()))
    assert not ApiToken.objects.exists()
    # Signing out is refused too: the session survives.
    assert_csrf_refused(sara.post("mutation { logout { errors { code } } }"))
    token = sara.http.cookies[settings.CSRF_COOKIE_NAME].value
    response = sara.http.post(
        "/graphql/", data=json.dumps({"query": ME}), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200
    assert response.json()["data"]["me"]["user"]["nationalCode"] == SARA


def test_json_without_a_cookie_needs_no_csrf_token(demo):
    client = GraphQLClient(Client(enforce_csrf_checks=True))
    assert client.data("{ __typename }") == {"__typename": "Query"}
    assert client.error_codes(ME) == ["UNAUTHENTICATED"]
    # A csrftoken cookie alone (no session) is no session: still no CSRF token needed.
    client.http.get("/graphql/", {"query": "{ __typename }"})
    assert settings.CSRF_COOKIE_NAME in client.http.cookies
    assert client.data("{ __typename }") == {"__typename": "Query"}


def test_a_form_post_without_a_cookie_keeps_the_check(demo):
    """Login CSRF: a cross-site form could sign the victim into the attacker's account."""
    client = Client(enforce_csrf_checks=True)
    variables = {"input": {"nationalCode": SARA, "password": "demo", "captcha": PASSED_CAPTCHA}}
    assert_csrf_refused(client.post("/graphql/", data=multipart(LOGIN, variables)))
    assert settings.SESSION_COOKIE_NAME not in client.cookies


def test_bearer_needs_no_csrf_token(demo):
    sara = victim()
    response = sara.http.post(
        "/graphql/",
        data=json.dumps({"query": CREATE, "variables": create_variables()}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=sara.http.cookies[settings.CSRF_COOKIE_NAME].value,
    )
    secret = response.json()["data"]["createApiToken"]["secret"]
    for client in (Client(enforce_csrf_checks=True), sara.http):  # no cookie; the victim's cookie (ignored)
        response = client.post(
            "/graphql/",
            data=json.dumps({"query": ME}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert response.status_code == 200 and response.json()["data"]["me"]["user"]["nationalCode"] == SARA
        response = client.post("/graphql/", data=multipart(ME), HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 200 and response.json()["data"]["me"]["user"]["nationalCode"] == SARA
