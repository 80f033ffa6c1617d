"""The XLSX templates of the two imports: their columns (Persian headers), and the blank workbooks.

One sheet of data, headers in the first row exactly as here (spelling of ي/ك, half-spaces and
extra spaces do not matter), one row per item from the second row on; a second sheet («راهنما»)
explains every column. The same definitions check an uploaded file's headers
(models/excel_import.py), so the template and the check cannot drift apart.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from models.imports import ImportKind
from models.indicators import IndicatorKind, IndicatorNature
from models.organization import OrganizationKind
from models.text import normalize_for_search


@dataclass(frozen=True)
class Column:
    header: str
    required: bool
    guide: str
    example: str
    width: int = 18
    # Typed into as text (codes keep leading zeros, «1402/11/20» stays as written).
    as_text: bool = False
    # A drop-down of the accepted Persian labels.
    choices: tuple[str, ...] = ()


IMPORTABLE_ORGANIZATION_KINDS = tuple(kind for kind in OrganizationKind if kind != OrganizationKind.ARO)
INDICATOR_KIND_LABELS = tuple(str(kind.label) for kind in IndicatorKind)
# People write «افزایشی» and «کاهشی»; the full labels and the API's names are accepted too.
NATURE_WORDS = {"افزایشی": IndicatorNature.HIGHER_IS_BETTER, "کاهشی": IndicatorNature.LOWER_IS_BETTER}

ORGANIZATION_COLUMNS = (
    Column(
        "کد دستگاه", True, "کد یکتای دستگاه، حداکثر ۳۲ نویسه؛ نباید پیش‌تر ثبت شده باشد.", "MOE-TAVANIR-KRJ", 20, True
    ),
    Column("نام", True, "نام کامل دستگاه، حداکثر ۲۰۰ نویسه.", "شرکت توزیع نیروی برق استان البرز", 40),
    Column(
        "نوع",
        True,
        "یکی از: " + "، ".join(str(kind.label) for kind in IMPORTABLE_ORGANIZATION_KINDS) + ".",
        str(OrganizationKind.PROVINCIAL.label),
        28,
        choices=tuple(str(kind.label) for kind in IMPORTABLE_ORGANIZATION_KINDS),
    ),
    Column(
        "کد دستگاه بالادست",
        True,
        "کد دستگاهی که این دستگاه زیرمجموعه آن است: دستگاهی ثبت‌شده یا ردیفی دیگر از همین فایل.",
        "MOE-TAVANIR",
        20,
        True,
    ),
    Column(
        "کد استان",
        False,
        "برای واحد استانی، واحد منطقه‌ای و سازمان مدیریت و برنامه‌ریزی استان الزامی و برای بقیه خالی: "
        "کد استان (مانند IR-30) یا نام آن (مانند البرز).",
        "IR-30",
        14,
        True,
    ),
)

ASSIGNMENT_COLUMNS = (
    Column("کد شاخص", True, "کد شاخص، حداکثر ۳۲ نویسه؛ شاخص تازه با همین کد ساخته می‌شود.", "MOE-08", 14, True),
    Column("عنوان شاخص", True, "عنوان شاخص، حداکثر ۳۰۰ نویسه.", "تعداد مشترکان برق هوشمند", 40),
    Column("نوع", True, "عمومی یا اختصاصی.", str(IndicatorKind.SPECIFIC.label), 12, choices=INDICATOR_KIND_LABELS),
    Column("واحد سنجش", True, "مانند تعداد، درصد، میلیارد ریال؛ حداکثر ۶۴ نویسه.", "تعداد", 14),
    Column(
        "ماهیت",
        True,
        "افزایشی (هرچه بیشتر بهتر) یا کاهشی (هرچه کمتر بهتر).",
        "افزایشی",
        12,
        choices=tuple(NATURE_WORDS),
    ),
    Column("کد دستگاه", True, "کد دستگاهی که شاخص به آن ابلاغ می‌شود.", "MOE-TAVANIR-THR", 20, True),
    Column("هدف", True, "عدد؛ حداکثر ۱۴ رقم پیش و ۴ رقم پس از ممیز.", "25000", 14),
    Column("حد پایین", False, "عدد، اختیاری؛ از حد بالا بیشتر نباشد.", "20000", 12),
    Column("حد بالا", False, "عدد، اختیاری.", "30000", 12),
    Column("وزن", True, "عدد مثبت؛ حداکثر ۲ رقم اعشار.", "50", 10),
    Column("سقف امتیاز", True, "عدد نامنفی؛ حداکثر ۲ رقم اعشار (در ابلاغ‌های ۱۴۰۲ دو برابر وزن).", "100", 12),
    Column("مهلت", False, "تاریخ شمسی درون دوره ارزیابی، مانند 1402/11/20؛ اختیاری.", "1402/11/20", 14, True),
)

COLUMNS = {ImportKind.ORGANIZATIONS: ORGANIZATION_COLUMNS, ImportKind.ASSIGNMENTS: ASSIGNMENT_COLUMNS}
SHEET_TITLES = {ImportKind.ORGANIZATIONS: "دستگاه‌ها", ImportKind.ASSIGNMENTS: "ابلاغ شاخص‌ها"}
# The address of each template (resolvers/excel_downloads.py) by its kind, and back.
TEMPLATE_SLUGS = {ImportKind.ORGANIZATIONS: "organizations", ImportKind.ASSIGNMENTS: "assignments"}
FILE_NAMES = {
    ImportKind.ORGANIZATIONS: "قالب ورود دستگاه‌ها.xlsx",
    ImportKind.ASSIGNMENTS: "قالب ورود ابلاغ شاخص‌ها.xlsx",
}
GUIDE_TITLE = "راهنما"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def header_key(value: object) -> str:
    """A header as compared: ي/ك, half-spaces and repeated spaces folded."""
    return normalize_for_search("" if value is None else str(value))


def template_workbook(kind: str) -> bytes:
    """The blank template of ``kind`` as XLSX bytes: headers, drop-downs, and a guide sheet."""
    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLES[kind]
    sheet.sheet_view.rightToLeft = True
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.as_text:
            sheet.column_dimensions[letter].number_format = "@"
        if column.choices:
            listed = ",".join(column.choices)
            validation = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=not column.required)
            validation.add(f"{letter}2:{letter}50000")
            sheet.add_data_validation(validation)
    _guide(workbook.create_sheet(GUIDE_TITLE), columns)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _guide(sheet, columns: tuple[Column, ...]) -> None:
    sheet.sheet_view.rightToLeft = True
    for index, title in enumerate(("ستون", "الزامی", "توضیح", "نمونه"), start=1):
        cell = sheet.cell(row=1, column=index, value=title)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for row, column in enumerate(columns, start=2):
        sheet.cell(row=row, column=1, value=column.header)
        sheet.cell(row=row, column=2, value="بله" if column.required else "خیر")
        sheet.cell(row=row, column=3, value=column.guide).alignment = Alignment(wrap_text=True)
        sheet.cell(row=row, column=4, value=column.example)
    note = len(columns) + 3
    sheet.cell(
        row=note,
        column=1,
        value="داده‌ها را در برگه نخست، از ردیف دوم به بعد وارد کنید و عنوان ستون‌ها را تغییر ندهید. "
        "اگر حتی یک ردیف نادرست باشد هیچ ردیفی ثبت نمی‌شود و فهرست همه ردیف‌های نادرست گزارش می‌شود.",
    )
    for letter, width in zip("ABCD", (20, 8, 90, 30), strict=True):
        sheet.column_dimensions[letter].width = width
