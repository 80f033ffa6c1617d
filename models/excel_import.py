"""Importing organizations and assignments from the XLSX templates (models/excel_templates.py).

* :func:`start_import` (the upload, in the request): who may import, the period, and whether the
  file is an XLSX workbook at all (``FILE_NOT_XLSX``, checked by content: models/evidence_files.py
  and models/office_documents.py, macros and zip bombs included). It stores the file under a
  generated name in ``PRIVATE_MEDIA_ROOT/imports/``, writes a QUEUED :class:`ImportJob` and, once
  that commits, hands the job to a background task (models/tasks.py): django-tasks, the same
  queue as the SMS outbox — run at once with the immediate backend, by ``db_worker`` with the
  database backend.
* :func:`run_import` (the task): reads every row, checks it (models/import_assignments.py,
  models/import_organizations.py) in chunks of :data:`CHUNK_ROWS` rows with a constant number of
  queries per chunk, and records each bad cell as a problem (row, column, code, Persian reason).
  Any problem: REFUSED, nothing written. None: every row is written in one transaction (bulk
  inserts per chunk), so a failure half-way writes nothing either; then DONE.
* Progress (rows checked, written, total) is the job's row — updated after each checked chunk,
  readable through ``node(id)`` — and a message to the job's channel-layer group after each chunk
  (``importProgress``, subscriptions/import_progress.py). Rows are written inside one transaction,
  so while WRITING the row's ``rows_written`` stays 0 until the commit; the messages carry the
  count as it grows.

The job runs with the uploader's role at upload time (its id travels with the task): a main
leader's rows may name units of their own subtree only — other codes are unknown to them, exactly
as units outside one's scope are everywhere else — and the permission is checked again when the
job starts.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from models.decimals import persian_digits
from models.errors import DomainError
from models.evidence_files import check_content, read_limited
from models.evidence_names import clean_file_name, extension_of
from models.excel_templates import COLUMNS, header_key
from models.imports import ImportJob, ImportKind, ImportStatus
from models.organization import Organization
from models.periods import EvaluationPeriod, PeriodStatus
from models.roles import Role
from models.users import RoleAssignment
from permissions.scope import organization_scope
from permissions.viewer import Viewer

logger = logging.getLogger("mana.imports")

CHUNK_ROWS = 1000
# A file's rows beyond this are not read (IMPORT_TOO_MANY_ROWS): split it.
MAX_ROWS = 50_000
# Problems kept on a refused job; past it one more says how many were left out.
MAX_PROBLEMS = 1000
FINAL_STATUSES = (ImportStatus.DONE, ImportStatus.REFUSED, ImportStatus.FAILED)

IMPORT_MESSAGE = "mana.import"

NOT_ALLOWED_MESSAGES = {
    ImportKind.ORGANIZATIONS: "تنها راهبر ارشد می‌تواند دستگاه‌ها را از اکسل وارد کند.",
    ImportKind.ASSIGNMENTS: (
        "تنها راهبر ارشد و راهبر اصلی (برای دستگاه‌های زیرمجموعه خود) می‌توانند ابلاغ‌ها را از اکسل وارد کنند."
    ),
}
NOT_XLSX_MESSAGE = "فایل باید کاربرگ اکسل با قالب XLSX باشد (قالب را از سامانه دریافت کنید)؛ این فایل XLSX نیست."


def import_group(job_id: int) -> str:
    return f"mana.import.{job_id}"


def storage_path(storage_name: str) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "imports" / storage_name


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    code: str
    message: str

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


class Problems:
    """A job's problems, in the order found; sorted by row when kept."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, row: int | None, column: str | None, code: str, message: str) -> None:
        self.items.append(Problem(row, column, code, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def as_json(self) -> list[dict]:
        ordered = sorted(self.items, key=lambda p: (p.row is not None, p.row or 0))
        kept = [problem.as_json() for problem in ordered[:MAX_PROBLEMS]]
        left_out = len(ordered) - len(kept)
        if left_out:
            kept.append(
                Problem(
                    None,
                    None,
                    "TOO_MANY_PROBLEMS",
                    f"و {persian_digits(left_out)} مورد دیگر؛ موارد بالا را اصلاح و دوباره بارگذاری کنید.",
                ).as_json()
            )
        return kept


# --- who may import ----------------------------------------------------------------------------


def may_import(viewer: Viewer, kind: str) -> bool:
    """Organizations: the senior leader. Assignments: the senior leader (anywhere) and a main leader
    (units of their subtree); in both cases while the role's lead grant still stands."""
    role = viewer.active_role
    if not viewer.is_authenticated or role is None:
        return False
    allowed = {Role.SENIOR_LEADER} if kind == ImportKind.ORGANIZATIONS else {Role.SENIOR_LEADER, Role.MAIN_LEADER}
    if role.role not in allowed:
        return False
    return Organization.objects.filter(pk=role.organization_id).filter(organization_scope(viewer)).exists()


# --- the upload --------------------------------------------------------------------------------


def start_import(*, viewer: Viewer, kind: str, period_id: int | None, file_name: str, uploaded) -> ImportJob:
    """Checks the upload and queues its job; DomainError (nothing kept) otherwise."""
    if not may_import(viewer, kind):
        raise DomainError("NOT_ALLOWED", NOT_ALLOWED_MESSAGES[kind])
    period = None
    if kind == ImportKind.ASSIGNMENTS:
        period = EvaluationPeriod.objects.filter(pk=period_id).first()
        if period is None:
            raise DomainError("NOT_FOUND", "دوره ارزیابی پیدا نشد.", "period")
        if period.status == PeriodStatus.CLOSED:
            raise DomainError("PERIOD_CLOSED", "این دوره ارزیابی بسته است و ابلاغ تازه نمی‌پذیرد.", "period")
    name = clean_file_name(file_name)
    if extension_of(name) != "xlsx":
        raise DomainError("FILE_NOT_XLSX", NOT_XLSX_MESSAGE, "file")
    data = read_limited(uploaded)
    try:
        check_content("xlsx", data)
    except DomainError as error:
        if error.code == "FILE_CONTENT_MISMATCH":
            raise DomainError("FILE_NOT_XLSX", NOT_XLSX_MESSAGE, "file") from None
        raise
    with transaction.atomic():
        storage_name = uuid.uuid4().hex
        path = storage_path(storage_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        try:
            job = ImportJob.objects.create(
                kind=kind, period=period, file_name=name, storage_name=storage_name, created_by=viewer.user
            )
        except Exception:
            path.unlink(missing_ok=True)
            raise
        transaction.on_commit(functools.partial(_enqueue, job.pk, viewer.active_role.pk))
    return job


def _enqueue(job_id: int, role_id: int) -> None:
    from models.tasks import run_import_task

    try:
        run_import_task.enqueue(job_id, role_id)
    except Exception:
        # The upload has committed; the job stays QUEUED and can be run again (manage.py shell:
        # models.excel_import.run_import(job_id, role_id)).
        logger.exception("import job %s: could not be queued", job_id)


# --- the background job ------------------------------------------------------------------------


class Progress:
    """The job's counts, saved after each checked chunk and announced after each chunk."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job

    def status(self, status: str, **counts) -> None:
        self.job.status = status
        for name, value in counts.items():
            setattr(self.job, name, value)
        ImportJob.objects.filter(pk=self.job.pk).update(status=status, **counts)
        self.announce()

    def checked(self, rows: int) -> None:
        self.job.rows_checked = rows
        ImportJob.objects.filter(pk=self.job.pk).update(rows_checked=rows)
        self.announce()

    def written(self, rows: int) -> None:
        # Inside the writing transaction: the row is saved with the commit; the message says it now.
        self.job.rows_written = rows
        self.announce()

    def announce(self) -> None:
        announce_progress(self.job)


def announce_progress(job: ImportJob) -> None:
    """One message to the job's group (ids and counts only); subscribers re-read the job in scope."""
    from subscriptions.publish import schedule_send

    message = {
        "type": IMPORT_MESSAGE,
        "job": job.pk,
        "status": job.status,
        "rows_total": job.rows_total,
        "rows_checked": job.rows_checked,
        "rows_written": job.rows_written,
    }
    schedule_send(import_group(job.pk), message, f"import job {job.pk} {job.status}")


def run_import(job_id: int, role_id: int) -> str:
    """The task's body: check every row, then write them all or nothing. Returns the final status."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(status=ImportStatus.CHECKING)
    if not claimed:
        # Queued twice, or already run: the first run owns it.
        return ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or "MISSING"
    job = ImportJob.objects.select_related("period", "created_by").get(pk=job_id)
    progress = Progress(job)
    progress.announce()
    try:
        return _run(job, role_id, progress)
    except Exception:
        logger.exception("import job %s failed", job_id)
        problems = Problems()
        problems.add(
            None, None, "IMPORT_FAILED", "ورود به دلیل خطای سامانه انجام نشد؛ هیچ ردیفی ثبت نشد. دوباره تلاش کنید."
        )
        _finish(job, progress, ImportStatus.FAILED, problems)
        return ImportStatus.FAILED
    finally:
        storage_path(job.storage_name).unlink(missing_ok=True)


def _run(job: ImportJob, role_id: int, progress: Progress) -> str:
    role = RoleAssignment.objects.select_related("organization").filter(pk=role_id, user_id=job.created_by_id).first()
    viewer = Viewer(user=job.created_by, active_role=role)
    problems = Problems()
    if role is None or not job.created_by.is_active or not may_import(viewer, job.kind):
        problems.add(None, None, "NOT_ALLOWED", NOT_ALLOWED_MESSAGES[job.kind])
        return _finish(job, progress, ImportStatus.REFUSED, problems)

    rows = _read_rows(job, problems)
    if problems:
        return _finish(job, progress, ImportStatus.REFUSED, problems)
    progress.status(ImportStatus.CHECKING, rows_total=len(rows))

    from models.import_assignments import AssignmentRows
    from models.import_organizations import OrganizationRows

    checker = (AssignmentRows if job.kind == ImportKind.ASSIGNMENTS else OrganizationRows)(job, viewer, problems)
    checked = 0
    for chunk in _chunks(rows):
        checker.check_chunk(chunk)
        checked += len(chunk)
        progress.checked(checked)
    checker.finish()
    if problems:
        return _finish(job, progress, ImportStatus.REFUSED, problems)

    progress.status(ImportStatus.WRITING)
    try:
        with transaction.atomic():
            written = checker.write(progress)
            job.rows_written, job.finished_at, job.status = written, timezone.now(), ImportStatus.DONE
            job.save(update_fields=["rows_written", "finished_at", "status"])
            transaction.on_commit(functools.partial(announce_progress, job), robust=True)
    except IntegrityError:
        # Someone created the same unit or assignment after these rows were checked.
        problems.add(
            None,
            None,
            "CONFLICT",
            "هم‌زمان با این ورود، برخی از همین ردیف‌ها به شکل دیگری ثبت شد؛ هیچ ردیفی ثبت نشد. دوباره بارگذاری کنید.",
        )
        return _finish(job, progress, ImportStatus.REFUSED, problems)
    logger.info("import job %s (%s): %s rows written", job.pk, job.kind, written)
    return ImportStatus.DONE


def _finish(job: ImportJob, progress: Progress, status: str, problems: Problems) -> str:
    """A job that ends without writing (REFUSED, FAILED): what was written was rolled back."""
    job.problems = problems.as_json()
    job.status, job.finished_at, job.rows_written = status, timezone.now(), 0
    job.save(update_fields=["problems", "status", "finished_at", "rows_written"])
    progress.announce()
    return status


def _chunks(rows: list) -> Iterator[list]:
    for start in range(0, len(rows), CHUNK_ROWS):
        yield rows[start : start + CHUNK_ROWS]


def _read_rows(job: ImportJob, problems: Problems) -> list[tuple[int, tuple]]:
    """(sheet row number, cell values) of every non-blank data row of the first sheet, after its
    headers were found to be the template's; problems (and no rows) otherwise."""
    from openpyxl import load_workbook

    columns = COLUMNS[job.kind]
    # A file object: given a path, openpyxl judges the file by its extension, and stored files have none.
    stored = storage_path(job.storage_name).open("rb")
    try:
        workbook = load_workbook(stored, read_only=True, data_only=True)
    except Exception as error:
        # Passed the content check at upload, but openpyxl cannot read it as a workbook.
        stored.close()
        logger.warning("import job %s: not readable as a workbook (%s: %s)", job.pk, type(error).__name__, error)
        problems.add(None, None, "FILE_NOT_XLSX", NOT_XLSX_MESSAGE)
        return []
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = next(values, ())
        if not _headers_match(header, columns, problems):
            return []
        rows: list[tuple[int, tuple]] = []
        width = len(columns)
        for number, row in enumerate(values, start=2):
            if row is None or all(_blank(value) for value in row):
                continue
            if len(rows) == MAX_ROWS:
                problems.add(
                    None,
                    None,
                    "IMPORT_TOO_MANY_ROWS",
                    f"فایل بیش از {persian_digits(MAX_ROWS)} ردیف دارد؛ آن را به چند فایل تقسیم کنید.",
                )
                return []
            cells = tuple(row[:width]) + (None,) * (width - len(row))
            if any(not _blank(value) for value in row[width:]):
                problems.add(number, None, "WRONG_HEADERS", "این ردیف در ستون‌هایی بیرون از قالب مقدار دارد.")
            rows.append((number, cells))
    finally:
        workbook.close()
        stored.close()
    if not rows and not problems:
        problems.add(None, None, "IMPORT_EMPTY", "فایل هیچ ردیف داده‌ای ندارد؛ داده‌ها را از ردیف دوم به بعد وارد کنید.")
    return rows


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _headers_match(header: tuple, columns, problems: Problems) -> bool:
    found = list(header or ())
    expected = [column.header for column in columns]
    ok = True
    for index, name in enumerate(expected):
        given = found[index] if index < len(found) else None
        if header_key(given) != header_key(name):
            ok = False
            shown = "خالی" if _blank(given) else f"«{given}»"
            problems.add(1, name, "WRONG_HEADERS", f"عنوان ستون {index + 1} باید «{name}» باشد، نه {shown}.")
    for index in range(len(expected), len(found)):
        if not _blank(found[index]):
            ok = False
            problems.add(1, str(found[index]), "WRONG_HEADERS", f"ستون «{found[index]}» در قالب نیست؛ آن را حذف کنید.")
    return ok
