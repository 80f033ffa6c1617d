"""Helpers for the evidence tests: a real PDF, the multipart upload as clients send it, downloads, state."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from models.referrals import Evidence, Performance, Referral
from tests.conftest import GraphQLClient
from tests.workflow_helpers import UPLOAD


def minimal_pdf() -> bytes:
    """A tiny but well-formed one-page PDF (with a correct cross-reference table)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def post_upload(client: GraphQLClient, referral: str, name: str, content: bytes) -> dict:
    """A multipart request as the GraphQL multipart request spec (apollo-upload-client) sends it; the whole body."""
    operations = {"query": UPLOAD, "variables": {"input": {"referral": referral, "file": None}}}
    response = client.http.post(
        "/graphql/",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
            "0": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


def upload(client: GraphQLClient, referral: str, name: str, content: bytes) -> dict:
    body = post_upload(client, referral, name, content)
    assert "errors" not in body, body
    return body["data"]["uploadEvidence"]


def download(client: GraphQLClient, url: str):
    response = client.http.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def stored_files(root) -> list:
    directory = root / "evidence"
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def evidence_state(root) -> tuple:
    """Everything a refused upload must leave untouched."""
    return (
        list(Evidence.objects.order_by("id").values_list("id", "performance_id", "storage_name")),
        list(Performance.objects.order_by("id").values_list("id", "version")),
        list(Referral.objects.order_by("id").values_list("id", "status", "version")),
        stored_files(root),
    )
