"""Django's date formatting in the Jalali calendar while Persian is the active language.

Every date Django itself renders — the admin console's list cells and read-only fields, ``{{ value }}``
and ``{{ value|date:"…" }}`` in any template (simple-history's and Django's history pages among
them) — goes through ``django.utils.formats.date_format``. ``install()`` (called from
``ManaConfig.ready``) wraps it: under a Persian language the same format string is read against the
Jalali date, so «Y/m/d H:i» gives «1405/09/09 09:39» and «j F Y» «9 آذر 1405». Other languages,
and the machine formats ``c`` (ISO 8601), ``r`` (RFC 5322) and ``U`` (epoch), keep the Gregorian
calendar. Which formats Persian uses is in models/formats/fa/formats.py (FORMAT_MODULE_PATH); the
digits are made Persian where the page is written (models/persian_digits.py).
"""

from __future__ import annotations

import datetime

import jdatetime
from django.utils import dateformat, formats, translation

JALALI_MONTHS = jdatetime.date.j_months_fa


class JalaliDateFormat(dateformat.DateFormat):
    """Django's DateFormat with the calendar parts (day, month, year) of the Jalali date."""

    def __init__(self, obj) -> None:
        super().__init__(obj)
        self.jalali = jdatetime.date.fromgregorian(date=obj if type(obj) is datetime.date else obj.date())

    def d(self) -> str:
        return f"{self.jalali.day:02d}"

    def j(self) -> int:
        return self.jalali.day

    def m(self) -> str:
        return f"{self.jalali.month:02d}"

    def n(self) -> int:
        return self.jalali.month

    def F(self) -> str:
        return JALALI_MONTHS[self.jalali.month - 1]

    # Persian has no abbreviated or genitive month names: every form is the name itself.
    M = N = E = b = F

    def y(self) -> str:
        return f"{self.jalali.year % 100:02d}"

    def Y(self) -> int:
        return self.jalali.year

    def L(self) -> bool:
        return self.jalali.isleap()

    def t(self) -> int:
        if self.jalali.month <= 6:
            return 31
        if self.jalali.month <= 11:
            return 30
        return 30 if self.jalali.isleap() else 29

    def z(self) -> int:
        return self.jalali.yday()

    def S(self) -> str:
        # English ordinal suffixes («st», «nd») mean nothing after a Persian day.
        return ""


_gregorian_date_format = formats.date_format


def date_format(value, format=None, use_l10n=None):
    """``django.utils.formats.date_format``, in the Jalali calendar while Persian is active."""
    if not isinstance(value, datetime.date) or not (translation.get_language() or "").startswith("fa"):
        return _gregorian_date_format(value, format, use_l10n)
    return JalaliDateFormat(value).format(formats.get_format(format or "DATE_FORMAT", use_l10n=use_l10n))


def install() -> None:
    """Route Django's date formatting through ``date_format`` above (idempotent)."""
    formats.date_format = date_format
