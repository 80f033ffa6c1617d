"""An organization's results in a period as an XLSX workbook: Persian headers, Jalali dates, right to left.

What the viewer could read through the API, no more: the unit's assignments within their scope
(permissions/scope.py), the registered value only where they may read the performance, the
self-registered score computed from it (models/scoring.py), the evaluated score — the average of
the *published* evaluations — and the status. An assignment taken out of scoring by an approved
non-applicability request is listed, marked, and left out of the totals. Three queries whatever
the number of assignments.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from models.evaluations import Evaluation
from models.indicators import Assignment, ReferralStatus
from models.jalali import format_jalali
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.referrals import Performance
from models.scoring import CENT, referral_score
from permissions import scope
from permissions.viewer import Viewer

# (header, width, number format)
RESULT_COLUMNS = (
    ("ردیف", 6, None),
    ("کد شاخص", 12, None),
    ("عنوان شاخص", 45, None),
    ("نوع", 10, None),
    ("واحد سنجش", 14, None),
    ("ماهیت", 18, None),
    ("هدف", 14, "#,##0.####"),
    ("حد پایین", 12, "#,##0.####"),
    ("حد بالا", 12, "#,##0.####"),
    ("وزن", 8, "0.00"),
    ("سقف امتیاز", 10, "0.00"),
    ("مهلت", 12, None),
    ("عملکرد", 14, "#,##0.####"),
    ("امتیاز خوداظهاری", 14, "0.00"),
    ("امتیاز ارزیابی", 14, "0.00"),
    ("وضعیت", 22, None),
    ("مصداق دارد", 10, None),
)
HEADERS = tuple(header for header, _, _ in RESULT_COLUMNS)
HEADER_ROW = 3
TOTAL_LABEL = "جمع امتیاز (شاخص‌های دارای مصداق)"
NOT_APPLICABLE_STATUS = "عدم مصداق (خارج از امتیازدهی)"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class ResultRow:
    assignment: Assignment
    value: Decimal | None
    self_score: Decimal | None
    evaluated_score: Decimal | None

    def cells(self, number: int) -> list:
        a, indicator = self.assignment, self.assignment.indicator
        status = str(ReferralStatus(a.status).label) if a.is_applicable else NOT_APPLICABLE_STATUS
        return [
            number,
            indicator.code,
            indicator.title,
            indicator.get_kind_display(),
            indicator.unit,
            indicator.get_nature_display(),
            a.target,
            a.lower_bound,
            a.upper_bound,
            a.weight,
            a.score_cap,
            format_jalali(a.deadline) if a.deadline else None,
            self.value,
            self.self_score,
            self.evaluated_score,
            status,
            "بله" if a.is_applicable else "خیر",
        ]


def result_rows(viewer: Viewer, organization: Organization, period: EvaluationPeriod) -> list[ResultRow]:
    assignments = list(
        scope.restrict_assignments(Assignment.objects.filter(organization=organization, period=period), viewer)
        .select_related("indicator")
        .order_by("indicator__code", "id")
    )
    ids = [a.pk for a in assignments]
    performances = {
        p.referral.assignment_id: p
        for p in scope.restrict_performances(
            Performance.objects.filter(referral__assignment_id__in=ids, referral__parent__isnull=True), viewer
        ).select_related("referral")
    }
    published = Evaluation.objects.filter(assignment_id__in=ids, published_at__isnull=False)
    evaluated = dict(
        scope.restrict_evaluations(published, viewer)
        .values("assignment_id")
        .annotate(average=Avg("score"))
        .values_list("assignment_id", "average")
    )
    rows = []
    for a in assignments:
        performance = performances.get(a.pk)
        value = performance.value if performance is not None else None
        self_score = evaluated_score = None
        if a.is_applicable:
            if performance is not None:
                self_score = referral_score(
                    value=value,
                    target=performance.referral.target,
                    is_slice=False,
                    weight=a.weight,
                    cap=a.score_cap,
                    nature=a.indicator.nature,
                    lower_bound=a.lower_bound,
                    upper_bound=a.upper_bound,
                )
            average = evaluated.get(a.pk)
            if average is not None:
                evaluated_score = Decimal(average).quantize(CENT, rounding=ROUND_HALF_UP)
        rows.append(ResultRow(a, value, self_score, evaluated_score))
    return rows


def results_workbook(viewer: Viewer, organization: Organization, period: EvaluationPeriod) -> bytes:
    rows = result_rows(viewer, organization, period)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "نتایج"
    sheet.sheet_view.rightToLeft = True
    prepared = format_jalali(timezone.localdate())
    sheet.cell(row=1, column=1, value=f"نتایج ارزیابی عملکرد — {organization.name}").font = Font(bold=True, size=13)
    sheet.cell(row=2, column=1, value=f"{period.title} — تاریخ تهیه: {prepared}")
    write_table(sheet, HEADER_ROW, RESULT_COLUMNS, [row.cells(number) for number, row in enumerate(rows, start=1)])
    total_row = HEADER_ROW + len(rows) + 1
    sheet.cell(row=total_row, column=HEADERS.index("عنوان شاخص") + 1, value=TOTAL_LABEL).font = Font(bold=True)
    for header, attribute in (("امتیاز خوداظهاری", "self_score"), ("امتیاز ارزیابی", "evaluated_score")):
        scores = [getattr(row, attribute) for row in rows if getattr(row, attribute) is not None]
        cell = sheet.cell(row=total_row, column=HEADERS.index(header) + 1, value=sum(scores) if scores else None)
        cell.font, cell.number_format = Font(bold=True), "0.00"
    return save(workbook)


def write_table(sheet, header_row: int, columns, rows: list[list]) -> None:
    """Headers (bold, filled, filterable, frozen) at ``header_row`` and the rows below them."""
    for index, (header, width, _) in enumerate(columns, start=1):
        cell = sheet.cell(row=header_row, column=index, value=header)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    for offset, values in enumerate(rows, start=1):
        for index, (value, (_, _, number_format)) in enumerate(zip(values, columns, strict=True), start=1):
            cell = sheet.cell(row=header_row + offset, column=index, value=value)
            if number_format and isinstance(value, Decimal | int | float):
                cell.number_format = number_format
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(len(rows), 1)}"
    sheet.freeze_panes = f"A{header_row + 1}"


def save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_file_name(prefix: str, organization: Organization, period: EvaluationPeriod) -> str:
    """«نتایج <unit> - <period>.xlsx», without characters a file system refuses."""
    name = f"{prefix} {organization.name} - {period.title}"
    for character in '\\/:*?"<>|':
        name = name.replace(character, " ")
    return " ".join(name.split())[:150] + ".xlsx"


# --- the dashboard ---------------------------------------------------------------------------

DASHBOARD_COLUMNS = (
    ("رتبه", 6, None),
    ("کد دستگاه", 16, None),
    ("دستگاه", 40, None),
    ("تعداد شاخص‌ها", 10, None),
    ("ارجاع‌شده (درصد)", 12, "0.00"),
    ("ارسال‌شده (درصد)", 12, "0.00"),
    ("ثبت نهایی (درصد)", 12, "0.00"),
    ("معوق", 8, None),
    ("عدم مصداق", 10, None),
    ("امتیاز خوداظهاری", 14, "0.00"),
    ("ارزیابی‌شده", 10, None),
    ("امتیاز ارزیابی", 14, "0.00"),
)
DASHBOARD_HEADERS = tuple(header for header, _, _ in DASHBOARD_COLUMNS)
OWN_SUFFIX = " (شاخص‌های خود دستگاه)"
TOTALS_LABEL = "جمع کل"


def _figure_cells(figures) -> list:
    return [
        figures.assignments,
        figures.percent(figures.referred),
        figures.percent(figures.submitted),
        figures.percent(figures.finalized),
        figures.overdue,
        figures.not_applicable,
        figures.self_score,
        figures.evaluated,
        figures.evaluated_score,
    ]


def dashboard_workbook(viewer: Viewer, period_id: int, organization_id: int | None) -> tuple[bytes, object]:
    """The dashboard (models/dashboard.py, the same figures as the ``dashboard`` query) as XLSX:
    the organization's own assignments, each listed unit rolled up with its rank, and the totals.
    Refuses as the query does (FORBIDDEN for roles without a dashboard, NOT_FOUND out of scope)."""
    from models.dashboard import dashboard

    board = dashboard(viewer, period_id, organization_id)
    names = {
        pk: (code, name)
        for pk, code, name in Organization.objects.filter(
            pk__in=[unit.organization_id for unit in board.units]
        ).values_list("pk", "code", "name")
    }
    root = board.organization
    rows = [[None, root.code, root.name + OWN_SUFFIX, *_figure_cells(board.own)]]
    for unit in board.units:
        code, name = names.get(unit.organization_id, ("", ""))
        rows.append([unit.rank, code, name, *_figure_cells(unit.totals)])
    rows.append([None, None, TOTALS_LABEL, *_figure_cells(board.totals)])

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "داشبورد"
    sheet.sheet_view.rightToLeft = True
    generated = format_jalali(timezone.localtime(board.generated_at).date())
    sheet.cell(row=1, column=1, value=f"داشبورد — {root.name}").font = Font(bold=True, size=13)
    sheet.cell(row=2, column=1, value=f"{board.period.title} — تاریخ تهیه: {generated}")
    write_table(sheet, HEADER_ROW, DASHBOARD_COLUMNS, rows)
    for column in range(1, len(DASHBOARD_COLUMNS) + 1):
        sheet.cell(row=HEADER_ROW + len(rows), column=column).font = Font(bold=True)
    return save(workbook), board
