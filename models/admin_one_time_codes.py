"""One-time sign-in codes in the admin console: who asked, when, whether used — never the code."""

from __future__ import annotations

from django.contrib import admin

from models.credentials import OneTimeCode


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(admin.ModelAdmin):
    # Read only, and without code_hash: support can see that a code was sent and what became of it.
    list_display = ("national_code", "user", "created_at", "expires_at", "used_at", "failed_attempts", "requested_from")
    list_filter = ("used_at",)
    search_fields = ("national_code", "requested_from")
    list_select_related = ("user",)
    fields = ("national_code", "user", "created_at", "expires_at", "used_at", "failed_attempts", "requested_from")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
