"""Real server processes for the tests that need them: daphne serving ``settings.asgi:application``
on 127.0.0.1 (port 0: the system picks a free one), from a database of their own.

The database is a fresh SQLite file, or on PostgreSQL one named after the test database's with a
suffix (dropped before and after), so the servers never see the test process's transactions and
the test process never sees theirs. The servers inherit the test environment (CAPTCHA_TEST_MODE
among it) minus anything that would make them production.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> str:
    """A program the test cannot do without (node, npm): missing, the test FAILS, it does not skip."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed; this test runs it (CI installs Node.js 20). Install Node.js 20+.")
    return path


def npm_packages(directory: Path, marker: str) -> None:
    """``npm ci`` in ``directory`` once (when node_modules/<marker> is missing)."""
    if (directory / "node_modules" / marker).is_dir():
        return
    installed = subprocess.run(
        [tool("npm"), "ci", "--no-audit", "--no-fund"], cwd=directory, capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"


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


class ServerDatabase:
    """The environment of a set of server processes and the database they share.

    ``with ServerDatabase(tmp_path, "audit", {...}) as database:`` migrates it; ``database.run``
    runs manage.py or a ``-c`` script in that environment; on exit a PostgreSQL database is dropped.
    """

    def __init__(self, tmp_path: Path, suffix: str, extra: dict[str, str] | None = None) -> None:
        self.tmp_path = tmp_path
        keep = {k: v for k, v in os.environ.items() if k not in {"MANA_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
        self.env = {**keep, "DJANGO_SETTINGS_MODULE": "settings", "MANA_VAR_DIR": str(tmp_path), **(extra or {})}
        self.postgres_name: str | None = None
        url = os.environ.get("DATABASE_URL")
        if url:
            self.postgres_name = f"{dj_database_url.parse(url)['NAME']}_{suffix}"
            self.env["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{self.postgres_name}"
        # The servers' cache and channel-layer keys apart from the test process's (same Redis).
        self.env["REDIS_PREFIX"] = os.environ.get("REDIS_PREFIX", "mana") + f"_{suffix}"

    def __enter__(self) -> ServerDatabase:
        self._drop_and(f'CREATE DATABASE "{self.postgres_name}"')
        self.run("manage.py", "migrate", "--noinput")
        return self

    def __exit__(self, *exc) -> None:
        self._drop_and()

    def _drop_and(self, *statements: str) -> None:
        if self.postgres_name is not None:
            drop = f'DROP DATABASE IF EXISTS "{self.postgres_name}" WITH (FORCE)'
            _admin_sql(dj_database_url.parse(os.environ["DATABASE_URL"]), drop, *statements)

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        environment = {**self.env, **(env or {})}
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"{args[:2]}:\n{result.stdout}\n{result.stderr}"
        return result.stdout


class Daphne:
    """One daphne process in ``env``; ``url`` once it listens. Stopped by ``stop()`` (or the with-block)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", "settings.asgi:application"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            self.port = self._listening_port()
        except BaseException:
            self.stop()
            raise
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/graphql/"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql/"

    def _listening_port(self) -> int:
        """The port daphne bound (it logs «Listening on TCP address 127.0.0.1:PORT»)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines():
                if "Listening on TCP address" in line:
                    return int(line.rsplit(":", 1)[1])
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def __enter__(self) -> Daphne:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def daphnes(env: dict[str, str], log_dir: Path, count: int):
    """``count`` daphne processes sharing ``env`` (and so the database and the channel layer)."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(Daphne(env, log_dir / f"daphne-{n}.log")) for n in range(count)]
