"""The admin console reads in Persian with Jalali dates and Persian digits on every page (issue 11, §7):
every registered page (lists, forms, history, the libraries' pages), its messages, filters and forms.
The same pages in a real browser: tests/test_admin_browser.py."""

from __future__ import annotations

import datetime
import gettext
import re
from decimal import Decimal
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from models.admin_forms import JalaliDateTimeField, PersianNumberInput, typed_digits
from models.evaluations import Evaluation
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.persian_digits import persian_digits, persian_digits_in_html
from models.referrals import Performance, Referral, ReferralEvent
from models.site_settings import SiteSettings
from models.users import User
from tests.admin_pages import problems, read
from tests.test_admin import console, one_of_each  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "models" / "locale" / "fa" / "LC_MESSAGES"
PAGES = sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m._meta.model_name))


def assert_reads_persian(response) -> str:
    assert response.status_code == 200, response.content[:2000]
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert problems(html) == []
    return html


@pytest.fixture
def sign_in_records(one_of_each):  # noqa: F811
    """The sign-in records django-axes keeps, one of each, so that their pages have a row to show."""
    fields = {"username": "0010000021", "ip_address": "127.0.0.1", "user_agent": "Firefox", "path_info": "/admin/"}
    AccessAttempt.objects.create(**fields, http_accept="*/*", get_data="", post_data="", failures_since_start=2)
    AccessLog.objects.create(**fields, http_accept="*/*")
    AccessFailureLog.objects.create(**fields, http_accept="*/*", locked_out=True)


# --- The pieces ------------------------------------------------------------------------------------


def test_dates_are_jalali_under_persian_and_gregorian_otherwise():
    moment = timezone.make_aware(datetime.datetime(2026, 11, 30, 6, 9), datetime.UTC)
    local = timezone.localtime(moment)  # Tehran: 09:39
    with translation.override("fa"):
        assert formats.localize(local) == "1405/09/09 09:39"
        assert formats.date_format(datetime.date(2024, 3, 19), "DATE_FORMAT") == "1402/12/29"
        assert formats.date_format(datetime.date(2025, 3, 20), "j F Y") == "30 اسفند 1403"  # a leap year
        assert formats.date_format(datetime.date(2024, 3, 19), "t L") == "29 False"  # Esfand 1402
        assert formats.date_format(datetime.date(2024, 3, 20), "t L") == "31 True"  # Farvardin 1403
        # Machine formats stay Gregorian.
        assert formats.date_format(moment, "c").startswith("2026-11-30T06:09")
    with translation.override("en"):
        assert formats.date_format(datetime.date(2024, 3, 19), "Y-m-d") == "2024-03-19"


def test_persian_digits_spare_markup_code_and_words_with_letters():
    assert persian_digits("1402/10/10 09:39 — 12.5 از 30") == "۱۴۰۲/۱۰/۱۰ ۰۹:۳۹ — ۱۲.۵ از ۳۰"
    codes = "IR-23 MOE-01 report2.pdf https://x.ir/a1 0f1e"
    assert persian_digits(codes) == codes
    assert persian_digits("&nbsp;12&#39;") == "&nbsp;۱۲&#39;"
    html = (
        '<a href="/admin/mana/referral/2/change/" title="2 مورد" data-x="3">ارجاع 2</a>'
        '<script>var n = 1;</script><textarea name="t">12</textarea><input value="7" placeholder="1402/10/10">'
        "<!-- 5 --><pre>6</pre><code>8</code>"
    )
    assert persian_digits_in_html(html) == (
        '<a href="/admin/mana/referral/2/change/" title="۲ مورد" data-x="3">ارجاع ۲</a>'
        '<script>var n = 1;</script><textarea name="t">12</textarea><input value="7" placeholder="۱۴۰۲/۱۰/۱۰">'
        "<!-- 5 --><pre>6</pre><code>8</code>"
    )


def test_boxes_show_persian_digits_and_read_any():
    widget = PersianNumberInput()
    assert widget.format_value(Decimal("3000.0000")) == "۳۰۰۰"
    assert widget.format_value(Decimal("12.5000")) == "۱۲.۵"
    assert widget.value_from_datadict({"n": "۱۲٫۵"}, {}, "n") == "12.5"
    assert widget.value_from_datadict({"n": "١٬٢٠٠"}, {}, "n") == "1200"
    assert typed_digits(None) is None
    field = JalaliDateTimeField()
    assert timezone.localtime(field.clean("۱۴۰۵/۰۹/۰۹ ۰۹:۳۹")) == timezone.localtime(
        timezone.make_aware(datetime.datetime(2026, 11, 30, 9, 39))
    )
    assert field.clean("1402/10/10").date() == datetime.date(2023, 12, 31)
    with pytest.raises(Exception, match="قالب درست"):
        field.clean("1402/10/10 25:00")


def test_the_compiled_catalogs_match_their_sources():
    # The .mo files are committed (CI has no msgfmt): each must hold exactly its .po's entries.
    for domain in ("django", "djangojs"):
        source = (LOCALE / f"{domain}.po").read_text(encoding="utf-8")
        entries = {}
        for block in source.split("\n\n"):
            lines = [line for line in block.splitlines() if not line.startswith("#")]
            fields, current = {}, None
            for line in lines:
                match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
                if match:
                    current = match.group(1)
                    fields[current] = match.group(2)
                elif current:
                    fields[current] += line.strip()[1:-1]
            if fields.get("msgid"):
                unescape = lambda text: text.encode().decode("unicode_escape").encode("latin-1").decode()  # noqa: E731
                key = unescape(fields["msgid"])
                if "msgctxt" in fields:
                    key = f"{unescape(fields['msgctxt'])}\x04{key}"
                entries[key] = unescape(fields.get("msgstr", fields.get("msgstr[0]", "")))
        with (LOCALE / f"{domain}.mo").open("rb") as compiled:
            catalog = gettext.GNUTranslations(compiled)._catalog
        # A plural entry is compiled as (msgid, form): its first form stands for it.
        compiled_entries = {key: text for key, text in catalog.items() if isinstance(key, str) and key} | {
            key[0]: text for key, text in catalog.items() if isinstance(key, tuple) and key[1] == 0
        }
        assert compiled_entries == entries, f"{domain}.mo is stale: run msgfmt -o {domain}.mo {domain}.po"


def test_permission_names_are_persian():
    assert not Permission.objects.filter(name__startswith="Can ").exists()
    assert Permission.objects.get(codename="add_referral").name == "افزودن ارجاع"
    assert Permission.objects.get(codename="view_historicalperformance").name == "مشاهده سابقه عملکرد"
    assert Permission.objects.get(codename="change_captchastore").name == "تغییر کد امنیتی"


def test_the_labels_migration_only_renames():
    from importlib import import_module

    migration = import_module("models.migrations.0008_persian_labels").Migration
    assert {type(operation).__name__ for operation in migration.operations} == {"AlterField", "AlterModelOptions"}


# --- Every page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", PAGES, ids=lambda m: m._meta.label_lower)
def test_every_page_reads_persian(console, sign_in_records, model):  # noqa: F811
    opts = model._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    assert_reads_persian(console.get(reverse(f"{prefix}_changelist"), follow=True))
    if admin.site.get_model_admin(model).has_add_permission(_request(console)):
        assert_reads_persian(console.get(reverse(f"{prefix}_add")))
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        assert_reads_persian(console.get(reverse(f"{prefix}_change", args=[obj.pk])))
        assert_reads_persian(console.get(reverse(f"{prefix}_history", args=[obj.pk])))


def _request(client: Client):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(national_code="0010000011")
    return request


def test_index_login_and_password_pages(console):  # noqa: F811
    html = assert_reads_persian(console.get(reverse("admin:index")))
    assert "کارهای پس‌زمینه" in html and "قفل ورود" in html
    assert_reads_persian(console.get(reverse("admin:password_change")))
    assert_reads_persian(Client().get(reverse("admin:login")))


def test_a_referral_reads_persian_with_jalali_times(console, one_of_each):  # noqa: F811
    referral = Referral.objects.order_by("-pk").first()  # one_of_each's
    ReferralEvent.objects.create(
        referral=referral,
        actor=referral.assignee,
        from_status="IN_PROGRESS",
        to_status="SUBMITTED",
        reason="برای تأیید",
    )
    html = assert_reads_persian(console.get(reverse("admin:mana_referral_change", args=[referral.pk])))
    page = read(html)
    for label in ("نسخه", "زمان ایجاد", "زمان به‌روزرسانی", "انجام‌دهنده", "از وضعیت", "به وضعیت", "دلیل"):
        assert label in page.labels or f"{label}:" in page.labels, label
    created = persian_digits(formats.localize(timezone.localtime(referral.created_at)))
    assert re.fullmatch(r"[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}", created)
    assert created in html
    # The event's statuses by their labels, the inline row named by them too.
    assert "در حال ثبت → ارسال‌شده برای تأیید" in html
    assert "IN_PROGRESS" not in html.replace('value="IN_PROGRESS"', "")


def test_a_performances_history_shows_values_as_the_console_does(console, one_of_each):  # noqa: F811
    performance = Performance.objects.order_by("-pk").first()  # one_of_each's
    performance.value = Decimal(13)
    performance.is_registry_based = True
    performance.save()
    html = assert_reads_persian(console.get(reverse("admin:mana_performance_history", args=[performance.pk])))
    assert "تاریخچهٔ" in html and "تغییردهنده" in html and "نوع تغییر" in html
    assert "۱۲.۵" in html and "۱۳" in html and "بله" in html and "خیر" in html
    version = performance.history.order_by("history_date").first()
    url = reverse("admin:mana_performance_simple_history", args=[performance.pk, version.history_id])
    html = assert_reads_persian(console.get(url))
    assert "دیدن عملکرد" in html


def test_django_history_and_messages_after_a_change(console):  # noqa: F811
    period = EvaluationPeriod.objects.get()
    url = reverse("admin:mana_evaluationperiod_change", args=[period.pk])
    data = {
        "title": period.title,
        # Persian digits typed into the number boxes are read like Latin ones.
        "year": "۱۴۰۲",
        "start_date": "۱۴۰۲/۱۰/۱۰",
        "end_date": "1402/11/29",
        "status": period.status,
        "provincial_proposal_cap": "۱۶۰",
    }
    response = console.post(url, data, follow=True)
    html = assert_reads_persian(response)
    assert "با موفقیت تغییر یافت" in html
    period.refresh_from_db()
    assert (period.year, period.provincial_proposal_cap) == (1402, 160)
    entry = LogEntry.objects.get(object_id=str(period.pk))
    html = assert_reads_persian(console.get(reverse("admin:mana_evaluationperiod_history", args=[period.pk])))
    assert persian_digits(formats.localize(timezone.localtime(entry.action_time))) in html


def test_guardian_pages_take_a_national_code_in_persian_digits(console):  # noqa: F811
    organization = Organization.objects.get(code="MOE")
    url = reverse("admin:mana_organization_permissions", args=[organization.pk])
    html = assert_reads_persian(console.get(url))
    assert "مجوزهای این مورد" in html and "مدیریت مجوزهای کاربر" in html
    response = console.post(url, {"user": "۰۰۳۲۰۵۴۰۰۹", "submit_manage_user": "1"})
    user = User.objects.get(national_code="0032054009")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/user-manage/{user.pk}/")
    assert_reads_persian(console.get(response["Location"]))


def test_the_settings_page(console):  # noqa: F811
    SiteSettings.get_solo()
    html = assert_reads_persian(console.get(reverse("admin:mana_sitesettings_changelist"), follow=True))
    assert "تنظیمات سکو" in html


def test_date_filters_count_jalali_months(console, one_of_each):  # noqa: F811
    html = assert_reads_persian(console.get(reverse("admin:mana_referralevent_changelist")))
    assert "براساس زمان" in html
    now = timezone.localtime()
    import jdatetime

    today = jdatetime.date.fromgregorian(date=now.date())
    assert persian_digits(f"{jdatetime.date.j_months_fa[today.month - 1]} {today.year}") in html
    first = today.replace(day=1).togregorian()
    response = console.get(reverse("admin:mana_referralevent_changelist"), {"at__gte": first.isoformat()})
    assert response.status_code == 200


def test_autocomplete_answers_in_persian_digits(console):  # noqa: F811
    response = console.get(
        reverse("admin:autocomplete"),
        {"term": "", "app_label": "mana", "model_name": "referral", "field_name": "assignment"},
    )
    assert response.status_code == 200
    texts = [result["text"] for result in response.json()["results"]]
    assert texts and not any(re.search(r"(?<![A-Za-z\w-])[0-9]", text) for text in texts)


def test_the_organization_tree_opens_and_closes_without_moving_anything(console):  # noqa: F811
    html = assert_reads_persian(console.get(reverse("admin:mana_organization_changelist")))
    assert 'data-tree-action="collapse"' in html and "mana_admin/tree.js" in html
    for organization in Organization.objects.all():
        link = f'<a href="/admin/mana/organization/{organization.pk}/change/"'
        row = re.search(rf'data-level="(\d+)">(<button[^>]*></button>|<span class="tree-leaf"></span>){link}', html)
        assert row, organization.code
        assert int(row.group(1)) == organization.level
        assert ("tree-toggle" in row.group(2)) == (organization.get_descendant_count() > 0)
    # No drag and drop: mptt's draggable script is not on the page.
    assert "draggable" not in html


def test_evaluations_publication_time_is_typed_in_jalali(console, one_of_each):  # noqa: F811
    evaluation = Evaluation.objects.order_by("-pk").first()
    url = reverse("admin:mana_evaluation_change", args=[evaluation.pk])
    html = assert_reads_persian(console.get(url))
    assert 'name="published_at"' in html and "۱۴۰۲/۱۰/۱۰ ۱۴:۳۰" in html  # the placeholder
