"""Jalali (Solar Hijri) dates as people read and type them: «1402/10/10», Persian digits too."""

from __future__ import annotations

import datetime
import re

import jdatetime
from django.core.exceptions import ValidationError

from models.text import to_latin_digits

_JALALI = re.compile(r"^(\d{4})[/\-](\d{1,2})[/\-](\d{1,2})$")


def parse_jalali(value: str) -> datetime.date:
    """Gregorian date of a Jalali «YYYY/MM/DD» (or «YYYY-MM-DD»); ValidationError otherwise."""
    text = to_latin_digits(str(value)).strip()
    match = _JALALI.match(text)
    if not match:
        raise ValidationError(f"تاریخ «{value}» معتبر نیست؛ قالب درست: 1402/10/10", code="INVALID_DATE")
    year, month, day = (int(part) for part in match.groups())
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError:
        # jdatetime knows the leap years: 1403/12/30 exists, 1404/12/30 does not.
        raise ValidationError(f"تاریخ «{value}» در تقویم شمسی وجود ندارد.", code="INVALID_DATE")


def format_jalali(value: datetime.date) -> str:
    return jdatetime.date.fromgregorian(date=value).strftime("%Y/%m/%d")


def jalali_year(value: datetime.date) -> int:
    return jdatetime.date.fromgregorian(date=value).year
