"""The admin console: every page renders in Persian RTL, Jalali dates, users by national code."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_perms

from models.admin_forms import JalaliDateField
from models.api_tokens import create_api_token
from models.credentials import OneTimeCode
from models.demo import DEMO_PASSWORD
from models.evaluations import Evaluation, EvaluatorAssignment
from models.geography import Province
from models.imports import ImportJob, ImportKind
from models.indicators import Assignment, ReferralStatus
from models.jalali import parse_jalali
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.referrals import Evidence, Performance, ProvincialSlice, Referral, ReferralEvent
from models.reminders import DeadlineReminder, ReminderKind
from models.requests import NonApplicabilityRequest, Proposal
from models.site_settings import SiteSettings
from models.users import User

NEW_USER_CODE = "0020000006"
MANA_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "mana"), key=lambda m: m._meta.model_name
)


@pytest.fixture
def console(demo) -> Client:
    client = Client()
    # axes counts sign-ins per request and refuses authenticate() without one.
    assert client.login(request=HttpRequest(), national_code="0010000011", password=DEMO_PASSWORD)
    return client


@pytest.fixture
def one_of_each(demo) -> None:
    """The demo seeds no referral chain; the change page of each model needs one row to show."""
    senior = User.objects.get(national_code="0010000011")
    leader = User.objects.get(national_code="0010000021")
    assignment = Assignment.objects.select_related("period", "organization").first()
    referral = Referral.objects.create(
        assignment=assignment,
        referrer=senior,
        assignee=leader,
        organization=assignment.organization,
        target=assignment.target,
        deadline=assignment.deadline,
        status=ReferralStatus.IN_PROGRESS,
    )
    ReferralEvent.objects.create(referral=referral, actor=senior, to_status=ReferralStatus.IN_PROGRESS)
    ProvincialSlice.objects.create(referral=referral, province=Province.objects.get(code="IR-23"), target=Decimal(5))
    performance = Performance.objects.create(referral=referral, value=Decimal("12.5"), updated_by=leader)
    Evidence.objects.create(
        performance=performance,
        file_name="گزارش.pdf",
        content_type="application/pdf",
        size=1024,
        storage_name="0f1e2d3c4b5a",
        sha256="0" * 64,
        uploaded_by=leader,
    )
    Proposal.objects.create(
        period=assignment.period,
        organization=assignment.organization,
        proposer=leader,
        title="شاخص پیشنهادی",
        unit="درصد",
        nature="HIGHER_IS_BETTER",
        target=Decimal(80),
        score=Decimal(10),
    )
    NonApplicabilityRequest.objects.create(assignment=assignment, requester=leader, reason="مصداق ندارد")
    Evaluation.objects.create(assignment=assignment, evaluator=senior, score=Decimal(90), feedback="خوب")
    EvaluatorAssignment.objects.create(assignment=assignment, evaluator=senior, assigned_by=senior)
    SiteSettings.get_solo()
    DeadlineReminder.objects.create(referral=referral, kind=ReminderKind.BEFORE_DEADLINE, deadline=referral.deadline)
    ImportJob.objects.create(
        kind=ImportKind.ASSIGNMENTS, file_name="ابلاغ-۱۴۰۳.xlsx", storage_name="0a1b2c", created_by=senior
    )
    OneTimeCode.objects.create(
        national_code=leader.national_code, user=leader, code_hash="f" * 64, expires_at=timezone.now()
    )
    create_api_token(leader, leader.role_assignments.first(), "داشبورد", None)
    # A role grant writes an object permission row; the group table needs one written by hand.
    assign_perm("mana.lead_organization", Group.objects.create(name="راهبران"), assignment.organization)
    assign_perm("mana.view_referral", senior, referral)


def assert_persian_rtl(response) -> str:
    assert response.status_code == 200, response.content[:2000]
    html = response.content.decode()
    assert 'dir="rtl"' in html
    assert 'lang="fa"' in html
    return html


def test_every_app_model_is_registered():
    from django.apps import apps

    # simple-history's tables are shown through their model's history page, not on their own.
    models = {m for m in apps.get_app_config("mana").get_models() if not m.__name__.startswith("Historical")}
    assert set(MANA_MODELS) == models


def test_performance_history_page(console, one_of_each):
    performance = Performance.objects.get()
    performance.value = Decimal(13)
    performance.save()
    html = assert_persian_rtl(console.get(reverse("admin:mana_performance_history", args=[performance.pk])))
    assert html.count("<tr") >= 3  # header and both versions


@pytest.mark.django_db
def test_index_is_persian_and_rtl(console):
    html = assert_persian_rtl(console.get(reverse("admin:index")))
    assert "پیشخوان مدیریت سکوی معنا" in html
    assert "دستگاه‌ها" in html


@pytest.mark.parametrize("model", MANA_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_and_change_page_render(console, one_of_each, model):
    opts = model._meta
    # A one-row model's list (django-solo) redirects to its only row.
    assert_persian_rtl(console.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), follow=True))
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {opts.model_name} row to open"
    assert_persian_rtl(console.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])))


def test_add_pages_render(console):
    for name in ("organization", "user", "evaluationperiod", "assignment", "registrationrequest"):
        assert_persian_rtl(console.get(reverse(f"admin:mana_{name}_add")))


def test_organization_changelist_is_the_tree(console):
    html = assert_persian_rtl(console.get(reverse("admin:mana_organization_changelist")))
    ministry = Organization.objects.get(code="MOE")
    # MPTTModelAdmin indents each row by its level, on the right in RTL; rows come in tree order.
    assert f'style="padding-right:{8 + ministry.level * 24}px"' in html
    assert "padding-left" not in html
    names = list(Organization.objects.order_by("tree_id", "lft").values_list("name", flat=True))
    positions = [html.index(f">{name}</a>") for name in names]
    assert positions == sorted(positions)


def test_organization_search_folds_arabic_letters(console):
    # «ي» (Arabic yeh) typed, «ی» (Persian) stored.
    response = console.get(reverse("admin:mana_organization_changelist"), {"q": "وزارت نيرو"})
    html = assert_persian_rtl(response)
    assert Organization.objects.get(code="MOE").name in html


def test_organization_object_permissions_page(console):
    organization = Organization.objects.get(code="MOE")
    html = assert_persian_rtl(console.get(reverse("admin:mana_organization_permissions", args=[organization.pk])))
    # The demo's main leader holds lead_organization on MOE through their role assignment.
    assert "0010000021" in html or "علی" in html
    leader = User.objects.get(national_code="0010000021")
    url = reverse("admin:mana_organization_permissions_manage_user", args=[organization.pk, leader.pk])
    assert_persian_rtl(console.get(url))


def test_granting_an_object_permission_through_the_admin(console):
    organization = Organization.objects.get(code="MOA")
    user = User.objects.get(national_code="0032054009")
    assert "lead_organization" not in get_perms(user, organization)
    url = reverse("admin:mana_organization_permissions_manage_user", args=[organization.pk, user.pk])
    response = console.post(url, {"permissions": ["lead_organization"]})
    assert response.status_code == 302
    assert "lead_organization" in get_perms(user, organization)


def test_change_form_has_the_organization_permissions_link(console):
    organization = Organization.objects.get(code="MOE")
    html = assert_persian_rtl(console.get(reverse("admin:mana_organization_change", args=[organization.pk])))
    assert reverse("admin:mana_organization_permissions", args=[organization.pk]) in html


def test_add_user_with_password(console):
    organization = Organization.objects.get(code="MOE")
    response = console.post(
        reverse("admin:mana_user_add"),
        {
            # Persian digits, as people type them: stored as Latin digits.
            "national_code": "۰۰۲۰۰۰۰۰۰۶",
            "first_name": "زهرا",
            "last_name": "کاظمی",
            "usable_password": "true",
            "password1": "Tehran-Spring-1402!",
            "password2": "Tehran-Spring-1402!",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(national_code=NEW_USER_CODE)
    assert user.check_password("Tehran-Spring-1402!")
    assert not user.is_staff

    # The change page then edits the rest, with a Jalali birth date and a role inline.
    change_url = reverse("admin:mana_user_change", args=[user.pk])
    html = assert_persian_rtl(console.get(change_url))
    assert "role_assignments-TOTAL_FORMS" in html
    response = console.post(
        change_url,
        {
            "national_code": NEW_USER_CODE,
            "first_name": "زهرا",
            "last_name": "کاظمی",
            "birth_date": "۱۳۷۰/۰۶/۳۱",
            "mobile": "09121111111",
            "landline": "02188888888",
            "post": "کارشناس",
            "organization": organization.pk,
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "10:00:00",
            "role_assignments-TOTAL_FORMS": "1",
            "role_assignments-INITIAL_FORMS": "0",
            "role_assignments-MIN_NUM_FORMS": "0",
            "role_assignments-MAX_NUM_FORMS": "1000",
            "role_assignments-0-role": "SELF_EVALUATOR",
            "role_assignments-0-organization": organization.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:5000]
    user.refresh_from_db()
    assert user.birth_date == parse_jalali("1370/06/31")
    assert user.role_assignments.get().organization == organization
    # Shown in Persian digits, the console's one digit style (models/persian_digits.py).
    assert "۱۳۷۰/۰۶/۳۱" in console.get(change_url).content.decode()


def test_add_user_refuses_a_bad_national_code(console):
    response = console.post(
        reverse("admin:mana_user_add"),
        {
            "national_code": "0020000001",
            "first_name": "زهرا",
            "last_name": "کاظمی",
            "usable_password": "true",
            "password1": "Tehran-Spring-1402!",
            "password2": "Tehran-Spring-1402!",
        },
    )
    assert response.status_code == 200
    assert "کد ملی معتبر نیست" in response.content.decode()
    assert not User.objects.filter(national_code="0020000001").exists()


def test_period_changelist_shows_jalali_dates(console):
    html = assert_persian_rtl(console.get(reverse("admin:mana_evaluationperiod_changelist")))
    assert "۱۴۰۲/۱۰/۱۰" in html
    assert "۱۴۰۲/۱۱/۲۹" in html
    assert "2024-" not in html and "۲۰۲۴" not in html


def test_period_form_takes_and_shows_jalali_dates(console):
    period = EvaluationPeriod.objects.get()
    url = reverse("admin:mana_evaluationperiod_change", args=[period.pk])
    html = assert_persian_rtl(console.get(url))
    assert 'value="۱۴۰۲/۱۰/۱۰"' in html
    data = {
        "title": period.title,
        "year": "1402",
        "start_date": "1402/10/11",
        "end_date": "۱۴۰۲/۱۱/۲۹",
        "status": period.status,
        "provincial_proposal_cap": "150",
    }
    assert console.post(url, data).status_code == 302
    period.refresh_from_db()
    assert period.start_date == datetime.date(2024, 1, 1)

    html = assert_persian_rtl(console.post(url, {**data, "start_date": "1404/12/30"}))
    # The bad text comes back as typed (in the console's Persian digits), with the calendar's reason.
    assert 'value="۱۴۰۴/۱۲/۳۰"' in html
    assert "در تقویم شمسی وجود ندارد" in html


def test_assignment_changelist_shows_jalali_deadline(console):
    html = assert_persian_rtl(console.get(reverse("admin:mana_assignment_changelist")))
    assert "۱۴۰۲/۱۱/۲۰" in html


def test_jalali_date_field():
    field = JalaliDateField(required=False)
    assert field.clean("1402/10/10") == datetime.date(2023, 12, 31)
    assert field.clean("") is None
    assert not field.has_changed(datetime.date(2023, 12, 31), "۱۴۰۲/۱۰/۱۰")
    assert field.has_changed(datetime.date(2023, 12, 31), "1402/10/11")
    assert field.widget.format_value(datetime.date(2023, 12, 31)) == "۱۴۰۲/۱۰/۱۰"
