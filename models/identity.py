"""Iranian identity numbers: the national code (کد ملی) and mobile numbers."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from models.text import to_latin_digits

_TEN_DIGITS = re.compile(r"^\d{10}$")
_MOBILE = re.compile(r"^09\d{9}$")


def normalize_national_code(value: str) -> str:
    return to_latin_digits(str(value)).strip().replace("-", "")


def is_valid_national_code(code: str) -> bool:
    """The check digit rule of the civil registry: weights 10..2 over the first nine digits."""
    if not _TEN_DIGITS.match(code) or len(set(code)) == 1:
        # All-same-digit codes pass the checksum but are never issued.
        return False
    total = sum(int(code[i]) * (10 - i) for i in range(9))
    remainder = total % 11
    check = int(code[9])
    return check == remainder if remainder < 2 else check == 11 - remainder


def validate_national_code(value: str) -> None:
    if not is_valid_national_code(normalize_national_code(value)):
        raise ValidationError("کد ملی معتبر نیست.", code="INVALID_NATIONAL_CODE")


def normalize_mobile(value: str) -> str:
    """+989121234567, 00989121234567, 9121234567 and ۰۹۱۲۱۲۳۴۵۶۷ all become 09121234567."""
    digits = re.sub(r"[\s\-()]", "", to_latin_digits(str(value)).strip())
    if digits.startswith("+98"):
        digits = "0" + digits[3:]
    elif digits.startswith("0098"):
        digits = "0" + digits[4:]
    elif digits.startswith("98") and len(digits) == 12:
        digits = "0" + digits[2:]
    elif digits.startswith("9") and len(digits) == 10:
        digits = "0" + digits
    return digits


def is_valid_mobile(mobile: str) -> bool:
    """Whether an already normalized mobile (normalize_mobile) is an Iranian mobile number."""
    return bool(_MOBILE.match(mobile))


def validate_mobile(value: str) -> None:
    if not is_valid_mobile(normalize_mobile(value)):
        raise ValidationError("شماره همراه معتبر نیست؛ نمونه درست: 09121234567", code="INVALID_MOBILE")
