"""API tokens: made for one of one's own roles, recognised when presented, revoked.

A token is «mana_<prefix>_<secret>». The prefix (48 random bits) is public: lists and the admin
console show it, and it finds the row by a unique index. The secret (256 random bits) is shown
once, when the token is made, and kept only as its SHA-256: with that much randomness a fast hash
loses nothing to guessing, and a stolen table does not give working tokens.

A request authenticated by a token acts as its owner in exactly the token's role. The token stops
working when it is revoked, when it expires, when its owner is deactivated, and when its role is
withdrawn (deleting the RoleAssignment deletes its tokens; a role moved to someone else no longer
counts as the owner's).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from models import events
from models.credentials import ApiToken
from models.errors import DomainError
from models.users import RoleAssignment, User

TOKEN_PREFIX = "mana_"
PREFIX_BYTES = 6  # 12 hex digits: fits ApiToken.prefix (16), never contains the «_» separator
SECRET_BYTES = 32  # 256 bits; token_urlsafe gives 43 characters of [A-Za-z0-9_-]
TOKEN_PATTERN = re.compile(r"mana_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
# Compared against when the prefix is unknown, so that an unknown token costs the same hash and
# comparison as a wrong secret.
_NO_HASH = "0" * 64

NAME_REQUIRED_MESSAGE = "برای توکن نامی بنویسید (مثلاً نام سامانه‌ای که از آن استفاده می‌کند)."
NAME_TOO_LONG_MESSAGE = f"نام توکن حداکثر {NAME_MAX_LENGTH} نویسه است."
NAME_TAKEN_MESSAGE = "توکن فعالی با این نام دارید؛ نام دیگری برگزینید یا نخست آن را باطل کنید."
NOT_OWN_ROLE_MESSAGE = "توکن فقط برای یکی از نقش‌های خود شما ساخته می‌شود."
EXPIRY_IN_PAST_MESSAGE = "زمان انقضای توکن باید در آینده باشد."
EXPIRY_TOO_FAR_MESSAGE = "زمان انقضای توکن بیش از حد دور است؛ زمانی نزدیک‌تر برگزینید یا آن را خالی بگذارید."
TOKEN_NOT_FOUND_MESSAGE = "توکن پیدا نشد."

# What the client is told (the reason behind INVALID_TOKEN is logged, never answered).
REFUSAL_MESSAGES = {
    "INVALID_TOKEN": "توکن API معتبر نیست.",
    "TOKEN_EXPIRED": "زمان اعتبار این توکن API گذشته است؛ توکن تازه‌ای بسازید.",
    "TOKEN_REVOKED": "این توکن API باطل شده است؛ توکن تازه‌ای بسازید.",
}


class TokenRefused(Exception):
    """A presented token that does not authenticate. ``code`` is answered; ``reason`` is only logged:
    malformed, unknown, wrong_secret, owner_inactive and role_not_held all answer INVALID_TOKEN."""

    def __init__(self, code: str, reason: str, prefix: str | None = None) -> None:
        super().__init__(f"{code} ({reason})")
        self.code = code
        self.reason = reason
        # Public (shown in lists); the secret is never kept on the exception.
        self.prefix = prefix

    @property
    def message(self) -> str:
        return REFUSAL_MESSAGES[self.code]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _checked_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("TOKEN_NAME_REQUIRED", NAME_REQUIRED_MESSAGE, "name")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError("TOKEN_NAME_TOO_LONG", NAME_TOO_LONG_MESSAGE, "name")
    return name


def _checked_expiry(expires_at: datetime.datetime | None, now: datetime.datetime) -> datetime.datetime | None:
    if expires_at is None:
        return None
    if timezone.is_naive(expires_at):
        # A time without an offset is Tehran time, as the people who type it mean it.
        expires_at = timezone.make_aware(expires_at)
    try:
        in_utc = expires_at.astimezone(datetime.UTC)
    except OverflowError:
        # Past either end of what a datetime holds once in UTC (year 1 or 9999 with an offset).
        if expires_at.year == datetime.MINYEAR:
            raise DomainError("EXPIRY_IN_PAST", EXPIRY_IN_PAST_MESSAGE, "expiresAt")
        in_utc = None
    if in_utc is None or in_utc.year >= datetime.MAXYEAR:
        # Stored in UTC and read back in Tehran time: the last year would overflow either way.
        raise DomainError("EXPIRY_TOO_FAR", EXPIRY_TOO_FAR_MESSAGE, "expiresAt")
    if in_utc <= now:
        raise DomainError("EXPIRY_IN_PAST", EXPIRY_IN_PAST_MESSAGE, "expiresAt")
    return in_utc


def _name_taken(user: User, name: str) -> bool:
    return ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists()


def create_api_token(
    user: User, role_assignment: RoleAssignment | None, name: str, expires_at: datetime.datetime | None
) -> tuple[ApiToken, str]:
    """A new token of ``user`` acting in ``role_assignment`` (one of their own), and its whole
    string — returned this once and never again (only its hash is stored).

    ``role_assignment`` None (not found, or not the user's) is refused like someone else's role.
    """
    name = _checked_name(name)
    if role_assignment is None or role_assignment.user_id != user.pk:
        raise DomainError("NOT_OWN_ROLE", NOT_OWN_ROLE_MESSAGE, "role")
    now = timezone.now()
    expires_at = _checked_expiry(expires_at, now)
    if _name_taken(user, name):
        raise DomainError("TOKEN_NAME_TAKEN", NAME_TAKEN_MESSAGE, "name")
    for _attempt in range(3):
        prefix = secrets.token_hex(PREFIX_BYTES)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    role_assignment=role_assignment,
                    name=name,
                    prefix=prefix,
                    secret_hash=_hash(secret),
                    expires_at=expires_at,
                )
        except IntegrityError:
            # Two requests with the same name at once (the partial unique index decides), or,
            # once in 2^48, a prefix already taken: draw again.
            if _name_taken(user, name):
                raise DomainError("TOKEN_NAME_TAKEN", NAME_TAKEN_MESSAGE, "name")
            continue
        return token, f"{TOKEN_PREFIX}{prefix}_{secret}"
    raise RuntimeError("could not draw an unused API token prefix")


def authenticate_api_token(presented: str, now: datetime.datetime | None = None) -> ApiToken:
    """The token ``presented`` (the whole «mana_…» string), checked; TokenRefused otherwise.

    The owner and the role (with its organization) come loaded: the request's viewer is built
    from them without another query.
    """
    match = TOKEN_PATTERN.fullmatch(presented or "")
    if match is None:
        raise TokenRefused("INVALID_TOKEN", "malformed")
    prefix = match["prefix"]
    token = (
        ApiToken.objects.select_related("user", "role_assignment__organization__province").filter(prefix=prefix).first()
    )
    presented_hash = _hash(match["secret"])
    # Constant-time: how long the comparison takes says nothing about how much of the hash matched.
    matches = hmac.compare_digest(presented_hash, token.secret_hash if token is not None else _NO_HASH)
    if token is None:
        raise TokenRefused("INVALID_TOKEN", "unknown", prefix)
    if not matches:
        raise TokenRefused("INVALID_TOKEN", "wrong_secret", prefix)
    # Only someone holding the whole token learns that it was revoked or has expired.
    if token.revoked_at is not None:
        raise TokenRefused("TOKEN_REVOKED", "revoked", prefix)
    now = now or timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("TOKEN_EXPIRED", "expired", prefix)
    if not token.user.is_active:
        raise TokenRefused("INVALID_TOKEN", "owner_inactive", prefix)
    if token.role_assignment.user_id != token.user_id:
        # The role was given to someone else (the admin console can): it is no longer the owner's.
        raise TokenRefused("INVALID_TOKEN", "role_not_held", prefix)
    _note_use(token, now)
    return token


def _note_use(token: ApiToken, now: datetime.datetime) -> None:
    """Record when the token was last used, at most once per LAST_USED_RESOLUTION: a busy
    integrator's requests must not each write a row. The condition is in the UPDATE too, so that
    concurrent requests write it once."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


def revoke_api_token(user: User, token_pk: int) -> ApiToken:
    """Revoke one of ``user``'s tokens (again: nothing changes, its first revocation stands)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_pk, user=user).first()
        if token is None:
            # Someone else's token and no token look the same.
            raise DomainError("NOT_FOUND", TOKEN_NOT_FOUND_MESSAGE, "token")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            events.tokens_revoked([(token.user_id, token.pk)])
    return token


def revoke_tokens(queryset: QuerySet) -> int:
    """Revoke every token of ``queryset`` not yet revoked (the admin console's action); how many."""
    with transaction.atomic():
        # Locked by primary key: the admin's queryset may join (and outer-join) other tables.
        chosen = ApiToken.objects.select_for_update().filter(pk__in=queryset.values("pk"), revoked_at__isnull=True)
        revoked = list(chosen.values_list("user_id", "pk"))
        ApiToken.objects.filter(pk__in=[pk for _, pk in revoked]).update(revoked_at=timezone.now())
        events.tokens_revoked(revoked)
    return len(revoked)
