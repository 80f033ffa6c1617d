"""forgotPassword (new credentials by SMS) and changePassword."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import authenticate, update_session_auth_hash
from django.utils import timezone
from strawberry import Info

from models import passwords
from models.login_lockout import forgive_attempt, take_lockout
from resolvers.auth import send_by_sms
from resolvers.me import _me
from schema.context import changes_session, require_signed_in
from schema.errors import ErrorCode, UserError
from schema.types.auth import ChangePasswordInput, ChangePasswordPayload, ForgotPasswordInput, ForgotPasswordPayload

WRONG_PASSWORD = "رمز عبور کنونی نادرست است."


async def forgot_password(info: Info, input: ForgotPasswordInput) -> ForgotPasswordPayload:
    return await send_by_sms(
        info, input, "password", lambda _request, code: passwords.send_new_credentials(code), ForgotPasswordPayload
    )


@changes_session
async def change_password(info: Info, input: ChangePasswordInput) -> ChangePasswordPayload:
    viewer = require_signed_in(info)
    request = info.context.request
    user = viewer.user

    def work() -> ChangePasswordPayload:
        # Through authenticate(): the lockout counts guesses of the current password here too.
        if authenticate(request, national_code=user.national_code, password=input.current_password) is None:
            lockout = take_lockout(request, {"national_code": user.national_code})
            if lockout is not None:
                now = timezone.now()
                return ChangePasswordPayload(
                    errors=[UserError(field=None, code=ErrorCode.LOGIN_LOCKED_OUT, message=lockout.message(now))],
                    retry_after=lockout.retry_after(now),
                )
            return ChangePasswordPayload(
                errors=[UserError(field="currentPassword", code=ErrorCode.INVALID_CREDENTIALS, message=WRONG_PASSWORD)]
            )
        forgive_attempt(request, user.national_code)
        problems = passwords.new_password_problems(user, input.current_password, input.new_password)
        if problems:
            return ChangePasswordPayload(
                errors=[UserError(field="newPassword", code=ErrorCode.WEAK_PASSWORD, message=m) for m in problems]
            )
        passwords.set_own_password(user, input.new_password)
        # Other sessions of this person end (their hash no longer matches); this one goes on.
        update_session_auth_hash(request, user)
        return ChangePasswordPayload(errors=[], me=_me(viewer) if viewer.active_role is not None else None)

    return await sync_to_async(work)()
