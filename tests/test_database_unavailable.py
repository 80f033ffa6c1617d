"""A database that cannot be reached: 503 SERVICE_UNAVAILABLE in the GraphQL error format, never an HTML page.

Through the real endpoints, in development (DEBUG on: Django would show its debug page) and in
production (DEBUG off: its "Server Error (500)" page): first with every connection attempt failing
inside the test process, then in a process whose DATABASE_URL points at a closed port.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from tests.workflow_helpers import FATEMEH, client_for

# CAPTCHA_TEST_MODE (tests/conftest.py) accepts this answer for any key.
PASSED = {"key": "-", "value": "PASSED"}

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'


@contextmanager
def database_unreachable():
    """Every query needs a connection first; none can be had."""

    def refuse(self):
        raise OperationalError(REFUSED)

    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", refuse):
        yield


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert any("\u0600" <= c <= "\u06ff" for c in error["message"])
    assert "Connection refused" not in response.content.decode()


@pytest.fixture(params=[True, False], ids=["development", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_graphql_answers_503_when_the_session_cannot_be_read(demo, debug):
    fatemeh = client_for(FATEMEH)
    with database_unreachable():
        response = fatemeh.post("{ periods { title } }")
    assert_unavailable(response)


def test_graphiql_page_request_answers_503_too(demo, debug):
    fatemeh = client_for(FATEMEH)
    with database_unreachable():
        response = fatemeh.http.get("/graphql/", HTTP_ACCEPT="text/html")
    assert_unavailable(response)


def test_a_resolver_that_cannot_reach_the_database_answers_service_unavailable(demo, debug, gql):
    """Anonymous: nothing is read before GraphQL runs; login's own query finds the database gone."""
    login = "mutation($i: LoginInput!) { login(input: $i) { errors { code } } }"
    with database_unreachable():
        result = gql.execute(login, {"i": {"nationalCode": FATEMEH, "password": "whatever-it-is", "captcha": PASSED}})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert "Connection refused" not in json.dumps(result)


def test_the_evidence_download_answers_503(demo, debug):
    fatemeh = client_for(FATEMEH)
    with database_unreachable():
        response = fatemeh.http.get("/evidence/1/report.pdf")
    assert_unavailable(response)


def test_a_missing_evidence_file_is_a_coded_404(demo, debug):
    response = client_for(FATEMEH).http.get("/evidence/999999/report.pdf")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


PROBE = """
import json
import django
django.setup()
from django.test import Client

client = Client()
client.cookies["sessionid"] = "0123456789abcdefghijklmnopqrstuv"
answers = {
    "graphql": client.post("/graphql/", json.dumps({"query": "{ periods { title } }"}), "application/json"),
    "evidence": client.get("/evidence/1/report.pdf"),
}
print(json.dumps({
    name: [r.status_code, r["Content-Type"], r.get("Retry-After"), r.content.decode()] for name, r in answers.items()
}))
"""


@pytest.mark.parametrize("debug_env", ["1", "0"], ids=["development", "production"])
def test_a_database_url_at_a_closed_port_answers_503_json(debug_env):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # bound, never listening: connections are refused
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings",
            "DEBUG": debug_env,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port}/mana",
            "DATABASE_POOL_TIMEOUT": "1",
            "LOG_LEVEL": "CRITICAL",
        }
        result = subprocess.run(
            [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for name, (status, content_type, retry_after, body) in answers.items():
        assert (status, content_type, retry_after) == (503, "application/json", "5"), (name, body)
        assert json.loads(body)["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "refused" not in body


def test_admin_console_answers_a_persian_503_page_when_the_database_is_down(demo, settings):
    """DEBUG off (production): Django's handler500 is Mana's, and never touches the database."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.DEBUG = False
    console = Client(raise_request_exception=False)
    console.force_login(get_user_model().objects.get(national_code=FATEMEH))  # the session must be read
    with database_unreachable():
        response = console.get("/admin/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert 'dir="rtl"' in page and "سامانه در دسترس نیست" in page
    assert "Connection refused" not in page


def test_an_unexpected_page_failure_is_a_persian_500_without_details(demo, settings):
    from django.test import Client

    settings.DEBUG = False
    console = Client(raise_request_exception=False)
    failing_form = mock.patch(
        "django.contrib.admin.forms.AdminAuthenticationForm.__init__", side_effect=RuntimeError("secret detail")
    )
    with failing_form:
        response = console.get("/admin/login/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "خطای داخلی" in page and "secret detail" not in page
