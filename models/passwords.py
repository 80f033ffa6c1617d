"""Forgot password (new credentials by SMS) and change password.

Credentials sent by SMS are temporary: the person must pick their own password at the first
sign-in (``User.must_change_password``; schema/context.py refuses every other operation until
then). A new password passes Django's validators (AUTH_PASSWORD_VALIDATORS; messages in Persian).
"""

from __future__ import annotations

import secrets

from django.contrib.auth import password_validation
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from models.users import User

# No look-alikes (0/O, 1/l/I): the password is read off a phone screen and typed.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMPORARY_LENGTH = 10
SMS_TEXT = (
    "سکوی معنا\nنام کاربری: کد ملی شما\nرمز عبور موقت: {password}\n"
    "پس از ورود باید رمز عبور تازه‌ای برگزینید."
)
SAME_PASSWORD_MESSAGE = "رمز عبور تازه باید با رمز کنونی فرق داشته باشد."


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule, with its message in Persian: Django 5.2 reworded it and its Persian
    translation has not caught up, so the minimum-length refusal came out in English."""

    def get_error_message(self) -> str:
        return f"این رمز عبور خیلی کوتاه است؛ دست‌کم {self.min_length} نویسه لازم است."

    def get_help_text(self) -> str:
        return f"رمز عبور دست‌کم {self.min_length} نویسه باشد."


def temporary_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(TEMPORARY_LENGTH))


def send_new_credentials(national_code: str) -> None:
    """A temporary password by SMS to the holder of ``national_code``, if there is one (silently not)."""
    from integrations.sms import send_sms

    user = User.objects.filter(national_code=national_code, is_active=True, mobile__isnull=False).first()
    if user is None:
        return
    password = temporary_password()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        send_sms(mobile=user.mobile, text=SMS_TEXT.format(password=password), purpose="password")


def new_password_problems(user: User, current: str, new: str) -> list[str]:
    """Why ``new`` may not replace ``current`` (Persian sentences); empty when it may."""
    if new == current:
        return [SAME_PASSWORD_MESSAGE]
    try:
        validate_password(new, user)
    except ValidationError as error:
        return list(error.messages)
    return []


def set_own_password(user: User, new: str) -> None:
    user.set_password(new)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
