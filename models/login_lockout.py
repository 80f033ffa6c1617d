"""Password guessing: two counters of failed sign-ins, their limits, and how a lockout is said.

django-axes counts every password tried through ``django.contrib.auth.authenticate`` (the GraphQL
``login`` and the admin console's login alike) and refuses a locked-out attempt in its
authentication backend, before Django's ModelBackend hashes anything. Two counters run over a
sliding cool-off window (``AXES_COOLOFF_TIME``):

* per national code (the account): ``AXES_FAILURE_LIMIT`` failures from anywhere lock it — a guesser
  who spreads one account's guesses over many addresses;
* per client address: ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures, over all national codes, lock the
  address — one address spraying a common password over many accounts. Higher than the account
  limit because a ministry's staff often reach Mana through one NAT address, and their ordinary
  typing mistakes add up there.

axes knows one limit for all counters; ``LoginLockoutHandler`` gives each counter its own, and
counts an attempt before its password is checked rather than after, so that guesses sent all at
once cannot all pass the check before the first is counted. The national code is counted as
normalized (Persian digits, dashes), whichever form a client typed, and whether or not such a
person exists: a lockout says nothing about who has an account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from axes.backends import AxesStandaloneBackend
from axes.conf import settings  # django.conf.settings, with axes' defaults filled in
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_credentials, get_lockout_parameters
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.db import router, transaction
from django.db.models import F, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html

from models.identity import normalize_national_code

ACCOUNT = "account"
ADDRESS = "address"
# axes' names of its lockout parameters, and which counter each one is.
COUNTER_OF_PARAMETER = {"username": ACCOUNT, "ip_address": ADDRESS}

ACCOUNT_MESSAGE = (
    "به‌دلیل چند تلاش ناموفق پیاپی، ورود با این کد ملی موقتاً بسته شده است؛ {minutes} دقیقهٔ دیگر دوباره تلاش کنید."
)
ADDRESS_MESSAGE = (
    "به‌دلیل تلاش‌های ناموفق پیاپی از این نشانی اینترنتی، ورود از آن موقتاً بسته شده است؛ "
    "{minutes} دقیقهٔ دیگر دوباره تلاش کنید."
)
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def limit_of(counter: str) -> int:
    return settings.AXES_FAILURE_LIMIT if counter == ACCOUNT else settings.LOGIN_ADDRESS_FAILURE_LIMIT


def national_code_of(request: HttpRequest, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the national code an attempt was made for, normalized.

    The GraphQL login passes it as ``national_code``, the admin's login form as ``username``
    (Django's AuthenticationForm names its field so whatever the user model's USERNAME_FIELD).
    """
    credentials = credentials or {}
    raw = credentials.get("national_code") or credentials.get("username")
    if raw is None:
        raw = request.POST.get("username")
    return normalize_national_code(raw) if raw else None


@dataclass(frozen=True)
class Lockout:
    counter: str  # ACCOUNT or ADDRESS
    until: datetime

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until an attempt is counted again (at least one)."""
        return max(1, math.ceil((self.until - now).total_seconds()))

    def message(self, now: datetime) -> str:
        minutes = str(math.ceil(self.retry_after(now) / 60)).translate(_PERSIAN_DIGITS)
        return (ACCOUNT_MESSAGE if self.counter == ACCOUNT else ADDRESS_MESSAGE).format(minutes=minutes)


class LoginLockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per counter, counting before the password is checked.

    axes checks the count before the password and records the failure after it: concurrent guesses
    all pass the check before any is recorded (20 parallel wrong passwords were all checked
    against a limit of 5). Here each attempt is recorded first and checked with the count that
    includes it; on success AXES_RESET_ON_SUCCESS removes it again.
    """

    def count_before_check(self, request: HttpRequest, credentials: dict) -> bool:
        """Record this attempt as a failure before its password is checked.

        False (and the record undone) when, with it, a counter is over its limit: a concurrent
        attempt took the last place. Each attempt reads the count after its own increment has
        been committed, so of attempts racing for the last places at most those places pass
        (some may be refused though a place was left: the safe side).
        """
        if self.is_whitelisted(request, credentials):
            return True
        self.clean_expired_user_attempts(request, credentials)
        username = get_client_username(request, credentials)
        identity = {
            "username": username,
            "ip_address": request.axes_ip_address,
            "user_agent": request.axes_user_agent,
        }
        with transaction.atomic(using=router.db_for_write(AccessAttempt)):
            attempt, created = AccessAttempt.objects.select_for_update().get_or_create(
                **identity,
                defaults={
                    "get_data": "",
                    "post_data": "",
                    "http_accept": request.axes_http_accept,
                    "path_info": request.axes_path_info,
                    "failures_since_start": 1,
                    "attempt_time": request.axes_attempt_time,
                },
            )
            if not created:
                AccessAttempt.objects.filter(pk=attempt.pk).update(
                    failures_since_start=F("failures_since_start") + 1,
                    attempt_time=request.axes_attempt_time,
                    path_info=request.axes_path_info,
                )
        if all(count <= limit_of(counter) for counter, count in self._counts(request, credentials)):
            request.login_attempt_counted = True
            return True
        AccessAttempt.objects.filter(**identity).update(failures_since_start=F("failures_since_start") - 1)
        return False

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if not getattr(request, "login_attempt_counted", False):
            # Refused as locked out (not counted again), or authenticated without our backend.
            return super().user_login_failed(sender, credentials, request, **kwargs)
        # Counted already: only say whether this failure locks.
        request.axes_failures_since_start = self.get_failures(request, credentials)
        if request.axes_failures_since_start >= limit_of(ACCOUNT):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )
        return None

    def _counters(self, request: HttpRequest, credentials: dict | None) -> list[tuple[str, object]]:
        """(counter, its attempts within the cool-off window), in AXES_LOCKOUT_PARAMETERS order."""
        parameters = get_lockout_parameters(request, credentials)
        return [
            (COUNTER_OF_PARAMETER[parameter], attempts)
            for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True)
        ]

    def _counts(self, request: HttpRequest, credentials: dict | None) -> list[tuple[str, int]]:
        return [
            (counter, attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)
            for counter, attempts in self._counters(request, credentials)
        ]

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # axes compares one number with AXES_FAILURE_LIMIT (the account limit) to lock and to
        # refuse. The address counter is given in the account limit's units, rounded down, so that
        # it reaches AXES_FAILURE_LIMIT exactly when it reaches its own limit.
        account_limit = limit_of(ACCOUNT)
        return max(count * account_limit // limit_of(counter) for counter, count in self._counts(request, credentials))

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # AXES_RESET_ON_SUCCESS: a success forgives the mistakes that person made from this
        # address, nothing more. axes would delete every failure of the address too, so that
        # signing in to one's own account would wipe the address counter of a spray.
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count

    def lockout(self, request: HttpRequest, credentials: dict | None) -> Lockout | None:
        """Which counter locks this attempt out and until when; None when none does.

        A counter unlocks when the sum of its attempts still inside the window drops below its
        limit: walking them newest first, the one where the sum reaches the limit leaves the window
        last among those needed (each attempt row holds at least one failure, so ``limit`` rows
        suffice).
        """
        cool_off = get_cool_off(request)
        found: Lockout | None = None
        for counter, attempts in self._counters(request, credentials):
            limit = limit_of(counter)
            total = 0
            rows = (
                attempts.filter(failures_since_start__gt=0)
                .order_by("-attempt_time")
                .values_list("attempt_time", "failures_since_start")[:limit]
            )
            for attempt_time, failures in rows:
                total += failures
                if total >= limit:
                    lockout = Lockout(counter, attempt_time + cool_off)
                    if found is None or lockout.until > found.until:
                        found = lockout
                    break
        return found


class LoginLockoutBackend(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a locked-out attempt, then counts an allowed one.

    Either way before ModelBackend hashes the password, so a refused attempt costs no hash.
    """

    def authenticate(self, request: HttpRequest, username: str | None = None, password: str | None = None, **kwargs):
        super().authenticate(request, username, password, **kwargs)  # raises when locked out
        if settings.AXES_ENABLED:
            credentials = get_credentials(username=username, **kwargs)
            if not _handler().count_before_check(request, credentials):
                request.axes_locked_out = True
                raise AxesBackendPermissionDenied("a concurrent attempt took the last place before the lockout")


def _handler() -> LoginLockoutHandler:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.get_implementation()


def take_lockout(request: HttpRequest, credentials: dict) -> Lockout | None:
    """The lockout axes flagged on this failed attempt, for a caller who answers it in its own format.

    The flag is cleared: axes' middleware would otherwise replace the caller's whole response by
    its lockout page.
    """
    if not getattr(request, "axes_locked_out", False):
        return None
    request.axes_locked_out = False
    return _handler().lockout(request, credentials)


PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>ورود موقتاً بسته است — سکوی معنا</title></head>
<body style="font-family: Vazirmatn, Tahoma, sans-serif; max-width: 40em; margin: 4em auto; line-height: 2">
<h1>ورود موقتاً بسته است</h1><p>{message}</p><p><a href="{login_url}">بازگشت به صفحهٔ ورود</a></p>
</body></html>"""


def lockout_page(request: HttpRequest, *_args) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the admin console's answer to a locked-out sign-in, in Persian.

    axes calls it with (request, response, credentials) from a sync middleware chain and with
    (request, credentials) from an async one; the credentials it recorded are on the request.
    """
    lockout = _handler().lockout(request, getattr(request, "axes_credentials", None))
    now = timezone.now()
    if lockout is None:  # unlocked in between (an administrator ran axes_reset): say so briefly
        lockout = Lockout(ACCOUNT, now)
    response = HttpResponse(
        format_html(PAGE, message=lockout.message(now), login_url=request.path), status=settings.AXES_HTTP_RESPONSE_CODE
    )
    response["Retry-After"] = str(lockout.retry_after(now))
    return response


def forgive_attempt(request: HttpRequest, national_code: str) -> None:
    """A password proved right outside a sign-in (changePassword): undo the failure counted before it.

    A sign-in does this through axes' user_logged_in handler (AXES_RESET_ON_SUCCESS).
    """
    if getattr(request, "login_attempt_counted", False):
        _handler().reset_user_attempts(request, {"national_code": national_code})
