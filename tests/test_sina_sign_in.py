"""Sina sign-in of main leaders (OpenID Connect), against a stub provider started in the test.

The stub (http.server on 127.0.0.1, port 0, in a thread) implements the token, userinfo and JWKS
endpoints and signs its id_tokens with an RSA key made for the run. Its authorization endpoint is
never visited: a test reads the state, nonce and PKCE challenge from Mana's redirect, has the stub
issue a code for them, and comes back to the callback as the browser would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.test import Client

from models.organization import Organization
from models.roles import Role
from models.users import RoleAssignment, User
from permissions.viewer import ACTIVE_ROLE_SESSION_KEY
from tests.conftest import GraphQLClient

ALI = "0010000021"  # علی محمدی, MAIN_LEADER of وزارت نیرو
FATEMEH = "0032054009"  # فاطمه فرهاد, SELF_EVALUATOR
UNKNOWN = "0012345679"  # a valid national code nobody in the demo has
CLIENT_ID = "mana-test-client"
CLIENT_SECRET = "sina-client-secret-" + secrets.token_hex(16)
ME = "query { me { user { nationalCode firstName lastName } activeRole { role organization { name } } } }"

pytestmark = pytest.mark.django_db


class StubProvider:
    """A tiny OpenID provider. ``issue`` registers a code; the endpoints answer as ``mode`` says."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "stub-key-1"
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.issued: list[str] = []  # every code, access token and id_token handed out
        self.token_requests: list[dict] = []
        self.mode = "ok"
        self.sleep = 0.0
        self.userinfo_claims: dict | None = None  # overrides what userinfo says
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet: the test's output is the test's
                pass

            def _json(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/jwks":
                    return self._json(200, {"keys": [stub.public_jwk()]})
                if self.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    claims = stub.access_tokens.get(token)
                    if claims is None:
                        return self._json(401, {"error": "invalid_token"})
                    return self._json(200, stub.userinfo_claims or claims)
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                stub.token_requests.append(form)
                if self.path != "/token":
                    return self._json(404, {"error": "not_found"})
                if stub.sleep:
                    time.sleep(stub.sleep)
                if stub.mode == "500":
                    # A provider that echoes what it was sent: none of it may reach Mana's logs.
                    return self._json(500, {"error": "server_error", "echo": form})
                return self._json(*stub.exchange(form))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # a client that gave up (timeout) is no news
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def public_jwk(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def issue(self, authorize: dict, national_code, **extra_claims) -> str:
        """A code for this authorization request (its query), the person named by national code."""
        code = "code-" + secrets.token_urlsafe(16)
        claims = {"sub": f"sina-{national_code}", "national_code": national_code, **extra_claims}
        self.codes[code] = {"authorize": authorize, "claims": claims}
        self.issued.append(code)
        return code

    def exchange(self, form: dict) -> tuple[int, dict]:
        """The token endpoint: the code, the client and (PKCE) the verifier are checked as a provider would."""
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 400, {"error": "invalid_grant"}
        authorize = grant["authorize"]
        if form.get("redirect_uri") != authorize["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != authorize.get("code_challenge"):
            return 400, {"error": "invalid_grant"}
        claims = grant["claims"]
        now = int(time.time())
        id_claims = {
            "iss": self.base,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": authorize["nonce"],
            **claims,
        }
        key, kid = self.key, self.kid
        if self.mode == "bad_signature":
            key = self.other_key  # signed by someone else, under Sina's key id
        if self.mode == "wrong_nonce":
            id_claims["nonce"] = "a-nonce-of-another-sign-in"
        if self.mode == "other_audience":
            id_claims["aud"] = "another-client"
        if self.mode == "expired":
            id_claims["exp"] = now - 60
        if self.mode == "hs256":
            id_token = jwt.encode(id_claims, CLIENT_SECRET, algorithm="HS256")
        else:
            id_token = jwt.encode(id_claims, key, algorithm="RS256", headers={"kid": kid})
        access_token = "access-" + secrets.token_urlsafe(16)
        self.access_tokens[access_token] = claims
        self.issued += [access_token, id_token]
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}


@pytest.fixture(scope="module")
def provider():
    stub = StubProvider()
    yield stub
    stub.close()


@pytest.fixture
def sina(provider, settings):
    """Sina switched on against the stub (each test starts with a well-behaved provider)."""
    provider.mode, provider.sleep, provider.userinfo_claims = "ok", 0.0, None
    provider.token_requests.clear()
    settings.MANA_SINA_ENABLED = True
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.base}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.base}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider.base}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider.base}/jwks"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_TIMEOUT = 5
    settings.OIDC_USE_PKCE = True
    settings.MANA_SINA_ISSUER = provider.base
    settings.MANA_SINA_LOGIN_REDIRECT_URL = "https://mana.example.ir/dashboard"
    settings.MANA_SINA_FAILURE_REDIRECT_URL = "https://mana.example.ir/login?from=sina"
    return provider


@pytest.fixture(autouse=True)
def direct_connections(monkeypatch):
    # The stub is on 127.0.0.1: an HTTP(S)_PROXY in the environment must not be asked for it.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def start(client: Client) -> dict:
    """GET /auth/sina/start/: the authorization request Mana sends the browser with, as a dict."""
    response = client.get("/auth/sina/start/")
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == django_settings.OIDC_OP_AUTHORIZATION_ENDPOINT
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def callback(client: Client, **params):
    return client.get("/auth/sina/callback/", params)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def error_of(response) -> str:
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://mana.example.ir/login"
    query = parse_qs(location.query)
    assert query["from"] == ["sina"]  # the failure URL's own query is kept
    return query["error"][0]


def snapshot() -> list[tuple]:
    return list(User.objects.order_by("pk").values_list())


def assert_no_secrets(logs, provider: StubProvider, *more: str) -> None:
    text = logs.text + "".join(str(r.args) for r in logs.records)
    for secret in [CLIENT_SECRET, *provider.issued, *more]:
        assert secret not in text


# ---------------------------------------------------------------------------------------------
# The whole flow


def test_main_leader_signs_in_through_sina(demo, sina, logs):
    client = Client()
    authorize = start(client)
    assert authorize["response_type"] == "code"
    assert authorize["client_id"] == CLIENT_ID
    assert authorize["redirect_uri"] == "http://testserver/auth/sina/callback/"
    assert authorize["scope"] == django_settings.OIDC_RP_SCOPES
    assert len(authorize["state"]) >= 32 and len(authorize["nonce"]) >= 32
    assert authorize["code_challenge_method"] == "S256"
    assert not signed_in(client)

    code = sina.issue(authorize, ALI)
    response = callback(client, code=code, state=authorize["state"])

    assert response.status_code == 302
    assert response["Location"] == "https://mana.example.ir/dashboard"
    ali = User.objects.get(national_code=ALI)
    main_leader = RoleAssignment.objects.get(user=ali, role=Role.MAIN_LEADER)
    assert client.session["_auth_user_id"] == str(ali.pk)
    assert client.session["_auth_user_backend"] == "integrations.sina.SinaBackend"
    assert client.session[ACTIVE_ROLE_SESSION_KEY] == main_leader.pk
    # The client secret went to the token endpoint, the code once.
    (exchange,) = sina.token_requests
    assert exchange["client_secret"] == CLIENT_SECRET and exchange["code"] == code

    me = GraphQLClient(client).data(ME)["me"]
    assert me["user"] == {"nationalCode": ALI, "firstName": "علی", "lastName": "محمدی"}
    assert me["activeRole"] == {"role": "MAIN_LEADER", "organization": {"name": "وزارت نیرو"}}
    assert_no_secrets(logs, sina, authorize["state"], authorize["nonce"])


def test_the_state_is_good_once(demo, sina, logs):
    client = Client()
    authorize = start(client)
    callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert signed_in(client)
    GraphQLClient(client).data("mutation { logout { errors { code } } }")

    replay = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert error_of(replay) == "SINA_STATE_MISMATCH"
    assert not signed_in(client)


def test_next_on_this_host_is_where_the_browser_returns(demo, sina):
    client = Client()
    response = client.get("/auth/sina/start/", {"next": "/graphql/"})
    authorize = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert response["Location"] == "/graphql/"


def test_next_elsewhere_is_ignored(demo, sina):
    client = Client()
    response = client.get("/auth/sina/start/", {"next": "https://evil.example.com/"})
    authorize = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert response["Location"] == "https://mana.example.ir/dashboard"


def test_national_code_in_persian_digits_from_the_id_token_alone(demo, sina, settings):
    settings.OIDC_OP_USER_ENDPOINT = ""  # no userinfo call: the id_token's claims are used
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, "۰۰۱۰۰۰۰۰۲۱"), state=authorize["state"])
    assert response["Location"] == "https://mana.example.ir/dashboard"
    assert client.session["_auth_user_id"] == str(User.objects.get(national_code=ALI).pk)


def test_national_code_claim_is_configurable(demo, sina, settings):
    settings.MANA_SINA_NATIONAL_CODE_CLAIM = "nin"
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, UNKNOWN, nin=ALI), state=authorize["state"])
    assert response["Location"] == "https://mana.example.ir/dashboard"
    assert signed_in(client)


def test_hs256_with_the_client_secret(demo, sina, settings):
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.OIDC_OP_JWKS_ENDPOINT = ""
    sina.mode = "hs256"
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert response["Location"] == "https://mana.example.ir/dashboard"
    assert signed_in(client)


def test_a_main_leader_with_several_roles_acts_as_main_leader(demo, sina):
    # Their first role (by id, what a password sign-in starts in) is another one.
    person = User.objects.create_user(UNKNOWN, first_name="رضا", last_name="نوری")
    for role, unit in ((Role.SELF_EVALUATOR, "MOE-HQ"), (Role.MAIN_LEADER, "MOA")):
        RoleAssignment.objects.create(user=person, role=role, organization=Organization.objects.get(code=unit))
    client = Client()
    authorize = start(client)
    callback(client, code=sina.issue(authorize, UNKNOWN), state=authorize["state"])
    me = GraphQLClient(client).data(ME)["me"]
    assert me["activeRole"] == {"role": "MAIN_LEADER", "organization": {"name": "وزارت جهاد کشاورزی"}}


# ---------------------------------------------------------------------------------------------
# Refusals: each ends at the failure URL with its code, nobody signed in, nothing changed


@pytest.mark.parametrize(
    ("who", "mode", "expected"),
    [
        (UNKNOWN, "ok", "SINA_UNKNOWN_USER"),
        (FATEMEH, "ok", "SINA_NOT_MAIN_LEADER"),
        (ALI, "bad_signature", "SINA_INVALID_TOKEN"),
        (ALI, "wrong_nonce", "SINA_NONCE_MISMATCH"),
        (ALI, "other_audience", "SINA_INVALID_TOKEN"),
        (ALI, "expired", "SINA_INVALID_TOKEN"),
        (ALI, "500", "SINA_UNAVAILABLE"),
        ("not-a-code", "ok", "SINA_NATIONAL_CODE_MISSING"),
    ],
)
def test_refused(demo, sina, logs, who, mode, expected):
    sina.mode = mode
    before = snapshot()
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, who), state=authorize["state"])
    assert error_of(response) == expected
    assert not signed_in(client)
    assert ACTIVE_ROLE_SESSION_KEY not in client.session
    assert snapshot() == before
    assert GraphQLClient(client).error_codes(ME) == ["UNAUTHENTICATED"]
    assert f"Sina sign-in refused: {expected}" in logs.text
    assert_no_secrets(logs, sina, authorize["state"], authorize["nonce"])


def test_deactivated_main_leader(demo, sina, logs):
    User.objects.filter(national_code=ALI).update(is_active=False)
    before = snapshot()
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert error_of(response) == "SINA_USER_INACTIVE"
    assert not signed_in(client)
    assert snapshot() == before


def test_wrong_state_never_reaches_the_provider(demo, sina, logs):
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, ALI), state="forged-" + authorize["state"])
    assert error_of(response) == "SINA_STATE_MISMATCH"
    assert sina.token_requests == []
    assert not signed_in(client)
    # The genuine sign-in is still open: a forged callback does not spoil it.
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert response["Location"] == "https://mana.example.ir/dashboard"


def test_callback_without_a_started_sign_in(demo, sina):
    response = callback(Client(), code="whatever", state="whatever")
    assert error_of(response) == "SINA_STATE_MISMATCH"


def test_provider_error_access_denied(demo, sina, logs):
    client = Client()
    authorize = start(client)
    response = callback(client, error="access_denied", error_description="user cancelled", state=authorize["state"])
    assert error_of(response) == "SINA_ACCESS_DENIED"
    assert sina.token_requests == []
    assert not signed_in(client)
    # The state was used up by the refusal.
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert error_of(response) == "SINA_STATE_MISMATCH"


def test_other_provider_error(demo, sina):
    client = Client()
    authorize = start(client)
    response = callback(client, error="temporarily_unavailable", state=authorize["state"])
    assert error_of(response) == "SINA_PROVIDER_ERROR"


def test_callback_without_code(demo, sina):
    client = Client()
    authorize = start(client)
    assert error_of(callback(client, state=authorize["state"])) == "SINA_PROVIDER_ERROR"


def test_token_endpoint_timing_out(demo, sina, settings, logs):
    settings.OIDC_TIMEOUT = 0.2
    sina.sleep = 1.0
    client = Client()
    authorize = start(client)
    began = time.monotonic()
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert time.monotonic() - began < 1.0
    assert error_of(response) == "SINA_TIMEOUT"
    assert not signed_in(client)
    assert_no_secrets(logs, sina)


def test_token_endpoint_down(demo, sina, settings, logs):
    # A port nothing listens on (taken and released at once).
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{port}/token"
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert error_of(response) == "SINA_UNAVAILABLE"
    assert_no_secrets(logs, sina)


def test_userinfo_about_someone_else_is_refused(demo, sina):
    sina.userinfo_claims = {"sub": "sina-somebody-else", "national_code": ALI}
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, FATEMEH), state=authorize["state"])
    assert error_of(response) == "SINA_INVALID_TOKEN"
    assert not signed_in(client)


def test_an_unexpected_failure_is_still_a_coded_redirect(demo, sina, logs, monkeypatch):
    import integrations.sina

    def broken(national_code):
        raise RuntimeError(f"bug while handling {last_code[0]}")

    last_code = []
    monkeypatch.setattr(integrations.sina, "admit", broken)
    client = Client()
    authorize = start(client)
    last_code.append(sina.issue(authorize, ALI))
    response = callback(client, code=last_code[0], state=authorize["state"])
    assert error_of(response) == "SINA_FAILED"
    assert not signed_in(client)
    assert "RuntimeError: bug while handling ***" in logs.text
    assert_no_secrets(logs, sina)


def test_failed_sign_in_ends_an_earlier_session(demo, sina):
    client = Client()
    gql = GraphQLClient(client)
    authorize = start(client)
    callback(client, code=sina.issue(authorize, ALI), state=authorize["state"])
    assert signed_in(client)
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, FATEMEH), state=authorize["state"])
    assert error_of(response) == "SINA_NOT_MAIN_LEADER"
    assert not signed_in(client)
    assert gql.error_codes(ME) == ["UNAUTHENTICATED"]


def test_password_sign_in_is_not_affected(demo, sina, gql):
    """The Sina backend is listed last: Django's authenticate() never tries it for a password."""
    gql.login(FATEMEH)
    assert gql.data(ME)["me"]["activeRole"]["role"] == "SELF_EVALUATOR"
    assert sina.token_requests == []


# ---------------------------------------------------------------------------------------------
# The failure page, the switch, and the GraphQL field


def test_default_failure_page_says_why_in_persian(demo, sina, settings):
    settings.MANA_SINA_FAILURE_REDIRECT_URL = "/auth/sina/failed/"
    client = Client()
    authorize = start(client)
    response = callback(client, code=sina.issue(authorize, FATEMEH), state=authorize["state"])
    assert response["Location"] == "/auth/sina/failed/?error=SINA_NOT_MAIN_LEADER"
    page = client.get(response["Location"]).content.decode()
    assert "فقط برای راهبران اصلی" in page and "SINA_NOT_MAIN_LEADER" in page
    # Whatever the address says, the page says only what Mana wrote.
    page = client.get("/auth/sina/failed/", {"error": "<script>alert(1)</script>"}).content.decode()
    assert "<script>" not in page and "SINA_FAILED" in page


def test_disabled_answers_a_coded_404(demo, settings):
    settings.MANA_SINA_ENABLED = False
    for path in ("/auth/sina/start/", "/auth/sina/callback/?code=x&state=y"):
        response = Client().get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "SINA_DISABLED"


def test_enabled_but_unconfigured_is_disabled(demo, sina, settings):
    settings.OIDC_OP_JWKS_ENDPOINT = ""
    assert Client().get("/auth/sina/start/").status_code == 404
    assert GraphQLClient().data("{ sinaSignIn { url } }") == {"sinaSignIn": None}


def test_graphql_offers_the_start_url_to_anyone(demo, sina):
    data = GraphQLClient().data("{ sinaSignIn { url } }")
    assert data == {"sinaSignIn": {"url": "http://testserver/auth/sina/start/"}}


@pytest.mark.django_db(transaction=True)
async def test_graphql_offers_the_start_url_over_websocket(sina):
    from channels.testing import WebsocketCommunicator

    from settings.asgi import application

    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    communicator = WebsocketCommunicator(
        application, "/graphql/", subprotocols=["graphql-transport-ws"], headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "connection_init"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
    await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": "{ sinaSignIn { url } }"}})
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert message["payload"] == {"data": {"sinaSignIn": {"url": "http://localhost/auth/sina/start/"}}}


def test_graphql_field_is_null_when_disabled(demo, settings):
    settings.MANA_SINA_ENABLED = False
    assert GraphQLClient().data("{ sinaSignIn { url } }") == {"sinaSignIn": None}


# ---------------------------------------------------------------------------------------------
# Production refuses to start half-configured

ROOT = Path(__file__).resolve().parent.parent


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    skip = ("SINA_", "MANA_SINA_", "DEBUG", "MANA_ENV", "CAPTCHA_TEST_MODE")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    base = {"MANA_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "mana.example.ir"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**keep, **base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_sina_without_its_settings():
    result = _check({"MANA_SINA_ENABLED": "1", "SINA_OIDC_CLIENT_SECRET": CLIENT_SECRET})
    assert result.returncode != 0
    assert "MANA_SINA_ENABLED=1 in production needs SINA_OIDC_AUTHORIZATION_ENDPOINT" in result.stderr
    assert "SINA_OIDC_JWKS_ENDPOINT" in result.stderr
    assert CLIENT_SECRET not in result.stderr + result.stdout


def test_production_starts_with_sina_configured():
    endpoints = {
        "SINA_OIDC_AUTHORIZATION_ENDPOINT": "https://sso.example.ir/authorize",
        "SINA_OIDC_TOKEN_ENDPOINT": "https://sso.example.ir/token",
        "SINA_OIDC_USERINFO_ENDPOINT": "https://sso.example.ir/userinfo",
        "SINA_OIDC_JWKS_ENDPOINT": "https://sso.example.ir/jwks",
        "SINA_OIDC_CLIENT_ID": CLIENT_ID,
        "SINA_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }
    result = _check({"MANA_SINA_ENABLED": "1", **endpoints})
    assert result.returncode == 0, result.stderr
    plain = _check({"MANA_SINA_ENABLED": "1", **endpoints, "SINA_OIDC_TOKEN_ENDPOINT": "http://sso.example.ir/token"})
    assert "needs https:// addresses: SINA_OIDC_TOKEN_ENDPOINT" in plain.stderr
