"""The demo's current period: this Jalali year's evaluation, with work in every state.

The seed's only period is 1402's, so on its own the demo shows a newcomer every item overdue.
Beside it, ``seed_demo`` opens the period of the year it runs in (1 Farvardin to the end of the
year, or to 60 days ahead when the year ends sooner; deadlines ahead of today), gives ستاد وزارت
نیرو the same seven indicators, and plays part of the referral story through the workflow's own
functions (models/workflow.py), so grants, events, versions and history are exactly what people
doing it by hand would leave:

* MOE-01 referred to فاطمه with a provincial breakdown by her; she split it, Tehran's slice is
  registered and submitted by محمد (waiting for her review), Isfahan's is with نرگس, untouched;
* MOE-02 with امیر: performance saved, not yet submitted;
* MOE-03 submitted by امیر and returned by فاطمه with a reason (his to correct);
* MOE-04 submitted by سارا to the main leader (his to review);
* MOE-05 approved by فاطمه: امیر's link APPROVED, her result with the main leader;
* MOE-06 finalized by the main leader (ثبت نهایی), ready to be sent for evaluation;
* MOE-07 (and the second ministry's MOA-01) not referred yet.

Each story runs only while its assignment has no referral, so loading twice changes nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import jdatetime
from django.utils import timezone

from models.decimals import persian_digits
from models.geography import Province
from models.indicators import Assignment, Indicator
from models.jalali import parse_jalali
from models.organization import Organization
from models.periods import EvaluationPeriod, PeriodStatus
from models.referrals import Referral
from models.roles import Role
from models.users import RoleAssignment, User

ALI, FATEMEH, SARA, AMIR, MOHAMMAD, NARGES = (
    "0010000021",
    "0032054009",
    "0010000070",
    "0010000100",
    "0010000119",
    "0010000127",
)
# A period ending sooner than this after today is stretched, so deadlines always lie ahead.
MIN_DAYS_AHEAD = 60
RETURN_REASON = "مستند گزارش کاهش ناترازی پیوست نشده است؛ گزارش شرکت توانیر را بارگذاری و مقدار را بازبینی کنید."


def current_period_title(year: int) -> str:
    return f"دوره ارزیابی عملکرد شهید رجایی {persian_digits(year)}"


def _year_end(year: int) -> datetime.date:
    last = 30 if jdatetime.date(year, 1, 1).isleap() else 29
    return jdatetime.date(year, 12, last).togregorian()


def current_period(today: datetime.date) -> EvaluationPeriod:
    """The period of ``today``'s Jalali year; created once, its dates never moved afterwards (the
    deadlines of work already done must stay inside it)."""
    year = jdatetime.date.fromgregorian(date=today).year
    period, _ = EvaluationPeriod.objects.get_or_create(
        title=current_period_title(year),
        defaults={
            "year": year,
            "start_date": parse_jalali(f"{year}/01/01"),
            "end_date": max(_year_end(year), today + datetime.timedelta(days=MIN_DAYS_AHEAD)),
            "status": PeriodStatus.OPEN,
            "provincial_proposal_cap": 150,
            # The guide: from the periods after 1402 on, proposals go through the platform.
            "proposals_open": True,
        },
    )
    return period


def _deadline(period: EvaluationPeriod, today: datetime.date, days: int) -> datetime.date:
    return min(period.end_date, today + datetime.timedelta(days=days))


def _assignments(organizations, period: EvaluationPeriod, today: datetime.date) -> dict[str, Assignment]:
    """The 1402 assignments' indicators, targets and weights, given again for this period."""
    from models.demo import INDICATORS  # here: models.demo imports this module

    deadline = _deadline(period, today, 45)
    by_code = {}
    for code, _title, _kind, _unit, _comparison, _rollup, target, cap, weight in INDICATORS:
        unit = organizations["MOA-HQ" if code.startswith("MOA") else "MOE-HQ"]
        by_code[code], _ = Assignment.objects.get_or_create(
            indicator=Indicator.objects.get(code=code),
            organization=unit,
            period=period,
            defaults={
                "target": Decimal(target),
                "score_cap": Decimal(cap),
                "weight": Decimal(weight),
                "deadline": deadline,
            },
        )
    return by_code


class _Story:
    """The workflow's functions with the demo's people, for one period."""

    def __init__(self, people: dict[str, User], period: EvaluationPeriod, today: datetime.date) -> None:
        self.people = people
        self.period = period
        self.today = today
        self.leader_role = RoleAssignment.objects.get(user=people[ALI], role=Role.MAIN_LEADER)

    def deadline(self, days: int, limit: datetime.date) -> datetime.date:
        """``days`` from today, never past the deadline above (a later run keeps the first's dates)."""
        return min(limit, _deadline(self.period, self.today, days))

    def refer_assignment(self, assignment: Assignment, to: str, **breakdown) -> Referral:
        from models.workflow import refer

        return refer(
            actor=self.people[ALI],
            role=self.leader_role,
            source=assignment,
            assignee=self.people[to],
            deadline=self.deadline(35, assignment.deadline or self.period.end_date),
            **breakdown,
        )

    def refer_onward(self, referral: Referral, by: str, to: str, province: Province | None = None) -> Referral:
        from models.workflow import refer

        return refer(
            actor=self.people[by],
            role=RoleAssignment.objects.filter(user=self.people[by]).first(),
            source=referral,
            assignee=self.people[to],
            deadline=self.deadline(25, referral.deadline),
            province=province,
        )

    def register(self, referral: Referral, value: str, **narrative) -> None:
        from models.workflow import save_performance

        save_performance(
            actor=referral.assignee,
            referral_id=referral.pk,
            version=0,
            changes={"value": Decimal(value), "has_strategic_plan": True, **narrative},
        )

    def finish(self, referral: Referral, by: User) -> Referral:
        from models.workflow import finish_referral

        referral.refresh_from_db()
        return finish_referral(actor=by, referral_id=referral.pk, version=referral.version)

    def submit(self, referral: Referral, value: str, **narrative) -> Referral:
        self.register(referral, value, **narrative)
        return self.finish(referral, referral.assignee)


def _villages_split_by_province(story: _Story, assignment: Assignment) -> None:
    from models.workflow import SliceSpec, split_by_province

    top = story.refer_assignment(assignment, FATEMEH, has_provincial_breakdown=True, breakdown_by="ASSIGNEE")
    tehran, isfahan = Province.objects.get(code="IR-23"), Province.objects.get(code="IR-10")
    split_by_province(
        actor=story.people[FATEMEH],
        referral_id=top.pk,
        version=top.version,
        slices=[SliceSpec(province=tehran, target=Decimal(1800)), SliceSpec(province=isfahan, target=Decimal(1200))],
    )
    top.refresh_from_db()
    tehran_slice = story.refer_onward(top, FATEMEH, MOHAMMAD, province=tehran)
    story.refer_onward(top, FATEMEH, NARGES, province=isfahan)
    story.submit(
        tehran_slice,
        "1750",
        comments="۱٬۷۵۰ روستای استان تهران در طرح جهاد آبرسانی به شبکه متصل شد.",
        obstacles="تأخیر در تأمین لوله و انشعاب در سه شهرستان.",
    )


def _registered_not_submitted(story: _Story, assignment: Assignment) -> None:
    mine = story.refer_onward(story.refer_assignment(assignment, FATEMEH), FATEMEH, AMIR)
    story.register(
        mine,
        "35.8",
        comments="راندمان شش ماه نخست سال؛ ارقام نیمه دوم پس از گزارش توانیر ثبت می‌شود.",
        has_information_system=True,
    )


def _returned_for_correction(story: _Story, assignment: Assignment) -> None:
    from models.workflow import return_referral

    mine = story.refer_onward(story.refer_assignment(assignment, FATEMEH), FATEMEH, AMIR)
    submitted = story.submit(mine, "7", comments="کاهش ناترازی نسبت به سال قبل.")
    fatemeh = story.people[FATEMEH]
    return_referral(actor=fatemeh, referral_id=submitted.pk, version=submitted.version, reason=RETURN_REASON)


def _submitted_to_main_leader(story: _Story, assignment: Assignment) -> None:
    referral = story.refer_assignment(assignment, SARA)
    story.submit(referral, "12", comments="صادرات برق به عراق و ارمنستان نسبت به سال قبل ۱۲ درصد بیشتر شد.")


def _approved_one_level_up(story: _Story, assignment: Assignment) -> None:
    mine = story.refer_onward(story.refer_assignment(assignment, FATEMEH), FATEMEH, AMIR)
    submitted = story.submit(
        mine,
        "92",
        comments="نظام قیمت‌گذاری پلکانی در ۹۲ درصد مشترکان خانگی اعمال شد.",
        improvement_solutions="نصب کنتورهای هوشمند برای مشترکان باقی‌مانده.",
    )
    story.finish(submitted, story.people[FATEMEH])


def _finalized(story: _Story, assignment: Assignment) -> None:
    referral = story.refer_assignment(assignment, SARA)
    submitted = story.submit(referral, "372", comments="تولید انرژی الکتریکی کشور در سال جاری.")
    story.finish(submitted, story.people[ALI])


STORIES = {
    "MOE-01": _villages_split_by_province,
    "MOE-02": _registered_not_submitted,
    "MOE-03": _returned_for_correction,
    "MOE-04": _submitted_to_main_leader,
    "MOE-05": _approved_one_level_up,
    "MOE-06": _finalized,
}


def load_current_period(
    organizations: dict[str, Organization], people: dict[str, User], today: datetime.date | None = None
) -> EvaluationPeriod:
    today = today or timezone.localdate()
    period = current_period(today)
    assignments = _assignments(organizations, period, today)
    story = _Story(people, period, today)
    for code, play in STORIES.items():
        if not assignments[code].referrals.exists():
            play(story, assignments[code])
    return period
