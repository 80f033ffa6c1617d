"""GraphiQL works on an isolated network: its page loads every file from Mana itself.

The page (schema/graphiql/templates/graphql/graphiql.html) is strawberry's, with the seven CDN
files replaced by the same files under /static/graphiql/ — each checked here against the integrity
hash the page gives it (a browser refuses a script whose hash differs), and against the versions
and hashes of strawberry's own page, whose inline script they must fit.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import strawberry
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "schema" / "graphiql" / "static" / "graphiql"
STRAWBERRY_PAGE = Path(strawberry.__file__).parent / "static" / "graphiql.html"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}

pytestmark = pytest.mark.django_db


class References(HTMLParser):
    """Every src and href of the page, with the integrity hash given beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name) is not None:
                self.found.append((tag, attributes[name], attributes.get("integrity")))


def graphiql_page() -> str:
    response = Client().get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


def references() -> list[tuple[str, str, str | None]]:
    parser = References()
    parser.feed(graphiql_page())
    return parser.found


def local_files() -> list[tuple[str, str]]:
    """(address, integrity) of each file the page loads (not the inline data: icon)."""
    return [(url, integrity) for _tag, url, integrity in references() if not url.startswith("data:")]


def integrity_of(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def test_the_page_references_no_outside_host():
    found = references()
    assert len(found) == 8  # the icon, and the seven files strawberry's page loads from a CDN
    for _tag, url, _integrity in found:
        parts = urlsplit(url)
        if parts.scheme == "data":
            continue  # inline: the icon
        assert (parts.scheme, parts.netloc) == ("", ""), url
        assert url.startswith("/static/graphiql/"), url
    page = graphiql_page()
    for outside in ("unpkg.com", "jsdelivr", "cdnjs", "googleapis", "//cdn"):
        assert outside not in page


def test_every_file_the_page_loads_is_served_with_its_type_and_pinned_hash():
    files = local_files()
    assert len(files) == 7
    client = Client()
    for url, integrity in files:
        response = client.get(url)
        assert response.status_code == 200, url
        suffix = Path(unquote(urlsplit(url).path)).suffix
        assert response["Content-Type"].split(";")[0] == CONTENT_TYPES[suffix], url
        content = b"".join(response.streaming_content)
        assert integrity is not None and integrity_of(content) == integrity, url


def test_the_files_are_the_ones_strawberrys_page_pins():
    """Same packages, versions, paths and hashes as the installed strawberry's page: its inline
    script is written for them. After upgrading strawberry, copy its versions and hashes into
    Mana's page and run `make graphiql`."""
    theirs = dict(
        re.findall(r'(?:src|href)="https://unpkg\.com/([^"]+)"\s*integrity="([^"]+)"', STRAWBERRY_PAGE.read_text())
    )
    ours = {unquote(url).removeprefix("/static/graphiql/"): integrity for url, integrity in local_files()}
    assert ours == theirs


def test_the_static_folder_holds_what_the_page_loads_and_the_licenses():
    loaded = {unquote(url).removeprefix("/static/graphiql/") for url, _ in local_files()}
    on_disk = {path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*") if path.is_file()}
    notices = {path for path in on_disk if path.rsplit("/", 1)[-1] in {"LICENSE", "package.json"}}
    assert on_disk - notices == loaded
    assert {path.rsplit("/", 1)[0] for path in notices} == {
        "react@18.2.0",
        "react-dom@18.2.0",
        "js-cookie@3.0.5",
        "graphiql@3.8.3",
        "@graphiql/plugin-explorer@1.0.2",
    }


def test_production_neither_serves_graphiql_nor_collects_its_files(tmp_path):
    """Production has no GraphiQL; its manifest storage would also refuse the files' missing
    source maps. collectstatic runs clean there, without them."""
    unset = {"DEBUG", "SECRET_KEY", "MANA_ENV", "ALLOWED_HOSTS", "CAPTCHA_TEST_MODE"}
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(
        MANA_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="mana.example.ir",
        MANA_STATIC_ROOT=str(tmp_path),
    )
    probe = (
        "import django; django.setup(); from django.conf import settings; from django.core.management import "
        "call_command; call_command('collectstatic', '--noinput', verbosity=0); "
        "print(settings.MANA['GRAPHIQL'], settings.STATICFILES_DIRS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False []"
    assert (tmp_path / "admin" / "css" / "base.css").exists()
    assert not (tmp_path / "graphiql").exists()
