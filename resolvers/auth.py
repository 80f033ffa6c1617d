"""Signing in (password + captcha, or a one-time SMS code) and out, with the Django session."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import alogin, alogout, authenticate
from django.utils import timezone
from strawberry import Info

from models import one_time_codes
from models.captcha import INVALID_MESSAGE as CAPTCHA_INVALID_MESSAGE
from models.captcha import spend_captcha
from models.identity import is_valid_national_code, normalize_national_code
from models.login_lockout import take_lockout
from permissions.viewer import ACTIVE_ROLE_SESSION_KEY, active_role_for, viewer_from_request
from resolvers.me import _me
from schema.context import changes_session
from schema.errors import ErrorCode, UserError
from schema.loaders import Loaders
from schema.types.auth import (
    CaptchaInput,
    LoginInput,
    LoginPayload,
    LoginWithOtpInput,
    LogoutPayload,
    RequestOtpInput,
    RequestOtpPayload,
)

WRONG_CREDENTIALS = "کد ملی یا رمز عبور نادرست است."
INVALID_NATIONAL_CODE = "کد ملی معتبر نیست."
TOO_MANY_CODES = "پیامک‌های بسیاری برای این کد ملی یا از این نشانی فرستاده شده است؛ {minutes} دقیقهٔ دیگر دوباره بخواهید."
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def national_code_error(national_code: str) -> UserError | None:
    if is_valid_national_code(national_code):
        return None
    return UserError(field="nationalCode", code=ErrorCode.INVALID_NATIONAL_CODE, message=INVALID_NATIONAL_CODE)


async def captcha_error(captcha: CaptchaInput) -> UserError | None:
    if await sync_to_async(spend_captcha)(captcha.key, captcha.value):
        return None
    return UserError(field="captcha", code=ErrorCode.CAPTCHA_INVALID, message=CAPTCHA_INVALID_MESSAGE)


def too_many_codes(retry_after: int) -> UserError:
    minutes = str(max(1, -(-retry_after // 60))).translate(_PERSIAN_DIGITS)
    return UserError(field=None, code=ErrorCode.TOO_MANY_CODES, message=TOO_MANY_CODES.format(minutes=minutes))


async def _sign_in(info: Info, national_code: str, **credentials) -> LoginPayload:
    """authenticate() through every backend (the lockout backend first), then start the session."""
    request = info.context.request
    # axes' backend (first) counts the attempt and refuses a locked-out one before any password
    # hash or code check; it has no async variant, hence the sync authenticate.
    user = await sync_to_async(authenticate)(request, national_code=national_code, **credentials)
    if user is None:
        lockout = await sync_to_async(take_lockout)(request, {"national_code": national_code})
        if lockout is not None:
            now = timezone.now()
            return LoginPayload(
                errors=[UserError(field=None, code=ErrorCode.LOGIN_LOCKED_OUT, message=lockout.message(now))],
                retry_after=lockout.retry_after(now),
            )
        code = getattr(request, "one_time_code_error", None)
        if code is not None:
            return LoginPayload(
                errors=[UserError(field="code", code=ErrorCode(code), message=one_time_codes.MESSAGES[code])]
            )
        return LoginPayload(
            errors=[UserError(field=None, code=ErrorCode.INVALID_CREDENTIALS, message=WRONG_CREDENTIALS)]
        )
    # Sessions are resumed by ModelBackend whichever way the person proved who they are.
    await alogin(request, user, backend="django.contrib.auth.backends.ModelBackend")
    role = await sync_to_async(active_role_for)(user, None)
    if role is not None:
        await sync_to_async(request.session.__setitem__)(ACTIVE_ROLE_SESSION_KEY, role.pk)
    viewer = await sync_to_async(viewer_from_request)(request)
    info.context.viewer = viewer
    info.context.loaders = Loaders(viewer)
    me = await sync_to_async(_me)(viewer) if role is not None else None
    return LoginPayload(errors=[], me=me, must_change_password=user.must_change_password)


@changes_session
async def login(info: Info, input: LoginInput) -> LoginPayload:
    national_code = normalize_national_code(input.national_code)
    # The captcha first: every attempt spends one, so guessing costs a solved image each time.
    error = await captcha_error(input.captcha) or national_code_error(national_code)
    if error is not None:
        return LoginPayload(errors=[error])
    return await _sign_in(info, national_code, password=input.password)


async def send_by_sms(info: Info, input, group: str, send, payload: type, **answered):
    """An anonymous request that texts something to a national code's holder (a one-time code, new
    credentials): captcha, national code, throttle, then ``send(request, national_code)`` — the same
    answer whether or not anyone holds that national code."""
    national_code = normalize_national_code(input.national_code)
    error = await captcha_error(input.captcha) or national_code_error(national_code)
    if error is not None:
        return payload(errors=[error])
    request = info.context.request
    throttled = await sync_to_async(one_time_codes.throttle_send)(request, group, national_code)
    if throttled is not None:
        return payload(errors=[too_many_codes(throttled.retry_after)], retry_after=throttled.retry_after)
    await sync_to_async(send)(request, national_code)
    return payload(errors=[], **answered)


async def request_otp(info: Info, input: RequestOtpInput) -> RequestOtpPayload:
    return await send_by_sms(
        info, input, "otp", one_time_codes.issue, RequestOtpPayload, expires_in=settings.MANA_OTP_TTL_SECONDS
    )


@changes_session
async def login_with_otp(info: Info, input: LoginWithOtpInput) -> LoginPayload:
    national_code = normalize_national_code(input.national_code)
    error = national_code_error(national_code)
    if error is not None:
        return LoginPayload(errors=[error])
    return await _sign_in(info, national_code, one_time_password=input.code)


@changes_session
async def logout(info: Info) -> LogoutPayload:
    await alogout(info.context.request)
    return LogoutPayload(errors=[])
