"""Settings an administrator changes in the admin console, one row (django-solo)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from solo.models import SingletonModel


class SiteSettings(SingletonModel):
    # «پشتیبانی» on the sign-in page, and «مرکز یکپارچه تماس» of the user guide.
    support_phone = models.CharField("تلفن پشتیبانی", max_length=32, blank=True)
    support_hours = models.CharField("ساعات پاسخگویی", max_length=200, default="روزهای کاری ۸ الی ۱۶")
    support_url = models.URLField("نشانی سامانه پشتیبانی", blank=True, default="https://amalkardtk.aro.gov.ir")
    # Deadline reminders (models/reminders.py): this many days before a referral's deadline, and
    # on the day it passes; each once.
    reminder_days_before = models.PositiveSmallIntegerField(
        "یادآوری چند روز پیش از مهلت", default=3, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )

    class Meta:
        verbose_name = "تنظیمات سکو"
        verbose_name_plural = "تنظیمات سکو"

    def __str__(self) -> str:
        return "تنظیمات سکو"
