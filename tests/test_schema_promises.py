"""Promises the schema makes to clients generated from it (docs/scalars.md), kept as it grows.

* Every custom scalar of the printed schema has a description and a ``specifiedByURL``; one that
  names a file of this repository names a file and a heading that exist.
* A field whose name says it is a set of named values (…Action, …Status, …Kind, …Rule) is an
  enum, never a String.
* In a broad read — the demo walked through every field of every type (tests/test_every_field.py's
  story) — every Decimal is in its one canonical form, every DateTime and JalaliDate in theirs, and
  every address (``url``, ``…Url``) is absolute.
* A number reads the same in the payload that saved it and in a later read; an address is built
  from MANA_PUBLIC_URL when set, else from the request (proxy headers included), over WebSocket too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from channels.testing import WebsocketCommunicator
from graphql import (
    GraphQLSchema,
    build_schema,
    get_named_type,
    is_input_object_type,
    is_interface_type,
    is_object_type,
    is_scalar_type,
    specified_scalar_types,
)

from models.referrals import Evidence
from schema.ids import encode_global_id
from schema.scalars import CANONICAL_DECIMAL, canonical_decimal
from schema.schema import schema
from tests import test_every_field
from tests.test_every_field import private_root, sina_on, story  # noqa: F401  (fixtures of the broad read)
from tests.test_workflow_evidence import PDF
from tests.workflow_helpers import REFERRAL, SAVE, build_chain, upload

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
BUILT_IN = set(specified_scalar_types)  # String, Int, Float, Boolean, ID
# Names that say "one of a fixed set": such a field is an enum, never a free String.
ENUM_LIKE = re.compile(r"(?:^|[a-z])(?:action|status|kind|rule)s?$", re.IGNORECASE)
JALALI_DATE = re.compile(r"\d{4}/\d{2}/\d{2}", re.ASCII)
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)


def printed_schema() -> GraphQLSchema:
    """The schema as a client sees it: its SDL, printed and read back."""
    return build_schema(schema.as_str())


# --- the SDL ---------------------------------------------------------------------------------


def test_every_custom_scalar_says_its_format_and_its_specification():
    scalars = [t for t in printed_schema().type_map.values() if is_scalar_type(t) and t.name not in BUILT_IN]
    assert {s.name for s in scalars} >= {"JalaliDate", "Decimal", "DateTime", "Upload"}
    for scalar in scalars:
        assert scalar.description and len(scalar.description) >= 80, f"{scalar.name}: describe its exact format"
        url = scalar.specified_by_url
        assert url, f"{scalar.name} has no specifiedByURL"
        if urlsplit(url).scheme:
            assert urlsplit(url).scheme == "https" and urlsplit(url).netloc, (scalar.name, url)
            continue
        # A file of this repository and a heading of it (GitHub's anchors: lower case, "-" for spaces).
        path, _, anchor = url.partition("#")
        document = ROOT / path
        assert document.is_file(), f"{scalar.name}'s specifiedByURL names {path}, which does not exist"
        headings = {
            re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            for line in document.read_text(encoding="utf-8").splitlines()
            if line.startswith("#")
        }
        assert anchor in headings, f"{scalar.name}'s specifiedByURL names #{anchor}, not a heading of {path}"


def test_the_committed_schema_carries_the_same_promises():
    committed = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    for name in ("JalaliDate", "Decimal", "DateTime", "Upload"):
        assert committed.type_map[name].specified_by_url == printed_schema().type_map[name].specified_by_url


def test_fields_named_like_a_set_of_values_are_enums():
    strings = []
    for type_ in printed_schema().type_map.values():
        if type_.name.startswith("__") or not (
            is_object_type(type_) or is_interface_type(type_) or is_input_object_type(type_)
        ):
            continue
        for name, field in type_.fields.items():
            if ENUM_LIKE.search(name) and get_named_type(field.type).name == "String":
                strings.append(f"{type_.name}.{name}")
            for argument, spec in getattr(field, "args", {}).items():
                if ENUM_LIKE.search(argument) and get_named_type(spec.type).name == "String":
                    strings.append(f"{type_.name}.{name}({argument}:)")
    assert not strings, f"make these enums: {strings}"


def test_indicator_and_inbox_answer_their_enums():
    sdl = printed_schema()
    assert set(sdl.type_map["RollupRule"].values) == {"SUM", "AVERAGE", "WEIGHTED_AVERAGE"}
    assert str(sdl.type_map["Indicator"].fields["rollup"].type) == "RollupRule!"
    assert set(sdl.type_map["InboxAction"].values) == {"REGISTER_OR_REFER", "CORRECT", "REVIEW", "WAIT"}
    assert str(sdl.type_map["Referral"].fields["inboxAction"].type) == "InboxAction"


# --- the broad read ---------------------------------------------------------------------------


@pytest.fixture
def answers(monkeypatch) -> list[tuple[str, dict]]:
    """Every (operation, data) the story's people were answered, recorded as the story goes."""
    recorded: list[tuple[str, dict]] = []
    original = test_every_field.Coverage.answer

    def answer(self, response, viewer, operation, document):
        data = original(self, response, viewer, operation, document)
        recorded.append((operation, data))
        return data

    monkeypatch.setattr(test_every_field.Coverage, "answer", answer)
    return recorded


def leaf_values(sdl: GraphQLSchema, operation: str, data: dict):
    """(Type.field, scalar name, value) of every non-null leaf value in ``data``."""
    root = sdl.query_type if operation == "query" else sdl.mutation_type
    pending = [(root, data)]
    while pending:
        type_, value = pending.pop()
        if "__typename" in value:
            type_ = sdl.type_map[value["__typename"]]
        for key, item in value.items():
            if key == "__typename" or item is None:
                continue
            named = get_named_type(type_.fields[key].type)
            for element in item if isinstance(item, list) else [item]:
                if isinstance(element, dict):
                    pending.append((named, element))
                elif element is not None:
                    yield f"{type_.name}.{key}", named.name, element


def test_every_value_of_the_broad_read_keeps_its_form(answers, story):  # noqa: F811
    assert answers and not story.problems, story.problems
    sdl = printed_schema()
    wrong, seen = [], {"Decimal": set(), "DateTime": set(), "JalaliDate": set(), "url": set()}
    forms = {"Decimal": CANONICAL_DECIMAL, "DateTime": DATE_TIME, "JalaliDate": JALALI_DATE}
    for operation, data in answers:
        for field, scalar, value in leaf_values(sdl, operation, data):
            if scalar in forms:
                seen[scalar].add(field)
                if not (isinstance(value, str) and forms[scalar].fullmatch(value)):
                    wrong.append(f"{field} ({scalar}): {value!r}")
            name = field.rpartition(".")[2]
            if scalar == "String" and (name == "url" or name.endswith("Url")):
                seen["url"].add(field)
                parts = urlsplit(value)
                if parts.scheme not in {"http", "https"} or not parts.netloc:
                    wrong.append(f"{field} is not absolute: {value!r}")
    assert not wrong, "\n".join(wrong)
    # The read was broad: it saw the fields the promises are about.
    assert {"Performance.value", "Assignment.weight", "ProvincialSlice.target", "DashboardFigures.selfScore"} <= seen[
        "Decimal"
    ]
    assert {"Evidence.url", "RequestEvidence.url", "Captcha.imageUrl", "SinaSignIn.url"} <= seen["url"]
    assert seen["DateTime"] and seen["JalaliDate"]


# --- one number, one text --------------------------------------------------------------------


def test_the_payload_and_a_later_read_say_the_same_number(demo):
    chain = build_chain()
    assert chain["child"]["target"] == "36.5"  # stored as 36.5000
    for version, sent, canonical in [(0, "1700", "1700"), (1, "1.7e3", "1700"), (2, "۳۶٫۵۰", "36.5"), (3, "0.0", "0")]:
        payload = chain["amir"].data(
            SAVE, {"input": {"referral": chain["child"]["id"], "version": version, "value": sent}}
        )["savePerformance"]
        assert payload["errors"] == [] and payload["performance"]["value"] == canonical, (sent, payload)
        read = chain["amir"].data(REFERRAL, {"id": chain["child"]["id"]})["node"]["performance"]
        assert read["value"] == canonical


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("1700.0000", "1700"),
        ("1.7E+3", "1700"),
        ("85.00", "85"),
        ("36.5000", "36.5"),
        ("-0.0000", "0"),
        ("0E-4", "0"),
        ("-0.2500", "-0.25"),
        ("1E+17", "100000000000000000"),
        ("1E-12", "0.000000000001"),
        ("99999999999999.9999", "99999999999999.9999"),
        ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"),
    ],
)
def test_the_canonical_text_of_a_number(number, text):
    assert canonical_decimal(Decimal(number)) == text
    assert CANONICAL_DECIMAL.fullmatch(text)


# --- absolute addresses ------------------------------------------------------------------------


@pytest.fixture
def evidence(demo, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    chain = build_chain()
    upload(chain["amir"], chain["child"]["id"], "گزارش.pdf", PDF)
    return chain


def evidence_url(client, **headers) -> str:
    """The `url` of the one evidence, asked with these request headers."""
    evidence_id = encode_global_id("Evidence", Evidence.objects.get().pk)
    body = {"query": "query($id: ID!) { node(id: $id) { ... on Evidence { url } } }", "variables": {"id": evidence_id}}
    response = client.http.post("/graphql/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200, response.content
    return response.json()["data"]["node"]["url"]


def test_an_address_is_built_from_the_request_host_and_scheme(evidence, settings):
    amir = evidence["amir"]
    pk = Evidence.objects.get().pk
    path = f"/evidence/{pk}/%DA%AF%D8%B2%D8%A7%D8%B1%D8%B4.pdf"
    assert evidence_url(amir) == f"http://testserver{path}"
    # Behind a TLS-terminating proxy (production's SECURE_PROXY_SSL_HEADER) that forwards the host.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "mana.example.ir"]
    proxied = evidence_url(amir, **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mana.example.ir"})
    assert proxied == f"https://mana.example.ir{path}"
    # MANA_PUBLIC_URL, when set, is the base whatever the request says.
    settings.MANA_PUBLIC_URL = "https://mana.gov.ir"
    assert evidence_url(amir, **{"X-Forwarded-Host": "mana.example.ir"}) == f"https://mana.gov.ir{path}"
    # The address, as it is, downloads the file.
    response = amir.http.get(proxied)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


async def ask_over_websocket(document: str, headers: list[tuple[bytes, bytes]]) -> dict:
    from settings.asgi import application

    communicator = WebsocketCommunicator(
        application, "/graphql/", subprotocols=["graphql-transport-ws"], headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    try:
        await communicator.send_json_to({"type": "connection_init"})
        assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
        await communicator.send_json_to({"id": "1", "type": "subscribe", "payload": {"query": document}})
        return (await communicator.receive_json_from(timeout=5))["payload"]
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_an_address_over_websocket_is_absolute_too(settings):
    document = "{ captcha { imageUrl } }"
    local = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    url = (await ask_over_websocket(document, local))["data"]["captcha"]["imageUrl"]
    assert re.fullmatch(r"http://localhost/captcha/image/\w+/", url), url
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = [*local, (b"x-forwarded-proto", b"https")]
    url = (await ask_over_websocket(document, proxied))["data"]["captcha"]["imageUrl"]
    assert url.startswith("https://localhost/captcha/image/"), url
    # A handshake naming a host Mana does not serve gets no address built on that host.
    foreign = [(b"host", b"attacker.example")]  # not a browser: no Origin to check
    url = (await ask_over_websocket(document, foreign))["data"]["captcha"]["imageUrl"]
    assert url.startswith("/captcha/image/"), url
    settings.MANA_PUBLIC_URL = "https://mana.gov.ir"
    url = (await ask_over_websocket(document, foreign))["data"]["captcha"]["imageUrl"]
    assert url.startswith("https://mana.gov.ir/captcha/image/"), url



@pytest.mark.parametrize("value", ["mana.example.ir", "https://mana.example.ir/mana", "ftp://mana.example.ir"])
def test_a_public_url_that_is_not_a_scheme_and_host_is_refused_at_start(value):
    """MANA_PUBLIC_URL is what every address starts with: a path or another scheme would make them all wrong."""
    environment = {**os.environ, "MANA_PUBLIC_URL": value}
    command = [sys.executable, "-c", "import settings"]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "MANA_PUBLIC_URL must be a scheme and host" in result.stderr, result.stderr
