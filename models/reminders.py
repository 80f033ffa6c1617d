"""Deadline reminders sent: one row per (referral, kind, deadline), so each is sent once."""

from django.db import models


class ReminderKind(models.TextChoices):
    BEFORE_DEADLINE = "BEFORE_DEADLINE", "یادآوری پیش از مهلت"
    DEADLINE_PASSED = "DEADLINE_PASSED", "پایان مهلت"


class DeadlineReminder(models.Model):
    referral = models.ForeignKey(
        "mana.Referral", verbose_name="ارجاع", on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField("نوع", max_length=24, choices=ReminderKind.choices)
    # The deadline it was about: a deadline moved later gets its own reminders.
    deadline = models.DateField("مهلت")
    sent_at = models.DateTimeField("زمان ارسال", auto_now_add=True)

    class Meta:
        verbose_name = "یادآوری مهلت"
        verbose_name_plural = "یادآوری‌های مهلت"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind", "deadline"], name="reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.referral_id}"
