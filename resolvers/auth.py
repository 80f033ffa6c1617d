"""Signing in and out with the national code and password (Django session)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import alogin, alogout, authenticate
from django.utils import timezone
from strawberry import Info

from models.identity import is_valid_national_code, normalize_national_code
from models.login_lockout import take_lockout
from permissions.viewer import ACTIVE_ROLE_SESSION_KEY, active_role_for, viewer_from_request
from resolvers.me import _me
from schema.context import changes_session
from schema.errors import ErrorCode, UserError
from schema.types.auth import LoginInput, LoginPayload, LogoutPayload

WRONG_CREDENTIALS = "کد ملی یا رمز عبور نادرست است."


@changes_session
async def login(info: Info, input: LoginInput) -> LoginPayload:
    request = info.context.request
    national_code = normalize_national_code(input.national_code)
    if not is_valid_national_code(national_code):
        return LoginPayload(
            errors=[UserError(field="nationalCode", code=ErrorCode.INVALID_NATIONAL_CODE, message="کد ملی معتبر نیست.")]
        )
    # axes' backend (first) counts the attempt and refuses a locked-out one before ModelBackend
    # hashes anything; it has no async variant, hence the sync authenticate.
    user = await sync_to_async(authenticate)(request, national_code=national_code, password=input.password)
    if user is None:
        lockout = await sync_to_async(take_lockout)(request, {"national_code": national_code})
        if lockout is not None:
            now = timezone.now()
            return LoginPayload(
                errors=[UserError(field=None, code=ErrorCode.LOGIN_LOCKED_OUT, message=lockout.message(now))],
                retry_after=lockout.retry_after(now),
            )
        return LoginPayload(
            errors=[UserError(field=None, code=ErrorCode.INVALID_CREDENTIALS, message=WRONG_CREDENTIALS)]
        )
    await alogin(request, user)
    role = await sync_to_async(active_role_for)(user, None)
    if role is not None:
        await sync_to_async(request.session.__setitem__)(ACTIVE_ROLE_SESSION_KEY, role.pk)
    viewer = await sync_to_async(viewer_from_request)(request)
    info.context.viewer = viewer
    me = await sync_to_async(_me)(viewer) if role is not None else None
    return LoginPayload(errors=[], me=me)


@changes_session
async def logout(info: Info) -> LogoutPayload:
    await alogout(info.context.request)
    return LogoutPayload(errors=[])
