"""What both identity implementations share: the answer type, the errors, input normalization."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from models.identity import is_valid_mobile, is_valid_national_code, normalize_mobile, normalize_national_code
from models.jalali import parse_jalali
from models.text import to_latin_digits

_DATE = re.compile(r"^(\d{4})[/\-](\d{1,2})[/\-](\d{1,2})$")
# A four-digit year from here on is Gregorian (ISO); below it, Jalali (this century's are 13xx/14xx).
_FIRST_GREGORIAN_YEAR = 1700


@dataclass(frozen=True)
class RegistryPerson:
    national_code: str
    first_name: str
    last_name: str
    birth_date: datetime.date


class IdentityServiceError(Exception):
    """The service could not be reached, timed out, or answered something unusable (after retries).

    The message is for logs and operators: it names the service and what went wrong, never the
    person asked about or a credential.
    """


class BirthDateMismatch(Exception):
    """The civil registry knows the national code, but under another birth date."""


def parse_birth_date(value: datetime.date | str) -> datetime.date:
    """A date, or text: Jalali «1365/04/12» or ISO «1986-07-03», Persian digits too. ValueError otherwise."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = to_latin_digits(str(value)).strip()
    match = _DATE.match(text)
    if not match:
        raise ValueError(f"not a date: {value!r}")
    year, month, day = (int(part) for part in match.groups())
    if year >= _FIRST_GREGORIAN_YEAR:
        return datetime.date(year, month, day)
    try:
        return parse_jalali(text)
    except ValidationError:
        raise ValueError(f"not a Jalali date: {value!r}") from None


def clean_national_code(value: str) -> str | None:
    """The ten ASCII digits of a national code, or None when it cannot be one (no service is asked)."""
    code = normalize_national_code(value)
    return code if is_valid_national_code(code) else None


def clean_mobile(value: str) -> str | None:
    mobile = normalize_mobile(value)
    return mobile if is_valid_mobile(mobile) else None
