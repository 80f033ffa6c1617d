import strawberry

from schema.errors import UserError
from schema.types.user import Me

NATIONAL_CODE = "کد ملی، ده رقم (ارقام فارسی هم پذیرفته است)"


@strawberry.type(description="A captcha challenge (کد امنیتی): show the image, send its key with the digits read.")
class Captcha:
    key: str
    image_url: str = strawberry.field(description="Absolute URL of the PNG image (five digits).")
    expires_in: int = strawberry.field(description="Seconds the challenge stays answerable; it is used once.")


@strawberry.input(description="The answer to a captcha: its key and the digits read (Persian digits accepted).")
class CaptchaInput:
    key: str
    value: str


@strawberry.input
class LoginInput:
    national_code: str = strawberry.field(description=NATIONAL_CODE)
    password: str
    captcha: CaptchaInput


@strawberry.type
class LoginPayload:
    errors: list[UserError]
    me: Me | None = None
    must_change_password: bool = strawberry.field(
        default=False,
        description="Signed in with credentials sent by SMS: changePassword before anything else.",
    )
    retry_after: int | None = strawberry.field(
        default=None, description="With LOGIN_LOCKED_OUT: seconds until a sign-in is tried again (as HTTP Retry-After)."
    )


@strawberry.type
class LogoutPayload:
    errors: list[UserError]


@strawberry.input
class RequestOtpInput:
    national_code: str = strawberry.field(description=NATIONAL_CODE)
    captcha: CaptchaInput


@strawberry.type(description="The same answer whether or not the national code is registered.")
class RequestOtpPayload:
    errors: list[UserError]
    expires_in: int | None = strawberry.field(default=None, description="Seconds the code sent stays valid.")
    retry_after: int | None = strawberry.field(default=None, description="With TOO_MANY_CODES: seconds to wait.")


@strawberry.input
class LoginWithOtpInput:
    national_code: str = strawberry.field(description=NATIONAL_CODE)
    code: str = strawberry.field(description="The six digits received by SMS.")


@strawberry.input
class ForgotPasswordInput:
    national_code: str = strawberry.field(description=NATIONAL_CODE)
    captcha: CaptchaInput


@strawberry.type(description="The same answer whether or not the national code is registered.")
class ForgotPasswordPayload:
    errors: list[UserError]
    retry_after: int | None = strawberry.field(default=None, description="With TOO_MANY_CODES: seconds to wait.")


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.type
class ChangePasswordPayload:
    errors: list[UserError]
    me: Me | None = None
    retry_after: int | None = None


@strawberry.input
class SwitchRoleInput:
    role_assignment: strawberry.ID = strawberry.field(description="One of `me.roles`.")


@strawberry.type
class SwitchRolePayload:
    errors: list[UserError]
    me: Me | None = None
