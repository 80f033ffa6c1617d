"""The referral chain (ارجاع) and what is registered on it: performance and its evidence."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from models.indicators import ReferralStatus


class BreakdownBy(models.TextChoices):
    REFERRER = "REFERRER", "توسط مدیر کل ارزیابی"
    ASSIGNEE = "ASSIGNEE", "توسط واحد تخصصی"


class Referral(models.Model):
    assignment = models.ForeignKey(
        "mana.Assignment", verbose_name="ابلاغ", on_delete=models.CASCADE, related_name="referrals"
    )
    parent = models.ForeignKey(
        "self", verbose_name="ارجاع بالادست", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    referrer = models.ForeignKey(
        "mana.User", verbose_name="ارجاع‌دهنده", on_delete=models.PROTECT, related_name="referrals_made"
    )
    assignee = models.ForeignKey(
        "mana.User", verbose_name="ارجاع‌گیرنده", on_delete=models.PROTECT, related_name="referrals_received"
    )
    organization = models.ForeignKey(
        "mana.Organization", verbose_name="دستگاه", on_delete=models.PROTECT, related_name="referrals"
    )
    province = models.ForeignKey(
        "mana.Province", verbose_name="استان (برش)", null=True, blank=True, on_delete=models.PROTECT
    )
    target = models.DecimalField("هدف", max_digits=18, decimal_places=4)
    deadline = models.DateField("مهلت")
    has_provincial_breakdown = models.BooleanField("دارای برش استانی", default=False)
    # NULL means "no breakdown"; a constraint ties it to has_provincial_breakdown.
    breakdown_by = models.CharField(  # noqa: DJ001
        "برش توسط", max_length=16, choices=BreakdownBy.choices, null=True, blank=True
    )
    status = models.CharField(
        "وضعیت", max_length=24, choices=ReferralStatus.choices, default=ReferralStatus.IN_PROGRESS
    )
    # Optimistic lock: every transition bumps it; a write with an older version is a conflict.
    version = models.PositiveIntegerField("نسخه", default=1)
    created_at = models.DateTimeField("زمان ایجاد", auto_now_add=True)
    updated_at = models.DateTimeField("زمان به‌روزرسانی", auto_now=True)

    class Meta:
        verbose_name = "ارجاع"
        verbose_name_plural = "ارجاع‌ها"
        ordering = ["id"]
        indexes = [
            # The top of an assignment's chain (referral progress, the assignment's result).
            models.Index(fields=["assignment"], condition=Q(parent__isnull=True), name="referral_top_of_assignment"),
            # «Does this person work on this assignment?» — the scope of assignments, one probe each.
            models.Index(fields=["assignee", "assignment"], name="referral_assignee_assignment"),
            models.Index(fields=["referrer", "assignment"], name="referral_referrer_assignment"),
            # The inbox (models/inbox.py): what is open with a person, and what waits for their review.
            models.Index(
                fields=["assignee", "deadline"],
                condition=Q(status__in=["IN_PROGRESS", "RETURNED", "DELEGATED"]),
                name="referral_open_with_assignee",
            ),
            models.Index(fields=["referrer", "deadline"], condition=Q(status="SUBMITTED"), name="referral_to_review"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "province"],
                condition=Q(province__isnull=False),
                name="referral_one_slice_per_province",
                violation_error_message="برای این استان پیش‌تر برش ثبت شده است.",
            ),
            models.CheckConstraint(
                name="referral_breakdown_needs_flag",
                condition=Q(breakdown_by__isnull=True) | Q(has_provincial_breakdown=True),
                violation_error_message="تعیین برش‌دهنده تنها برای شاخص دارای برش استانی معنا دارد.",
            ),
            models.CheckConstraint(
                name="referral_not_to_self",
                condition=~Q(referrer=F("assignee")),
                violation_error_message="ارجاع به خود ممکن نیست.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} → {self.assignee}"


class ReferralEvent(models.Model):
    """One transition of a referral; written once, never changed."""

    referral = models.ForeignKey("mana.Referral", verbose_name="ارجاع", on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey("mana.User", verbose_name="انجام‌دهنده", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("زمان", auto_now_add=True)
    # NULL for the first event of a referral, which has no previous status.
    from_status = models.CharField(  # noqa: DJ001
        "از وضعیت", max_length=24, choices=ReferralStatus.choices, null=True, blank=True
    )
    to_status = models.CharField("به وضعیت", max_length=24, choices=ReferralStatus.choices)
    reason = models.TextField("دلیل", blank=True)

    class Meta:
        verbose_name = "رویداد ارجاع"
        verbose_name_plural = "رویدادهای ارجاع"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        # The statuses' Persian labels: the admin console names an event by them.
        return f"{self.get_from_status_display() or '—'} → {self.get_to_status_display()}"

    def save(self, *args, **kwargs) -> None:
        # History is evidence: an event is written once and never rewritten.
        if self.pk is not None:
            raise ValueError("A referral event is immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A referral event is immutable.")


class ProvincialSlice(models.Model):
    """One province's share (برش استانی) of a referral's target, before or after it is referred."""

    referral = models.ForeignKey("mana.Referral", verbose_name="ارجاع", on_delete=models.CASCADE, related_name="slices")
    province = models.ForeignKey("mana.Province", verbose_name="استان", on_delete=models.PROTECT, related_name="+")
    target = models.DecimalField("هدف برش", max_digits=18, decimal_places=4)
    # Used only by the weighted-average roll-up; 1 elsewhere.
    weight = models.DecimalField("وزن برش", max_digits=18, decimal_places=4, default=1)

    class Meta:
        verbose_name = "برش استانی"
        verbose_name_plural = "برش‌های استانی"
        ordering = ["province__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "province"],
                name="slice_once_per_province",
                violation_error_message="برای این استان پیش‌تر برش ثبت شده است.",
            ),
            models.CheckConstraint(name="slice_weight_positive", condition=Q(weight__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.province} — {self.target}"


class Performance(models.Model):
    """The «جزئیات عملکرد» page of a referral."""

    referral = models.OneToOneField(
        "mana.Referral", verbose_name="ارجاع", on_delete=models.CASCADE, related_name="performance"
    )
    value = models.DecimalField("عملکرد", max_digits=18, decimal_places=4, null=True, blank=True)
    has_strategic_plan = models.BooleanField("دارای برنامه راهبردی و عملیاتی مرتبط", default=False)
    has_information_system = models.BooleanField("دارای سامانه (پایگاه) اطلاعاتی", default=False)
    comments = models.TextField("توضیحات عملکرد", blank=True)
    obstacles = models.TextField("موانع کلیدی", blank=True)
    improvement_solutions = models.TextField("راهکارهای بهبود", blank=True)
    partner_performance = models.TextField("عملکرد دستگاه‌های همکار", blank=True)
    is_registry_based = models.BooleanField("ثبتی مبنا", default=False)
    registry_comments = models.TextField("توضیحات ثبتی مبنا", blank=True)
    version = models.PositiveIntegerField("نسخه", default=1)
    updated_at = models.DateTimeField("زمان به‌روزرسانی", auto_now=True)
    updated_by = models.ForeignKey(
        "mana.User", verbose_name="به‌روزرسانی‌کننده", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Every saved version, with who saved it (django-simple-history; see the README).
    history = HistoricalRecords(
        excluded_fields=["updated_at"], verbose_name="سابقه عملکرد", verbose_name_plural="سوابق عملکرد"
    )

    class Meta:
        verbose_name = "عملکرد"
        verbose_name_plural = "عملکردها"

    def __str__(self) -> str:
        return f"عملکرد {self.referral}"


class Evidence(models.Model):
    performance = models.ForeignKey(
        "mana.Performance", verbose_name="عملکرد", on_delete=models.CASCADE, related_name="evidence"
    )
    file_name = models.CharField("نام فایل", max_length=200)
    content_type = models.CharField("نوع فایل", max_length=100)
    size = models.PositiveIntegerField("اندازه (بایت)")
    # Generated name under PRIVATE_MEDIA_ROOT; never derived from what the user sent.
    # Not unique: approving a submission carries its evidence up the chain as rows naming the same file.
    storage_name = models.CharField("نام فایل در انبار", max_length=100)
    sha256 = models.CharField("چکیده SHA-256", max_length=64)
    uploaded_by = models.ForeignKey("mana.User", verbose_name="بارگذارنده", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("زمان بارگذاری", auto_now_add=True)

    class Meta:
        verbose_name = "مستند"
        verbose_name_plural = "مستندات"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file_name
