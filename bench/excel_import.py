"""How long a large Excel import takes, through the real endpoint (issue 10 §5: 20,000 rows in under a minute).

Run from the repository root:

    .venv/bin/python bench/excel_import.py                     # embedded default (a fresh SQLite file)
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mana_bench_xls .venv/bin/python bench/excel_import.py
    BENCH_ROWS=5000 .venv/bin/python bench/excel_import.py     # another size

On a fresh database (the PostgreSQL one named is dropped and created anew) it loads the demo, then
as the senior leader: imports 1,000 units under وزارت نیرو with the organizations template, then
an assignments file of BENCH_ROWS rows (20,000: 20 indicators × 1,000 units), both through the
GraphQL multipart endpoint with the immediate task backend, so the request returns when the job
is done. It prints the file sizes, the time of each request, the job's own time (created →
finished), the rows written, and the SQL queries each request ran.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = int(os.environ.get("BENCH_ROWS", "20000"))
UNITS = 1000


def _prepare_database() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    os.environ["MANA_VAR_DIR"] = tempfile.mkdtemp(prefix="mana-bench-xls-")
    os.environ["MANA_TASKS_BACKEND"] = "immediate"
    if url:
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", admin, "-qc", statement], check=True)
        os.environ["DATABASE_URL"] = url
        return f"PostgreSQL ({name})"
    os.environ.pop("DATABASE_URL", None)
    return "SQLite (embedded default)"


def _xlsx(headers: list[str], rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("داده")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _upload(client, document: str, input: dict, name: str, content: bytes) -> tuple[dict, float, int]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    operations = {"query": document, "variables": {"input": {**input, "file": None}}}
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.http.post(
            "/graphql/",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
                "0": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
            },
        )
        elapsed = time.perf_counter() - started
    body = response.json()
    payload = next(iter(body["data"].values()))
    assert payload["errors"] == [], payload
    return payload["job"], elapsed, len(queries)


def _report(label: str, content: bytes, job: dict, elapsed: float, queries: int) -> None:
    from models.imports import ImportJob
    from schema.ids import decode_global_id

    stored = ImportJob.objects.get(pk=decode_global_id(job["id"])[1])
    own = (stored.finished_at - stored.created_at).total_seconds()
    print(
        f"{label:<34}{stored.rows_total:>8}{len(content) / 1024:>10.0f}{elapsed:>11.2f}{own:>10.2f}"
        f"{stored.rows_written:>9}{queries:>9}  {stored.status}"
    )
    assert stored.status == "DONE", stored.problems[:5]


def main() -> None:
    backend = _prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    os.environ["CAPTCHA_TEST_MODE"] = "1"
    settings.CAPTCHA_TEST_MODE = True
    call_command("migrate", verbosity=0)

    from models.demo import load_demo
    from models.excel_templates import ASSIGNMENT_COLUMNS, ORGANIZATION_COLUMNS
    from models.periods import EvaluationPeriod
    from models.tree_integrity import check_nodes, load_nodes
    from schema.ids import encode_global_id
    from tests.conftest import GraphQLClient
    from tests.excel_helpers import IMPORT_ASSIGNMENTS, IMPORT_ORGANIZATIONS

    load_demo()
    senior = GraphQLClient()
    senior.login("0010000011")
    period = encode_global_id("EvaluationPeriod", EvaluationPeriod.objects.get(year=1402).pk)

    units = [f"BENCH-{n:04d}" for n in range(UNITS)]
    organizations = _xlsx(
        [c.header for c in ORGANIZATION_COLUMNS],
        ([code, f"واحد آزمایشی {n}", "واحد استانی", "MOE-TAVANIR", "IR-23"] for n, code in enumerate(units)),
    )
    indicators = -(-ROWS // UNITS)
    rows = (
        [
            f"BENCH-IND-{i:03d}",
            f"شاخص آزمایشی شماره {i}",
            "اختصاصی",
            "تعداد" if i % 2 else "درصد",
            "افزایشی" if i % 3 else "کاهشی",
            unit,
            1000 + n,
            500,
            5000,
            50,
            100,
            "1402/11/20",
        ]
        for i in range(indicators)
        for n, unit in enumerate(units)
    )
    started = time.perf_counter()
    first_rows = (row for _, row in zip(range(ROWS), rows, strict=False))
    assignments = _xlsx([c.header for c in ASSIGNMENT_COLUMNS], first_rows)
    built = time.perf_counter() - started

    print(f"Mana Excel import bench — {backend}\n")
    print(f"assignments file of {ROWS:,} rows built by openpyxl in {built:.2f} s\n")
    print(f"{'import':<34}{'rows':>8}{'KiB':>10}{'request s':>11}{'job s':>10}{'written':>9}{'queries':>9}")
    job, elapsed, queries = _upload(senior, IMPORT_ORGANIZATIONS, {}, "دستگاه‌ها.xlsx", organizations)
    _report("organizations (1,000 units)", organizations, job, elapsed, queries)
    problems = check_nodes(load_nodes())
    print(f"{'':<34}tree after the import: {'sound' if not problems else problems[:3]}")
    job, elapsed, queries = _upload(senior, IMPORT_ASSIGNMENTS, {"period": period}, "ابلاغ.xlsx", assignments)
    _report(f"assignments ({ROWS:,} rows)", assignments, job, elapsed, queries)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
