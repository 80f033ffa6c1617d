"""API tokens in the admin console: listed, searched, revoked — never made here, never shown whole.

Tokens are made through the API (createApiToken), which shows the secret once to the person it is
for. The console shows what identifies a token (owner, name, public prefix, role, dates) and has
no field for its hash, let alone its secret. Imported by models/admin.py, which registers it.
"""

from __future__ import annotations

from django.contrib import admin, messages

from models.admin import JalaliModelAdmin, jalali_column
from models.api_tokens import revoke_tokens
from models.credentials import ApiToken


class TokenStateFilter(admin.SimpleListFilter):
    title = "وضعیت"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "فعال"), ("revoked", "باطل‌شده"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(JalaliModelAdmin):
    list_display = (
        "name",
        "prefix",
        "user",
        "role_assignment",
        "created_at_jalali",
        "expires_at_jalali",
        "revoked_at_jalali",
        "last_used_at_jalali",
    )
    list_filter = (TokenStateFilter, "role_assignment__role")
    search_fields = ("name", "prefix", "user__national_code", "user__first_name", "user__last_name")
    list_select_related = ("user", "role_assignment__user", "role_assignment__organization")
    # No secret_hash: the hash is of no use to anyone reading the page and is not shown.
    fields = ("user", "role_assignment", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    actions = ("revoke_selected",)

    created_at_jalali = jalali_column("created_at", "زمان ساخت")
    expires_at_jalali = jalali_column("expires_at", "زمان انقضا")
    revoked_at_jalali = jalali_column("revoked_at", "زمان ابطال")
    last_used_at_jalali = jalali_column("last_used_at", "آخرین استفاده")

    def has_add_permission(self, request) -> bool:
        # Made through the API only, where the secret is handed to the person it belongs to.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Nothing is edited here: a token is revoked (the action), not changed.
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("mana.change_apitoken")

    @admin.action(description="ابطال توکن‌های انتخاب‌شده", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        revoked = revoke_tokens(queryset)
        self.message_user(request, f"{revoked} توکن باطل شد.", messages.SUCCESS)
