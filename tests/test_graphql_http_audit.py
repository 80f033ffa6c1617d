"""The official GraphQL-over-HTTP audit (npm graphql-http, its serverAudits) against a live server.

A daphne process serves the real ASGI application on 127.0.0.1 (port 0: the system picks a free
one) from a database of its own — a fresh SQLite file, or on PostgreSQL a database named after the
test database's with «_audit» — migrated and given the demo data and one API token. The audit
(tests/conformance/audit.mjs) runs twice: as an integrator (every request with «Authorization:
Bearer …») and as a client with no credentials at all (no cookie, no token, no CSRF token). Every
audit must pass: no MUST failure (error), no SHOULD failure (warning), and no MAY one (notice).

Needs node and npm (CI has node 20): without them this FAILS, it does not skip. The packages come
from tests/conformance/package-lock.json (``npm ci`` when node_modules is missing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "tests" / "conformance"

SEED = """
import django
django.setup()
from models.api_tokens import create_api_token
from models.demo import load_demo
from models.users import RoleAssignment
load_demo()
role = RoleAssignment.objects.filter(user__national_code="0010000070").order_by("id").first()
print(create_api_token(role.user, role, "graphql-http audit", None)[1])
"""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not installed: the GraphQL-over-HTTP audit runs graphql-http under Node.js "
            "(CI installs node 20). Install Node.js 20+ with npm to run this test."
        )
    return path


def audit_script() -> Path:
    """The audit, its packages installed (once: ``npm ci`` when node_modules is missing)."""
    node, npm = _tool("node"), _tool("npm")
    if not (CONFORMANCE / "node_modules" / "graphql-http").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CONFORMANCE, capture_output=True, text=True, timeout=600
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 18, f"node {version}: graphql-http's audit needs fetch (18+)"
    return CONFORMANCE / "audit.mjs"


def _server_environment(tmp_path: Path) -> tuple[dict[str, str], str | None]:
    """The environment of the server's processes, and the PostgreSQL database to drop afterwards."""
    keep = {k: v for k, v in os.environ.items() if k not in {"MANA_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env = {
        **keep,
        "DJANGO_SETTINGS_MODULE": "settings",
        "MANA_VAR_DIR": str(tmp_path),
        # `{ __type(name: …) }` is among the audit's requests: introspection open to anonymous
        # callers (development's default; production's, signed-in, refuses it to them).
        "MANA_INTROSPECTION": "public",
        "MANA_API_TOKEN_RATE": "10000/m",
    }
    url = os.environ.get("DATABASE_URL")
    if not url:
        return env, None
    config = dj_database_url.parse(url)
    name = f"{config['NAME']}_audit"
    _admin_sql(config, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{name}"
    env["REDIS_PREFIX"] = os.environ.get("REDIS_PREFIX", "mana") + "_audit"
    return env, name


def _admin_sql(config: dict, *statements: str) -> None:
    import psycopg

    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        for statement in statements:
            connection.execute(statement)


def _run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def mana_server(tmp_path_factory):
    """(the GraphQL URL, an API token) of a daphne process serving the demo data."""
    tmp_path = tmp_path_factory.mktemp("audit_server")
    env, database = _server_environment(tmp_path)
    process = None
    try:
        _run(env, "manage.py", "migrate", "--noinput")
        secret = _run(env, "-c", SEED).strip().splitlines()[-1]
        log = tmp_path / "daphne.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", "settings.asgi:application"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        port = _listening_port(process, log)
        yield f"http://127.0.0.1:{port}/graphql/", secret
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        if database is not None:
            _admin_sql(
                dj_database_url.parse(os.environ["DATABASE_URL"]), f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
            )


def _listening_port(process: subprocess.Popen, log: Path) -> int:
    """The port daphne bound (it logs «Listening on TCP address 127.0.0.1:PORT»)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if "Listening on TCP address" in line:
                return int(line.rsplit(":", 1)[1])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"daphne did not start:\n{log.read_text()}")


def _audit(script: Path, url: str, token: str | None) -> list[dict]:
    env = {**os.environ, "MANA_AUDIT_URL": url}
    env.pop("MANA_AUDIT_TOKEN", None)
    if token is not None:
        env["MANA_AUDIT_TOKEN"] = token
    result = subprocess.run(
        [shutil.which("node"), script.name], cwd=script.parent, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"the audit did not run:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


def _report(results: list[dict]) -> str:
    return "\n".join(
        f"{r['status'].upper()} {r['id']} {r['name']}: {r['reason']} "
        f"(HTTP {r['httpStatus']}, {r['contentType']}) {r['body'][:300]}"
        for r in results
        if r["status"] != "ok"
    )


@pytest.mark.parametrize("credentials", ["token", "none"])
def test_graphql_over_http_audit(request, credentials):
    # Node first, in the test itself: without it this fails (not errors in a fixture, not skips).
    script = audit_script()
    url, secret = request.getfixturevalue("mana_server")
    results = _audit(script, url, secret if credentials == "token" else None)
    assert len(results) > 50, results  # the whole list ran
    musts = [r for r in results if r["status"] == "error"]
    warnings = [r for r in results if r["status"] == "warn"]
    notices = [r for r in results if r["status"] == "notice"]
    assert not musts and not warnings and not notices, (
        f"{len(musts)} MUST failures, {len(warnings)} warnings, {len(notices)} notices:\n{_report(results)}"
    )
