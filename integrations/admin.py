"""The SMS outbox in the admin console: everything about each message except its text.

The text holds one-time codes and passwords, so it is in no column, no field, no search and no
filter; staff see whether it is still stored (until sent, or a FAILED message is retried).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import BooleanField, ExpressionWrapper, Q

from integrations.models import OutgoingSms, SmsStatus
from models.admin import jalali_column

_FIELDS = (
    "mobile",
    "purpose",
    "status",
    "attempts",
    "has_text",
    "created_at_jalali",
    "updated_at_jalali",
    "next_attempt_at_jalali",
    "sent_at_jalali",
    "last_error",
    "provider_message_id",
    "backend",
)


@admin.register(OutgoingSms)
class OutgoingSmsAdmin(admin.ModelAdmin):
    list_display = ("id", "mobile", "purpose", "status", "attempts", "created_at_jalali", "sent_at_jalali", "has_text")
    list_filter = ("status", "purpose")
    search_fields = ("mobile", "purpose", "provider_message_id")
    # Named explicitly, never "__all__": `text` must not appear on any page.
    fields = _FIELDS
    readonly_fields = _FIELDS
    exclude = ("text",)
    actions = ["send_again"]

    created_at_jalali = jalali_column("created_at", "زمان ثبت")
    updated_at_jalali = jalali_column("updated_at", "آخرین تغییر")
    next_attempt_at_jalali = jalali_column("next_attempt_at", "زمان تلاش بعدی")
    sent_at_jalali = jalali_column("sent_at", "زمان ارسال")

    @admin.display(description="متن نگه داشته شده", boolean=True)
    def has_text(self, obj: OutgoingSms) -> bool:
        return obj._has_text

    def get_queryset(self, request):
        # The text is never loaded to draw a page: has_text asks the database instead.
        return (
            super()
            .get_queryset(request)
            .defer("text")
            .annotate(_has_text=ExpressionWrapper(~Q(text=""), output_field=BooleanField()))
        )

    def has_add_permission(self, request) -> bool:
        # Messages are written by send_sms only.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="ارسال دوباره پیامک‌های ناموفق انتخاب‌شده")
    def send_again(self, request, queryset) -> None:
        from integrations.sms.delivery import requeue

        failed = list(queryset.filter(status=SmsStatus.FAILED).exclude(text=""))
        count = requeue(failed)
        self.message_user(request, f"{count} پیامک دوباره در صف ارسال قرار گرفت.", messages.SUCCESS)
