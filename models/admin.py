"""The admin console (پیشخوان مدیریت): Persian, right to left, dates in the Jalali calendar.

RTL needs nothing here: with LANGUAGE_CODE "fa" Django's admin templates render ``dir="rtl"``.
What makes the rest of it Persian, in one place each:

* dates: Django's date formatting is Jalali under Persian (models/jalali_format.py), with numeric
  formats «1402/10/10 14:30» (models/formats/fa/formats.py) — list cells, read-only fields and the
  history pages alike; date filters count Jalali months and years (models/admin_filters.py);
* digits: every page's text in Persian digits (models/persian_digits.py); form boxes show Persian
  digits and accept any (models/admin_forms.py PERSIAN_FORMFIELD_OVERRIDES);
* words: the libraries' strings Django's own Persian lacks (simple-history, guardian, newer Django
  admin strings) in models/locale/fa; every model field has a Persian verbose_name; permission names
  are Persian (models/permission_names.py); the libraries' own pages in models/admin_third_party.py.
"""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from guardian.admin import GuardedModelAdminMixin
from mptt.admin import MPTTModelAdmin

from models.admin_forms import (
    NamedGroupManage,
    NationalCodeUserManage,
    PersianFormsMixin,
    UserAddForm,
    UserEditForm,
)
from models.admin_history import PersianHistoryAdmin
from models.evaluations import Evaluation
from models.geography import Province
from models.indicators import Assignment, Indicator
from models.jalali import format_jalali
from models.object_permissions import (
    OrganizationGroupObjectPermission,
    OrganizationUserObjectPermission,
    ReferralUserObjectPermission,
)
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.referrals import Evidence, Performance, ProvincialSlice, Referral, ReferralEvent
from models.requests import NonApplicabilityRequest, Proposal, RegistrationRequest
from models.text import normalize_for_search
from models.tree_lock import organization_tree_lock
from models.users import RoleAssignment, User


def jalali(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        # Stored in UTC: a change at 01:00 Tehran time is still «yesterday» in UTC.
        local = timezone.localtime(value)
        return f"{format_jalali(local.date())} {local:%H:%M}"
    return format_jalali(value)


def jalali_column(field: str, label: str):
    """A changelist column showing a date field in Jalali, still sortable by the field itself."""

    @admin.display(description=label, ordering=field)
    def column(model_admin, obj) -> str:
        return jalali(getattr(obj, field))

    column.__name__ = f"{field}_jalali"
    return column


class JalaliModelAdmin(PersianFormsMixin, admin.ModelAdmin):
    """Jalali date boxes, Persian-digit number and code boxes (they accept any digits)."""


class PersianTabularInline(PersianFormsMixin, admin.TabularInline):
    pass


# --- Geography and the organization tree -------------------------------------------------------


@admin.register(Province)
class ProvinceAdmin(JalaliModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Organization)
class OrganizationAdmin(PersianFormsMixin, GuardedModelAdminMixin, MPTTModelAdmin):
    # MPTTModelAdmin rather than DraggableMPTTAdmin: drag-and-drop calls the tree manager's
    # move_node directly, around Organization.move_to and its tree lock; a parent change in the
    # form goes through Organization.save, which takes the lock. order_insertion_by (code) would
    # also undo any sibling order a drag produced. Branches open and close in the page instead
    # (static/mana_admin/tree.js: shows and hides rows, moves nothing).
    change_list_template = "admin/mana/organization/change_list.html"
    list_display = ("tree_node", "code", "kind", "province")
    # tree_node links the name itself: a link around its button would be invalid HTML.
    list_display_links = None
    mptt_indent_field = "tree_node"
    list_filter = ("kind", "province")
    search_fields = ("name", "code")
    list_select_related = ("province",)
    autocomplete_fields = ("province",)
    mptt_level_indent = 24
    list_per_page = 200

    class Media:
        css = {"all": ("mana_admin/tree.css",)}
        js = ("mana_admin/tree.js",)

    def get_obj_perms_user_select_form(self, request):
        return NationalCodeUserManage

    def get_obj_perms_group_select_form(self, request):
        return NamedGroupManage

    @admin.display(description="نام", ordering="name")
    def tree_node(self, organization: Organization) -> str:
        # The level lets tree.js find a unit's branch (the deeper rows after it); the button is
        # there only for units with units under them (mptt's counters: no query).
        if organization.get_descendant_count():
            marker = mark_safe('<button type="button" class="tree-toggle" aria-expanded="true"></button>')
        else:
            marker = mark_safe('<span class="tree-leaf"></span>')
        return format_html(
            '<span class="tree-node" data-level="{}">{}<a href="{}">{}</a></span>',
            organization.level,
            marker,
            reverse("admin:mana_organization_change", args=[organization.pk]),
            organization.name,
        )

    def delete_selected_tree(self, modeladmin, request, queryset):
        # mptt deletes the rows with its updates delayed, then rebuilds the tree when the loop
        # ends: that rebuild rewrites lft/rght of the whole tree, so it too runs under the lock.
        with organization_tree_lock():
            return super().delete_selected_tree(modeladmin, request, queryset)

    def get_search_results(self, request, queryset, search_term):
        matched, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        folded = normalize_for_search(search_term)
        if folded:
            # Also match «ي/ك» typed against «ی/ک» stored, through the folded column; OR-ed onto
            # the same (already list-filtered) queryset so the sidebar filters still apply.
            matched = matched | queryset.filter(search_name__contains=folded)
        return matched, may_have_duplicates


@admin.register(OrganizationUserObjectPermission)
class OrganizationUserObjectPermissionAdmin(JalaliModelAdmin):
    list_display = ("user", "permission", "content_object")
    # Only the permissions granted here (not all of every app's), named as in the rows.
    list_filter = (("permission", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("user__national_code", "user__last_name", "content_object__name", "content_object__code")
    list_select_related = ("user", "permission", "content_object")
    autocomplete_fields = ("user", "content_object")


@admin.register(ReferralUserObjectPermission)
class ReferralUserObjectPermissionAdmin(JalaliModelAdmin):
    list_display = ("user", "permission", "content_object")
    # Only the permissions granted here (not all of every app's), named as in the rows.
    list_filter = (("permission", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("user__national_code", "user__last_name", "content_object__assignment__indicator__title")
    list_select_related = ("user", "permission", "content_object__assignment__indicator")
    autocomplete_fields = ("user", "content_object")


@admin.register(OrganizationGroupObjectPermission)
class OrganizationGroupObjectPermissionAdmin(JalaliModelAdmin):
    list_display = ("group", "permission", "content_object")
    # Only the permissions granted here (not all of every app's), named as in the rows.
    list_filter = (("permission", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("group__name", "content_object__name", "content_object__code")
    list_select_related = ("group", "permission", "content_object")
    autocomplete_fields = ("content_object",)


# --- People --------------------------------------------------------------------------------------


class RoleAssignmentInline(PersianTabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ("organization",)
    readonly_fields = ("created_at",)


@admin.register(User)
class UserAdmin(PersianFormsMixin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    inlines = (RoleAssignmentInline,)
    ordering = ("last_name", "first_name", "national_code")
    list_display = ("national_code", "first_name", "last_name", "organization", "post", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "is_superuser", "role_assignments__role")
    search_fields = ("national_code", "first_name", "last_name", "mobile", "post")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization", "approver")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("national_code", "password")}),
        ("مشخصات", {"fields": ("first_name", "last_name", "birth_date", "mobile", "landline")}),
        ("سازمان", {"fields": ("organization", "post", "approver")}),
        ("دسترسی‌ها", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("تاریخ‌ها", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("national_code", "first_name", "last_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inline_instances(self, request, obj=None):
        # The add page asks only for credentials, like Django's; roles follow on the change page.
        return super().get_inline_instances(request, obj) if obj is not None else []


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(JalaliModelAdmin):
    list_display = ("user", "role", "organization", "created_at_jalali")
    list_filter = ("role",)
    search_fields = ("user__national_code", "user__first_name", "user__last_name", "organization__name")
    list_select_related = ("user", "organization")
    autocomplete_fields = ("user", "organization")

    created_at_jalali = jalali_column("created_at", "زمان ایجاد")


# --- Periods, indicators, assignments ------------------------------------------------------------


@admin.register(EvaluationPeriod)
class EvaluationPeriodAdmin(JalaliModelAdmin):
    list_display = ("title", "year", "start_date_jalali", "end_date_jalali", "status", "provincial_proposal_cap")
    list_filter = ("status", "year")
    search_fields = ("title",)

    start_date_jalali = jalali_column("start_date", "تاریخ شروع")
    end_date_jalali = jalali_column("end_date", "تاریخ پایان")


@admin.register(Indicator)
class IndicatorAdmin(JalaliModelAdmin):
    list_display = ("code", "title", "kind", "unit", "nature", "comparison_type", "rollup")
    list_filter = ("kind", "nature", "comparison_type", "rollup")
    search_fields = ("code", "title")


@admin.register(Assignment)
class AssignmentAdmin(JalaliModelAdmin):
    list_display = ("indicator", "organization", "period", "target", "weight", "score_cap", "deadline_jalali", "status")
    list_filter = ("period", "status", "indicator__kind")
    search_fields = ("indicator__code", "indicator__title", "organization__name", "organization__code")
    list_select_related = ("indicator", "organization", "period")
    autocomplete_fields = ("indicator", "organization")

    deadline_jalali = jalali_column("deadline", "مهلت")


# --- The referral chain -------------------------------------------------------------------------


class ReferralEventInline(PersianTabularInline):
    model = ReferralEvent
    extra = 0
    can_delete = False
    fields = ("at_jalali", "actor", "from_status", "to_status", "reason")
    readonly_fields = fields

    at_jalali = jalali_column("at", "زمان")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ProvincialSliceInline(PersianTabularInline):
    model = ProvincialSlice
    extra = 0
    autocomplete_fields = ("province",)


@admin.register(Referral)
class ReferralAdmin(JalaliModelAdmin):
    list_display = ("assignment", "referrer", "assignee", "organization", "province", "deadline_jalali", "status")
    list_filter = ("status", "has_provincial_breakdown", "province")
    search_fields = (
        "assignment__indicator__title",
        "assignment__indicator__code",
        "referrer__national_code",
        "referrer__last_name",
        "assignee__national_code",
        "assignee__last_name",
        "organization__name",
    )
    list_select_related = ("assignment__indicator", "assignment__organization", "referrer", "assignee", "organization")
    autocomplete_fields = ("assignment", "parent", "referrer", "assignee", "organization", "province")
    # The workflow owns status and version (optimistic lock); an admin edit must not skip it.
    readonly_fields = ("status", "version", "created_at", "updated_at")
    inlines = (ProvincialSliceInline, ReferralEventInline)

    deadline_jalali = jalali_column("deadline", "مهلت")


@admin.register(ReferralEvent)
class ReferralEventAdmin(JalaliModelAdmin):
    list_display = ("referral", "actor", "from_status", "to_status", "at_jalali")
    # «at»: Jalali today, last week, this month and this year (models/admin_filters.py).
    list_filter = ("to_status", "at")
    search_fields = ("actor__national_code", "actor__last_name", "reason")
    list_select_related = ("referral__assignment__indicator", "referral__assignment__organization", "actor")

    at_jalali = jalali_column("at", "زمان")

    # History is written once (ReferralEvent refuses updates and deletes): viewable, nothing more.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProvincialSlice)
class ProvincialSliceAdmin(JalaliModelAdmin):
    list_display = ("referral", "province", "target", "weight")
    list_filter = ("province",)
    search_fields = ("referral__assignment__indicator__title", "province__name")
    list_select_related = ("referral__assignment__indicator", "referral__assignment__organization", "province")
    autocomplete_fields = ("referral", "province")


class EvidenceInline(PersianTabularInline):
    model = Evidence
    extra = 0
    fields = ("file_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Performance)
class PerformanceAdmin(PersianHistoryAdmin, JalaliModelAdmin):
    # SimpleHistoryAdmin adds the «تاریخچه» page listing every saved version (HistoricalPerformance);
    # PersianHistoryAdmin shows each change's values as the console does (choices, Jalali, بله/خیر).
    list_display = ("referral", "value", "is_registry_based", "version", "updated_at_jalali")
    list_filter = ("is_registry_based", "has_strategic_plan", "has_information_system")
    search_fields = ("referral__assignment__indicator__title", "comments")
    list_select_related = (
        "referral__assignment__indicator",
        "referral__assignment__organization",
        "referral__assignee",
    )
    autocomplete_fields = ("referral", "updated_by")
    readonly_fields = ("version", "updated_at")
    inlines = (EvidenceInline,)

    # The history is the workflow's audit trail: shown, never reverted from here (a revert would
    # write a performance behind the workflow's version check and its events).
    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("سوابق عملکرد تنها خواندنی است.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    updated_at_jalali = jalali_column("updated_at", "زمان به‌روزرسانی")


@admin.register(Evidence)
class EvidenceAdmin(JalaliModelAdmin):
    list_display = ("file_name", "content_type", "size", "uploaded_by", "uploaded_at_jalali")
    search_fields = ("file_name", "sha256")
    list_select_related = ("uploaded_by",)
    # Files are written only through the checked upload path; the admin shows what is stored.
    readonly_fields = ("performance", "content_type", "size", "storage_name", "sha256", "uploaded_by", "uploaded_at")

    uploaded_at_jalali = jalali_column("uploaded_at", "زمان بارگذاری")

    def has_add_permission(self, request) -> bool:
        return False


# --- Requests and evaluations -------------------------------------------------------------------


@admin.register(RegistrationRequest)
class RegistrationRequestAdmin(JalaliModelAdmin):
    list_display = (
        "tracking_code",
        "national_code",
        "first_name",
        "last_name",
        "organization",
        "requested_role",
        "status",
        "created_at_jalali",
    )
    list_filter = ("status", "requested_role", "created_at")
    search_fields = ("tracking_code", "national_code", "first_name", "last_name", "mobile")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization", "approver")
    readonly_fields = ("created_at", "reviewed_at")

    created_at_jalali = jalali_column("created_at", "زمان ثبت")


@admin.register(Proposal)
class ProposalAdmin(JalaliModelAdmin):
    list_display = ("title", "organization", "period", "proposer", "score", "status", "created_at_jalali")
    list_filter = ("status", "period")
    search_fields = ("title", "organization__name", "proposer__national_code", "proposer__last_name")
    list_select_related = ("organization", "period", "proposer")
    autocomplete_fields = ("organization", "proposer")

    created_at_jalali = jalali_column("created_at", "تاریخ")


@admin.register(NonApplicabilityRequest)
class NonApplicabilityRequestAdmin(JalaliModelAdmin):
    list_display = ("assignment", "requester", "status", "created_at_jalali", "reviewed_at_jalali")
    list_filter = ("status",)
    search_fields = ("assignment__indicator__title", "requester__national_code", "requester__last_name", "reason")
    list_select_related = ("assignment__indicator", "assignment__organization", "requester")
    autocomplete_fields = ("assignment", "requester", "reviewed_by")

    created_at_jalali = jalali_column("created_at", "زمان ثبت")
    reviewed_at_jalali = jalali_column("reviewed_at", "زمان بررسی")


@admin.register(Evaluation)
class EvaluationAdmin(JalaliModelAdmin):
    list_display = ("assignment", "evaluator", "score", "created_at_jalali")
    search_fields = ("assignment__indicator__title", "evaluator__national_code", "evaluator__last_name")
    list_select_related = ("assignment__indicator", "assignment__organization", "evaluator")
    autocomplete_fields = ("assignment", "evaluator")

    created_at_jalali = jalali_column("created_at", "زمان ثبت")


# --- Credentials ---------------------------------------------------------------------------------

# API tokens (list, search, revoke; no add form) and one-time codes (read only, never the code)
# have their own modules, as do the evaluation cycle's later steps; importing them registers them.
# The libraries' pages are adjusted once they are registered (models/admin_third_party.py).
from models import admin_api_tokens, admin_evaluation_cycle, admin_filters, admin_one_time_codes  # noqa: E402, F401
