"""Scalars of the contract: JalaliDate (Decimal and DateTime are strawberry's own, ISO/str)."""

from __future__ import annotations

import datetime

import strawberry
from django.core.exceptions import ValidationError
from graphql import GraphQLError, StringValueNode

from models.jalali import format_jalali, parse_jalali
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
SCALAR_MAP = {datetime.date: JalaliDate}
