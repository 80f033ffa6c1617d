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
from pathlib import Path

import pytest

from tests.live_server import ROOT, Daphne, ServerDatabase, npm_packages, tool

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


def audit_script() -> Path:
    """The audit, its packages installed (once: ``npm ci`` when node_modules is missing)."""
    node = tool("node")
    npm_packages(CONFORMANCE, "graphql-http")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 18, f"node {version}: graphql-http's audit needs fetch (18+)"
    return CONFORMANCE / "audit.mjs"


@pytest.fixture(scope="module")
def mana_server(tmp_path_factory):
    """(the GraphQL URL, an API token) of a daphne process serving the demo data."""
    tmp_path = tmp_path_factory.mktemp("audit_server")
    # `{ __type(name: …) }` is among the audit's requests: introspection open to anonymous callers
    # (development's default; production's, signed-in, refuses it to them).
    extra = {"MANA_INTROSPECTION": "public", "MANA_API_TOKEN_RATE": "10000/m"}
    with ServerDatabase(tmp_path, "audit", extra) as database:
        secret = database.run("-c", SEED).strip().splitlines()[-1]
        with Daphne(database.env, tmp_path / "daphne.log") as server:
            yield server.url, secret


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
