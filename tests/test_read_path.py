"""The fixed cost of a request: cached documents, pooled connections without JIT, a frozen heap."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from schema.documents import documents

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_a_repeated_document_is_parsed_and_validated_once(gql):
    document = f"query Once_{uuid.uuid4().hex} {{ periods {{ title }} }}"
    codes = gql.error_codes(document)  # anonymous: refused, but parsed and validated first
    assert codes == ["UNAUTHENTICATED"]
    parse_hits, validate_hits = documents.parse_hits, documents.validation_hits
    assert gql.error_codes(document) == ["UNAUTHENTICATED"]
    assert documents.parse_hits == parse_hits + 1
    assert documents.validation_hits == validate_hits + 1


@pytest.mark.django_db
def test_the_limits_still_apply_to_cached_documents(gql):
    limit = settings.MANA["MAX_QUERY_DEPTH"]
    deep = "{ me { user { organization { " + "parent { " * limit + "name" + " }" * (limit + 4)
    for _ in range(2):
        assert gql.error_codes(deep) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL settings")
@pytest.mark.django_db
def test_postgresql_connections_come_from_a_pool_without_jit():
    assert "pool" in settings.DATABASES["default"]["OPTIONS"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_the_asgi_worker_freezes_what_it_loaded_and_collects_less_often():
    code = "import gc, settings.asgi; print(gc.get_freeze_count() > 10000, gc.get_threshold()[0])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings"}
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "20000"], result.stderr


@pytest.mark.django_db
def test_no_database_connection_in_time_is_a_coded_503(gql, monkeypatch):
    from django.db import OperationalError

    def pool_exhausted(request):
        raise OperationalError("couldn't get a connection after 30.00 sec")

    monkeypatch.setattr("schema.views.viewer_from_request", pool_exhausted)
    response = gql.post("{ periods { title } }")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["SERVICE_UNAVAILABLE"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement_timeout")
@pytest.mark.django_db
def test_a_statement_past_the_timeout_is_cancelled_and_answered_with_its_code(demo, monkeypatch):
    from tests.workflow_helpers import FATEMEH, client_for

    fatemeh = client_for(FATEMEH)

    def runaway(info, on=None):
        with connection.cursor() as cursor:
            # SET LOCAL: the test's transaction (rolled back after it) is the only one it affects.
            cursor.execute("SET LOCAL statement_timeout = '100ms'")
            cursor.execute("SELECT pg_sleep(2)")

    monkeypatch.setattr("resolvers.me.periods", runaway)
    result = fatemeh.execute("{ periods { title } }")
    assert [e["extensions"]["code"] for e in result["errors"]] == ["STATEMENT_TIMEOUT"]
    assert "pg_sleep" not in str(result)


def test_postgresql_connections_carry_a_statement_timeout():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default'])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    cases = (({}, "statement_timeout=30000"), ({"DATABASE_STATEMENT_TIMEOUT": "5"}, "statement_timeout=5000"))
    for extra, expected in cases:
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True, timeout=120
        )
        assert expected in result.stdout, result.stderr
