"""Requests that wait for someone's decision: registration, indicator proposal, non-applicability."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from models.indicators import IndicatorNature, bounds_ordered
from models.roles import Role


class RequestStatus(models.TextChoices):
    PENDING = "PENDING", "در انتظار تأیید"
    APPROVED = "APPROVED", "تأییدشده"
    REJECTED = "REJECTED", "ردشده"


class RegistrationRequest(models.Model):
    """درخواست کاربری: a group-2 user asks to join, to be approved by the superior they name."""

    tracking_code = models.CharField("کد رهگیری", max_length=16, unique=True)
    subsystem = models.CharField("زیرسیستم", max_length=64, default="مدیریت عملکرد")
    organization = models.ForeignKey(
        "mana.Organization", verbose_name="دستگاه", on_delete=models.PROTECT, related_name="+"
    )
    national_code = models.CharField("کد ملی", max_length=10)
    first_name = models.CharField("نام", max_length=100)
    last_name = models.CharField("نام خانوادگی", max_length=100)
    post = models.CharField("پست سازمانی", max_length=200)
    mobile = models.CharField("شماره همراه", max_length=11)
    birth_date = models.DateField("تاریخ تولد")
    landline = models.CharField("تلفن ثابت با کد شهر", max_length=16)
    approver_mobile = models.CharField("شماره همراه تأییدکننده", max_length=11)
    approver = models.ForeignKey(
        "mana.User", verbose_name="تأییدکننده", on_delete=models.PROTECT, related_name="registration_requests"
    )
    requested_role = models.CharField("نقش درخواستی", max_length=32, choices=Role.choices)
    status = models.CharField("وضعیت", max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField("زمان ثبت", auto_now_add=True)
    reviewed_at = models.DateTimeField("زمان بررسی", null=True, blank=True)
    review_reason = models.TextField("دلیل", blank=True)

    class Meta:
        verbose_name = "درخواست کاربری"
        verbose_name_plural = "درخواست‌های کاربری"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["national_code"],
                condition=Q(status="PENDING"),
                name="registration_one_pending_per_person",
                violation_error_message="برای این کد ملی درخواستی در انتظار تأیید وجود دارد.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} — {self.first_name} {self.last_name}"


class Proposal(models.Model):
    """پیشنهاد شاخص: a provincial planning organization proposes an indicator for a provincial unit."""

    period = models.ForeignKey(
        "mana.EvaluationPeriod", verbose_name="دوره", on_delete=models.PROTECT, related_name="proposals"
    )
    organization = models.ForeignKey(
        "mana.Organization", verbose_name="دستگاه", on_delete=models.PROTECT, related_name="proposals"
    )
    proposer = models.ForeignKey("mana.User", verbose_name="پیشنهاددهنده", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("شاخص", max_length=300)
    unit = models.CharField("واحد سنجش", max_length=64)
    nature = models.CharField("ماهیت", max_length=24, choices=IndicatorNature.choices)
    calculation_method = models.TextField("نحوه محاسبه", blank=True)
    target = models.DecimalField("مقدار هدف", max_digits=18, decimal_places=4)
    lower_bound = models.DecimalField("حد پایین هدف", max_digits=18, decimal_places=4, null=True, blank=True)
    upper_bound = models.DecimalField("حد بالای هدف", max_digits=18, decimal_places=4, null=True, blank=True)
    # The points it may earn: the resulting assignment's score cap (its weight is half, as in the seed).
    score = models.DecimalField("امتیاز", max_digits=8, decimal_places=2)
    status = models.CharField("وضعیت", max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField("تاریخ", auto_now_add=True)
    reviewed_by = models.ForeignKey(
        "mana.User", verbose_name="بررسی‌کننده", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("زمان بررسی", null=True, blank=True)
    review_reason = models.TextField("دلیل", blank=True)
    # The assignment an approved proposal became (in the organization's inbox).
    assignment = models.OneToOneField(
        "mana.Assignment",
        verbose_name="ابلاغ",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proposal",
    )

    class Meta:
        verbose_name = "پیشنهاد شاخص"
        verbose_name_plural = "پیشنهادهای شاخص"
        ordering = ["-created_at", "-id"]
        # The cap check sums an organization's proposals in a period; lists filter by status.
        indexes = [models.Index(fields=["period", "organization", "status"], name="proposal_of_unit_in_period")]
        constraints = [
            bounds_ordered("proposal_bounds_ordered"),
            models.CheckConstraint(
                name="proposal_score_positive",
                condition=Q(score__gt=0),
                violation_error_message="امتیاز پیشنهادی باید مثبت باشد.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NonApplicabilityRequest(models.Model):
    """درخواست عدم مصداق: the organization asks that an assignment not apply to it."""

    assignment = models.ForeignKey(
        "mana.Assignment", verbose_name="ابلاغ", on_delete=models.CASCADE, related_name="non_applicability_requests"
    )
    requester = models.ForeignKey("mana.User", verbose_name="درخواست‌کننده", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("دلیل")
    status = models.CharField("وضعیت", max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    reviewed_by = models.ForeignKey(
        "mana.User", verbose_name="بررسی‌کننده", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("زمان بررسی", null=True, blank=True)
    review_reason = models.TextField("دلیل تصمیم", blank=True)
    created_at = models.DateTimeField("زمان ثبت", auto_now_add=True)
    # The evidence file, stored as evidence of performance is (models/evidence_files.py): a generated
    # name under PRIVATE_MEDIA_ROOT, served only through a permission-checked URL.
    evidence_file_name = models.CharField("نام فایل مستند", max_length=200, blank=True)
    evidence_content_type = models.CharField("نوع فایل مستند", max_length=100, blank=True)
    evidence_size = models.PositiveIntegerField("اندازه مستند (بایت)", null=True, blank=True)
    evidence_storage_name = models.CharField("نام فایل مستند در انبار", max_length=100, blank=True)
    evidence_sha256 = models.CharField("چکیده SHA-256 مستند", max_length=64, blank=True)

    class Meta:
        verbose_name = "درخواست عدم مصداق"
        verbose_name_plural = "درخواست‌های عدم مصداق"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(status="PENDING"),
                name="non_applicability_one_pending",
                violation_error_message="برای این ابلاغ درخواستی در انتظار بررسی وجود دارد.",
            ),
        ]

    def __str__(self) -> str:
        return f"عدم مصداق: {self.assignment}"
