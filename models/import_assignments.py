"""The rows of an assignments import (ابلاغ شاخص‌ها): one indicator given to one unit for the job's
period, with its target, bounds, weight, score cap and deadline.

Checked per chunk with three queries whatever its size — the chunk's units (within the uploader's
scope), its indicators, the assignments that already exist — and across the file: a pair
(indicator, unit) once only, an indicator code with one title, kind, unit and nature. An indicator
code not yet known creates that indicator; a known one must agree with what is stored. Written with
bulk inserts per chunk, inside the job's one transaction (models/excel_import.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from models import excel_cells as cells
from models.errors import DomainError
from models.events import figures_changed
from models.excel_import import CHUNK_ROWS, Problems, Progress
from models.excel_templates import ASSIGNMENT_COLUMNS, INDICATOR_KIND_LABELS, NATURE_WORDS
from models.indicators import Assignment, Indicator, IndicatorKind, IndicatorNature, ReferralStatus, RollupRule
from models.jalali import format_jalali
from models.organization import Organization
from models.text import normalize_for_search
from models.units import refuse_negative_count
from permissions.scope import organization_scope

(
    INDICATOR_CODE,
    TITLE,
    KIND,
    UNIT,
    NATURE,
    ORGANIZATION,
    TARGET,
    LOWER,
    UPPER,
    WEIGHT,
    CAP,
    DEADLINE,
) = (column.header for column in ASSIGNMENT_COLUMNS)

KINDS = cells.choices_of(IndicatorKind)
NATURES = cells.choices_of(IndicatorNature, NATURE_WORDS)


def default_rollup(unit: str) -> str:
    """How provincial slices of an imported indicator add up: percentages and rates average, the
    rest (counts, amounts) add up — the seed's rule; an administrator may change it afterwards."""
    return RollupRule.AVERAGE if "درصد" in normalize_for_search(unit) else RollupRule.SUM


@dataclass
class Row:
    number: int
    indicator_code: str
    title: str
    kind: str
    unit: str
    nature: str
    organization_code: str
    target: Decimal
    lower_bound: Decimal | None
    upper_bound: Decimal | None
    weight: Decimal
    score_cap: Decimal
    deadline: date | None
    organization_id: int = 0

    @property
    def indicator(self) -> tuple[str, str, str, str]:
        """What must agree wherever an indicator code appears (spelling of ي/ك and spaces aside)."""
        return (normalize_for_search(self.title), self.kind, normalize_for_search(self.unit), self.nature)


class RowReader:
    """Reads one row's cells, recording a problem for each bad one."""

    def __init__(self, number: int, problems: Problems) -> None:
        self.number, self.problems, self.ok = number, problems, True

    def read(self, column: str, reader, value, **options):
        try:
            return reader(value, label=column, **options)
        except cells.CellError as error:
            self.refuse(column, error.code, error.message)
            return None

    def refuse(self, column: str | None, code: str, message: str) -> None:
        self.problems.add(self.number, column, code, message)
        self.ok = False


class AssignmentRows:
    def __init__(self, job, viewer, problems: Problems) -> None:
        self.period = job.period
        self.viewer = viewer
        self.problems = problems
        self.rows: list[Row] = []
        # Across the file: (indicator code, unit code) → first row; indicator code → (first row, what it says).
        self.pairs: dict[tuple[str, str], int] = {}
        self.indicators_in_file: dict[str, tuple[int, tuple]] = {}
        self.known_indicators: dict[str, int] = {}

    # --- checking ---

    def check_chunk(self, chunk: list[tuple[int, tuple]]) -> None:
        parsed = [row for row in (self._parse(number, values) for number, values in chunk) if row is not None]
        organizations = dict(
            Organization.objects.filter(code__in={row.organization_code for row in parsed})
            .filter(organization_scope(self.viewer))
            .values_list("code", "pk")
        )
        indicator_codes = {row.indicator_code for row in parsed}
        stored = {
            code: (pk, (normalize_for_search(title), kind, normalize_for_search(unit), nature))
            for pk, code, title, kind, unit, nature in Indicator.objects.filter(code__in=indicator_codes).values_list(
                "pk", "code", "title", "kind", "unit", "nature"
            )
        }
        existing = set(
            Assignment.objects.filter(
                period=self.period, organization_id__in=organizations.values(), indicator__code__in=indicator_codes
            ).values_list("indicator__code", "organization_id")
        )
        for row in parsed:
            self._check_against_stored(row, organizations, stored, existing)

    def _parse(self, number: int, values: tuple) -> Row | None:
        reader = RowReader(number, self.problems)
        read = reader.read
        code, title, kind, unit, nature, organization, target, lower, upper, weight, cap, deadline = values
        row = {
            "indicator_code": read(INDICATOR_CODE, cells.code, code),
            "title": read(TITLE, cells.text, title, max_length=300),
            "kind": read(KIND, cells.choice, kind, choices=KINDS, allowed=INDICATOR_KIND_LABELS),
            "unit": read(UNIT, cells.text, unit, max_length=64),
            "nature": read(NATURE, cells.choice, nature, choices=NATURES, allowed=tuple(NATURE_WORDS)),
            "organization_code": read(ORGANIZATION, cells.code, organization),
            "target": self._decimal(reader, TARGET, "target", target, required=True),
            "lower_bound": self._decimal(reader, LOWER, "lower_bound", lower),
            "upper_bound": self._decimal(reader, UPPER, "upper_bound", upper),
            "weight": self._decimal(reader, WEIGHT, "weight", weight, required=True),
            "score_cap": self._decimal(reader, CAP, "score_cap", cap, required=True),
            "deadline": read(DEADLINE, cells.jalali_date, deadline, required=False),
        }
        if not reader.ok:
            return None
        result = Row(number=number, **row)
        self._check_values(reader, result)
        return result if reader.ok else None

    @staticmethod
    def _decimal(reader: RowReader, column: str, field: str, value, required: bool = False):
        number = reader.read(column, cells.number, value, required=required)
        if number is None:
            return None
        return reader.read(column, lambda v, label: cells.fitting(Assignment, field, v, label=label), number)

    def _check_values(self, reader: RowReader, row: Row) -> None:
        for column, value in ((TARGET, row.target), (LOWER, row.lower_bound), (UPPER, row.upper_bound)):
            try:
                refuse_negative_count(row.unit, value, column)
            except DomainError as error:
                reader.refuse(column, error.code, error.message)
        if row.lower_bound is not None and row.upper_bound is not None and row.lower_bound > row.upper_bound:
            reader.refuse(LOWER, "BOUNDS_OUT_OF_ORDER", "حد پایین هدف نباید از حد بالای آن بیشتر باشد.")
        if row.weight <= 0:
            reader.refuse(WEIGHT, "WEIGHT_NOT_POSITIVE", "وزن امتیاز باید عددی مثبت باشد.")
        if row.score_cap < 0:
            reader.refuse(CAP, "NEGATIVE_NOT_ALLOWED", "سقف امتیاز نمی‌تواند منفی باشد.")
        period = self.period
        if row.deadline is not None and not period.contains(row.deadline):
            reader.refuse(
                DEADLINE,
                "DEADLINE_OUTSIDE_PERIOD",
                f"مهلت باید درون دوره ({format_jalali(period.start_date)} تا {format_jalali(period.end_date)}) باشد.",
            )
        key = (row.indicator_code, row.organization_code)
        if key in self.pairs:
            reader.refuse(
                None,
                "DUPLICATE_ROW",
                f"شاخص «{row.indicator_code}» برای دستگاه «{row.organization_code}» "
                f"در ردیف {self.pairs[key]} هم آمده است.",
            )
        else:
            self.pairs[key] = row.number
        first = self.indicators_in_file.setdefault(row.indicator_code, (row.number, row.indicator))
        if first[1] != row.indicator:
            reader.refuse(
                INDICATOR_CODE,
                "INDICATOR_MISMATCH",
                f"شاخص «{row.indicator_code}» در ردیف {first[0]} با عنوان، نوع، واحد سنجش یا ماهیت دیگری آمده است.",
            )

    def _check_against_stored(self, row: Row, organizations: dict, stored: dict, existing: set) -> None:
        reader = RowReader(row.number, self.problems)
        organization_id = organizations.get(row.organization_code)
        if organization_id is None:
            # Out of the uploader's scope reads the same as not existing at all.
            reader.refuse(ORGANIZATION, "UNKNOWN_ORGANIZATION", f"دستگاهی با کد «{row.organization_code}» پیدا نشد.")
        known = stored.get(row.indicator_code)
        if known is not None and known[1] != row.indicator:
            reader.refuse(
                INDICATOR_CODE,
                "INDICATOR_MISMATCH",
                f"شاخص «{row.indicator_code}» پیش‌تر با عنوان، نوع، واحد سنجش یا ماهیت دیگری ثبت شده است.",
            )
        if organization_id is not None and (row.indicator_code, organization_id) in existing:
            reader.refuse(
                None,
                "ASSIGNMENT_EXISTS",
                f"شاخص «{row.indicator_code}» در این دوره پیش‌تر به دستگاه «{row.organization_code}» ابلاغ شده است.",
            )
        if reader.ok:
            row.organization_id = organization_id
            if known is not None:
                self.known_indicators[row.indicator_code] = known[0]
            self.rows.append(row)

    def finish(self) -> None:
        return None

    # --- writing (inside the job's transaction) ---

    def write(self, progress: Progress) -> int:
        indicator_ids = dict(self.known_indicators)
        new = {}
        for row in self.rows:
            if row.indicator_code not in indicator_ids and row.indicator_code not in new:
                new[row.indicator_code] = Indicator(
                    code=row.indicator_code,
                    title=row.title,
                    kind=row.kind,
                    unit=row.unit,
                    nature=row.nature,
                    rollup=default_rollup(row.unit),
                )
        created = Indicator.objects.bulk_create(list(new.values()), batch_size=CHUNK_ROWS)
        if any(indicator.pk is None for indicator in created):  # a database that returns no ids
            created = Indicator.objects.filter(code__in=new).only("pk", "code")
        indicator_ids |= {indicator.code: indicator.pk for indicator in created}

        written = 0
        for start in range(0, len(self.rows), CHUNK_ROWS):
            chunk = self.rows[start : start + CHUNK_ROWS]
            Assignment.objects.bulk_create(
                Assignment(
                    indicator_id=indicator_ids[row.indicator_code],
                    organization_id=row.organization_id,
                    period=self.period,
                    target=row.target,
                    lower_bound=row.lower_bound,
                    upper_bound=row.upper_bound,
                    weight=row.weight,
                    score_cap=row.score_cap,
                    deadline=row.deadline,
                    status=ReferralStatus.PENDING,
                )
                for row in chunk
            )
            written += len(chunk)
            progress.written(written)
        # New assignments change what the units' dashboards count (announced after the commit).
        for organization_id in sorted({row.organization_id for row in self.rows}):
            figures_changed(self.period.pk, organization_id)
        return written
