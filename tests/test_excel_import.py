"""Excel imports (issue 10 §5) through the real multipart endpoint: an XLSX of assignments or
organizations becomes a background job that writes every row or none; every bad row is reported
with its row, column, code and a Persian reason; a file that is not an XLSX is refused at upload.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from models import excel_import
from models.excel_templates import template_workbook
from models.imports import ImportJob, ImportKind
from models.indicators import Assignment, Indicator, RollupRule
from models.jalali import format_jalali
from models.organization import Organization
from models.tree_integrity import check_nodes, load_nodes
from models.users import RoleAssignment
from schema.ids import decode_global_id, encode_global_id
from tests.conftest import GraphQLClient
from tests.evidence_helpers import minimal_pdf
from tests.excel_helpers import (
    ASSIGNMENT_HEADERS,
    IMPORT_ASSIGNMENTS,
    IMPORT_ORGANIZATIONS,
    JOBS,
    ORGANIZATION_HEADERS,
    assignment_row,
    job,
    organization_row,
    post_import,
    read_xlsx,
    upload,
    xlsx,
)
from tests.office_files import EXCEL_MACRO_MAIN, VBA_PROJECT, content_types, docx, vba_project
from tests.office_files import xlsx as office_xlsx
from tests.workflow_helpers import ALI, FATEMEH, HASAN, client_for, period_id

pytestmark = pytest.mark.django_db

SENIOR = "0010000011"
PERSIAN = re.compile(r"[\u0600-\u06FF]")
ORGANIZATION_TREE = """query { organizations(first: 100, search: "البرز") {
  edges { node { code name kind parent { code } province { code } } } } }"""


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def people(demo, private_root) -> dict[str, GraphQLClient]:
    return {code: client_for(code) for code in (ALI, FATEMEH, HASAN, SENIOR)}


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Uploads as a client would and lets the job run (the request's commit hands it to the
    immediate task backend); returns (mutation payload, the job as read afterwards)."""

    def run_upload(client, document, input, content, name="ابلاغ‌ها.xlsx"):
        with django_capture_on_commit_callbacks(execute=True):
            payload = upload(client, document, input, name, content)
        assert payload["errors"] == [], payload["errors"]
        return payload, job(client, payload["job"]["id"])

    return run_upload


def import_assignments(run, client, rows, headers=ASSIGNMENT_HEADERS):
    return run(client, IMPORT_ASSIGNMENTS, {"period": period_id()}, xlsx(headers, rows))


def state() -> tuple:
    """Everything an import may write."""
    return (
        list(Assignment.objects.order_by("id").values_list("id", "indicator_id", "organization_id", "target")),
        list(Indicator.objects.order_by("id").values_list("id", "code", "title")),
        list(Organization.objects.order_by("id").values_list("id", "code", "parent_id", "lft", "rght", "level")),
    )


# --- the done-when: an XLSX of assignments imports ------------------------------------------------


def test_an_xlsx_of_assignments_imports(people, run):
    rows = [
        assignment_row("IMP-01", "MOE-TAVANIR-THR"),
        assignment_row("IMP-01", "MOE-WRM-THR", **{"هدف": "۲۲٬۵۰۰٫۵", "مهلت": "۱۴۰۲/۱۱/۱۵"}),
        # An indicator that exists already: the same code, title, kind, unit and nature.
        assignment_row(
            "MOE-02",
            "MOE-TAVANIR",
            **{
                "عنوان شاخص": "راندمان شبکه برق كشور",
                "واحد سنجش": "درصد",
                "هدف": 36.5,
                "حد پایین": None,
                "حد بالا": None,
                "وزن": 85,
                "سقف امتیاز": 170,
                "مهلت": None,
            },
        ),
        # A percentage, lower is better, and the API's own spellings of the choices.
        assignment_row(
            "IMP-02",
            "MOE-HQ",
            **{
                "عنوان شاخص": "نرخ تلفات شبکه",
                "نوع": "GENERAL",
                "واحد سنجش": "درصد",
                "ماهیت": "LOWER_IS_BETTER",
                "هدف": "12.25",
            },
        ),
    ]
    before = Assignment.objects.count()
    payload, done = import_assignments(run, people[ALI], rows)

    assert payload["job"]["status"] == "QUEUED"  # answered before the (test's) commit ran it
    assert payload["job"]["kind"] == "ASSIGNMENTS" and payload["job"]["fileName"] == "ابلاغ‌ها.xlsx"
    assert done["status"] == "DONE", done["problems"]
    assert (done["rowsTotal"], done["rowsChecked"], done["rowsWritten"]) == (4, 4, 4)
    assert done["problems"] == [] and done["finishedAt"]
    assert done["createdBy"] == {"nationalCode": ALI}
    assert Assignment.objects.count() == before + 4

    created = Assignment.objects.get(indicator__code="IMP-01", organization__code="MOE-WRM-THR")
    assert created.target == Decimal("22500.5000")
    assert format_jalali(created.deadline) == "1402/11/15"
    assert (created.lower_bound, created.upper_bound, created.weight, created.score_cap) == (
        Decimal("20000"),
        Decimal("30000"),
        Decimal("50"),
        Decimal("100"),
    )
    assert created.status == "PENDING" and created.is_applicable
    indicator = Indicator.objects.get(code="IMP-01")
    assert (indicator.title, indicator.kind, indicator.unit, indicator.nature, indicator.rollup) == (
        "تعداد مشترکان برق هوشمند",
        "SPECIFIC",
        "تعداد",
        "HIGHER_IS_BETTER",
        RollupRule.SUM,
    )
    rate = Indicator.objects.get(code="IMP-02")
    assert (rate.kind, rate.nature, rate.rollup) == ("GENERAL", "LOWER_IS_BETTER", RollupRule.AVERAGE)
    assert Indicator.objects.filter(code="MOE-02").count() == 1

    # The new assignment waits in the unit's view, read through the API like any other.
    tavanir_thr = encode_global_id("Organization", Organization.objects.get(code="MOE-TAVANIR-THR").pk)
    listed = people[ALI].data(
        "query($id: ID!, $p: ID!) { node(id: $id) { ... on Organization { assignments(period: $p) { edges { node {"
        " indicator { code title } target deadline status } } } } } }",
        {"id": tavanir_thr, "p": period_id()},
    )["node"]["assignments"]["edges"]
    assert [e["node"] for e in listed] == [
        {
            "indicator": {"code": "IMP-01", "title": "تعداد مشترکان برق هوشمند"},
            "target": "25000",
            "deadline": "1402/11/20",
            "status": "PENDING",
        }
    ]


def test_the_senior_leader_imports_anywhere_a_main_leader_within_his_subtree(people, run):
    other_ministry = [assignment_row("IMP-01", "MOA-THR")]
    _, refused = import_assignments(run, people[ALI], other_ministry)
    assert refused["status"] == "REFUSED"
    # Out of his subtree reads exactly like a code that does not exist.
    assert [(p["row"], p["column"], p["code"]) for p in refused["problems"]] == [
        (2, "کد دستگاه", "UNKNOWN_ORGANIZATION")
    ]
    assert "MOA-THR" in refused["problems"][0]["message"]

    _, done = import_assignments(run, people[SENIOR], other_ministry)
    assert done["status"] == "DONE"
    assert Assignment.objects.filter(organization__code="MOA-THR", indicator__code="IMP-01").exists()


# --- bad rows: every one reported, nothing written ------------------------------------------------

BAD_ROWS = {
    "wrong type: text for a number": ({"هدف": "بیست هزار"}, "هدف", "INVALID_DECIMAL"),
    "wrong type: a date for a number": ({"وزن": "1402/10/10"}, "وزن", "INVALID_DECIMAL"),
    "wrong type: not a kind": ({"نوع": "ملی"}, "نوع", "INVALID_CHOICE"),
    "wrong type: not a nature": ({"ماهیت": "ثابت"}, "ماهیت", "INVALID_CHOICE"),
    "wrong type: a number for a date": ({"مهلت": 14021120}, "مهلت", "INVALID_DATE"),
    "a day the calendar lacks": ({"مهلت": "1402/12/30"}, "مهلت", "INVALID_DATE"),
    "unknown organization code": ({"کد دستگاه": "NO-SUCH-UNIT"}, "کد دستگاه", "UNKNOWN_ORGANIZATION"),
    "required cell empty": ({"عنوان شاخص": "  "}, "عنوان شاخص", "VALUE_REQUIRED"),
    "bounds out of order": ({"حد پایین": 40000, "حد بالا": 30000}, "حد پایین", "BOUNDS_OUT_OF_ORDER"),
    "deadline outside the period": ({"مهلت": "1402/12/10"}, "مهلت", "DEADLINE_OUTSIDE_PERIOD"),
    "too many decimal places": ({"هدف": "25000.12345"}, "هدف", "DECIMAL_TOO_PRECISE"),
    "a weight with three places": ({"وزن": 12.125}, "وزن", "DECIMAL_TOO_PRECISE"),
    "too large": ({"هدف": "123456789012345"}, "هدف", "DECIMAL_OUT_OF_RANGE"),
    "a negative count": ({"هدف": -5}, "هدف", "NEGATIVE_NOT_ALLOWED"),
    "a weight of zero": ({"وزن": 0}, "وزن", "WEIGHT_NOT_POSITIVE"),
    "a title too long": ({"عنوان شاخص": "ش" * 301}, "عنوان شاخص", "TEXT_TOO_LONG"),
    "an existing indicator described otherwise": (
        {"کد شاخص": "MOE-02", "کد دستگاه": "MOE-TAVANIR"},
        "کد شاخص",
        "INDICATOR_MISMATCH",
    ),
    "already assigned in the period": (
        {"کد شاخص": "MOE-01", "کد دستگاه": "MOE-HQ", "عنوان شاخص": "تعداد روستاهای آبرسانی شده در طرح جهاد آبرسانی"},
        None,
        "ASSIGNMENT_EXISTS",
    ),
}


@pytest.mark.parametrize("bad", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_a_bad_row_refuses_the_whole_file_and_names_row_column_and_reason(people, run, bad):
    overrides, column, code = bad
    rows = [assignment_row("IMP-01", "MOE-TAVANIR-THR"), assignment_row("IMP-03", **overrides)]
    before = state()
    _, refused = import_assignments(run, people[ALI], rows)
    assert refused["status"] == "REFUSED"
    assert [(p["row"], p["column"], p["code"]) for p in refused["problems"]] == [(3, column, code)], refused["problems"]
    assert PERSIAN.search(refused["problems"][0]["message"])
    assert refused["rowsWritten"] == 0 and refused["rowsTotal"] == 2
    assert state() == before  # the good first row was not written either


def test_every_bad_row_and_cell_is_reported_in_row_order(people, run):
    rows = [
        assignment_row("IMP-01", "MOE-TAVANIR-THR", **{"هدف": "x", "ماهیت": "?"}),
        assignment_row("IMP-02", "MOE-TAVANIR-THR"),
        assignment_row("IMP-02", "MOE-TAVANIR-THR"),
        assignment_row("IMP-03", "NOWHERE"),
        # The same new indicator code with another title than row 3's.
        assignment_row("IMP-02", "MOE-WRM-THR", **{"عنوان شاخص": "عنوانی دیگر"}),
    ]
    before = state()
    _, refused = import_assignments(run, people[ALI], rows)
    assert [(p["row"], p["column"], p["code"]) for p in refused["problems"]] == [
        (2, "ماهیت", "INVALID_CHOICE"),
        (2, "هدف", "INVALID_DECIMAL"),
        (4, None, "DUPLICATE_ROW"),
        (5, "کد دستگاه", "UNKNOWN_ORGANIZATION"),
        (6, "کد شاخص", "INDICATOR_MISMATCH"),
    ]
    duplicate = next(p for p in refused["problems"] if p["code"] == "DUPLICATE_ROW")
    assert "ردیف 3" in duplicate["message"]
    assert state() == before


def test_wrong_headers_are_reported_and_no_row_is_read(people, run):
    headers = list(ASSIGNMENT_HEADERS)
    headers[6] = "مقدار هدف"
    headers.append("توضیحات")
    before = state()
    _, refused = import_assignments(run, people[ALI], [[*assignment_row(), "یادداشت"]], headers=headers)
    assert refused["status"] == "REFUSED"
    assert [(p["row"], p["column"], p["code"]) for p in refused["problems"]] == [
        (1, "هدف", "WRONG_HEADERS"),
        (1, "توضیحات", "WRONG_HEADERS"),
    ]
    assert "«مقدار هدف»" in refused["problems"][0]["message"]
    assert refused["rowsTotal"] == 0 and state() == before


def test_headers_differing_only_in_spelling_are_accepted(people, run):
    headers = [h.replace("ی", "ي").replace("ک", "ك") + "  " for h in ASSIGNMENT_HEADERS]
    _, done = import_assignments(run, people[ALI], [assignment_row()], headers=headers)
    assert done["status"] == "DONE", done["problems"]


def test_a_file_with_headers_only_is_refused_as_empty(people, run):
    _, refused = import_assignments(run, people[ALI], [[None] * len(ASSIGNMENT_HEADERS)])
    assert [(p["row"], p["code"]) for p in refused["problems"]] == [(None, "IMPORT_EMPTY")]


def test_limits_on_rows_and_on_problems_kept(people, run, monkeypatch):
    monkeypatch.setattr(excel_import, "MAX_PROBLEMS", 3)
    bad = [assignment_row(f"IMP-{n}", "NOWHERE") for n in range(5)]
    _, refused = import_assignments(run, people[ALI], bad)
    assert [(p["row"], p["code"]) for p in refused["problems"]] == [
        (2, "UNKNOWN_ORGANIZATION"),
        (3, "UNKNOWN_ORGANIZATION"),
        (4, "UNKNOWN_ORGANIZATION"),
        (None, "TOO_MANY_PROBLEMS"),
    ]
    assert "۲ مورد دیگر" in refused["problems"][-1]["message"]
    monkeypatch.setattr(excel_import, "MAX_ROWS", 2)
    _, refused = import_assignments(run, people[ALI], [assignment_row(f"IMP-{n}") for n in range(3)])
    assert [(p["row"], p["code"]) for p in refused["problems"]] == [(None, "IMPORT_TOO_MANY_ROWS")]


def test_the_template_imports_once_filled(people, run):
    workbook = read_xlsx(template_workbook(ImportKind.ASSIGNMENTS))
    sheet = workbook.worksheets[0]
    sheet.append(assignment_row())
    out = io.BytesIO()
    workbook.save(out)
    _, done = run(people[ALI], IMPORT_ASSIGNMENTS, {"period": period_id()}, out.getvalue())
    assert done["status"] == "DONE", done["problems"]


# --- not an XLSX at all: refused at upload, no job ------------------------------------------------

NOT_XLSX = {
    "a PDF named .xlsx": ("ابلاغ.xlsx", minimal_pdf(), "FILE_NOT_XLSX"),
    "a CSV": ("ابلاغ.csv", "کد شاخص,عنوان شاخص\n".encode(), "FILE_NOT_XLSX"),
    "an old .xls name": ("ابلاغ.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 600, "FILE_NOT_XLSX"),
    "a Word document renamed": ("ابلاغ.xlsx", docx(), "FILE_NOT_XLSX"),
    "random bytes": ("ابلاغ.xlsx", bytes(range(256)) * 8, "FILE_NOT_XLSX"),
    "an empty file": ("ابلاغ.xlsx", b"", "FILE_EMPTY"),
    "a macro workbook renamed": (
        "ابلاغ.xlsx",
        office_xlsx(
            parts={"xl/vbaProject.bin": vba_project()},
            types=content_types({"xl/workbook.xml": EXCEL_MACRO_MAIN}, {"bin": VBA_PROJECT}),
        ),
        "FILE_MACROS_NOT_ALLOWED",
    ),
}


@pytest.mark.parametrize("case", NOT_XLSX.values(), ids=NOT_XLSX.keys())
def test_a_file_that_is_not_an_xlsx_is_refused_at_upload(people, private_root, case):
    name, content, code = case
    before = state()
    payload = upload(people[ALI], IMPORT_ASSIGNMENTS, {"period": period_id()}, name, content)
    assert payload["job"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("file", code)]
    assert PERSIAN.search(payload["errors"][0]["message"])
    assert not ImportJob.objects.exists()
    assert not (private_root / "imports").exists() or not any((private_root / "imports").iterdir())
    assert state() == before


# --- who may import, who sees a job ---------------------------------------------------------------


def test_anonymous_is_unauthenticated(demo):
    for document, input in ((IMPORT_ASSIGNMENTS, {"period": "x"}), (IMPORT_ORGANIZATIONS, {})):
        response = post_import(GraphQLClient(), document, input, "a.xlsx", xlsx(ASSIGNMENT_HEADERS, []))
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    assert not ImportJob.objects.exists()


def test_progress_is_a_subscription_only(people):
    document = "subscription { importProgress(id: \"SW1wb3J0Sm9iOjE=\") { id } }"
    assert people[ALI].error_codes(document) == ["BAD_USER_INPUT"]


def test_only_leaders_import(people, private_root):
    content = xlsx(ASSIGNMENT_HEADERS, [assignment_row()])
    organizations = xlsx(ORGANIZATION_HEADERS, [organization_row("MOE-TAVANIR-ABZ", "برق البرز")])
    for client, document, input in (
        (people[FATEMEH], IMPORT_ASSIGNMENTS, {"period": period_id()}),
        (people[ALI], IMPORT_ORGANIZATIONS, {}),
        (people[HASAN], IMPORT_ORGANIZATIONS, {}),
    ):
        payload = upload(
            client, document, input, "a.xlsx", content if document == IMPORT_ASSIGNMENTS else organizations
        )
        assert [e["code"] for e in payload["errors"]] == ["NOT_ALLOWED"], payload
        assert PERSIAN.search(payload["errors"][0]["message"])
    missing = encode_global_id("EvaluationPeriod", 999999)
    payload = upload(people[ALI], IMPORT_ASSIGNMENTS, {"period": missing}, "a.xlsx", content)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("period", "NOT_FOUND")]
    payload = upload(people[ALI], IMPORT_ASSIGNMENTS, {"period": "not-an-id"}, "a.xlsx", content)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("period", "INVALID_ID")]
    assert not ImportJob.objects.exists()


def test_a_job_is_seen_by_its_uploader_and_the_senior_leader_only(people, run):
    payload, _ = import_assignments(run, people[ALI], [assignment_row()])
    job_id = payload["job"]["id"]
    assert job(people[ALI], job_id)["status"] == "DONE"
    assert job(people[SENIOR], job_id)["createdBy"] == {"nationalCode": ALI}
    assert job(people[HASAN], job_id) is None
    assert job(people[FATEMEH], job_id) is None
    nodes = people[HASAN].data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [job_id]})
    assert nodes["nodes"] == [None]
    assert people[ALI].data(JOBS)["importJobs"]["totalCount"] == 1
    assert people[SENIOR].data(JOBS)["importJobs"]["totalCount"] == 1
    assert people[HASAN].data(JOBS)["importJobs"] == {"totalCount": 0, "edges": []}
    assert GraphQLClient().error_codes(JOBS) == ["UNAUTHENTICATED"]
    # Withdrawing the senior leader's grant withdraws everyone's jobs from him (his own stay his).
    from guardian.shortcuts import remove_perm

    maryam = RoleAssignment.objects.get(user__national_code=SENIOR)
    remove_perm("mana.lead_organization", maryam.user, maryam.organization)
    assert job(people[SENIOR], job_id) is None


def test_the_job_runs_with_the_uploaders_role_at_upload_and_rechecks_it(
    people, private_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = upload(
            people[ALI],
            IMPORT_ASSIGNMENTS,
            {"period": period_id()},
            "a.xlsx",
            xlsx(ASSIGNMENT_HEADERS, [assignment_row()]),
        )
    # The grant goes before the job starts: refused, nothing written.
    from guardian.shortcuts import remove_perm

    ali = RoleAssignment.objects.get(user__national_code=ALI)
    remove_perm("mana.lead_organization", ali.user, ali.organization)
    before = state()
    for callback in callbacks:
        callback()
    stored = ImportJob.objects.get(pk=decode_global_id(payload["job"]["id"])[1])
    assert stored.status == "REFUSED"
    assert [p["code"] for p in stored.problems] == ["NOT_ALLOWED"]
    assert state() == before
    # The stored upload is gone once the job is over, whatever its end.
    assert not any((private_root / "imports").iterdir())


def test_a_job_queued_twice_runs_once(people, private_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payload = upload(
            people[ALI],
            IMPORT_ASSIGNMENTS,
            {"period": period_id()},
            "a.xlsx",
            xlsx(ASSIGNMENT_HEADERS, [assignment_row()]),
        )
    pk = decode_global_id(payload["job"]["id"])[1]
    role = RoleAssignment.objects.get(user__national_code=ALI).pk
    before = state()
    assert excel_import.run_import(pk, role) == "DONE"
    assert state() == before


def test_rows_taken_meanwhile_refuse_the_file_and_a_fault_writes_nothing(people, run, monkeypatch, caplog):
    from models.import_assignments import AssignmentRows

    rows = [assignment_row("IMP-01", "MOE-TAVANIR-THR"), assignment_row("IMP-01", "MOE-WRM-THR")]
    # Between the check and the write someone else creates the indicator: the whole write rolls back.
    monkeypatch.setattr(
        AssignmentRows,
        "finish",
        lambda self: Indicator.objects.create(
            code="IMP-01", title="دیگری", kind="GENERAL", unit="درصد", nature="HIGHER_IS_BETTER"
        ),
    )
    before = state()
    _, refused = import_assignments(run, people[ALI], rows)
    assert (refused["status"], refused["rowsWritten"]) == ("REFUSED", 0)
    assert [(p["row"], p["code"]) for p in refused["problems"]] == [(None, "CONFLICT")]
    assert Assignment.objects.count() == len(before[0])

    # A fault of Mana's half-way through the write: FAILED, logged, nothing written.
    Indicator.objects.filter(code="IMP-01").delete()
    monkeypatch.undo()
    real_write = AssignmentRows.write

    def write_then_break(self, progress):
        real_write(self, progress)
        raise RuntimeError("disk full")

    monkeypatch.setattr(AssignmentRows, "write", write_then_break)
    _, failed = import_assignments(run, people[ALI], rows)
    assert (failed["status"], failed["rowsWritten"]) == ("FAILED", 0)
    assert [p["code"] for p in failed["problems"]] == ["IMPORT_FAILED"]
    assert "import job" in caplog.text and "disk full" in caplog.text
    assert state() == before


# --- under a real worker: the database queue and db_worker ----------------------------------------


def test_under_the_database_queue_a_worker_runs_the_job(
    people, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # The real worker, in this process; it closes "old" connections between tasks, which inside
    # the test's transaction (never committed) would be this test's own connection.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        payload = upload(
            people[ALI],
            IMPORT_ASSIGNMENTS,
            {"period": period_id()},
            "a.xlsx",
            xlsx(ASSIGNMENT_HEADERS, [assignment_row(), assignment_row(organization="MOE-WRM-THR")]),
        )
    assert job(people[ALI], payload["job"]["id"])["status"] == "QUEUED"
    task = DBTaskResult.objects.get()
    assert task.task_path == "models.tasks.run_import_task"
    assert task.args_kwargs["args"][0] == decode_global_id(payload["job"]["id"])[1]
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)
    done = job(people[ALI], payload["job"]["id"])
    assert (done["status"], done["rowsWritten"]) == ("DONE", 2)


# --- cost: queries do not grow with the rows ------------------------------------------------------


def _queries_of_job(
    people,
    rows,
    django_capture_on_commit_callbacks,
    document=IMPORT_ASSIGNMENTS,
    input=None,
    headers=ASSIGNMENT_HEADERS,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = upload(
            people[SENIOR], document, {"period": period_id()} if input is None else input, "a.xlsx", xlsx(headers, rows)
        )
    assert payload["errors"] == []
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    stored = ImportJob.objects.get(pk=decode_global_id(payload["job"]["id"])[1])
    assert stored.status == "DONE", stored.problems[:3]
    return [query["sql"] for query in queries.captured_queries]


def _split(statements: list[str], table: str) -> tuple[list[str], int]:
    """The statements other than the bulk writes of ``table``'s rows, and how many inserts there were.

    The nested-set columns of the tree are written back in bulk too (an organizations import): a
    number of statements that follows the tree's size, not the file's, and is left out as well."""
    insert, renumber = f'INSERT INTO "{table}"', 'UPDATE "mana_organization" SET "lft" = CASE'
    others = [s for s in statements if not s.startswith((insert, renumber))]
    return others, sum(s.startswith(insert) for s in statements)


def _insert_batches(rows: int, model) -> int:
    """Statements a bulk insert of ``rows`` takes here: one on PostgreSQL; on SQLite one per as many
    rows as its 999 parameters hold (Django splits it), a limit of the database, not of the import."""
    if connection.vendor != "sqlite":
        return 1
    columns = len([f for f in model._meta.concrete_fields if not f.primary_key])
    return -(-rows // (connection.ops.bulk_batch_size([None] * columns, [None] * rows)))


def test_an_assignments_job_runs_the_same_queries_for_5_rows_and_for_300(people, django_capture_on_commit_callbacks):
    units = list(Organization.objects.exclude(code="ARO").values_list("code", flat=True))
    few = [assignment_row(f"FEW-{n}", units[n]) for n in range(5)]
    many = [assignment_row(f"MANY-{n // len(units)}", units[n % len(units)]) for n in range(300)]
    few_other, few_inserts = _split(_queries_of_job(people, few, django_capture_on_commit_callbacks), "mana_assignment")
    many_other, many_inserts = _split(
        _queries_of_job(people, many, django_capture_on_commit_callbacks), "mana_assignment"
    )
    assert len(few_other) == len(many_other), [statement[:120] for statement in many_other]
    assert (few_inserts, many_inserts) == (1, _insert_batches(300, Assignment))


def test_an_organizations_job_runs_the_same_queries_for_5_rows_and_for_300(people, django_capture_on_commit_callbacks):
    def rows(prefix: str, count: int) -> list:
        return [organization_row(f"{prefix}-{n:03d}", f"واحد {prefix} {n}") for n in range(count)]

    few_other, few_inserts = _split(
        _queries_of_job(
            people, rows("FEW", 5), django_capture_on_commit_callbacks, IMPORT_ORGANIZATIONS, {}, ORGANIZATION_HEADERS
        ),
        "mana_organization",
    )
    many_other, many_inserts = _split(
        _queries_of_job(
            people,
            rows("MANY", 300),
            django_capture_on_commit_callbacks,
            IMPORT_ORGANIZATIONS,
            {},
            ORGANIZATION_HEADERS,
        ),
        "mana_organization",
    )
    assert len(few_other) == len(many_other), [statement[:120] for statement in many_other]
    assert (few_inserts, many_inserts) == (1, _insert_batches(300, Organization))


# --- organizations --------------------------------------------------------------------------------


def test_organizations_import_into_the_tree_parents_before_or_after_their_children(people, run):
    rows = [
        # A child whose parent comes later in the file.
        organization_row("MOE-ABZ-KRJ", "امور برق کرج البرز", kind="واحد منطقه‌ای", parent="MOE-ABZ"),
        organization_row("MOE-ABZ", "شرکت توزیع نیروی برق استان البرز", parent="MOE-TAVANIR", province="البرز"),
        organization_row("MOE-ABZ-ZAP", "شرکت آب منطقه‌ای البرز", kind="REGIONAL", parent="MOE-WRM", province="ir-30"),
        organization_row("MOE-DEV", "معاونت توسعه البرز", kind="سازمان تابعه", parent="MOE", province=None),
    ]
    _, done = run(people[SENIOR], IMPORT_ORGANIZATIONS, {}, xlsx(ORGANIZATION_HEADERS, rows), "دستگاه‌ها.xlsx")
    assert done["status"] == "DONE", done["problems"]
    assert done["period"] is None and done["kind"] == "ORGANIZATIONS"
    assert check_nodes(load_nodes()) == []
    krj = Organization.objects.get(code="MOE-ABZ-KRJ")
    assert (krj.parent.code, krj.kind, krj.province.code, krj.level) == ("MOE-ABZ", "REGIONAL", "IR-30", 4)
    assert krj.search_name  # searchable like any unit
    # Among its siblings by code, as the tree orders them: MOE-ABZ before MOE-TAVANIR-ESF/THR.
    siblings = list(Organization.objects.get(code="MOE-TAVANIR").get_children().values_list("code", flat=True))
    assert siblings == ["MOE-ABZ", "MOE-TAVANIR-ESF", "MOE-TAVANIR-THR"]
    # The main leader of وزارت نیرو sees them in his subtree at once.
    found = people[ALI].data(ORGANIZATION_TREE)["organizations"]["edges"]
    assert {e["node"]["code"] for e in found} == {"MOE-ABZ", "MOE-ABZ-KRJ", "MOE-ABZ-ZAP", "MOE-DEV"}


BAD_ORGANIZATIONS = {
    "a code that exists": (organization_row("MOE-TAVANIR-THR", "تکراری"), "کد دستگاه", "ORGANIZATION_EXISTS"),
    "an unknown parent": (
        organization_row("MOE-ABZ", "البرز", parent="NOWHERE"),
        "کد دستگاه بالادست",
        "UNKNOWN_PARENT",
    ),
    "no province for a provincial unit": (
        organization_row("MOE-ABZ", "البرز", province=None),
        "کد استان",
        "PROVINCE_REQUIRED",
    ),
    "an unknown province": (organization_row("MOE-ABZ", "البرز", province="IR-99"), "کد استان", "UNKNOWN_PROVINCE"),
    "a province for a subsidiary": (
        organization_row("MOE-ABZ", "البرز", kind="سازمان تابعه"),
        "کد استان",
        "PROVINCE_NOT_ALLOWED",
    ),
    "a second root": (organization_row("ARO-2", "سازمان دوم", kind="ARO", province=None), "نوع", "INVALID_CHOICE"),
    "an unknown kind": (organization_row("MOE-ABZ", "البرز", kind="اداره"), "نوع", "INVALID_CHOICE"),
    "its own parent": (organization_row("MOE-ABZ", "البرز", parent="MOE-ABZ"), "کد دستگاه بالادست", "PARENT_CYCLE"),
    "no name": (organization_row("MOE-ABZ", None), "نام", "VALUE_REQUIRED"),
}


@pytest.mark.parametrize("bad", BAD_ORGANIZATIONS.values(), ids=BAD_ORGANIZATIONS.keys())
def test_a_bad_organization_row_refuses_the_whole_file(people, run, bad):
    row, column, code = bad
    rows = [organization_row("MOE-GOOD", "واحد درست"), row]
    before = state()
    _, refused = run(people[SENIOR], IMPORT_ORGANIZATIONS, {}, xlsx(ORGANIZATION_HEADERS, rows))
    assert refused["status"] == "REFUSED"
    assert [(p["row"], p["column"], p["code"]) for p in refused["problems"]] == [(3, column, code)], refused["problems"]
    assert PERSIAN.search(refused["problems"][0]["message"])
    assert state() == before


def test_duplicate_codes_and_parent_loops_in_a_file_are_reported(people, run):
    rows = [
        organization_row("LOOP-A", "الف", parent="LOOP-B"),
        organization_row("LOOP-B", "ب", parent="LOOP-A"),
        organization_row("DUP", "یک"),
        organization_row("DUP", "دو"),
        organization_row("ORPHAN", "یتیم", parent="BAD-ROW"),
        organization_row("BAD-ROW", "نادرست", province="نامعلوم"),
    ]
    before = state()
    _, refused = run(people[SENIOR], IMPORT_ORGANIZATIONS, {}, xlsx(ORGANIZATION_HEADERS, rows))
    assert sorted((p["row"], p["code"]) for p in refused["problems"]) == [
        (2, "PARENT_CYCLE"),
        (3, "PARENT_CYCLE"),
        (5, "DUPLICATE_ROW"),
        (6, "UNKNOWN_PARENT"),
        (7, "UNKNOWN_PROVINCE"),
    ]
    assert state() == before


# --- live progress: importProgress over WebSocket, a real worker ----------------------------------

PROGRESS = """subscription($id: ID!) { importProgress(id: $id) {
  id status rowsTotal rowsChecked rowsWritten problems { code } } }"""


@pytest.mark.django_db(transaction=True)
async def test_progress_is_followed_live_until_the_job_ends(demo, private_root, settings, monkeypatch):
    import asyncio
    import threading

    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer
    from django.db import connections

    from models import import_assignments
    from tests.test_subscriptions import cookie_of, open_socket, subscribe

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(excel_import, "CHUNK_ROWS", 2)
    monkeypatch.setattr(import_assignments, "CHUNK_ROWS", 2)
    ali, hasan = await sync_to_async(client_for)(ALI), await sync_to_async(client_for)(HASAN)
    rows = [
        assignment_row("LIVE-1", unit)
        for unit in ("MOE-HQ", "MOE-TAVANIR", "MOE-TAVANIR-THR", "MOE-WRM", "MOE-WRM-THR")
    ]
    payload = await sync_to_async(upload)(
        ali,
        IMPORT_ASSIGNMENTS,
        {"period": await sync_to_async(period_id)()},
        "زنده.xlsx",
        xlsx(ASSIGNMENT_HEADERS, rows),
    )
    job_id = payload["job"]["id"]
    pk = decode_global_id(job_id)[1]

    # Every message the job sends to its group, as the channel layer carries it.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(excel_import.import_group(pk), channel)

    socket = await open_socket(cookie_of(ali))
    await subscribe(socket, "progress", PROGRESS, {"id": job_id})
    first = await socket.receive_json_from(timeout=5)
    assert first["payload"]["data"]["importProgress"]["status"] == "QUEUED"

    anonymous = await open_socket()
    await subscribe(anonymous, "progress", PROGRESS, {"id": job_id})
    refused = await anonymous.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await anonymous.disconnect()

    stranger = await open_socket(cookie_of(hasan))
    await subscribe(stranger, "progress", PROGRESS, {"id": job_id})
    refused = await stranger.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "NOT_FOUND"

    # The real worker, in a thread of this process (signal handlers can only be set in the main one).
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.Worker.configure_signals", lambda self: None)
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.Worker.reset_signals", lambda self: None)

    def worker() -> None:
        try:
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)
        finally:
            connections.close_all()

    if connection.vendor == "sqlite":
        # One writer at a time (the embedded default runs one process): the worker takes the
        # sync thread, and the subscription answers what it was told once it may read again.
        await sync_to_async(worker)()
        thread = None
    else:
        thread = threading.Thread(target=worker)
        thread.start()
    seen = []
    while True:
        message = await socket.receive_json_from(timeout=30)
        if message["type"] == "complete":
            break
        assert message["type"] == "next", message
        seen.append(message["payload"]["data"]["importProgress"])
    if thread is not None:
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 30)

    order = ["QUEUED", "CHECKING", "WRITING", "DONE"]
    assert [order.index(s["status"]) for s in seen] == sorted(order.index(s["status"]) for s in seen)
    for name in ("rowsChecked", "rowsWritten"):  # never behind the answer before
        assert [s[name] for s in seen] == sorted(s[name] for s in seen)
    assert seen[-1] == {
        "id": job_id,
        "status": "DONE",
        "rowsTotal": 5,
        "rowsChecked": 5,
        "rowsWritten": 5,
        "problems": [],
    }

    messages = []
    while len(messages) < 20:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), timeout=1))
        except TimeoutError:
            break
    checked = [m["rows_checked"] for m in messages if m["status"] == "CHECKING"]
    written = [m["rows_written"] for m in messages if m["status"] == "WRITING"]
    # One message per chunk (the channel layer may deliver two sends of one moment in either order).
    assert sorted(n for n in checked if n) == [2, 4, 5]
    assert sorted(n for n in written if n) == [2, 4, 5]
    assert "DONE" in [m["status"] for m in messages]
    await socket.disconnect()
    await stranger.disconnect()
    # The test client leaves its sync thread's connection open (tests/test_login_lockout.py).
    await sync_to_async(connections.close_all)()
