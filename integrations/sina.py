"""Sina (سینا), the government's single sign-on: how main leaders sign in, without a password.

An OpenID Connect authorization-code client built on mozilla-django-oidc:

* ``/auth/sina/start/`` sends the browser to Sina with a fresh ``state`` and ``nonce`` (and a PKCE
  challenge), kept in the session;
* ``/auth/sina/callback/`` is where Sina sends it back with a one-time ``code``: the code is
  exchanged for an id_token (signature checked against Sina's JWKS, or the client secret with
  HS256; nonce and audience checked), the national code is read from the claims, and the person is
  signed in acting as main leader — or sent to the failure URL with ``?error=<ErrorCode>``.

Main leaders are registered beforehand: Sina never creates a user and never changes one. Only an
active person holding a MAIN_LEADER role is admitted; the rest sign in with their password. Nothing
here logs the client secret, the code or a token: failures are logged by code and a scrubbed reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from integrations.redaction import describe_exception
from models.identity import is_valid_national_code, normalize_national_code
from models.roles import Role
from models.users import RoleAssignment, User
from permissions.viewer import ACTIVE_ROLE_SESSION_KEY
from schema.errors import ErrorCode, error_response

logger = logging.getLogger("mana.sina")

BACKEND_PATH = "integrations.sina.SinaBackend"

# What the person is told, by code: on the failure page, and for the frontend to show.
MESSAGES = {
    ErrorCode.SINA_DISABLED: "ورود با سینا در این سامانه فعال نیست؛ با کد ملی و رمز عبور وارد شوید.",
    ErrorCode.SINA_STATE_MISMATCH: (
        "این پاسخ سینا به ورودی که از این مرورگر آغاز شده است تعلق ندارد یا پیش‌تر به کار رفته است؛ "
        "دوباره از صفحهٔ ورود «ورود با سینا» را بزنید."
    ),
    ErrorCode.SINA_ACCESS_DENIED: "ورود در سامانهٔ سینا لغو شد یا سینا اجازهٔ آن را نداد.",
    ErrorCode.SINA_PROVIDER_ERROR: "سامانهٔ سینا ورود را کامل نکرد؛ دوباره تلاش کنید.",
    ErrorCode.SINA_UNAVAILABLE: "ارتباط با سامانهٔ سینا برقرار نشد؛ چند دقیقهٔ دیگر دوباره تلاش کنید.",
    ErrorCode.SINA_TIMEOUT: "سامانهٔ سینا در زمان مجاز پاسخ نداد؛ چند دقیقهٔ دیگر دوباره تلاش کنید.",
    ErrorCode.SINA_INVALID_TOKEN: (
        "پاسخ سامانهٔ سینا تأیید نشد (امضا یا محتوای آن نادرست بود)؛ دوباره تلاش کنید و اگر تکرار شد "
        "با پشتیبانی تماس بگیرید."
    ),
    ErrorCode.SINA_NONCE_MISMATCH: "پاسخ سامانهٔ سینا به این ورود تعلق نداشت؛ دوباره تلاش کنید.",
    ErrorCode.SINA_NATIONAL_CODE_MISSING: "سامانهٔ سینا کد ملی معتبری برای شما نفرستاد؛ با پشتیبانی تماس بگیرید.",
    ErrorCode.SINA_UNKNOWN_USER: (
        "کد ملی شما در سکوی معنا ثبت نشده است. راهبران اصلی از پیش ثبت می‌شوند؛ "
        "با سازمان اداری و استخدامی کشور تماس بگیرید."
    ),
    ErrorCode.SINA_NOT_MAIN_LEADER: (
        "ورود با سینا فقط برای راهبران اصلی دستگاه‌هاست و شما نقش راهبر اصلی ندارید؛ با کد ملی و رمز عبور خود وارد شوید."
    ),
    ErrorCode.SINA_USER_INACTIVE: "حساب کاربری شما غیرفعال است؛ با سازمان اداری و استخدامی کشور تماس بگیرید.",
    ErrorCode.SINA_FAILED: "ورود با سینا انجام نشد؛ دوباره تلاش کنید.",
}


class SinaRefusal(Exception):
    """A sign-in refused, with the code the person is sent back with and a reason for the log.

    The reason never holds the code, a token or the client secret.
    """

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def sina_available() -> bool:
    """Sina is offered when switched on and configured (production refuses to start half-configured)."""
    if not settings.MANA_SINA_ENABLED:
        return False
    needed = [
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        settings.OIDC_OP_TOKEN_ENDPOINT,
        settings.OIDC_RP_CLIENT_ID,
        settings.OIDC_RP_CLIENT_SECRET,
    ]
    if settings.OIDC_RP_SIGN_ALGO.startswith("RS"):
        needed.append(settings.OIDC_OP_JWKS_ENDPOINT)
    return all(needed)


def _secrets(request: HttpRequest, *more: str | None) -> list[str]:
    """What a log line about this callback must not contain."""
    return [s for s in (settings.OIDC_RP_CLIENT_SECRET, request.GET.get("code"), *more) if s]


@dataclass(frozen=True)
class Admission:
    user: User
    role: RoleAssignment


def admit(national_code: str) -> Admission:
    """The pre-registered, active main leader with this national code, or a refusal saying why not."""
    user = User.objects.filter(national_code=national_code).first()
    if user is None:
        raise SinaRefusal(ErrorCode.SINA_UNKNOWN_USER, f"no user with national code …{national_code[-4:]}")
    if not user.is_active:
        raise SinaRefusal(ErrorCode.SINA_USER_INACTIVE, f"user {user.pk} is deactivated")
    role = RoleAssignment.objects.filter(user=user, role=Role.MAIN_LEADER).order_by("id").first()
    if role is None:
        raise SinaRefusal(ErrorCode.SINA_NOT_MAIN_LEADER, f"user {user.pk} holds no MAIN_LEADER role")
    return Admission(user=user, role=role)


def national_code_from(value) -> str:
    """The claim as a national code: Persian digits and dashes accepted; a JSON number padded back to ten digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:010d}"
    claim = settings.MANA_SINA_NATIONAL_CODE_CLAIM
    if not isinstance(value, str):
        raise SinaRefusal(ErrorCode.SINA_NATIONAL_CODE_MISSING, f"claim {claim!r} missing")
    code = normalize_national_code(value)
    if not is_valid_national_code(code):
        raise SinaRefusal(ErrorCode.SINA_NATIONAL_CODE_MISSING, f"claim {claim!r} is no national code")
    return code


class SinaBackend(OIDCAuthenticationBackend):
    """Signs a main leader in from Sina's claims: matches by national code, creates and updates nothing.

    Listed in AUTHENTICATION_BACKENDS so that a Sina session finds its user on later requests
    (``get_user``). ``authenticate`` takes keyword-only arguments that only the callback view
    passes, so Django's ``authenticate()`` never tries it for a password sign-in.
    """

    def __init__(self, *args, **kwargs) -> None:
        # Not the library's __init__, which requires every OIDC_* setting: Django builds every
        # listed backend for every authenticate() call (the password sign-in too), and that must
        # not fail while Sina is off or unconfigured.
        get = self.get_settings
        self.OIDC_OP_TOKEN_ENDPOINT = get("OIDC_OP_TOKEN_ENDPOINT", "")
        self.OIDC_OP_USER_ENDPOINT = get("OIDC_OP_USER_ENDPOINT", "")
        self.OIDC_OP_JWKS_ENDPOINT = get("OIDC_OP_JWKS_ENDPOINT", "") or None
        self.OIDC_RP_CLIENT_ID = get("OIDC_RP_CLIENT_ID", "")
        self.OIDC_RP_CLIENT_SECRET = get("OIDC_RP_CLIENT_SECRET", "")
        self.OIDC_RP_SIGN_ALGO = get("OIDC_RP_SIGN_ALGO", "RS256")
        self.OIDC_RP_IDP_SIGN_KEY = get("OIDC_RP_IDP_SIGN_KEY", None)
        self.UserModel = User
        self.admission: Admission | None = None

    def authenticate(self, request, *, sina_nonce: str | None, sina_code_verifier: str | None = None):
        """The admitted user, or SinaRefusal; the provider's failures become codes here."""
        try:
            user = super().authenticate(request, nonce=sina_nonce, code_verifier=sina_code_verifier)
        except SinaRefusal:
            raise
        except requests.Timeout as error:
            raise SinaRefusal(ErrorCode.SINA_TIMEOUT, f"no answer within OIDC_TIMEOUT ({type(error).__name__})")
        except requests.HTTPError as error:
            # Not the message: the library puts the token endpoint's whole answer in it.
            status = error.response.status_code if error.response is not None else "?"
            raise SinaRefusal(ErrorCode.SINA_UNAVAILABLE, f"HTTP {status} from Sina")
        except requests.RequestException as error:
            raise SinaRefusal(ErrorCode.SINA_UNAVAILABLE, describe_exception(error, _secrets(request)))
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, TypeError, ValueError) as error:
            raise SinaRefusal(ErrorCode.SINA_INVALID_TOKEN, describe_exception(error, _secrets(request)))
        if user is None:  # the library's answer to a callback without code or state
            raise SinaRefusal(ErrorCode.SINA_PROVIDER_ERROR, "callback without a code")
        return user

    def verify_token(self, token, **kwargs):
        """The token's claims, its signature checked; an id_token (given ``nonce``) also bound to this sign-in.

        The library checks the signature and the nonce; the audience it leaves unchecked, and an
        id_token issued by Sina to another client must not sign anyone in here.
        """
        if not isinstance(token, str) or not token:
            raise SinaRefusal(ErrorCode.SINA_INVALID_TOKEN, "no id_token in the token response")
        if not self.OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")):
            key = self.OIDC_RP_CLIENT_SECRET
        elif self.OIDC_RP_IDP_SIGN_KEY is not None:
            key = self.OIDC_RP_IDP_SIGN_KEY
        else:
            key = self.retrieve_matching_jwk(token)
        payload = self.get_payload_data(token, key)
        if "nonce" not in kwargs:  # a signed userinfo answer
            return payload
        if not kwargs["nonce"] or payload.get("nonce") != kwargs["nonce"]:
            raise SinaRefusal(ErrorCode.SINA_NONCE_MISMATCH, "id_token nonce differs from this sign-in's")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SinaRefusal(ErrorCode.SINA_INVALID_TOKEN, "id_token not issued to this client (aud)")
        issuer = settings.MANA_SINA_ISSUER
        if issuer and payload.get("iss") != issuer:
            raise SinaRefusal(ErrorCode.SINA_INVALID_TOKEN, "id_token from another issuer (iss)")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            try:
                userinfo = self.get_userinfo(access_token, id_token, payload)
            except (SuspiciousOperation, jwt.PyJWTError) as error:
                raise SinaRefusal(ErrorCode.SINA_INVALID_TOKEN, f"userinfo: {type(error).__name__}")
            if not isinstance(userinfo, dict):
                raise SinaRefusal(ErrorCode.SINA_INVALID_TOKEN, "userinfo is not an object")
            # OpenID Connect Core §5.3.2: a userinfo answer about someone else is ignored entirely.
            if userinfo.get("sub") != payload.get("sub"):
                raise SinaRefusal(ErrorCode.SINA_INVALID_TOKEN, "userinfo sub differs from the id_token's")
            claims.update(userinfo)
        national_code = national_code_from(claims.get(settings.MANA_SINA_NATIONAL_CODE_CLAIM))
        self.admission = admit(national_code)
        return self.admission.user

    def create_user(self, claims):
        # Main leaders are registered beforehand (OIDC_CREATE_USER is off; this is the second lock).
        raise SinaRefusal(ErrorCode.SINA_UNKNOWN_USER, "Sina never creates users")

    def update_user(self, user, claims):
        return user

    def get_user(self, user_id):
        # ModelBackend's: a deactivated person's Sina session ends (the library's would keep it).
        return ModelBackend.get_user(self, user_id)


def _with_error(url: str, code: ErrorCode) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "error"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("error", code.value)])))


def _disabled() -> HttpResponse:
    return error_response(ErrorCode.SINA_DISABLED, MESSAGES[ErrorCode.SINA_DISABLED], 404)


class SinaStartView(OIDCAuthenticationRequestView):
    """GET /auth/sina/start/[?next=…]: to Sina's authorization endpoint, state and nonce in the session."""

    def get(self, request):
        if not sina_available():
            return _disabled()
        return super().get(request)


class SinaCallbackView(OIDCAuthenticationCallbackView):
    """GET /auth/sina/callback/?code=…&state=…: sign the main leader in, or send them to the failure URL."""

    def get(self, request):
        if not sina_available():
            return _disabled()
        try:
            return self._sign_in(request)
        except SinaRefusal as refusal:
            return self._refuse(request, refusal)
        except Exception as error:  # the database, a bug: still a coded answer, never a traceback
            return self._refuse(
                request, SinaRefusal(ErrorCode.SINA_FAILED, describe_exception(error, _secrets(request)))
            )

    def _sign_in(self, request) -> HttpResponse:
        started = self._take_state(request)
        if started is None:
            # Not a sign-in this browser started (forged, replayed, or its session expired).
            raise SinaRefusal(ErrorCode.SINA_STATE_MISMATCH, "state not started here")
        error = request.GET.get("error")
        if error:
            code = ErrorCode.SINA_ACCESS_DENIED if error == "access_denied" else ErrorCode.SINA_PROVIDER_ERROR
            raise SinaRefusal(code, f"Sina answered error={error[:64]!r}")
        backend = SinaBackend()
        user = backend.authenticate(
            request, sina_nonce=started.get("nonce"), sina_code_verifier=started.get("code_verifier")
        )
        auth.login(request, user, backend=BACKEND_PATH)
        # Acting as main leader whatever their other roles (a password sign-in starts in the first).
        request.session[ACTIVE_ROLE_SESSION_KEY] = backend.admission.role.pk
        logger.info(
            "Sina sign-in: user %s as main leader of organization %s", user.pk, backend.admission.role.organization_id
        )
        next_url = request.session.pop("oidc_login_next", None)
        return HttpResponseRedirect(next_url or settings.MANA_SINA_LOGIN_REDIRECT_URL)

    @staticmethod
    def _take_state(request) -> dict | None:
        """This sign-in's nonce and PKCE verifier, removed from the session: a state is good once."""
        state = request.GET.get("state")
        states = request.session.get("oidc_states")
        if not state or not isinstance(states, dict) or state not in states:
            return None
        started = states.pop(state)
        request.session["oidc_states"] = states
        return started if isinstance(started, dict) else None

    @staticmethod
    def _refuse(request, refusal: SinaRefusal) -> HttpResponse:
        logger.warning("Sina sign-in refused: %s (%s)", refusal.code.value, refusal.reason)
        # A sign-in this browser started failed: nobody stays signed in (a half-done login is undone
        # too, and an earlier session is not left for someone else to continue). A state this
        # browser never started proves nothing about it and changes nothing.
        if refusal.code is not ErrorCode.SINA_STATE_MISMATCH and request.user.is_authenticated:
            auth.logout(request)
        return HttpResponseRedirect(_with_error(settings.MANA_SINA_FAILURE_REDIRECT_URL, refusal.code))


PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>ورود با سینا انجام نشد — سکوی معنا</title></head>
<body style="font-family: Vazirmatn, Tahoma, sans-serif; max-width: 40em; margin: 4em auto; line-height: 2">
<h1>ورود با سینا انجام نشد</h1><p>{message}</p><p><small>کد خطا: <code>{code}</code></small></p>
<p><a href="{start}">دوباره با سینا وارد شوید</a></p>
</body></html>"""


def sina_failed(request: HttpRequest) -> HttpResponse:
    """GET /auth/sina/failed/?error=CODE: the default failure page, the reason in Persian.

    The message is looked up by code, never taken from the address, so a crafted link cannot make
    the page say anything else.
    """
    try:
        code = ErrorCode(request.GET.get("error", ""))
    except ValueError:
        code = ErrorCode.SINA_FAILED
    message = MESSAGES.get(code, MESSAGES[ErrorCode.SINA_FAILED])
    return HttpResponse(format_html(PAGE, message=message, code=code.value, start=reverse("sina-start")))


sina_start = SinaStartView.as_view()
sina_callback = SinaCallbackView.as_view()
