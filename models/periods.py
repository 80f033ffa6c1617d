"""Evaluation periods: one a year, e.g. «دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲»."""

from django.db import models
from django.db.models import F, Q


class PeriodStatus(models.TextChoices):
    DRAFT = "DRAFT", "پیش‌نویس"
    OPEN = "OPEN", "باز"
    CLOSED = "CLOSED", "بسته"


class EvaluationPeriod(models.Model):
    title = models.CharField("عنوان", max_length=200, unique=True)
    year = models.PositiveSmallIntegerField("سال (شمسی)")
    start_date = models.DateField("تاریخ شروع")
    end_date = models.DateField("تاریخ پایان")
    status = models.CharField("وضعیت", max_length=16, choices=PeriodStatus.choices, default=PeriodStatus.DRAFT)
    # The seed's rule: provincial planning organizations may propose indicators up to this score.
    provincial_proposal_cap = models.PositiveIntegerField("سقف امتیاز پیشنهاد استانی", default=150)
    # «گزینه پیشنهاد شاخص برای دستگاه‌های اجرایی»: off in 1402, when only provincial planning
    # organizations proposed; executive organizations propose only while it is on.
    proposals_open = models.BooleanField("پیشنهاد شاخص دستگاه‌های اجرایی فعال است", default=False)

    class Meta:
        verbose_name = "دوره ارزیابی"
        verbose_name_plural = "دوره‌های ارزیابی"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                name="period_starts_before_it_ends",
                condition=Q(start_date__lt=F("end_date")),
                violation_error_message="تاریخ شروع دوره باید پیش از تاریخ پایان آن باشد.",
            ),
            models.CheckConstraint(
                name="period_year_is_jalali",
                condition=Q(year__gte=1300) & Q(year__lte=1600),
                violation_error_message="سال دوره باید سال شمسی باشد.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == PeriodStatus.OPEN

    def contains(self, day) -> bool:
        return self.start_date <= day <= self.end_date
