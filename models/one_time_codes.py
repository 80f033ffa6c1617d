"""ورود با رمز یکبار مصرف: six digits by SMS, valid two minutes, good once, three wrong tries.

Nothing here tells whether a national code belongs to anyone: a code is made (and never sent) for
a national code nobody holds, sending is throttled per national code whether or not it exists,
and every later answer — wrong, expired, used, too many tries — comes from that row alike.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from models.credentials import OneTimeCode
from models.throttles import Throttled, client_address, take
from models.users import User

DIGITS = 6
SMS_TEXT = "سکوی معنا\nرمز یکبار مصرف ورود: {code}\nاین رمز تا {minutes} دقیقه و تنها یک بار معتبر است."

OTP_INVALID = "OTP_INVALID"
OTP_EXPIRED = "OTP_EXPIRED"
OTP_USED = "OTP_USED"
OTP_TOO_MANY_TRIES = "OTP_TOO_MANY_TRIES"
MESSAGES = {
    OTP_INVALID: "رمز یکبار مصرف نادرست است.",
    OTP_EXPIRED: "رمز یکبار مصرف منقضی شده است؛ رمز تازه‌ای درخواست کنید.",
    OTP_USED: "این رمز یکبار مصرف پیش‌تر به کار رفته است؛ رمز تازه‌ای درخواست کنید.",
    OTP_TOO_MANY_TRIES: "این رمز یکبار مصرف پس از چند تلاش نادرست باطل شد؛ رمز تازه‌ای درخواست کنید.",
}


def _hash(national_code: str, code: str) -> str:
    return salted_hmac("mana.one-time-code", f"{national_code}:{code}", algorithm="sha256").hexdigest()


def throttle_send(request, group: str, national_code: str) -> Throttled | None:
    """Sending by SMS is limited per national code (so per mobile) and per client address."""
    return take(request, f"{group}.person", national_code, settings.MANA_SMS_RATE_PER_PERSON) or take(
        request, f"{group}.address", client_address(request), settings.MANA_SMS_RATE_PER_ADDRESS
    )


def issue(request, national_code: str) -> None:
    """A new code for ``national_code`` (earlier ones stop counting), sent to its holder's mobile."""
    from integrations.sms import send_sms

    user = User.objects.filter(national_code=national_code, is_active=True, mobile__isnull=False).first()
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    ttl = settings.MANA_OTP_TTL_SECONDS
    with transaction.atomic():
        OneTimeCode.objects.create(
            national_code=national_code,
            user=user,
            code_hash=_hash(national_code, code),
            expires_at=timezone.now() + datetime.timedelta(seconds=ttl),
            requested_from=client_address(request),
        )
        if user is not None:
            minutes = max(1, ttl // 60)
            send_sms(mobile=user.mobile, text=SMS_TEXT.format(code=code, minutes=minutes), purpose="otp")


def redeem(national_code: str, code: str) -> tuple[User | None, str | None]:
    """(the person, None) when ``code`` is their latest code, unexpired and unused; else (None, error code)."""
    code = code.strip()
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(national_code=national_code)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            return None, OTP_INVALID
        if row.used_at is not None:
            return None, OTP_USED
        if row.failed_attempts >= settings.MANA_OTP_MAX_TRIES:
            return None, OTP_TOO_MANY_TRIES
        if row.expires_at <= timezone.now():
            return None, OTP_EXPIRED
        user = row.user
        if not constant_time_compare(row.code_hash, _hash(national_code, code)) or user is None or not user.is_active:
            row.failed_attempts += 1
            row.save(update_fields=["failed_attempts"])
            return None, OTP_INVALID
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        return user, None


class OneTimeCodeBackend(ModelBackend):
    """An authentication backend for ``authenticate(request, national_code=…, one_time_password=…)``.

    Through ``authenticate`` so that the lockout (django-axes, models/login_lockout.py) counts
    one-time codes exactly as it counts passwords. The kwarg's name holds «pass» so that Django
    cleanses it from the credentials it hands to signals. Why a code was refused is left on the
    request for the resolver to answer.
    """

    def authenticate(self, request, national_code: str | None = None, one_time_password: str | None = None, **_kw):
        if national_code is None or one_time_password is None:
            return None
        user, error = redeem(national_code, one_time_password)
        if request is not None:
            request.one_time_code_error = error
        return user if user is not None and self.user_can_authenticate(user) else None
