"""Scalars of the contract: JalaliDate, Decimal, DateTime and Upload, each with its exact format.

Every custom scalar says in its description what it answers and what it accepts, and names its
specification (``specifiedByURL``), so that a client generated from the schema (GraphQL Code
Generator, relay-compiler) needs no hand-written notes. docs/scalars.md is the long form; the
specification of the two scalars no public standard describes (JalaliDate, Decimal) is that file,
named by its path in this repository. tests/test_schema_promises.py keeps these promises.
"""

from __future__ import annotations

import datetime
import decimal
import re

import strawberry
from django.core.exceptions import ValidationError
from django.utils import timezone
from graphql import FloatValueNode, GraphQLError, IntValueNode, StringValueNode
from strawberry.file_uploads import Upload
from strawberry.file_uploads.scalars import UploadDefinition
from strawberry.schema.types.base_scalars import DateTimeDefinition

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


# Where the two scalars of Mana's own are specified: docs/scalars.md of this repository. No public
# standard describes them, and an address on a Mana server would differ from one deployment to the
# next; the repository path is the one name that stays the same.
SCALARS_DOCUMENT = "docs/scalars.md"

# Every ``datetime.date`` field and argument is a JalaliDate (see StrawberryConfig.scalar_map).
JalaliDate = strawberry.scalar(
    name="JalaliDate",
    description=(
        'A Jalali (Solar Hijri) calendar date. Answered as "YYYY/MM/DD", Latin digits, month and day '
        'zero-padded: "1402/10/10". Accepted as a string "YYYY/M/D" (a four-digit year, a month and day of '
        'one or two digits, "/" or "-" between them: "1402/10/10", "1402-1-1"), in Latin, Persian or Arabic '
        'digits ("۱۴۰۲/۱۰/۱۰"); a day the calendar does not have ("1404/12/30") is refused (INVALID_DATE).'
    ),
    specified_by_url=f"{SCALARS_DOCUMENT}#jalalidate",
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


# One text for one number, whichever field, payload or subscription answers it: a value saved as
# "1700" is read back as "1700", not as the column's "1700.0000"; a weight of 85 is "85", not
# "85.00". Plain notation always (Decimal.normalize() would write 1700 as "1.7E+3"), no trailing
# zeros, no "-0". Written from the number's own digits: nothing is rounded.
CANONICAL_DECIMAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?", re.ASCII)


def canonical_decimal(value: decimal.Decimal | int | float) -> str:
    if isinstance(value, bool):
        raise TypeError(f"a Decimal field answered a boolean: {value!r}")
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(repr(value))
    if not number.is_finite():
        raise ValueError(f"a Decimal field answered {number}, which is not a number")
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").removesuffix(".")
    return "0" if text == "-0" else text


# Every ``decimal.Decimal`` field and argument (see StrawberryConfig.scalar_map).
Decimal = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number. Answered as a JSON string in one canonical form: plain notation, no '
        'exponent, no trailing zeros, no "+", no "-0", "." as the point: "1700", "36.5", "-0.25", "0" '
        '(matching ^-?(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?$); read it with a decimal library, not a binary '
        'float. Accepted as a string or a JSON number, in plain or exponent notation ("36.5", 36.5, '
        '"3.65e1"), with Latin, Persian or Arabic digits and "٫" as the point ("۳۶٫۵"); NaN, Infinity '
        "and more than 40 written digits are refused (INVALID_DECIMAL). Whether a number fits its field "
        "(digits before and after the point: docs/scalars.md) is checked with the field: a number that does "
        "not fit is refused, never rounded (DECIMAL_OUT_OF_RANGE, DECIMAL_TOO_PRECISE)."
    ),
    specified_by_url=f"{SCALARS_DOCUMENT}#decimal",
    serialize=canonical_decimal,
    parse_value=_parse_decimal,
    parse_literal=_parse_decimal_literal,
)

# --- DateTime ------------------------------------------------------------------------------
# Strawberry's own answers Python's isoformat(): "+00:00" or "+03:30", six digits of a second or
# none, depending on the value. Answered here in one form, the refined RFC 3339 profile of
# scalars.graphql.org (UTC as "Z", exactly three digits of a second). Read as strawberry reads it,
# a time without an offset taken as Tehran's (the current time zone), here rather than in each resolver.


def _parse_datetime(value: object) -> datetime.datetime:
    parsed = DateTimeDefinition.parse_value(value)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _serialize_datetime(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


DateTime = strawberry.scalar(
    name="DateTime",
    description=(
        'A point in time. Answered as an RFC 3339 date-time in UTC with exactly three digits of a second: '
        '"2024-01-31T08:15:00.000Z" (the profile of scalars.graphql.org/andimarek/date-time). Accepted as '
        'any RFC 3339 date-time ("2024-01-31T11:45:00+03:30", "2024-01-31T08:15:00.123456Z") and, more '
        'loosely, ISO 8601 ("2024-01-31T11:45"); a time without an offset is Tehran time (Asia/Tehran).'
    ),
    specified_by_url="https://scalars.graphql.org/andimarek/date-time",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

# --- Upload --------------------------------------------------------------------------------
UploadScalar = strawberry.scalar(
    name="Upload",
    description=(
        "A file, in a GraphQL multipart request (the specification linked; what apollo-upload-client sends): "
        'a multipart/form-data POST to /graphql/ with an "operations" part (the JSON request, the file\'s '
        'variable null), a "map" part naming where each file goes ({"0": ["variables.input.file"]}), then '
        "the files; signed in as any POST is (the session cookie with X-CSRFToken, or an API token). Input "
        "only: never answered. "
        "Which files a field takes (types, size) is said on the field."
    ),
    specified_by_url="https://github.com/jaydenseric/graphql-multipart-request-spec",
    serialize=UploadDefinition.serialize,
    parse_value=UploadDefinition.parse_value,
)

SCALAR_MAP = {datetime.date: JalaliDate, decimal.Decimal: Decimal, datetime.datetime: DateTime, Upload: UploadScalar}
