"""Servers and clients of bench/country.py: starting and stopping daphne, uvicorn and PostGraphile on
loopback ports, signing in through Mana's real endpoint, and timing requests.

Mana runs as in production (``MANA_ENV=production``): its session and CSRF cookies are marked Secure,
so the client keeps cookies itself (a cookie jar would not send Secure cookies over plain http) and
says it came through an HTTPS proxy (``X-Forwarded-Proto: https``, which settings trust), with the
matching ``Origin`` for Django's CSRF check of secure requests.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# What a server with CAPTCHA_TEST_MODE=1 accepts for any key.
PASSED = {"key": "-", "value": "PASSED"}

BENCH = Path(__file__).resolve().parent
MANA_APPLICATION = "bench-country-mana"
POSTGRAPHILE_APPLICATION = "bench-country-postgraphile"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One server process (its own process group), with its log in ``log_dir``."""

    def __init__(self, name: str, argv: list[str], *, env: dict, cwd: Path, port: int, log_dir: Path) -> None:
        self.name, self.argv, self.env, self.cwd, self.port = name, argv, env, cwd, port
        self.log_path = log_dir / f"{name}-{port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe: Callable[[str], bool], timeout: float = 120) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if probe(self.url):
                    return
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def rss_kib(self) -> int:
        """Resident set size of the server process (VmRSS of /proc/<pid>/status), in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def problems(self, limit: int = 5) -> list[str]:
        """The last line of each distinct traceback (or error line) in the server's log."""
        found: list[str] = []
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return found
        for index, line in enumerate(lines):
            ends_traceback = line and not line[0].isspace() and index > 0 and lines[index - 1].startswith("  ")
            if (ends_traceback and ("Error" in line or "Exception" in line)) or line.startswith("ERROR"):
                text = line.strip()[:300]
                if text not in found:
                    found.append(text)
        return found[-limit:]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def mana_env(python_env: dict, database_url: str, var_dir: Path, extra: dict) -> dict:
    env = dict(python_env)
    env.update(
        {
            "MANA_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # No TLS in front of it here: the client says it came through an HTTPS proxy instead.
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "MANA_VAR_DIR": str(var_dir),
            "MANA_STATIC_ROOT": str(var_dir / "static"),
            "MANA_PRIVATE_MEDIA_ROOT": str(var_dir / "private"),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("REDIS_URL", None)
    # Names its PostgreSQL connections, so that queries of requests cut off can be cancelled.
    env["PGAPPNAME"] = MANA_APPLICATION
    env.update(extra)
    return env


def mana_server(kind: str, *, python: str, app_dir: Path, env: dict, log_dir: Path) -> Server:
    port = free_port()
    if kind == "daphne":
        argv = [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "settings.asgi:application"]
    elif kind == "uvicorn":
        argv = [
            python,
            "-m",
            "uvicorn",
            "settings.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--lifespan",
            "off",
            "--ws",
            "none",
            "--log-level",
            "warning",
        ]
    else:
        raise ValueError(kind)
    server = Server(f"mana-{kind}", argv, env=env, cwd=app_dir, port=port, log_dir=log_dir)
    server.start(_probe_mana)
    return server


def postgraphile_server(database_url: str, log_dir: Path) -> Server:
    port = free_port()
    argv = ["node", str(BENCH / "postgraphile_server.js"), database_url, str(port)]
    env = {**os.environ, "PGAPPNAME": POSTGRAPHILE_APPLICATION}
    server = Server("postgraphile", argv, env=env, cwd=BENCH, port=port, log_dir=log_dir)
    server.start(_probe_postgraphile)
    return server


def _probe_mana(url: str) -> bool:
    response = httpx.get(f"{url}/graphql/", headers={"Accept": "text/html", "X-Forwarded-Proto": "https"}, timeout=5)
    return response.status_code < 500


def _probe_postgraphile(url: str) -> bool:
    response = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=5)
    return response.status_code == 200


# --- requests --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    ms: float
    status: int = 0
    error: str | None = None
    body: dict | None = None


class CutOff(Exception):
    pass


class Endpoint:
    """A GraphQL endpoint with its own client state (cookies for Mana); shares the connection pool."""

    def __init__(self, client: httpx.AsyncClient, base: str, path: str, timeout: float) -> None:
        self.client, self.base, self.path, self.timeout = client, base, path, timeout
        self.cookies: dict[str, str] = {}

    def _headers(self) -> dict:
        return {}

    def _absorb(self, response: httpx.Response) -> None:
        pass

    async def post(self, query: str, variables: dict | None = None) -> Outcome:
        body = {"query": query, "variables": variables or {}}
        started = time.perf_counter()
        try:
            response = await self.client.post(
                self.base + self.path, json=body, headers=self._headers(), timeout=self.timeout
            )
        except httpx.TimeoutException:
            return Outcome(False, self.timeout * 1000, error=f"> {self.timeout:.0f} s (cut off)")
        except httpx.HTTPError as error:
            return Outcome(False, (time.perf_counter() - started) * 1000, error=f"{type(error).__name__}: {error}")
        ms = (time.perf_counter() - started) * 1000
        self._absorb(response)
        try:
            payload = response.json()
        except ValueError:
            text = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())[:160]
            return Outcome(False, ms, response.status_code, f"HTTP {response.status_code}: {text}")
        if response.status_code != 200 or payload.get("errors"):
            errors = payload.get("errors") or [{}]
            message = errors[0].get("message", "")
            code = (errors[0].get("extensions") or {}).get("code", "")
            error = f"HTTP {response.status_code} {code} {message}"[:300]
            return Outcome(False, ms, response.status_code, error, payload)
        return Outcome(True, ms, response.status_code, body=payload)


class PostGraphile(Endpoint):
    def __init__(self, client: httpx.AsyncClient, base: str, timeout: float) -> None:
        super().__init__(client, base, "/graphql", timeout)


def captcha_answer(database_url: str, key: str) -> str:
    """The answer to a captcha, read from the server's database: the benchmark's servers run in
    production configuration, where CAPTCHA_TEST_MODE is refused, and a person would read the image."""
    query = "SELECT response FROM captcha_captchastore WHERE hashkey = "
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return conn.execute(query + "?", (key,)).fetchone()[0]
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(query + "%s", (key,)).fetchone()[0]


class ManaSession(Endpoint):
    """A signed-in person: session and CSRF cookies kept here, sent by hand."""

    def __init__(self, client: httpx.AsyncClient, base: str, timeout: float, database_url: str | None = None) -> None:
        super().__init__(client, base, "/graphql/", timeout)
        self.host = base.removeprefix("http://")
        # Where captcha answers are read from; None: the server runs with CAPTCHA_TEST_MODE=1.
        self.database_url = database_url

    def _headers(self) -> dict:
        headers = {"X-Forwarded-Proto": "https", "Origin": f"https://{self.host}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        return headers

    def _absorb(self, response: httpx.Response) -> None:
        for raw in response.headers.get_list("set-cookie"):
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            attributes = rest.lower()
            if value in ("", '""') or "max-age=0" in attributes:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    async def login(self, national_code: str, password: str) -> Outcome:
        # A GET asking for HTML hands out the csrftoken cookie (ensure_csrf_cookie on /graphql/).
        response = await self.client.get(
            self.base + self.path, headers={**self._headers(), "Accept": "text/html"}, timeout=self.timeout
        )
        self._absorb(response)
        if "csrftoken" not in self.cookies:
            raise RuntimeError(f"no csrftoken cookie from GET {self.path}: HTTP {response.status_code}")
        captcha = PASSED
        if self.database_url is not None:
            challenge = await self.post("{ captcha { key } }")
            if not challenge.ok:
                return challenge
            key = challenge.body["data"]["captcha"]["key"]
            captcha = {"key": key, "value": await asyncio.to_thread(captcha_answer, self.database_url, key)}
        outcome = await self.post(
            "mutation($input: LoginInput!) { login(input: $input) { errors { code message } "
            "me { user { nationalCode } } } }",
            {"input": {"nationalCode": national_code, "password": password, "captcha": captcha}},
        )
        if outcome.ok and outcome.body["data"]["login"]["errors"]:
            outcome.ok = False
            outcome.error = str(outcome.body["data"]["login"]["errors"])
        if outcome.ok and "sessionid" not in self.cookies:
            outcome.ok = False
            outcome.error = "signed in but no sessionid cookie came back"
        return outcome


def new_client(connections: int = 64) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(limits=limits, trust_env=False)


# --- measurements ----------------------------------------------------------------------------------


@dataclass
class Side:
    """One side of a comparison: a callable that sends the request, and what it measured."""

    name: str
    send: Callable[[], Awaitable[Outcome]]
    samples: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cut_off: str | None = None
    rps: dict[int, dict] = field(default_factory=dict)
    cut_off_at: int | None = None  # the concurrency level at which requests were cut off

    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def p95(self) -> float | None:
        if len(self.samples) < 2:
            return self.samples[0] if self.samples else None
        return statistics.quantiles(self.samples, n=20, method="inclusive")[-1]


async def interleaved_latency(sides: list[Side], *, repeat: int, warmup: int, budget: float, minimum: int = 5) -> None:
    """Sequential requests, alternating sides (A, B, A, B …); ``warmup`` rounds are not counted.

    A side that times out is cut off (no more requests to it); the loop ends early once ``budget``
    seconds have passed and every side has ``minimum`` samples, and in any case after three times
    ``budget`` (warm-ups are dropped once the budget is spent).
    """
    started = time.monotonic()
    for round_ in range(warmup + repeat):
        spent = time.monotonic() - started
        if spent > 3 * budget or (round_ < warmup and round_ > 0 and spent > budget):
            if round_ >= warmup:
                break
            warmup = round_  # no more warm-ups: count from here
        for side in sides:
            if side.cut_off:
                continue
            outcome = await side.send()
            if outcome.error and "cut off" in outcome.error:
                side.cut_off = outcome.error
                continue
            if round_ < warmup:
                if not outcome.ok:
                    side.errors.append(outcome.error)
                continue
            if outcome.ok:
                side.samples.append(outcome.ms)
            else:
                side.errors.append(outcome.error)
        counted = round_ + 1 - warmup
        if time.monotonic() - started > budget and counted >= minimum:
            break


async def throughput(send, *, concurrency: int, max_requests: int, max_seconds: float) -> dict:
    """Requests per second with ``concurrency`` clients, until ``max_requests`` or ``max_seconds``."""
    issued = 0
    ok = 0
    errors: list[str] = []
    started = time.monotonic()
    deadline = started + max_seconds

    async def worker() -> None:
        nonlocal issued, ok
        while issued < max_requests and time.monotonic() < deadline:
            issued += 1
            outcome = await send()
            if outcome.ok:
                ok += 1
            else:
                errors.append(outcome.error)
                if outcome.error and "cut off" in outcome.error:
                    return

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return {"rps": ok / elapsed if elapsed else 0.0, "ok": ok, "errors": errors, "seconds": elapsed}
