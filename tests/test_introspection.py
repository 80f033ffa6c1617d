"""Introspection: signed-in clients always; anonymous ones only where it is opened (development)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflow_helpers import FATEMEH, client_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Organization") { name } }'


@pytest.fixture
def signed_in_only(settings):
    settings.MANA = {**settings.MANA, "INTROSPECTION": "signed-in"}


def test_anonymous_introspection_is_refused_where_only_signed_in_clients_may(gql, signed_in_only):
    for document in (SCHEMA, TYPE):
        assert gql.error_codes(document) == ["UNAUTHENTICATED"]
    # __typename is not introspection.
    assert gql.data("{ __typename }") == {"__typename": "Query"}


def test_signed_in_clients_introspect(demo, signed_in_only):
    fatemeh = client_for(FATEMEH)
    assert fatemeh.data(SCHEMA) == {"__schema": {"queryType": {"name": "Query"}}}
    assert fatemeh.data(TYPE) == {"__type": {"name": "Organization"}}


def test_development_keeps_it_open_for_graphiql(gql):
    assert gql.data(SCHEMA) == {"__schema": {"queryType": {"name": "Query"}}}


def _introspection_setting(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.MANA['INTROSPECTION'])"
    # CAPTCHA_TEST_MODE: tests/conftest.py sets it for the suite's own (development) servers.
    unset = {"DEBUG", "SECRET_KEY", "MANA_ENV", "MANA_INTROSPECTION", "CAPTCHA_TEST_MODE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_serves_it_to_signed_in_clients_unless_opened():
    production = {"MANA_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "mana.example.ir"}
    assert _introspection_setting(production).stdout.strip() == "signed-in"
    assert _introspection_setting({**production, "MANA_INTROSPECTION": "public"}).stdout.strip() == "public"
    refused = _introspection_setting({**production, "MANA_INTROSPECTION": "everyone"})
    assert refused.returncode != 0 and "MANA_INTROSPECTION" in refused.stderr
