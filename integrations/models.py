"""The SMS outbox: every message Mana sends, its delivery state, and never its text once sent."""

from __future__ import annotations

from django.db import models

from integrations.redaction import mask_mobile


class SmsStatus(models.TextChoices):
    PENDING = "PENDING", "در انتظار ارسال"
    SENT = "SENT", "ارسال شد"
    FAILED = "FAILED", "ناموفق"


class OutgoingSms(models.Model):
    """پیامک خروجی: written by ``send_sms``, delivered by a background task (integrations/sms/delivery.py).

    ``text`` holds one-time codes and passwords: it is emptied the moment the gateway accepts the
    message, and no admin page, log line or error message shows it.
    """

    mobile = models.CharField("شماره همراه", max_length=11)
    purpose = models.CharField("منظور", max_length=32)
    text = models.TextField("متن", blank=True)
    status = models.CharField("وضعیت", max_length=8, choices=SmsStatus.choices, default=SmsStatus.PENDING)
    attempts = models.PositiveSmallIntegerField("تعداد تلاش", default=0)
    created_at = models.DateTimeField("زمان ثبت", auto_now_add=True)
    # Last change of state or attempt: a PENDING row untouched for long lost its task (a worker died).
    updated_at = models.DateTimeField("آخرین تغییر", auto_now=True)
    # When the next attempt is due, while a failed one waits for its retry (database task queue).
    next_attempt_at = models.DateTimeField("زمان تلاش بعدی", null=True, blank=True)
    sent_at = models.DateTimeField("زمان ارسال", null=True, blank=True)
    last_error = models.CharField("آخرین خطا", max_length=500, blank=True)
    provider_message_id = models.CharField("شناسه پیام نزد ارسال‌کننده", max_length=64, blank=True)
    backend = models.CharField("درگاه ارسال", max_length=200, blank=True)

    class Meta:
        verbose_name = "پیامک خروجی"
        verbose_name_plural = "پیامک‌های خروجی"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="outgoing_sms_status")]

    def __str__(self) -> str:
        return f"پیامک {self.purpose} به {mask_mobile(self.mobile)}"
