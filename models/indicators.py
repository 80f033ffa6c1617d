"""Indicators (شاخص) and their assignment (ابلاغ) to an organization for a period."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from models.jalali import format_jalali


class IndicatorKind(models.TextChoices):
    GENERAL = "GENERAL", "عمومی"
    SPECIFIC = "SPECIFIC", "اختصاصی"


class IndicatorNature(models.TextChoices):
    HIGHER_IS_BETTER = "HIGHER_IS_BETTER", "افزایشی (بیشتر بهتر)"
    LOWER_IS_BETTER = "LOWER_IS_BETTER", "کاهشی (کمتر بهتر)"


class ComparisonType(models.TextChoices):
    AGAINST_TARGET = "AGAINST_TARGET", "نسبت به هدف"
    AGAINST_PREVIOUS_YEAR = "AGAINST_PREVIOUS_YEAR", "نسبت به سال قبل"


class RollupRule(models.TextChoices):
    """How provincial slices add up to their parent (see the referral workflow)."""

    SUM = "SUM", "جمع (شمارشی)"
    AVERAGE = "AVERAGE", "میانگین"
    WEIGHTED_AVERAGE = "WEIGHTED_AVERAGE", "میانگین وزنی"


class ReferralStatus(models.TextChoices):
    PENDING = "PENDING", "در انتظار ارجاع"
    DELEGATED = "DELEGATED", "ارجاع‌شده"
    IN_PROGRESS = "IN_PROGRESS", "در حال ثبت"
    SUBMITTED = "SUBMITTED", "ارسال‌شده برای تأیید"
    RETURNED = "RETURNED", "برگشت برای اصلاح"
    APPROVED = "APPROVED", "تأییدشده"
    FINALIZED = "FINALIZED", "ثبت نهایی"
    SENT_FOR_EVALUATION = "SENT_FOR_EVALUATION", "ارسال برای ارزیابی"
    EVALUATED = "EVALUATED", "ارزیابی‌شده"


def bounds_ordered(name: str) -> models.CheckConstraint:
    """A target's lower bound (حد پایین هدف) is not above its upper bound, when both are given."""
    return models.CheckConstraint(
        name=name,
        condition=Q(lower_bound__isnull=True) | Q(upper_bound__isnull=True) | Q(lower_bound__lte=F("upper_bound")),
        violation_error_message="حد پایین هدف نباید از حد بالای آن بیشتر باشد.",
    )


class Indicator(models.Model):
    code = models.CharField("کد", max_length=32, unique=True)
    title = models.CharField("عنوان", max_length=300)
    kind = models.CharField("نوع", max_length=16, choices=IndicatorKind.choices)
    unit = models.CharField("واحد سنجش", max_length=64)
    nature = models.CharField("ماهیت", max_length=24, choices=IndicatorNature.choices)
    comparison_type = models.CharField(
        "نوع مقایسه", max_length=32, choices=ComparisonType.choices, default=ComparisonType.AGAINST_TARGET
    )
    rollup = models.CharField("قاعده تجمیع برش‌ها", max_length=24, choices=RollupRule.choices, default=RollupRule.SUM)
    legal_basis = models.TextField("مستند قانونی", blank=True)
    calculation_method = models.TextField("نحوه محاسبه", blank=True)

    class Meta:
        verbose_name = "شاخص"
        verbose_name_plural = "شاخص‌ها"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title


class Assignment(models.Model):
    """An indicator given to an organization for a period, with its target and score rules."""

    indicator = models.ForeignKey(
        "mana.Indicator", verbose_name="شاخص", on_delete=models.PROTECT, related_name="assignments"
    )
    organization = models.ForeignKey(
        "mana.Organization", verbose_name="دستگاه", on_delete=models.PROTECT, related_name="assignments"
    )
    period = models.ForeignKey(
        "mana.EvaluationPeriod", verbose_name="دوره", on_delete=models.PROTECT, related_name="assignments"
    )
    target = models.DecimalField("هدف (استاندارد ملی)", max_digits=18, decimal_places=4)
    lower_bound = models.DecimalField("حد پایین هدف", max_digits=18, decimal_places=4, null=True, blank=True)
    upper_bound = models.DecimalField("حد بالای هدف", max_digits=18, decimal_places=4, null=True, blank=True)
    weight = models.DecimalField("وزن امتیاز", max_digits=8, decimal_places=2)
    score_cap = models.DecimalField("سقف امتیاز", max_digits=8, decimal_places=2)
    deadline = models.DateField("مهلت", null=True, blank=True)
    status = models.CharField("وضعیت", max_length=24, choices=ReferralStatus.choices, default=ReferralStatus.PENDING)
    # False once a non-applicability request (درخواست عدم مصداق) was approved: out of scoring and
    # of the organization's totals, and shown so.
    is_applicable = models.BooleanField("مصداق دارد", default=True)

    class Meta:
        verbose_name = "ابلاغ شاخص"
        verbose_name_plural = "ابلاغ‌های شاخص"
        ordering = ["id"]
        # A unit's assignments in a period (loaders, referral progress): the unique constraint's
        # index leads with the indicator and cannot serve it.
        indexes = [models.Index(fields=["organization", "period"], name="assignment_of_unit_in_period")]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "organization", "period"],
                name="assignment_once_per_period",
                violation_error_message="این شاخص در این دوره پیش‌تر به این دستگاه ابلاغ شده است.",
            ),
            bounds_ordered("assignment_bounds_ordered"),
            models.CheckConstraint(
                name="assignment_weight_positive",
                condition=Q(weight__gt=0),
                violation_error_message="وزن امتیاز باید مثبت باشد.",
            ),
            models.CheckConstraint(
                name="assignment_cap_not_below_zero",
                condition=Q(score_cap__gte=0),
                violation_error_message="سقف امتیاز نباید منفی باشد.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} — {self.organization}"

    def save(self, *args, **kwargs) -> None:
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        # A deadline outside the period spans two tables, so it is checked here, on every save.
        if self.deadline and self.period_id:
            period = self.period
            if not period.contains(self.deadline):
                raise ValidationError(
                    {
                        "deadline": (
                            f"مهلت باید درون دوره ارزیابی ({format_jalali(period.start_date)} تا "
                            f"{format_jalali(period.end_date)}) باشد."
                        )
                    },
                    code="DEADLINE_OUTSIDE_PERIOD",
                )
