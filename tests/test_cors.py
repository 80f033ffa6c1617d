"""Web clients on other origins: CORS on the GraphQL endpoint for the origins listed in
MANA_CORS_ALLOWED_ORIGINS only (none by default), with credentials, preflights answered — and the
CSRF rules unchanged: a listed origin's request with the session cookie still needs the CSRF token,
and no other origin's preflight is answered, so a cookie-less JSON request still needs none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from models.api_tokens import create_api_token
from models.users import RoleAssignment
from tests.conftest import GraphQLClient
from tests.workflow_helpers import SARA

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
APP = "https://app.example.ir"
FOREIGN = "https://evil.example.com"
ME = "{ me { user { nationalCode } } }"


@pytest.fixture
def listed(settings):
    """What MANA_CORS_ALLOWED_ORIGINS=https://app.example.ir makes of the settings (checked below)."""
    settings.CORS_ALLOWED_ORIGINS = [APP]
    settings.CSRF_TRUSTED_ORIGINS = [APP]


def preflight(origin: str, path: str = "/graphql/", headers: str = "content-type, authorization, x-csrftoken"):
    return Client().options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers},
    )


def post(client: Client, origin: str, query: str = ME, **headers):
    body = json.dumps({"query": query})
    return client.post("/graphql/", body, content_type="application/json", headers={"Origin": origin, **headers})


def signed_in() -> Client:
    """Sara's browser session (signed in on Mana's own origin), CSRF enforced as in a browser."""
    client = GraphQLClient(Client(enforce_csrf_checks=True))
    client.login(SARA)
    return client.http


def token_client() -> Client:
    role = RoleAssignment.objects.filter(user__national_code=SARA).order_by("pk").first()
    _token, secret = create_api_token(role.user, role, "وب", None)
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")


def assert_no_cors(response) -> None:
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


def test_nothing_is_allowed_by_default():
    assert django_settings.CORS_ALLOWED_ORIGINS == []
    assert_no_cors(preflight(APP))


def test_a_listed_origins_preflight_is_answered_with_credentials(listed):
    response = preflight(APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed_headers = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "authorization", "x-csrftoken", "x-request-id"} <= allowed_headers
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "origin" in response["Vary"].lower()


def test_another_origins_preflight_is_not_answered(listed):
    response = preflight(FOREIGN)
    assert_no_cors(response)
    # Nor for the listed origin anywhere but the GraphQL endpoint (the admin console, downloads).
    assert_no_cors(preflight(APP, "/admin/login/"))
    assert_no_cors(preflight(APP, "/evidence/1/report.pdf"))


def test_a_listed_origin_reads_the_answer_of_a_token_request(listed, demo):
    client = token_client()
    response = post(client, APP)
    assert response.status_code == 200
    assert response.json()["data"]["me"]["user"]["nationalCode"] == SARA
    assert response["Access-Control-Allow-Origin"] == APP
    assert response["Access-Control-Allow-Credentials"] == "true"
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "retry-after"} <= exposed


def test_another_origins_script_cannot_read_an_answer(listed, demo):
    """The server answers (no cookie, no credential), without the header that lets a page read it."""
    response = post(Client(enforce_csrf_checks=True), FOREIGN)
    assert response.status_code == 200
    assert_no_cors(response)


def test_a_listed_origins_cookie_request_still_needs_the_csrf_token(listed, demo):
    browser = signed_in()
    refused = post(browser, APP)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN", "reason": "CSRF"}
    # The refusal is readable by the listed origin's script, so it can tell the person why.
    assert refused["Access-Control-Allow-Origin"] == APP

    token = browser.cookies[django_settings.CSRF_COOKIE_NAME].value
    served = post(browser, APP, **{"X-CSRFToken": token})
    assert served.status_code == 200
    assert served.json()["data"]["me"]["user"]["nationalCode"] == SARA
    assert served["Access-Control-Allow-Origin"] == APP


def test_another_origin_with_the_cookie_and_even_the_token_is_refused(listed, demo):
    """CSRF's Origin check trusts the listed origins only (CSRF_TRUSTED_ORIGINS)."""
    browser = signed_in()
    token = browser.cookies[django_settings.CSRF_COOKIE_NAME].value
    refused = post(browser, FOREIGN, **{"X-CSRFToken": token})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["reason"] == "CSRF"
    assert_no_cors(refused)


def _settings_with(env: dict[str, str]) -> subprocess.CompletedProcess:
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CORS_ALLOWED_ORIGINS, s.CSRF_TRUSTED_ORIGINS]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"MANA_CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS"}}
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_setting_lists_origins_and_trusts_them_for_csrf():
    result = _settings_with({"MANA_CORS_ALLOWED_ORIGINS": f"{APP}, http://localhost:5173", "CSRF_TRUSTED_ORIGINS": APP})
    assert result.returncode == 0, result.stderr
    cors, csrf = json.loads(result.stdout.strip().splitlines()[-1])
    assert cors == [APP, "http://localhost:5173"]
    assert csrf == [APP, "http://localhost:5173"]

    refused = _settings_with({"MANA_CORS_ALLOWED_ORIGINS": "app.example.ir"})
    assert refused.returncode != 0
    assert "MANA_CORS_ALLOWED_ORIGINS takes origins such as" in refused.stderr
