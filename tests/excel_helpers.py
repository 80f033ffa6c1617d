"""Helpers for the Excel tests: workbooks as people fill them, the multipart upload, reading jobs."""

from __future__ import annotations

import io
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from models.excel_templates import ASSIGNMENT_COLUMNS, ORGANIZATION_COLUMNS
from tests.conftest import GraphQLClient

ASSIGNMENT_HEADERS = [column.header for column in ASSIGNMENT_COLUMNS]
ORGANIZATION_HEADERS = [column.header for column in ORGANIZATION_COLUMNS]

JOB_FIELDS = """id kind status fileName rowsTotal rowsChecked rowsWritten createdAt finishedAt
  period { title } createdBy { nationalCode } problems { row column code message }"""
IMPORT_ASSIGNMENTS = f"""mutation($input: ImportAssignmentsInput!) {{ importAssignments(input: $input) {{
  errors {{ field code message }} job {{ {JOB_FIELDS} }} }} }}"""
IMPORT_ORGANIZATIONS = f"""mutation($input: ImportOrganizationsInput!) {{ importOrganizations(input: $input) {{
  errors {{ field code message }} job {{ {JOB_FIELDS} }} }} }}"""
JOB = f"query($id: ID!) {{ node(id: $id) {{ ... on ImportJob {{ {JOB_FIELDS} }} }} }}"
JOBS = f"query {{ importJobs(first: 20) {{ totalCount edges {{ node {{ {JOB_FIELDS} }} }} }} }}"


def xlsx(headers: list, rows: list[list], sheet_title: str = "داده") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def assignment_row(indicator="IMP-01", organization="MOE-TAVANIR-THR", **overrides) -> list:
    values = {
        "کد شاخص": indicator,
        "عنوان شاخص": "تعداد مشترکان برق هوشمند",
        "نوع": "اختصاصی",
        "واحد سنجش": "تعداد",
        "ماهیت": "افزایشی",
        "کد دستگاه": organization,
        "هدف": 25000,
        "حد پایین": 20000,
        "حد بالا": 30000,
        "وزن": 50,
        "سقف امتیاز": 100,
        "مهلت": "1402/11/20",
    }
    values.update(overrides)
    return [values[header] for header in ASSIGNMENT_HEADERS]


def organization_row(code, name, kind="واحد استانی", parent="MOE-TAVANIR", province="IR-30") -> list:
    return [code, name, kind, parent, province]


def post_import(client: GraphQLClient, document: str, input: dict, name: str, content: bytes):
    """The GraphQL multipart request (apollo-upload-client's format); returns the HTTP response."""
    operations = {"query": document, "variables": {"input": {**input, "file": None}}}
    return client.http.post(
        "/graphql/",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
            "0": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        },
    )


def upload(client: GraphQLClient, document: str, input: dict, name: str, content: bytes) -> dict:
    response = post_import(client, document, input, name, content)
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def job(client: GraphQLClient, job_id: str) -> dict | None:
    return client.data(JOB, {"id": job_id})["node"]


def read_xlsx(content: bytes):
    return load_workbook(io.BytesIO(content))
