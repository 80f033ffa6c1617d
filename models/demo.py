"""The seed's example as data: the Ministry of Energy, its headquarters and units, a second
ministry, provincial planning organizations, the 1402 period, the seed's indicators and people;
and the current year's period with work in every state (models/demo_current.py).

Loaded by ``python manage.py seed_demo``; every step is keyed by a stable code, so loading twice
changes nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from models.demo_current import load_current_period
from models.geography import Province, ensure_provinces
from models.indicators import Assignment, ComparisonType, Indicator, IndicatorKind, IndicatorNature, RollupRule
from models.jalali import parse_jalali
from models.organization import Organization, OrganizationKind
from models.periods import EvaluationPeriod, PeriodStatus
from models.requests import RegistrationRequest, RequestStatus
from models.roles import Role
from models.users import RoleAssignment, User

DEMO_PASSWORD = "mana-demo-1402"
PERIOD_TITLE = "دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲"

K = OrganizationKind
# (code, name, kind, parent code, province code)
ORGANIZATIONS = [
    ("ARO", "سازمان اداری و استخدامی کشور", K.ARO, None, None),
    ("MOE", "وزارت نیرو", K.MINISTRY, "ARO", None),
    ("MOE-HQ", "ستاد وزارت نیرو", K.HEADQUARTERS, "MOE", None),
    ("MOE-TAVANIR", "شرکت مادرتخصصی توانیر", K.SUBSIDIARY, "MOE", None),
    ("MOE-TAVANIR-THR", "شرکت توزیع نیروی برق استان تهران", K.PROVINCIAL, "MOE-TAVANIR", "IR-23"),
    ("MOE-TAVANIR-ESF", "شرکت توزیع نیروی برق استان اصفهان", K.PROVINCIAL, "MOE-TAVANIR", "IR-10"),
    ("MOE-WRM", "شرکت مدیریت منابع آب ایران", K.SUBSIDIARY, "MOE", None),
    ("MOE-WRM-THR", "شرکت آب منطقه‌ای تهران", K.REGIONAL, "MOE-WRM", "IR-23"),
    ("MOE-WRM-ESF", "شرکت آب منطقه‌ای اصفهان", K.REGIONAL, "MOE-WRM", "IR-10"),
    ("MOE-WRM-FRS", "شرکت آب منطقه‌ای فارس", K.REGIONAL, "MOE-WRM", "IR-07"),
    ("MOE-ABFA-THR", "شرکت آب و فاضلاب استان تهران", K.PROVINCIAL, "MOE", "IR-23"),
    ("MOE-ABFA-KHZ", "شرکت آب و فاضلاب استان خوزستان", K.PROVINCIAL, "MOE", "IR-06"),
    ("MOA", "وزارت جهاد کشاورزی", K.MINISTRY, "ARO", None),
    ("MOA-HQ", "ستاد وزارت جهاد کشاورزی", K.HEADQUARTERS, "MOA", None),
    ("MOA-THR", "سازمان جهاد کشاورزی استان تهران", K.PROVINCIAL, "MOA", "IR-23"),
    ("MOA-ESF", "سازمان جهاد کشاورزی استان اصفهان", K.PROVINCIAL, "MOA", "IR-10"),
    ("PBO", "سازمان برنامه و بودجه کشور", K.PRESIDENTIAL_ORGANIZATION, "ARO", None),
    ("MPO-THR", "سازمان مدیریت و برنامه‌ریزی استان تهران", K.PROVINCIAL_PLANNING_ORGANIZATION, "PBO", "IR-23"),
    ("MPO-ESF", "سازمان مدیریت و برنامه‌ریزی استان اصفهان", K.PROVINCIAL_PLANNING_ORGANIZATION, "PBO", "IR-10"),
]

# (code, title, kind, unit, comparison, rollup, target, cap, weight): the seed's seven indicators.
INDICATORS = [
    (
        "MOE-01",
        "تعداد روستاهای آبرسانی شده در طرح جهاد آبرسانی",
        IndicatorKind.SPECIFIC,
        "تعداد",
        ComparisonType.AGAINST_TARGET,
        RollupRule.SUM,
        "3000",
        "170",
        "85",
    ),
    (
        "MOE-02",
        "راندمان شبکه برق کشور",
        IndicatorKind.SPECIFIC,
        "درصد",
        ComparisonType.AGAINST_TARGET,
        RollupRule.AVERAGE,
        "36.5",
        "170",
        "85",
    ),
    (
        "MOE-03",
        "کاهش ناترازی برق به نسبت سال قبل",
        IndicatorKind.SPECIFIC,
        "درصد",
        ComparisonType.AGAINST_PREVIOUS_YEAR,
        RollupRule.AVERAGE,
        "10",
        "145",
        "72",
    ),
    (
        "MOE-04",
        "میزان صادرات انرژی به نسبت سال قبل",
        IndicatorKind.GENERAL,
        "درصد",
        ComparisonType.AGAINST_PREVIOUS_YEAR,
        RollupRule.AVERAGE,
        "10",
        "100",
        "50",
    ),
    (
        "MOE-05",
        "اعمال نظام قیمت‌گذاری پلکانی",
        IndicatorKind.GENERAL,
        "درصد",
        ComparisonType.AGAINST_TARGET,
        RollupRule.AVERAGE,
        "100",
        "100",
        "50",
    ),
    (
        "MOE-06",
        "میزان تولید انرژی الکتریکی",
        IndicatorKind.SPECIFIC,
        "تراوات ساعت",
        ComparisonType.AGAINST_TARGET,
        RollupRule.SUM,
        "360",
        "170",
        "85",
    ),
    (
        "MOE-07",
        "میزان رشد صادرات محصولات و خدمات فنی و مهندسی حوزه صنعت آب و برق",
        IndicatorKind.GENERAL,
        "میلیون دلار",
        ComparisonType.AGAINST_PREVIOUS_YEAR,
        RollupRule.SUM,
        "300",
        "145",
        "72",
    ),
    (
        "MOA-01",
        "میزان تولید محصولات کشاورزی در واحد سطح",
        IndicatorKind.SPECIFIC,
        "تن در هکتار",
        ComparisonType.AGAINST_TARGET,
        RollupRule.AVERAGE,
        "4.5",
        "170",
        "85",
    ),
]

# (national code, first, last, post, organization, mobile, approver national code, roles, staff)
PEOPLE = [
    (
        "0010000011",
        "مریم",
        "رضایی",
        "رئیس امور مدیریت عملکرد",
        "ARO",
        "09120000011",
        None,
        [(Role.SENIOR_LEADER, "ARO")],
        True,
    ),
    (
        "0010000021",
        "علی",
        "محمدی",
        "مدیرکل ارزیابی عملکرد وزارت نیرو",
        "MOE",
        "09120000021",
        None,
        [(Role.MAIN_LEADER, "MOE")],
        False,
    ),
    (
        "0032054009",
        "فاطمه",
        "فرهاد",
        "رئیس گروه مدیریت عملکرد",
        "MOE-HQ",
        "09121555900",
        "0010000021",
        [(Role.SELF_EVALUATOR, "MOE-HQ")],
        False,
    ),
    (
        "0010000038",
        "حسن",
        "کریمی",
        "مدیرکل ارزیابی عملکرد وزارت جهاد کشاورزی",
        "MOA",
        "09120000038",
        None,
        [(Role.MAIN_LEADER, "MOA")],
        False,
    ),
    (
        "0010000054",
        "زهرا",
        "احمدی",
        "معاون توسعه مدیریت استان تهران",
        "MPO-THR",
        "09120000054",
        None,
        [(Role.PROVINCIAL_LEADER, "MPO-THR")],
        False,
    ),
    (
        "0010000062",
        "رضا",
        "نوری",
        "کارشناس ارزیابی",
        "ARO",
        "09120000062",
        "0010000011",
        [(Role.EVALUATOR, "ARO")],
        False,
    ),
    # Two roles (headquarters and a subsidiary), to switch between.
    (
        "0010000070",
        "سارا",
        "موسوی",
        "مدیر دفتر برنامه‌ریزی",
        "MOE-HQ",
        "09120000070",
        "0010000021",
        [(Role.SELF_EVALUATOR, "MOE-HQ"), (Role.SELF_EVALUATOR, "MOE-TAVANIR")],
        False,
    ),
    # فاطمه فرهاد's subordinates: the people she refers to, at headquarters and in two provinces.
    (
        "0010000100",
        "امیر",
        "صادقی",
        "کارشناس برنامه‌ریزی",
        "MOE-HQ",
        "09120000100",
        "0032054009",
        [(Role.SELF_EVALUATOR, "MOE-HQ")],
        False,
    ),
    (
        "0010000119",
        "محمد",
        "حسینی",
        "کارشناس ارزیابی استان تهران",
        "MOE-TAVANIR-THR",
        "09120000119",
        "0032054009",
        [(Role.SELF_EVALUATOR, "MOE-TAVANIR-THR")],
        False,
    ),
    (
        "0010000127",
        "نرگس",
        "جعفری",
        "کارشناس ارزیابی استان اصفهان",
        "MOE-TAVANIR-ESF",
        "09120000127",
        "0032054009",
        [(Role.SELF_EVALUATOR, "MOE-TAVANIR-ESF")],
        False,
    ),
]

MAIN_LEADER = "0010000021"
FIRST_REFERRAL_INDICATOR = "MOE-01"


def _organizations() -> dict[str, Organization]:
    ensure_provinces()
    provinces = {p.code: p for p in Province.objects.all()}
    by_code: dict[str, Organization] = {}
    for code, name, kind, parent_code, province_code in ORGANIZATIONS:
        organization, _ = Organization.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "parent": by_code.get(parent_code) if parent_code else None,
                "province": provinces[province_code] if province_code else None,
            },
        )
        by_code[code] = organization
    return by_code


def _people(organizations: dict[str, Organization]) -> dict[str, User]:
    people: dict[str, User] = {}
    for code, first, last, post, org, mobile, approver, roles, staff in PEOPLE:
        user, _ = User.objects.update_or_create(
            national_code=code,
            defaults={
                "first_name": first,
                "last_name": last,
                "post": post,
                "organization": organizations[org],
                "mobile": mobile,
                "approver": people.get(approver) if approver else None,
                "is_staff": staff,
                "is_superuser": staff,
            },
        )
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        for role, role_org in roles:
            if not RoleAssignment.objects.filter(user=user, role=role, organization=organizations[role_org]).exists():
                RoleAssignment.objects.create(user=user, role=role, organization=organizations[role_org])
        people[code] = user
    return people


def _period() -> EvaluationPeriod:
    period, _ = EvaluationPeriod.objects.update_or_create(
        title=PERIOD_TITLE,
        defaults={
            "year": 1402,
            "start_date": parse_jalali("1402/10/10"),
            "end_date": parse_jalali("1402/11/29"),
            "status": PeriodStatus.OPEN,
            "provincial_proposal_cap": 150,
            # The seed: «گزینه پیشنهاد شاخص برای دوره جاری برای دستگاه‌های اجرایی غیر فعال می‌باشد».
            "proposals_open": False,
        },
    )
    return period


def _indicators_and_assignments(organizations: dict[str, Organization], period: EvaluationPeriod) -> None:
    deadline = parse_jalali("1402/11/20")
    for code, title, kind, unit, comparison, rollup, target, cap, weight in INDICATORS:
        indicator, _ = Indicator.objects.update_or_create(
            code=code,
            defaults={
                "title": title,
                "kind": kind,
                "unit": unit,
                "nature": IndicatorNature.HIGHER_IS_BETTER,
                "comparison_type": comparison,
                "rollup": rollup,
                "legal_basis": "قانون برنامه هفتم پیشرفت و اسناد بالادستی ابلاغی",
            },
        )
        organization = organizations["MOA-HQ" if code.startswith("MOA") else "MOE-HQ"]
        Assignment.objects.update_or_create(
            indicator=indicator,
            organization=organization,
            period=period,
            defaults={
                "target": Decimal(target),
                "score_cap": Decimal(cap),
                "weight": Decimal(weight),
                "deadline": deadline,
            },
        )


def _registration_requests(organizations: dict[str, Organization], people: dict[str, User]) -> None:
    """The seed's «درخواست کاربری» list: one approved (فاطمه فرهاد), one pending (مهدی رستمی)."""
    approver = people["0010000021"]
    rows = [
        (
            "23",
            "0032054009",
            "فاطمه",
            "فرهاد",
            "رئیس گروه مدیریت عملکرد",
            "09121555900",
            "MOE-HQ",
            RequestStatus.APPROVED,
        ),
        # The seed's pending request was حمیدرضا قهرمانی's; the demo leaves him to register himself
        # through the API (the README's story), and shows another applicant waiting in the queue.
        (
            "19",
            "0065432101",
            "مهدی",
            "رستمی",
            "کارشناس برنامه‌ریزی",
            "09121112255",
            "MOE-TAVANIR",
            RequestStatus.PENDING,
        ),
    ]
    for tracking, code, first, last, post, mobile, org, status in rows:
        RegistrationRequest.objects.update_or_create(
            tracking_code=tracking,
            defaults={
                "national_code": code,
                "first_name": first,
                "last_name": last,
                "post": post,
                "mobile": mobile,
                "organization": organizations[org],
                "birth_date": parse_jalali("1365/01/15"),
                "landline": "02181000000",
                "approver_mobile": approver.mobile,
                "approver": approver,
                "requested_role": Role.SELF_EVALUATOR,
                "status": status,
            },
        )


def _first_referral(people: dict[str, User], period: EvaluationPeriod) -> None:
    """The main leader has referred the villages indicator to فاطمه فرهاد, so her inbox has work;
    the other six wait in the main leader's organization view to be referred."""
    from models.workflow import refer

    assignment = Assignment.objects.get(indicator__code=FIRST_REFERRAL_INDICATOR, period=period)
    if assignment.referrals.exists():
        return
    leader = people[MAIN_LEADER]
    refer(
        actor=leader,
        role=RoleAssignment.objects.get(user=leader, role=Role.MAIN_LEADER),
        source=assignment,
        assignee=people["0032054009"],
        deadline=parse_jalali("1402/11/15"),
        has_provincial_breakdown=True,
        breakdown_by="ASSIGNEE",
    )


@transaction.atomic
def load_demo(*, current_period: bool = True, today: datetime.date | None = None) -> dict[str, int]:
    """The seed's example, and beside its 1402 period the current one (models/demo_current.py),
    whose dates follow ``today`` (Tehran's, by default) the first time it is loaded.
    ``current_period=False`` leaves the current period out (the test suite's fixture, which would
    otherwise play its referral story before every test)."""
    organizations = _organizations()
    people = _people(organizations)
    period = _period()
    _indicators_and_assignments(organizations, period)
    _registration_requests(organizations, people)
    _first_referral(people, period)
    if current_period:
        load_current_period(organizations, people, today)
    return {
        "organizations": len(organizations),
        "people": len(people),
        "indicators": len(INDICATORS),
    }
