"""Excel imports (organizations, assignments) run as background jobs whose progress clients follow."""

from django.db import models


class ImportKind(models.TextChoices):
    ORGANIZATIONS = "ORGANIZATIONS", "دستگاه‌ها"
    ASSIGNMENTS = "ASSIGNMENTS", "ابلاغ شاخص‌ها"


class ImportStatus(models.TextChoices):
    QUEUED = "QUEUED", "در صف"
    CHECKING = "CHECKING", "در حال بررسی"
    WRITING = "WRITING", "در حال ثبت"
    DONE = "DONE", "انجام شد"
    REFUSED = "REFUSED", "رد شد (ردیف نادرست)"
    FAILED = "FAILED", "خطا"


class ImportJob(models.Model):
    kind = models.CharField("نوع", max_length=16, choices=ImportKind.choices)
    status = models.CharField("وضعیت", max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    # Assignments are imported into a period; organizations need none.
    period = models.ForeignKey(
        "mana.EvaluationPeriod", verbose_name="دوره", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField("نام فایل", max_length=200)
    # A generated name under PRIVATE_MEDIA_ROOT (never what the client sent).
    storage_name = models.CharField("نام فایل در انبار", max_length=100)
    rows_total = models.PositiveIntegerField("تعداد ردیف‌ها", default=0)
    rows_checked = models.PositiveIntegerField("ردیف‌های بررسی‌شده", default=0)
    rows_written = models.PositiveIntegerField("ردیف‌های ثبت‌شده", default=0)
    # Every bad row: [{"row": 7, "column": "کد دستگاه", "code": "UNKNOWN_ORGANIZATION", "message": "…"}].
    problems = models.JSONField("ردیف‌های نادرست", default=list, blank=True)
    created_by = models.ForeignKey("mana.User", verbose_name="واردکننده", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("زمان ثبت", auto_now_add=True)
    finished_at = models.DateTimeField("زمان پایان", null=True, blank=True)

    class Meta:
        verbose_name = "ورود از اکسل"
        verbose_name_plural = "ورودهای از اکسل"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.file_name}"
