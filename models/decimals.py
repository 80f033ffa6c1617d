"""What a decimal column can hold, read from the model field itself so that the rule follows the
column: a number that does not fit is refused with a code, never rounded or stored silently.

A DecimalField(max_digits=18, decimal_places=4) holds 14 digits before the point and 4 after it.
Trailing zeros are not places: «30.10000» is the number 30.1 and fits.

SQLite has no decimal type: a NUMERIC column keeps a number as INTEGER or REAL (a double), and
Django reads it back through a 15-digit context. A value with more than 15 significant digits
would come back changed — 99999999999999.9999 is kept as 100000000000000, which then cannot be
read at all — so on SQLite 15 significant digits is the column's real capacity. PostgreSQL's
numeric keeps every digit of the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

from django.db import connections, models, router

from models.errors import DomainError

# Significant digits a database keeps of a decimal, where it keeps fewer than the column declares.
SIGNIFICANT_DIGITS = {"sqlite": 15}

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class Capacity:
    label: str  # the column's verbose name, for messages
    whole: int  # digits before the point
    places: int  # digits after the point
    significant: int | None  # all digits the database keeps; None: as many as the column declares


def capacity(model: type[models.Model], name: str) -> Capacity:
    column = model._meta.get_field(name)
    vendor = connections[router.db_for_write(model)].vendor
    return Capacity(
        label=str(column.verbose_name),
        whole=column.max_digits - column.decimal_places,
        places=column.decimal_places,
        significant=SIGNIFICANT_DIGITS.get(vendor),
    )


def checked(model: type[models.Model], name: str, value: Decimal, field: str) -> Decimal:
    """An input for ``model.name`` exactly as the column will store it, or a DomainError on ``field``.

    The value returned is the one a later read gives back (same digits and places), so a payload
    built from it shows what was stored.
    """
    column = capacity(model, name)
    if not value.is_finite():
        raise DomainError("INVALID_DECIMAL", f"{column.label} باید عدد باشد.", field)
    if value.is_zero():
        return _with_places(Decimal(0), column)
    digits, exponent = _trimmed(value)
    whole = max(len(digits) + exponent, 0)
    places = max(-exponent, 0)
    if whole > column.whole:
        raise DomainError(
            "DECIMAL_OUT_OF_RANGE",
            f"{column.label} بیش از اندازه بزرگ است: حداکثر {persian_digits(column.whole)} رقم پیش از ممیز.",
            field,
        )
    if places > column.places:
        raise DomainError(
            "DECIMAL_TOO_PRECISE",
            f"{column.label} حداکثر {persian_digits(column.places)} رقم اعشار می‌پذیرد؛ عدد را گرد کنید.",
            field,
        )
    if column.significant is not None and len(digits) > column.significant:
        raise DomainError(
            "DECIMAL_TOO_PRECISE",
            f"{column.label} حداکثر {persian_digits(column.significant)} رقم معنادار (پیش و پس از ممیز) می‌پذیرد.",
            field,
        )
    return _with_places(value, column)


def rounded(model: type[models.Model], name: str, value: Decimal, field: str) -> Decimal:
    """A computed value (a roll-up) rounded to what ``model.name`` keeps; refused only when too large."""
    column = capacity(model, name)
    if not value.is_finite() or value.adjusted() >= column.whole:
        return checked(model, name, value, field)  # refused: rounding cannot make it fit
    if column.significant is not None:
        value = Context(prec=column.significant, rounding=ROUND_HALF_UP).plus(value)
    # One digit of room: 99999999999999.99995 rounds up to 15 digits before the point and is refused.
    room = Context(prec=column.whole + column.places + 1, rounding=ROUND_HALF_UP)
    value = value.quantize(Decimal(1).scaleb(-column.places), context=room)
    return checked(model, name, value, field)


def _with_places(value: Decimal, column: Capacity) -> Decimal:
    # Exact: the value has no more places than the column, so this only pads with zeros.
    return value.quantize(Decimal(1).scaleb(-column.places), context=Context(prec=column.whole + column.places))


def _trimmed(value: Decimal) -> tuple[tuple[int, ...], int]:
    """The significant digits and exponent of a non-zero value, without trailing zeros."""
    _, digits, exponent = value.as_tuple()
    end = len(digits)
    while digits[end - 1] == 0:
        end -= 1
    return digits[:end], exponent + len(digits) - end


def persian_digits(number: int) -> str:
    return str(number).translate(_PERSIAN_DIGITS)
