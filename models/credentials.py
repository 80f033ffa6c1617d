"""Secrets a person signs in with besides their password: one-time SMS codes and API tokens.

Neither is ever stored as typed: a one-time code is kept as a salted HMAC, an API token as the
SHA-256 of its secret half (a token is 256 random bits, so a fast hash loses nothing to guessing
and lets every request look its token up by an index).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class OneTimeCode(models.Model):
    """رمز یکبار مصرف: six digits sent by SMS, valid for a short while, good for one sign-in."""

    # Codes are kept per national code, and one is made (never sent) for a national code nobody
    # holds too, so that every later answer — wrong, expired, used — is the same whether or not
    # the person exists.
    national_code = models.CharField("کد ملی", max_length=10)
    user = models.ForeignKey(
        "mana.User", verbose_name="کاربر", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField("چکیده رمز", max_length=128)
    created_at = models.DateTimeField("زمان صدور", auto_now_add=True)
    expires_at = models.DateTimeField("زمان انقضا")
    used_at = models.DateTimeField("زمان استفاده", null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField("تلاش‌های نادرست", default=0)
    # The address that asked for it: sending is throttled per mobile and per address.
    requested_from = models.GenericIPAddressField("نشانی درخواست‌کننده", null=True, blank=True)

    class Meta:
        verbose_name = "رمز یکبار مصرف"
        verbose_name_plural = "رمزهای یکبار مصرف"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["national_code", "-created_at"], name="otp_latest_per_code")]

    def __str__(self) -> str:
        return f"رمز یکبار مصرف {self.user} ({self.created_at:%Y-%m-%d %H:%M})"


class ApiToken(models.Model):
    """A named credential for an integrator or a dashboard, acting under one of its owner's roles."""

    user = models.ForeignKey("mana.User", verbose_name="کاربر", on_delete=models.CASCADE, related_name="api_tokens")
    role_assignment = models.ForeignKey(
        "mana.RoleAssignment", verbose_name="نقش", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField("نام", max_length=100)
    # The public half of the token («mana_<prefix>_<secret>»): shown in lists, finds the row.
    prefix = models.CharField("پیشوند", max_length=16, unique=True)
    secret_hash = models.CharField("چکیده رمز", max_length=64)
    created_at = models.DateTimeField("زمان ساخت", auto_now_add=True)
    expires_at = models.DateTimeField("زمان انقضا", null=True, blank=True)
    revoked_at = models.DateTimeField("زمان ابطال", null=True, blank=True)
    last_used_at = models.DateTimeField("آخرین استفاده", null=True, blank=True)

    class Meta:
        verbose_name = "توکن API"
        verbose_name_plural = "توکن‌های API"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=Q(revoked_at__isnull=True),
                name="api_token_name_unique_while_active",
                violation_error_message="توکن فعالی با این نام دارید.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
