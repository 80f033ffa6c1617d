"""The libraries' pages of the admin console, in Persian like the rest of it.

* apps whose names are not marked for translation get Persian names (models/permission_names.py);
* permissions are chosen by their Persian names, with their app (a user's, a group's);
* django-axes' lists (sign-in attempts, lockouts): no date hierarchy — it counts Gregorian years
  and months and would need its own Jalali twin; the Jalali date filter is beside each list
  instead — and Persian names for its records, which axes writes in English with a Gregorian time;
* django-tasks-db's results: Persian column names and record names;
* Django's yes/no icons named «بله»/«خیر» instead of «True»/«False».

The records' names (``__str__``) are replaced on the library's model class: they are read by the
console only, and a page class has no say over how Django names the object it shows.

Imported by models.apps.ManaAdminConfig.ready, once every app's admin module has registered its pages.
"""

from __future__ import annotations

import datetime

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.templatetags.static import static
from django.utils import formats, timezone
from django.utils.html import format_html

from models.admin_forms import PersianPermissionsMixin
from models.permission_names import APP_NAMES

for label, name in APP_NAMES.items():
    if label in apps.app_configs:
        apps.get_app_config(label).verbose_name = name


def _persian_boolean_icon(value):
    # Django names its yes/no/unknown icons «True»/«False»/«None» (what a screen reader says).
    icon = {True: "yes", False: "no", None: "unknown"}[value]
    name = {True: "بله", False: "خیر", None: "نامعلوم"}[value]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), name)


# Read at each call by Django's list cells and read-only fields (a function-level import).
admin_list._boolean_icon = _persian_boolean_icon

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PersianPermissionsMixin, DjangoGroupAdmin):
    pass


def _when(moment) -> str:
    return formats.localize(timezone.localtime(moment)) if moment else "—"


def _persian_value(value):
    return _when(value) if isinstance(value, datetime.datetime) else value


def _persian_page(model, **attributes) -> None:
    """Registers ``model`` again with its library's page class, changed by ``attributes``."""
    page = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(page.__name__, (page,), attributes))


def _axes_pages() -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    # axes' own __str__ is English with a Gregorian time («Access Log for … @ 2026-11-30 …»):
    # it names a record in its page's title, its breadcrumbs and its delete confirmation.
    AccessAttempt.__str__ = lambda self: f"تلاش ورود {self.username or '—'} در {_when(self.attempt_time)}"
    AccessLog.__str__ = lambda self: f"ورود {self.username or '—'} در {_when(self.attempt_time)}"
    AccessFailureLog.__str__ = lambda self: (
        f"ورود ناموفق {self.username or '—'} در {_when(self.attempt_time)}" + (" (قفل شد)" if self.locked_out else "")
    )
    attempts = type(admin.site.get_model_admin(AccessAttempt))
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        if not admin.site.is_registered(model):
            continue
        attributes = {"date_hierarchy": None}
        if model is AccessAttempt:
            # Two columns axes leaves unnamed («Status», «Expiration»).
            attributes["status"] = admin.display(description="وضعیت")(attempts.status)
            attributes["expiration"] = admin.display(description="زمان انقضا")(attempts.expiration)
        _persian_page(model, **attributes)


def _tasks_page() -> None:
    from django_tasks_db.models import DBTaskResult

    # «DBTaskResult object (…)» otherwise.
    DBTaskResult.__str__ = lambda self: f"کار {self.task_path.rsplit('.', 1)[-1]} ({self.get_status_display()})"
    if not admin.site.is_registered(DBTaskResult):
        return
    page = type(admin.site.get_model_admin(DBTaskResult))

    def readonly_fields(self, request, obj=None):
        # The primary key has no verbose_name of the library's: shown as «شناسه» instead of «Id».
        return ["result_id" if name == "id" else name for name in page.get_readonly_fields(self, request, obj)]

    _persian_page(
        DBTaskResult,
        list_display=tuple("result_id" if name == "id" else name for name in page.list_display),
        get_readonly_fields=readonly_fields,
        result_id=admin.display(description="شناسه", ordering="id")(lambda self, result: result.id),
        task_name=admin.display(description="کار")(lambda self, result: result.task_name),
        formatted_traceback=admin.display(description="ردّ خطا")(page.formatted_traceback),
        # A value shown by a method is shown as str(): a datetime would be Gregorian ISO.
        display_run_after=admin.display(description="اجرا پس از")(
            lambda self, result: _persian_value(page.display_run_after(self, result))
        ),
    )

if apps.is_installed("axes"):
    _axes_pages()
if apps.is_installed("django_tasks_db"):
    _tasks_page()
