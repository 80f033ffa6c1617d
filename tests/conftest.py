"""Fixtures: a GraphQL client over the real HTTP endpoint, and the demo data."""

from __future__ import annotations

import json
import os

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from models.demo import DEMO_PASSWORD, load_demo
from tests.sms_fixtures import sms_outbox  # noqa: F401 (a fixture: the SMS sent, tests/sms_fixtures.py)

# Any captcha key is answered by "PASSED" (models/captcha.py) — here and in the server processes
# some tests start, which inherit the environment. tests/test_captcha.py turns it off.
os.environ["CAPTCHA_TEST_MODE"] = "1"
PASSED_CAPTCHA = {"key": "-", "value": "PASSED"}


class GraphQLClient:
    """POSTs GraphQL documents to /graphql/ exactly as a browser or integrator would."""

    def __init__(self, client: Client | None = None) -> None:
        self.http = client or Client()

    def login(self, national_code: str, password: str = DEMO_PASSWORD) -> dict:
        result = self.execute(
            "mutation($input: LoginInput!) { login(input: $input) "
            "{ errors { field code message } me { user { nationalCode } } } }",
            {"input": {"nationalCode": national_code, "password": password, "captcha": PASSED_CAPTCHA}},
        )
        assert result["data"]["login"]["errors"] == [], result
        return result

    def post(self, query: str, variables: dict | None = None):
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.http.post("/graphql/", data=json.dumps(body), content_type="application/json")

    def execute(self, query: str, variables: dict | None = None) -> dict:
        response = self.post(query, variables)
        assert response.status_code in (200, 400), response.content
        return response.json()

    def data(self, query: str, variables: dict | None = None) -> dict:
        result = self.execute(query, variables)
        assert "errors" not in result, result["errors"]
        return result["data"]

    def error_codes(self, query: str, variables: dict | None = None) -> list[str]:
        result = self.execute(query, variables)
        assert result.get("errors"), result
        return [error["extensions"]["code"] for error in result["errors"]]


@pytest.fixture(autouse=True)
def captcha_test_mode(settings):
    settings.CAPTCHA_TEST_MODE = True


@pytest.fixture(autouse=True)
def fresh_throttles():
    # Throttle windows (SMS sends, token requests) live in the cache: one test's count must not
    # spill into the next.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects real passwords; in tests it only costs minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gql() -> GraphQLClient:
    return GraphQLClient()


@pytest.fixture
def demo(db) -> None:
    # The seed's example without the current period's referral story (models/demo_current.py): that
    # story costs 0.2–0.5 s a test, and the suite's tests are about 1402. tests/test_demo_current_period.py
    # loads the demo exactly as seed_demo does.
    load_demo(current_period=False)


@pytest.fixture
def count_queries():
    """Exact SQL query count of a block; the statements are printed when an assertion fails."""

    class Counter:
        def __init__(self) -> None:
            self.context = CaptureQueriesContext(connection)

        def __enter__(self):
            self.context.__enter__()
            return self

        def __exit__(self, *exc):
            self.context.__exit__(*exc)

        @property
        def count(self) -> int:
            return len(self.context.captured_queries)

        def sql(self) -> str:
            return "\n".join(q["sql"] for q in self.context.captured_queries)

    return Counter

