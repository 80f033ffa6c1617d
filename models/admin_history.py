"""simple-history's «تاریخچه» pages showing each change's values as the rest of the console does.

simple-history writes a change as «field: old → new» with the values' raw form: a status as
«IN_PROGRESS», a yes/no as «True», a date in Gregorian ISO form, an empty reason as «None».
Here each value is written as its field shows it: the choice's label, «بله»/«خیر», the Jalali date.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import models
from django.utils import formats, timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

EMPTY = "—"


def field_value_text(field: models.Field, value) -> str:
    """``value`` of ``field`` as a person reads it in the console (digits made Persian on the page)."""
    if value is None or value == "":
        return EMPTY
    if getattr(field, "flatchoices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "بله" if value else "خیر"
    if isinstance(value, datetime.datetime):
        return formats.localize(timezone.localtime(value) if timezone.is_aware(value) else value)
    if isinstance(value, datetime.date):
        return formats.localize(value)
    if isinstance(value, Decimal) and value.is_finite():
        # Stored with four decimal places: «12.5000» reads «12.5».
        return f"{value.normalize():f}"
    return str(value)


class PersianHistoryContextHelper(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if isinstance(field, models.ManyToManyField):
            return super().prepare_delta_change_value(change, value)
        return field_value_text(field, value)


class PersianHistoryAdmin(SimpleHistoryAdmin):
    def get_historical_record_context_helper(self, request, historical_record):
        return PersianHistoryContextHelper(self.model, historical_record)
