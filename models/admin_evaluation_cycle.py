"""Admin console pages of the evaluation cycle's later steps: evaluators given assignments, the
platform's settings (support contacts, reminder days), reminders sent and Excel imports."""

from __future__ import annotations

from django.contrib import admin
from django.db import models as db_models
from solo.admin import SingletonModelAdmin

from models.admin import JalaliModelAdmin, jalali_column
from models.admin_forms import PERSIAN_FORMFIELD_OVERRIDES, PersianFormsMixin
from models.evaluations import EvaluatorAssignment
from models.imports import ImportJob
from models.reminders import DeadlineReminder
from models.site_settings import SiteSettings


@admin.register(EvaluatorAssignment)
class EvaluatorAssignmentAdmin(JalaliModelAdmin):
    list_display = ("assignment", "evaluator", "assigned_by", "created_at_jalali")
    search_fields = ("assignment__indicator__title", "evaluator__national_code", "evaluator__last_name")
    list_select_related = ("assignment__indicator", "assignment__organization", "evaluator", "assigned_by")
    autocomplete_fields = ("assignment", "evaluator", "assigned_by")

    created_at_jalali = jalali_column("created_at", "زمان تخصیص")


@admin.register(SiteSettings)
class SiteSettingsAdmin(PersianFormsMixin, SingletonModelAdmin):
    # A link typed without a scheme is https (Django 6's default; said now, it warns no more).
    formfield_overrides = {**PERSIAN_FORMFIELD_OVERRIDES, db_models.URLField: {"assume_scheme": "https"}}


class ReadOnlyAdmin(JalaliModelAdmin):
    """Written by the platform's jobs only; the console shows what they did."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeadlineReminder)
class DeadlineReminderAdmin(ReadOnlyAdmin):
    list_display = ("referral", "kind", "deadline_jalali", "sent_at_jalali")
    list_filter = ("kind",)
    list_select_related = ("referral__assignment__indicator", "referral__assignee")

    deadline_jalali = jalali_column("deadline", "مهلت")
    sent_at_jalali = jalali_column("sent_at", "زمان ارسال")


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "kind", "status", "rows_total", "rows_checked", "rows_written", "created_at_jalali")
    list_filter = ("kind", "status")
    search_fields = ("file_name", "created_by__national_code", "created_by__last_name")
    list_select_related = ("created_by",)

    created_at_jalali = jalali_column("created_at", "زمان ثبت")
