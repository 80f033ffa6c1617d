"""Reading one spreadsheet cell as what a column holds: text, a number, a Jalali date, a choice.

People fill the import templates by hand, in Excel or LibreOffice: numbers arrive as numbers or as
text with Persian digits and «٫», dates as «1402/11/20» text (Excel has no Jalali calendar; a real
date cell is a Gregorian date and is taken as one), choices as their Persian label. Each reader
returns the value or raises :class:`CellError` with a code and a Persian reason; the import turns
that into one problem of the row (models/excel_import.py). Nothing is rounded: a number with more
places than its column keeps is refused by models/decimals.py.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from models import decimals
from models.errors import DomainError
from models.jalali import parse_jalali
from models.text import normalize_for_search, to_latin_digits

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)", re.ASCII)
# Thousands separators people type (Persian «٬», Latin comma) and spaces, dropped before reading.
_GROUPING = str.maketrans({"٬": None, ",": None, " ": None, "\u00a0": None, "\u200c": None})
# No column holds more than 18 digits; a longer string is not a number anyone meant.
MAX_NUMBER_TEXT = 40


class CellError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value: object) -> str:
    """A cell's value as quoted in a message (shortened)."""
    text = value.strftime("%Y-%m-%d") if isinstance(value, datetime.date) else str(value)
    return text if len(text) <= 30 else text[:30] + "…"


def text(value: object, *, label: str, max_length: int, required: bool = True) -> str:
    """Text as typed (trimmed, inner whitespace kept); numbers typed into a text column are read as text."""
    if is_blank(value):
        if required:
            raise CellError("VALUE_REQUIRED", f"«{label}» خالی است.")
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as 1234 comes back from Excel as 1234.0
    result = " ".join(str(value).split())
    if len(result) > max_length:
        raise CellError("TEXT_TOO_LONG", f"«{label}» حداکثر {decimals.persian_digits(max_length)} نویسه می‌پذیرد.")
    return result


def code(value: object, *, label: str, max_length: int = 32, required: bool = True) -> str:
    """A code (organization, indicator, province): trimmed, Persian digits as Latin ones."""
    return to_latin_digits(text(value, label=label, max_length=max_length, required=required))


def number(value: object, *, label: str, required: bool = True) -> Decimal | None:
    if is_blank(value):
        if required:
            raise CellError("VALUE_REQUIRED", f"«{label}» خالی است.")
        return None
    if isinstance(value, bool | datetime.date | datetime.time | datetime.timedelta):
        raise CellError("INVALID_DECIMAL", f"«{label}» باید عدد باشد، نه «{shown(value)}».")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # The shortest text that reads back as this float: 36.5 stays 36.5, never 36.49999…
        written = repr(value)
    else:
        written = to_latin_digits(str(value)).translate(_GROUPING).replace("٫", ".").strip()
    if len(written) > MAX_NUMBER_TEXT or not _NUMBER.fullmatch(written):
        raise CellError("INVALID_DECIMAL", f"«{label}» باید عدد باشد، نه «{shown(value)}».")
    try:
        return Decimal(written)
    except InvalidOperation:  # e.g. a float that was inf or nan
        raise CellError("INVALID_DECIMAL", f"«{label}» باید عدد باشد، نه «{shown(value)}».") from None


def fitting(model, field: str, value: Decimal | None, *, label: str) -> Decimal | None:
    """``value`` exactly as ``model.field`` stores it, or a CellError (too large, too precise)."""
    if value is None:
        return None
    try:
        return decimals.checked(model, field, value, label)
    except DomainError as error:
        raise CellError(error.code, f"«{label}»: {error.message}") from None


def jalali_date(value: object, *, label: str, required: bool = True) -> datetime.date | None:
    if is_blank(value):
        if required:
            raise CellError("VALUE_REQUIRED", f"«{label}» خالی است.")
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise CellError("INVALID_DATE", f"«{label}» را به صورت تاریخ شمسی بنویسید، مانند «1402/11/20».")
    try:
        return parse_jalali(value)
    except ValidationError as error:
        raise CellError("INVALID_DATE", f"«{label}»: {error.messages[0]}") from None


def choice(value: object, *, label: str, choices: dict[str, str], allowed: tuple[str, ...]) -> str:
    """One of ``choices`` (folded spelling → stored value): a Persian label or the API's name;
    ``allowed`` are the spellings a refusal lists."""
    if is_blank(value):
        raise CellError("VALUE_REQUIRED", f"«{label}» خالی است.")
    found = choices.get(normalize_for_search(str(value)))
    if found is None:
        listed = "، ".join(allowed)
        raise CellError("INVALID_CHOICE", f"«{shown(value)}» برای «{label}» پذیرفته نیست؛ یکی از: {listed}.")
    return found


def choices_of(text_choices, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Accepted spellings of a Django TextChoices: its Persian labels and values, plus ``extra``."""
    accepted = {normalize_for_search(str(label)): value for value, label in text_choices.choices}
    accepted |= {normalize_for_search(value): value for value in text_choices.values}
    for spelling, value in (extra or {}).items():
        accepted[normalize_for_search(spelling)] = value
    return accepted
