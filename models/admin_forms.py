"""Admin form pieces: dates typed and shown as Jalali «۱۴۰۲/۱۰/۱۰», numbers in Persian digits,
users keyed by national code.

Every box shows its value in Persian digits (the console's one digit style, models/persian_digits.py)
and accepts Persian, Arabic-Indic or Latin digits alike: what is typed is folded to Latin digits
before the form field reads it.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django import forms
from django.apps import apps
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import models as db_models
from django.utils import timezone
from guardian.admin import GroupManage, UserManage

from models.identity import normalize_national_code, validate_national_code
from models.jalali import format_jalali, parse_jalali
from models.persian_digits import persian_digits
from models.text import to_latin_digits
from models.users import User

# The Persian decimal separator «٫» and thousands separator «٬», as a Persian keyboard types them.
_PERSIAN_SEPARATORS = str.maketrans({"٫": ".", "٬": ""})


def typed_digits(value):
    """What was typed, with its digits and separators folded to Latin (non-text passes through)."""
    return to_latin_digits(value).translate(_PERSIAN_SEPARATORS) if isinstance(value, str) else value


class PersianDigitsInput(forms.TextInput):
    """A text box that shows its value in Persian digits and reads any digits typed into it."""

    def __init__(self, attrs=None) -> None:
        super().__init__({"dir": "ltr", **(attrs or {})})

    def format_value(self, value):
        text = super().format_value(value)
        return None if text is None else persian_digits(text)

    def value_from_datadict(self, data, files, name):
        return typed_digits(super().value_from_datadict(data, files, name))


class PersianNumberInput(PersianDigitsInput):
    """For integer and decimal fields: ``type=number`` would refuse Persian digits in the browser."""

    def __init__(self, attrs=None) -> None:
        super().__init__({"inputmode": "decimal", "size": 12, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            # «3000.0000» (four decimal places stored) reads as «3000»; «12.5000» as «12.5».
            value = f"{value.normalize():f}"
        return super().format_value(value)


class JalaliDateInput(PersianDigitsInput):
    """A plain text box: Django's calendar widget is Gregorian and would mislead."""

    def __init__(self, attrs=None) -> None:
        super().__init__({"placeholder": persian_digits("1402/10/10"), "size": 10, **(attrs or {})})

    def format_value(self, value):
        # A re-rendered invalid submission arrives as the typed text and must come back unchanged.
        if isinstance(value, datetime.date):
            value = format_jalali(value)
        return super().format_value(value)


class JalaliField(forms.Field):
    """A form field that reads typed Jalali text with ``parse`` and passes ``value_type`` through."""

    value_type: type = datetime.date

    @staticmethod
    def parse(value):
        raise NotImplementedError

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, self.value_type):
            return value
        return self.parse(value)

    def has_changed(self, initial, data) -> bool:
        try:
            data = self.to_python(data)
        except ValidationError:
            return True
        return initial != data


class JalaliDateField(JalaliField):
    """A DateField's form field that accepts Jalali dates (Latin or Persian digits)."""

    widget = JalaliDateInput
    parse = staticmethod(parse_jalali)


_JALALI_DATETIME = re.compile(r"^\s*(\S+)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def format_jalali_datetime(value: datetime.datetime) -> str:
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{format_jalali(local.date())} {local:%H:%M}"


def parse_jalali_datetime(value: str) -> datetime.datetime:
    """«1402/10/10 14:30» (Tehran time) as an aware datetime; a date alone is its midnight."""
    text = typed_digits(str(value)).strip()
    match = _JALALI_DATETIME.match(text)
    date_text, hour, minute, second = match.groups() if match else (text, "0", "0", "0")
    day = parse_jalali(date_text)
    try:
        moment = datetime.datetime.combine(day, datetime.time(int(hour), int(minute), int(second or 0)))
    except ValueError:
        raise ValidationError(f"ساعت «{value}» معتبر نیست؛ قالب درست: 1402/10/10 14:30", code="INVALID_DATE")
    return timezone.make_aware(moment)


class JalaliDateTimeInput(PersianDigitsInput):
    def __init__(self, attrs=None) -> None:
        super().__init__({"placeholder": persian_digits("1402/10/10 14:30"), "size": 16, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime.datetime):
            value = format_jalali_datetime(value)
        return super().format_value(value)


class JalaliDateTimeField(JalaliField):
    """A DateTimeField's form field: «1402/10/10 14:30» in Tehran time (Latin or Persian digits)."""

    widget = JalaliDateTimeInput
    value_type = datetime.datetime
    parse = staticmethod(parse_jalali_datetime)


# For ModelAdmin.formfield_overrides: the widget must be named too, or the admin's Gregorian
# calendar widget (its default for DateField) wins.
JALALI_DATE_OVERRIDES = {"form_class": JalaliDateField, "widget": JalaliDateInput}

# Every admin page's form fields (ModelAdmin and inline formfield_overrides). Matched along each
# model field's class hierarchy, most specific first: DateTimeField is named because it is also a
# DateField; IntegerField covers the positive and small ones.
PERSIAN_FORMFIELD_OVERRIDES = {
    db_models.DateTimeField: {"form_class": JalaliDateTimeField, "widget": JalaliDateTimeInput},
    db_models.DateField: JALALI_DATE_OVERRIDES,
    db_models.IntegerField: {"widget": PersianNumberInput},
    db_models.DecimalField: {"widget": PersianNumberInput},
    db_models.FloatField: {"widget": PersianNumberInput},
}

# Character fields that hold only digits (codes and phone numbers): their boxes show Persian digits
# and store what is typed in Latin digits, as the rest of Mana does.
DIGIT_CODE_FIELDS = frozenset({"national_code", "mobile", "landline", "approver_mobile", "tracking_code"})


class PersianFormsMixin:
    """For a ModelAdmin or an inline: Jalali date boxes, Persian-digit number and code boxes."""

    formfield_overrides = PERSIAN_FORMFIELD_OVERRIDES

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in DIGIT_CODE_FIELDS and isinstance(db_field, db_models.CharField):
            kwargs.setdefault("widget", PersianDigitsInput)
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.is_relation and db_field.related_model is Permission:
            # Permission.__str__ names its model as the library does («captcha store»).
            field.label_from_instance = permission_label
        return field


def permission_label(permission: Permission) -> str:
    """«سکوی معنا | افزودن ارجاع»: the app, then the permission's (Persian) name."""
    app_label = permission.content_type.app_label
    app = apps.app_configs.get(app_label)
    return f"{app.verbose_name if app else app_label} | {permission.name}"


class PersianPermissionsMixin:
    """Permission choices labelled by ``permission_label``, for admins without PersianFormsMixin."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.label_from_instance = permission_label
        return field


class NationalCodeUserManage(UserManage):
    """guardian's «whose permissions» box: a national code, typed in any digits."""

    def clean_user(self):
        self.cleaned_data["user"] = normalize_national_code(self.cleaned_data["user"])
        return super().clean_user()


class NamedGroupManage(GroupManage):
    # guardian leaves this field unlabelled: its name, «Group», would be the label.
    group = forms.CharField(
        label="نام گروه",
        max_length=80,
        error_messages={"does_not_exist": GroupManage.base_fields["group"].error_messages["does_not_exist"]},
    )


def clean_national_code_field(value: str) -> str:
    code = normalize_national_code(value)
    validate_national_code(code)
    return code


class UserAddForm(AdminUserCreationForm):
    """Django's admin add form, keyed by national code instead of a username."""

    class Meta:
        model = User
        fields = ("national_code", "first_name", "last_name")

    def clean_national_code(self) -> str:
        # At field level, so the error sits next to the box instead of at the top of the form.
        code = clean_national_code_field(self.cleaned_data["national_code"])
        if User.objects.filter(national_code=code).exists():
            raise ValidationError("کاربری با این کد ملی وجود دارد.", code="unique")
        return code


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"birth_date": JalaliDateField}
        widgets = {"birth_date": JalaliDateInput}

    def clean_national_code(self) -> str:
        return clean_national_code_field(self.cleaned_data["national_code"])
