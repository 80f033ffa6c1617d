"""Admin form pieces: dates typed and shown as Jalali «1402/10/10», users keyed by national code."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from models.identity import normalize_national_code, validate_national_code
from models.jalali import format_jalali, parse_jalali
from models.users import User


class JalaliDateInput(forms.TextInput):
    """A plain text box: Django's calendar widget is Gregorian and would mislead."""

    def __init__(self, attrs=None) -> None:
        super().__init__({"placeholder": "1402/10/10", "dir": "ltr", "size": 10, **(attrs or {})})

    def format_value(self, value):
        # A re-rendered invalid submission arrives as the typed text and must come back unchanged.
        if isinstance(value, datetime.date):
            return format_jalali(value)
        return super().format_value(value)


class JalaliDateField(forms.Field):
    """A DateField's form field that accepts Jalali dates (Latin or Persian digits)."""

    widget = JalaliDateInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.date):
            return value
        return parse_jalali(value)

    def has_changed(self, initial, data) -> bool:
        try:
            data = self.to_python(data)
        except ValidationError:
            return True
        return initial != data


# For ModelAdmin.formfield_overrides: the widget must be named too, or the admin's Gregorian
# calendar widget (its default for DateField) wins.
JALALI_DATE_OVERRIDES = {"form_class": JalaliDateField, "widget": JalaliDateInput}


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
