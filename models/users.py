"""People and the roles they hold."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models, transaction
from django.utils import timezone

from models.identity import (
    normalize_mobile,
    normalize_national_code,
    validate_mobile,
    validate_national_code,
)
from models.roles import Role
from models.text import to_latin_digits


class UserManager(BaseUserManager):
    # Not serialized into migrations: the app package is named ``models``, which a migration's
    # own ``from django.db import models`` would shadow.
    use_in_migrations = False

    def get_by_natural_key(self, national_code):
        return self.get(national_code=normalize_national_code(national_code))

    def create_user(self, national_code: str, password: str | None = None, **fields) -> User:
        user = self.model(national_code=national_code, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, national_code: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(national_code, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    national_code = models.CharField(
        "کد ملی",
        max_length=10,
        unique=True,
        error_messages={"unique": "کاربری با این کد ملی وجود دارد."},
    )
    first_name = models.CharField("نام", max_length=100)
    last_name = models.CharField("نام خانوادگی", max_length=100)
    # NULL, not "", for "no mobile": the unique constraint must not treat all empties as one.
    mobile = models.CharField(
        "شماره همراه",
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        error_messages={"unique": "این شماره همراه برای کاربر دیگری ثبت شده است."},
    )
    birth_date = models.DateField("تاریخ تولد", null=True, blank=True)
    landline = models.CharField("تلفن ثابت با کد شهر", max_length=16, blank=True)
    post = models.CharField("پست سازمانی", max_length=200, blank=True)
    organization = models.ForeignKey(
        "mana.Organization",
        verbose_name="دستگاه",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    # The superior who approved this person's registration; they refer indicators to them.
    approver = models.ForeignKey(
        "self",
        verbose_name="تأییدکننده",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subordinates",
    )
    is_active = models.BooleanField("فعال", default=True)
    # Set when credentials were sent by SMS (forgot password): until the person picks their own
    # password, every operation but changing it (and signing out) is refused.
    must_change_password = models.BooleanField("باید رمز عبور را تغییر دهد", default=False)
    is_staff = models.BooleanField("دسترسی به پیشخوان مدیریت", default=False)
    date_joined = models.DateTimeField("تاریخ عضویت", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "national_code"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = "کاربر"
        verbose_name_plural = "کاربران"
        constraints = [
            models.CheckConstraint(name="user_not_own_approver", condition=~models.Q(approver=models.F("pk")))
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.national_code

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    def clean(self) -> None:
        super().clean()
        self._normalize_and_validate()

    def _normalize_and_validate(self) -> None:
        # Validators live here rather than on the fields: every path into the table (API, admin,
        # commands) goes through save(), so one canonical form is stored and bad codes refused.
        self.national_code = normalize_national_code(self.national_code)
        validate_national_code(self.national_code)
        if self.mobile:
            self.mobile = normalize_mobile(self.mobile)
            validate_mobile(self.mobile)
        else:
            self.mobile = None
        self.landline = to_latin_digits(self.landline or "").strip()

    def save(self, *args, **kwargs) -> None:
        self._normalize_and_validate()
        super().save(*args, **kwargs)


class RoleAssignment(models.Model):
    """A role held at an organization; a person may hold several and acts in one at a time."""

    user = models.ForeignKey(
        "mana.User", verbose_name="کاربر", on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField("نقش", max_length=32, choices=Role.choices)
    organization = models.ForeignKey(
        "mana.Organization", verbose_name="دستگاه", on_delete=models.PROTECT, related_name="role_assignments"
    )
    created_at = models.DateTimeField("زمان ایجاد", auto_now_add=True)

    class Meta:
        verbose_name = "نقش کاربر"
        verbose_name_plural = "نقش‌های کاربران"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organization"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organization}"

    def save(self, *args, **kwargs) -> None:
        from permissions.grants import grant_role_permission

        with transaction.atomic():
            super().save(*args, **kwargs)
            grant_role_permission(self)

    def delete(self, *args, **kwargs):
        from permissions.grants import revoke_role_permission

        with transaction.atomic():
            revoke_role_permission(self)
            return super().delete(*args, **kwargs)
