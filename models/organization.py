"""The organization tree: ARO at the root, then ministries, headquarters, subsidiaries, units."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from mptt.models import MPTTModel, TreeForeignKey

from models.text import normalize_for_search
from models.tree_lock import organization_tree_lock


class OrganizationKind(models.TextChoices):
    ARO = "ARO", "سازمان اداری و استخدامی کشور"
    MINISTRY = "MINISTRY", "وزارتخانه"
    PRESIDENTIAL_ORGANIZATION = "PRESIDENTIAL_ORGANIZATION", "سازمان زیر نظر رئیس‌جمهور"
    INDEPENDENT_ORGANIZATION = "INDEPENDENT_ORGANIZATION", "سازمان مستقل"
    HEADQUARTERS = "HEADQUARTERS", "ستاد"
    SUBSIDIARY = "SUBSIDIARY", "سازمان تابعه"
    PROVINCIAL = "PROVINCIAL", "واحد استانی"
    REGIONAL = "REGIONAL", "واحد منطقه‌ای"
    PROVINCIAL_PLANNING_ORGANIZATION = "PROVINCIAL_PLANNING_ORGANIZATION", "سازمان مدیریت و برنامه‌ریزی استان"


# Units that belong to one province: the provincial leader's horizontal scope.
PROVINCIAL_KINDS = (
    OrganizationKind.PROVINCIAL,
    OrganizationKind.REGIONAL,
    OrganizationKind.PROVINCIAL_PLANNING_ORGANIZATION,
)
# The heads of a subtree that a main leader leads.
TOP_LEVEL_KINDS = (
    OrganizationKind.MINISTRY,
    OrganizationKind.PRESIDENTIAL_ORGANIZATION,
    OrganizationKind.INDEPENDENT_ORGANIZATION,
)


class Organization(MPTTModel):
    code = models.CharField("کد", max_length=32, unique=True)
    name = models.CharField("نام", max_length=200)
    # The name folded by models.text.normalize_for_search, so search is one indexed comparison.
    search_name = models.CharField("نام برای جستجو", max_length=200, editable=False, db_index=True)
    kind = models.CharField("نوع", max_length=40, choices=OrganizationKind.choices)
    province = models.ForeignKey(
        "mana.Province",
        verbose_name="استان",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    parent = TreeForeignKey(
        "self",
        verbose_name="دستگاه بالادست",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class MPTTMeta:
        order_insertion_by = ["code"]

    class Meta:
        verbose_name = "دستگاه"
        verbose_name_plural = "دستگاه‌ها"
        indexes = [models.Index(fields=["tree_id", "lft", "rght"], name="organization_subtree")]
        permissions = [
            ("lead_organization", "راهبری دستگاه و همه واحدهای زیرمجموعه آن"),
            # Granted with each referral to the people of its chain (permissions.referral_grants).
            ("view_organization_in_chain", "دیدن دستگاهی که در زنجیره ارجاع کاربر آمده است"),
        ]
        constraints = [
            models.CheckConstraint(
                name="organization_province_matches_kind",
                condition=(Q(kind__in=PROVINCIAL_KINDS) & Q(province__isnull=False))
                | (~Q(kind__in=PROVINCIAL_KINDS) & Q(province__isnull=True)),
                violation_error_message="واحدهای استانی و منطقه‌ای استان دارند و دیگر دستگاه‌ها ندارند.",
            ),
            models.CheckConstraint(
                name="organization_only_aro_is_root",
                condition=(Q(kind=OrganizationKind.ARO) & Q(parent__isnull=True))
                | (~Q(kind=OrganizationKind.ARO) & Q(parent__isnull=False)),
                violation_error_message="تنها سازمان اداری و استخدامی ریشه درخت است.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.kind in PROVINCIAL_KINDS and self.province_id is None:
            raise ValidationError({"province": "برای واحد استانی یا منطقه‌ای، استان را تعیین کنید."})
        if self.kind not in PROVINCIAL_KINDS and self.province_id is not None:
            raise ValidationError({"province": "تنها واحدهای استانی و منطقه‌ای استان دارند."})

    def save(self, *args, **kwargs) -> None:
        self.search_name = normalize_for_search(f"{self.name} {self.code}")
        with organization_tree_lock():
            # Under the lock, work from the bounds in the database, not the ones this
            # instance (or its parent) was loaded with before another writer shifted them.
            self._mptt_refresh()
            if self.parent_id is not None and self.parent is not None:
                self.parent._mptt_refresh()
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with organization_tree_lock():
            return super().delete(*args, **kwargs)

    def move_to(self, target, position="last-child") -> None:
        with organization_tree_lock():
            self._mptt_refresh()
            if target is not None:
                target._mptt_refresh()
            super().move_to(target, position)
