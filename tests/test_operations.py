"""Operations: /healthz and /readyz, Prometheus metrics, one JSON log line per request with its
request id, and the production lock file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from pythonjsonlogger.json import JsonFormatter

from models.api_tokens import create_api_token
from models.demo import DEMO_PASSWORD
from models.users import RoleAssignment, User
from schema import metrics as graphql_metrics
from settings import health
from settings.request_log import RequestIdFilter
from tests.conftest import PASSED_CAPTCHA, GraphQLClient
from tests.live_server import ROOT, Daphne
from tests.test_database_unavailable import database_unreachable
from tests.workflow_helpers import SARA, client_for

pytestmark = pytest.mark.django_db

LOGIN = "mutation Login($input: LoginInput!) { login(input: $input) { errors { code } } }"
ORGANIZATIONS = "query OrganizationList { organizations(first: 5) { edges { node { name } } } }"
UNSIGNED = "query PeriodTitles { periods { title } }"
METRIC_TOKEN = "scrape-" + "x" * 40


def get(path: str, **extra):
    return Client().get(path, **extra)


# --- /healthz -----------------------------------------------------------------------------------


def test_healthz_answers_ok_without_touching_anything(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_probes_answer_at_a_workers_own_address_over_plain_http(settings):
    """An orchestrator probes 10.0.0.5:8000 over HTTP: no 400 for the host, no redirect to HTTPS."""
    settings.ALLOWED_HOSTS = ["mana.example.ir"]
    settings.SECURE_SSL_REDIRECT = True
    assert get("/healthz", HTTP_HOST="10.0.0.5:8000").status_code == 200
    assert get("/readyz", HTTP_HOST="10.0.0.5:8000").status_code == 200
    assert get("/graphql/", HTTP_HOST="10.0.0.5:8000").status_code == 400  # everything else is still checked


# --- /readyz ------------------------------------------------------------------------------------


def test_readyz_checks_the_database_its_migrations_and_the_channel_layer(django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # SELECT 1, and the applied migrations
        response = get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "channelLayer": "ok"}}


@pytest.mark.parametrize("debug", [True, False], ids=["development", "production"])
def test_readyz_is_503_when_the_database_cannot_be_reached(settings, debug, caplog):
    settings.DEBUG = debug
    with database_unreachable():
        response = get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "status": "unavailable",
        "code": "NOT_READY",
        "failed": ["database"],
        "checks": {"database": "DATABASE_UNREACHABLE", "migrations": "NOT_CHECKED", "channelLayer": "ok"},
    }
    # Said once, with the reason; not again as Django's «Service Unavailable» error.
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == ["mana.health", "mana.health"]


def test_readyz_is_503_while_a_migration_is_not_applied():
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="mana").order_by("-applied", "-id").first()
    latest.delete()  # as if this code were deployed before `migrate` ran (rolled back with the test)
    response = get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["migrations"]
    assert body["checks"] == {"database": "ok", "migrations": "MIGRATIONS_PENDING", "channelLayer": "ok"}


def test_a_squashed_migration_counts_as_applied_when_what_it_replaces_is():
    graph, _replaces = health._code_migrations()
    applied = set(graph)
    assert health.pending_migrations(applied) == []
    some = sorted(applied)[0]
    assert health.pending_migrations(applied - {some}) == [some]


def test_readyz_is_503_when_the_channel_layer_cannot_be_reached(settings):
    settings.MANA_READINESS_TIMEOUT = 5
    # Redis at a port nobody listens on (channels drops its cached layers when the setting changes).
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:9"]}}
    }
    response = get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["channelLayer"]
    assert response.json()["checks"]["channelLayer"] == "CHANNEL_LAYER_UNREACHABLE"


def test_a_check_that_hangs_fails_at_the_readiness_timeout(settings, monkeypatch):
    settings.MANA_READINESS_TIMEOUT = 0.2

    async def hangs():
        await asyncio.sleep(30)

    monkeypatch.setattr(health, "channel_layer_check", hangs)
    response = get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["channelLayer"] == "CHANNEL_LAYER_UNREACHABLE"


# --- metrics ------------------------------------------------------------------------------------


def scrape(client: Client | None = None, path: str = "/metrics", **extra) -> dict:
    response = (client or Client()).get(path, **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def sample(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_time_each_operation_and_count_errors_by_code(demo):
    before = scrape()
    sara = client_for(SARA)
    for _ in range(3):
        assert sara.data(ORGANIZATIONS)["organizations"]["edges"]
    anonymous = GraphQLClient()
    assert anonymous.error_codes(UNSIGNED) == ["UNAUTHENTICATED"]
    assert anonymous.error_codes("query Broken { nope }") == ["GRAPHQL_VALIDATION_FAILED"]
    refused = Client(HTTP_AUTHORIZATION="Bearer mana_000000000000_not-a-token").post(
        "/graphql/", json.dumps({"query": ORGANIZATIONS}), content_type="application/json"
    )
    assert refused.status_code == 401  # a refusal before GraphQL ran is counted by its code too
    after = scrape()

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    operation = {"operation": "OrganizationList", "type": "query"}
    assert delta("mana_graphql_operation_duration_seconds_count", **operation) == 3
    assert delta("mana_graphql_operation_duration_seconds_sum", **operation) > 0
    assert delta("mana_graphql_operation_duration_seconds_bucket", le="+Inf", **operation) == 3
    # The suite's sign-in (tests/conftest.py) sends its mutation without a name.
    assert delta("mana_graphql_operation_duration_seconds_count", operation="anonymous", type="mutation") == 1
    assert delta("mana_graphql_operation_duration_seconds_count", operation="PeriodTitles", type="query") == 1
    assert delta("mana_graphql_errors_total", code="UNAUTHENTICATED") == 1
    assert delta("mana_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert delta("mana_graphql_errors_total", code="INVALID_TOKEN") == 1
    # The HTTP requests, by route and status; the process's own metrics come with the client library.
    assert delta("mana_http_requests_total", method="POST", route="/graphql/", status="200") >= 6
    assert delta("mana_http_requests_total", method="POST", route="/graphql/", status="401") == 1
    assert ("python_gc_collections_total", (("generation", "0"),)) in after


def test_operation_names_are_bounded(demo, monkeypatch):
    """Names are the client's: past MAX_OPERATION_NAMES distinct ones a worker counts them as «other»."""
    known = set(graphql_metrics._labelled_names)
    monkeypatch.setattr(graphql_metrics, "_labelled_names", set(known))
    monkeypatch.setattr(graphql_metrics, "MAX_OPERATION_NAMES", len(known) + 1)
    gql = GraphQLClient()
    names = [f"Invented{uuid.uuid4().hex[:8]}" for _ in range(3)]
    before = scrape()
    for name in names:
        gql.execute(f"query {name} {{ __typename }}")
    after = scrape()
    labelled = {labels for (metric, labels) in after if metric == "mana_graphql_operation_duration_seconds_count"}
    assert (("operation", names[0]), ("type", "query")) in labelled
    assert not any(("operation", name) in labels for labels in labelled for name in names[1:])
    other = (("operation", "other"), ("type", "query"))
    key = ("mana_graphql_operation_duration_seconds_count", other)
    assert after[key] - before.get(key, 0) == 2


def test_metrics_are_for_the_allowed_addresses_and_the_token_only(settings):
    settings.MANA_METRICS_TOKEN = METRIC_TOKEN
    outsider = get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert outsider.status_code == 403
    assert outsider.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    wrong = get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer scrape-wrong")
    assert wrong.status_code == 403
    assert scrape(REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION=f"Bearer {METRIC_TOKEN}")
    # The development default: this machine; and a network may be listed.
    assert scrape(REMOTE_ADDR="127.0.0.1")
    settings.MANA_METRICS_ALLOWED_IPS = ["10.8.0.0/16"]
    assert scrape(REMOTE_ADDR="10.8.4.2")
    assert get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_the_metrics_path_is_a_setting(settings):
    settings.MANA_METRICS_PATH = "/internal/prometheus"
    assert scrape(path="/internal/prometheus")
    assert get("/metrics").status_code == 404


# --- logs ---------------------------------------------------------------------------------------


def json_formatter() -> JsonFormatter:
    """The formatter settings.LOGGING configures for MANA_LOG_FORMAT=json."""
    options = {key: value for key, value in django_settings.LOGGING["formatters"]["json"].items() if key != "()"}
    return JsonFormatter(**options)


def request_lines(caplog) -> list[dict]:
    formatter = json_formatter()
    lines = []
    for record in caplog.records:
        if record.name == "mana.request":
            text = formatter.format(record)
            assert "\n" not in text
            lines.append(json.loads(text))
    return lines


def test_one_json_line_per_request_with_its_fields_and_no_secret(demo, caplog):
    caplog.set_level(logging.INFO, logger="mana.request")
    browser = GraphQLClient(Client(enforce_csrf_checks=True))
    login = browser.post(
        LOGIN, {"input": {"nationalCode": SARA, "password": DEMO_PASSWORD, "captcha": PASSED_CAPTCHA}}
    )
    listed = browser.post(ORGANIZATIONS)  # the session's cookie, CSRF needs the token
    token = browser.http.cookies[django_settings.CSRF_COOKIE_NAME].value
    listed = browser.http.post(
        "/graphql/",
        json.dumps({"query": ORGANIZATIONS, "variables": {"secretish": "do-not-log-me"}}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    role = RoleAssignment.objects.filter(user__national_code=SARA).order_by("pk").first()
    _api_token, secret = create_api_token(role.user, role, "گزارش", None)
    by_token = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/graphql/", {"query": ORGANIZATIONS})

    lines = request_lines(caplog)
    assert len(lines) == 4
    first, _refused, cookie, bearer = lines
    sara = User.objects.get(national_code=SARA).pk
    assert first["request_id"] == login["X-Request-ID"]
    assert first | {"duration_ms": 0, "time": "", "remote_addr": ""} == {
        "time": "",
        "level": "INFO",
        "logger": "mana.request",
        "message": first["message"],
        "request_id": login["X-Request-ID"],
        "method": "POST",
        "path": "/graphql/",
        "status": 200,
        "duration_ms": 0,
        "operation_name": "Login",
        "operation_type": "mutation",
        "user_id": sara,  # signed in by this very request
        "remote_addr": "",
    }
    assert first["duration_ms"] > 0 and first["remote_addr"] == "127.0.0.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*", first["time"])
    assert (cookie["status"], cookie["user_id"], cookie["operation_name"]) == (200, sara, "OrganizationList")
    assert cookie["request_id"] == listed["X-Request-ID"]
    assert (bearer["method"], bearer["path"], bearer["user_id"]) == ("GET", "/graphql/", sara)
    assert (bearer["operation_name"], bearer["operation_type"]) == ("OrganizationList", "query")
    assert bearer["request_id"] == by_token["X-Request-ID"]

    written = json.dumps(lines, ensure_ascii=False)
    for secret_text in (
        DEMO_PASSWORD,
        secret,
        secret.rsplit("_", 1)[-1],
        token,
        browser.http.cookies[django_settings.SESSION_COOKIE_NAME].value,
        "do-not-log-me",
        "secretish",
        "organizations(first",  # not even the query (a GET carries it, and variables, in its address)
    ):
        assert secret_text not in written


def test_the_request_id_is_honoured_echoed_and_on_every_record_of_the_request(demo, caplog):
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    sara = client_for(SARA)
    with database_unreachable():
        response = sara.http.post(
            "/graphql/",
            json.dumps({"query": ORGANIZATIONS}),
            content_type="application/json",
            HTTP_X_REQUEST_ID="lb-7f3a.42",
        )
    assert response.status_code == 503
    assert response["X-Request-ID"] == "lb-7f3a.42"
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "lb-7f3a.42"]
    assert {r.name for r in records} >= {"mana.graphql", "mana.request"}  # the 503's cause and the line

    for unsafe in ("two words", "x" * 200, "line\nbreak"):
        echoed = Client().get("/healthz", HTTP_X_REQUEST_ID=unsafe)  # probes: no id
        assert "X-Request-ID" not in echoed
        answered = Client().post(
            "/graphql/", json.dumps({"query": "{ __typename }"}), "application/json", HTTP_X_REQUEST_ID=unsafe
        )
        assert re.fullmatch(r"[0-9a-f]{32}", answered["X-Request-ID"]), unsafe


def test_what_clients_choose_neither_grows_the_labels_nor_forges_log_lines(caplog):
    caplog.set_level(logging.INFO, logger="mana.request")
    before = scrape()
    brewed = Client().generic("BREW", "/graphql/")
    Client().get("/nothing%0A2026-01-01 INFO forged")
    after = scrape()
    other = {"method": "OTHER", "route": "/graphql/", "status": str(brewed.status_code)}
    assert sample(after, "mana_http_requests_total", **other) - sample(before, "mana_http_requests_total", **other) == 1
    assert not any(label == ("method", "BREW") for (_name, labels) in after for label in labels)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "mana.request" and "nothing" in r.getMessage()]
    assert "\n" not in line and line.startswith("GET /nothing?2026-01-01 INFO forged 404")


def test_logging_writes_json_lines_with_the_request_id_when_asked():
    assert django_settings.LOGGING["handlers"]["console"]["filters"] == ["request_id"]
    assert django_settings.LOGGING["formatters"]["json"]["()"] == "pythonjsonlogger.json.JsonFormatter"
    record = logging.LogRecord("mana.graphql", logging.ERROR, __file__, 1, "پایگاه داده در دسترس نیست", (), None)
    record.request_id = "abc"
    line = json.loads(json_formatter().format(record))
    assert line["message"] == "پایگاه داده در دسترس نیست" and line["request_id"] == "abc"
    assert "پایگاه" in json_formatter().format(record)  # Persian as Persian in the logs too


# --- production lock ----------------------------------------------------------------------------

LOCK = ROOT / "requirements.lock"
PRODUCTION_LOCK = ROOT / "requirements.prod.lock"
DEVELOPMENT_TOOLS = {"pytest", "pytest-django", "pytest-asyncio", "ruff", "hypothesis", "hypothesis-graphql", "mutmut"}
DEVELOPMENT_TOOLS |= {"gql", "httpx", "uvicorn", "pip-tools"}


def pins(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", path.read_text(), flags=re.MULTILINE))


def test_the_production_lock_has_hashes_and_no_development_tools():
    text = PRODUCTION_LOCK.read_text()
    requirements = re.split(r"\n(?=[A-Za-z0-9._-]+==)", text.split("\n\n", 1)[1])
    production = pins(PRODUCTION_LOCK)
    assert len(requirements) == len(production) > 30
    for requirement in requirements:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", requirement), requirement.splitlines()[0]
    assert not DEVELOPMENT_TOOLS & set(production)
    assert {"django", "strawberry-graphql", "daphne", "psycopg", "django-cors-headers", "prometheus-client"} <= set(
        production
    )
    # The same versions the suite runs with.
    everything = pins(LOCK)
    assert {name: everything[name] for name in production} == production
    assert DEVELOPMENT_TOOLS - {"pip-tools"} <= set(everything)


# --- a real server --------------------------------------------------------------------------------


def fetch(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": "curl/8.14.1", "Accept": "*/*", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class JsonLoggingDaphne(Daphne):
    """tests/live_server.py's daphne, reading its port from a log written in JSON lines."""

    def _listening_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", self.log.read_text())
            if found:
                return int(found[1])
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not start:\n{self.log.read_text()}")


def test_a_real_server_probes_logs_json_and_sums_metrics_over_workers(tmp_path):
    """Two daphne workers sharing PROMETHEUS_MULTIPROC_DIR, logging JSON, on a database nobody has
    migrated yet: curl shows Persian, /healthz answers and /readyz says what is missing, each
    request is one JSON line on stderr, and either worker's metrics count both workers' work."""
    multiprocess = tmp_path / "prometheus"
    multiprocess.mkdir()
    # The embedded default (a new SQLite file, the in-memory channel layer), never production.
    unset = {"MANA_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"}
    env = {
        **{k: v for k, v in os.environ.items() if k not in unset},
        "DJANGO_SETTINGS_MODULE": "settings",
        "MANA_VAR_DIR": str(tmp_path),
        "MANA_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(multiprocess),
    }
    with JsonLoggingDaphne(env, tmp_path / "1.log") as first, JsonLoggingDaphne(env, tmp_path / "2.log") as second:
        titles = urllib.request.quote("query Titles { periods { title } }")
        status, headers, body = fetch(f"{first.url}?query={titles}")
        assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
        assert "ابتدا وارد سامانه شوید" in body.decode("utf-8") and b"\\u" not in body
        fetch(second.url + "?query=" + urllib.request.quote("query Titles { __typename }"))

        assert fetch(first.base + "/healthz")[0] == 200
        status, headers, body = fetch(second.base + "/readyz")
        assert (status, headers["Retry-After"]) == (503, "5")
        checks = json.loads(body)["checks"]
        assert checks == {"database": "ok", "migrations": "MIGRATIONS_PENDING", "channelLayer": "ok"}

        status, _headers, body = fetch(second.base + "/metrics")
        assert status == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples
        }
        titles = ("mana_graphql_operation_duration_seconds_count", (("operation", "Titles"), ("type", "query")))
        assert samples[titles] == 2  # one answered by each worker
        assert samples[("mana_graphql_errors_total", (("code", "UNAUTHENTICATED"),))] == 1
    lines = [json.loads(line) for line in (tmp_path / "1.log").read_text().splitlines() if line.startswith("{")]
    served = [line for line in lines if line["logger"] == "mana.request"]
    assert len(served) == 1  # the probe is not logged
    assert (served[0]["operation_name"], served[0]["status"], served[0]["method"]) == ("Titles", 200, "GET")
    assert re.fullmatch(r"[0-9a-f]{32}", served[0]["request_id"])
    assert "periods" not in json.dumps(served)  # the query string is not logged
