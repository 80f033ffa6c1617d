"""Scalars of the contract: JalaliDate and Decimal (DateTime is strawberry's own, ISO)."""

from __future__ import annotations

import datetime
import decimal
import re

import strawberry
from django.core.exceptions import ValidationError
from graphql import FloatValueNode, GraphQLError, IntValueNode, StringValueNode

from models.decimals import persian_digits
from models.jalali import format_jalali, parse_jalali
from models.text import to_latin_digits
from schema.errors import ErrorCode, ManaError


def _parse_jalali(value: object) -> datetime.date:
    if not isinstance(value, str):
        raise ManaError(ErrorCode.INVALID_DATE, "تاریخ شمسی را به صورت رشته بنویسید، مانند «1402/10/10».")
    try:
        return parse_jalali(value)
    except ValidationError as error:
        raise ManaError(ErrorCode.INVALID_DATE, error.messages[0])


def _parse_jalali_literal(node, _variables=None) -> datetime.date:
    if not isinstance(node, StringValueNode):
        raise GraphQLError(
            "تاریخ شمسی را به صورت رشته بنویسید، مانند «1402/10/10».",
            extensions={"code": ErrorCode.INVALID_DATE.value},
        )
    return _parse_jalali(node.value)


# Every ``datetime.date`` field and argument is a JalaliDate (see StrawberryConfig.scalar_map).
JalaliDate = strawberry.scalar(
    name="JalaliDate",
    description='A Jalali (Solar Hijri) date: "1402/10/10"; accepts "1402-10-10" and Persian digits.',
    serialize=format_jalali,
    parse_value=_parse_jalali,
    parse_literal=_parse_jalali_literal,
)

# --- Decimal -------------------------------------------------------------------------------
# Strawberry's own Decimal takes whatever Python's Decimal() takes: NaN, sNaN, Infinity, «1_000»,
# «1e400». None of them is a number a person means, and each crashed or corrupted a save. This
# one takes a decimal in plain or exponent notation (a JSON number, or a string — with Persian or
# Arabic digits and «٫» as the point, as people type it) and refuses anything else with
# INVALID_DECIMAL. Whether the number fits its column (digits, places, sign) is the domain's
# rule, checked with the field it belongs to (models.decimals, models.units).

_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# Written out in full, no column of Mana holds more than 18 digits; a number of more than 40 (such
# as «1e400») is refused here, before it is carried further. Up to 40 the column's own check
# answers, with a clearer code (DECIMAL_OUT_OF_RANGE / DECIMAL_TOO_PRECISE) and the field.
MAX_DECIMAL_DIGITS = 40
MAX_DECIMAL_TEXT = 100
_EXAMPLE = "مانند «36.5» یا «۳۶٫۵»"


def _shown(text: str) -> str:
    return text if len(text) <= 30 else text[:30] + "…"


def _written_digits(number: decimal.Decimal) -> int:
    """Digits of ``number`` written in plain notation, without leading or trailing zeros."""
    if number.is_zero():
        return 1
    _, digits, exponent = number.as_tuple()
    significant = len("".join(map(str, digits)).rstrip("0"))
    exponent += len(digits) - significant
    return significant + exponent if exponent >= 0 else max(significant, -exponent)


def _parse_decimal(value: object) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ManaError(ErrorCode.INVALID_DECIMAL, f"عدد را به صورت رشته‌ای از رقم‌ها بنویسید، {_EXAMPLE}.")
    text = to_latin_digits(str(value)).replace("٫", ".").strip()
    too_long = ManaError(
        ErrorCode.INVALID_DECIMAL,
        f"عدد «{_shown(str(value))}» بیش از {persian_digits(MAX_DECIMAL_DIGITS)} رقم دارد و پذیرفته نیست.",
    )
    if len(text) > MAX_DECIMAL_TEXT:
        raise too_long
    if not _DECIMAL_TEXT.fullmatch(text):
        raise ManaError(
            ErrorCode.INVALID_DECIMAL,
            f"«{_shown(str(value))}» عدد نیست؛ عدد را با رقم‌ها و در صورت نیاز ممیز بنویسید، {_EXAMPLE}.",
        )
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:  # an exponent past what Python's decimal can represent
        raise too_long from None
    if _written_digits(number) > MAX_DECIMAL_DIGITS:
        raise too_long
    return number


def _parse_decimal_literal(node, _variables=None) -> decimal.Decimal:
    # The literal's own text, not a float made of it: 0.1234567890123456789 keeps every digit.
    if isinstance(node, IntValueNode | FloatValueNode | StringValueNode):
        return _parse_decimal(node.value)
    raise ManaError(ErrorCode.INVALID_DECIMAL, f"عدد را به صورت رشته‌ای از رقم‌ها بنویسید، {_EXAMPLE}.")


# Every ``decimal.Decimal`` field and argument (see StrawberryConfig.scalar_map).
Decimal = strawberry.scalar(
    name="Decimal",
    description=(
        'A decimal number as a string: "36.5" (a JSON number, exponent notation, Persian or Arabic digits '
        "and «٫» are accepted too); NaN and Infinity are refused (INVALID_DECIMAL). A performance value, "
        "slice target or weight holds 14 digits before the point and 4 after it, and is refused, not "
        "rounded, when it does not fit (DECIMAL_OUT_OF_RANGE, DECIMAL_TOO_PRECISE); it is answered as stored."
    ),
    serialize=str,
    parse_value=_parse_decimal,
    parse_literal=_parse_decimal_literal,
)

SCALAR_MAP = {datetime.date: JalaliDate, decimal.Decimal: Decimal}
