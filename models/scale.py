"""Country-sized, realistic, reproducible data for measuring Mana: ``python manage.py seed_scale``.

Everything is planned in Python with one ``random.Random`` per stage, seeded from ``--seed`` and the
stage's name (never from the clock, dict/set order or hash randomization), and written with bulk
inserts: PostgreSQL ``COPY`` (psycopg 3) for every table, batched ``INSERT`` elsewhere (SQLite, in
tests). It bypasses ``save()`` — mptt, ``RoleAssignment.save``'s guardian grant, the referral
workflow — and therefore writes exactly what those would have written:

* organizations: the nested-set columns (``tree_id``, ``lft``, ``rght``, ``level``) from one depth-first
  pass with siblings in code order (``MPTTMeta.order_insertion_by``); ``search_name`` as
  ``Organization.save`` fills it; ARO the only root, so every unit is in tree 1;
* role assignments and their guardian grants, as ``permissions.grants`` assigns them;
* referral chains that follow ``models.workflow``'s rules (referred only to a subordinate, deadlines
  inside the period and never later than the one above, one slice per province, statuses the workflow
  can reach) with the grants of ``permissions.referral_grants``: ``view_referral`` up the chain and
  ``change_referral`` while with the assignee written row by row, then the chain units'
  ``view_organization_in_chain`` by that module's own set-based statement.

Stages: organizations → people (users, roles, organization grants) → periods, indicators, assignments
→ referrals (streamed in chunks, with provincial slices, creation events, performances and referral
grants) → sequences, ANALYZE. ``personas()`` then finds the people a benchmark signs in as.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F

from models.geography import PROVINCES, Province, ensure_provinces
from models.identity import is_valid_national_code
from models.indicators import (
    Assignment,
    ComparisonType,
    Indicator,
    IndicatorKind,
    IndicatorNature,
    ReferralStatus,
    RollupRule,
)
from models.jalali import parse_jalali
from models.object_permissions import OrganizationUserObjectPermission, ReferralUserObjectPermission
from models.organization import Organization, OrganizationKind
from models.periods import EvaluationPeriod, PeriodStatus
from models.referrals import BreakdownBy, Performance, ProvincialSlice, Referral, ReferralEvent
from models.roles import Role
from models.text import normalize_for_search
from models.users import RoleAssignment, User
from permissions.grants import SUBTREE_ROLES
from permissions.referral_grants import IN_CHAIN, WITH_ASSIGNEE, grant_chain_units_from_referral_grants

SCALE_PASSWORD = "mana-scale-1402"
K = OrganizationKind
S = ReferralStatus

CURRENT_PERIOD = ("دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲", 1402, "1402/10/10", "1402/11/29", PeriodStatus.OPEN)
PREVIOUS_PERIOD = ("دوره ارزیابی عملکرد شهید رجایی ۱۴۰۱", 1401, "1401/10/10", "1401/11/29", PeriodStatus.CLOSED)
PREVIOUS_SHARE = 0.35  # of the referrals, in the closed previous period (all finalized there)
PENDING_SHARE = 0.10  # of the current period's assignments not yet referred by the main leader
TARGET_CHAIN = 40  # referrals per referred assignment the indicator count is sized for
CHUNK = 20_000  # referrals per insert chunk (and transaction)
HELD_BACK = 500  # chains kept back to take up a shortfall at the end

# ---------------------------------------------------------------------------------------------
# Names. Real first-level organizations (code, name, kind) in the order they are used; the
# planning and budget organization (PBO) holds the 31 provincial planning organizations.
# ---------------------------------------------------------------------------------------------

FIRST_LEVEL = [
    ("MOED", "وزارت آموزش و پرورش", K.MINISTRY),
    ("MOH", "وزارت بهداشت، درمان و آموزش پزشکی", K.MINISTRY),
    ("PBO", "سازمان برنامه و بودجه کشور", K.PRESIDENTIAL_ORGANIZATION),
    ("MOE", "وزارت نیرو", K.MINISTRY),
    ("MOA", "وزارت جهاد کشاورزی", K.MINISTRY),
    ("MORUD", "وزارت راه و شهرسازی", K.MINISTRY),
    ("MOEF", "وزارت امور اقتصادی و دارایی", K.MINISTRY),
    ("MIMT", "وزارت صنعت، معدن و تجارت", K.MINISTRY),
    ("MOP", "وزارت نفت", K.MINISTRY),
    ("MOI", "وزارت کشور", K.MINISTRY),
    ("MCLS", "وزارت تعاون، کار و رفاه اجتماعی", K.MINISTRY),
    ("MSRT", "وزارت علوم، تحقیقات و فناوری", K.MINISTRY),
    ("MICT", "وزارت ارتباطات و فناوری اطلاعات", K.MINISTRY),
    ("MCIG", "وزارت فرهنگ و ارشاد اسلامی", K.MINISTRY),
    ("MOJ", "وزارت دادگستری", K.MINISTRY),
    ("MFA", "وزارت امور خارجه", K.MINISTRY),
    ("MODAFL", "وزارت دفاع و پشتیبانی نیروهای مسلح", K.MINISTRY),
    ("MSY", "وزارت ورزش و جوانان", K.MINISTRY),
    ("MCHT", "وزارت میراث فرهنگی، گردشگری و صنایع دستی", K.MINISTRY),
    ("DOE", "سازمان حفاظت محیط زیست", K.PRESIDENTIAL_ORGANIZATION),
    ("VPST", "معاونت علمی، فناوری و اقتصاد دانش‌بنیان", K.PRESIDENTIAL_ORGANIZATION),
    ("AEOI", "سازمان انرژی اتمی ایران", K.PRESIDENTIAL_ORGANIZATION),
    ("FMVA", "بنیاد شهید و امور ایثارگران", K.PRESIDENTIAL_ORGANIZATION),
    ("VPWF", "معاونت امور زنان و خانواده", K.PRESIDENTIAL_ORGANIZATION),
    ("CHQ", "ستاد مبارزه با قاچاق کالا و ارز", K.PRESIDENTIAL_ORGANIZATION),
    ("NMO", "سازمان ملی مهاجرت", K.PRESIDENTIAL_ORGANIZATION),
    ("SCI", "مرکز آمار ایران", K.PRESIDENTIAL_ORGANIZATION),
    ("ISIRI", "سازمان ملی استاندارد ایران", K.PRESIDENTIAL_ORGANIZATION),
    ("SSO", "سازمان تأمین اجتماعی", K.INDEPENDENT_ORGANIZATION),
    ("INTA", "سازمان امور مالیاتی کشور", K.INDEPENDENT_ORGANIZATION),
    ("IRICA", "گمرک جمهوری اسلامی ایران", K.INDEPENDENT_ORGANIZATION),
    ("SSRO", "سازمان ثبت اسناد و املاک کشور", K.INDEPENDENT_ORGANIZATION),
    ("SWO", "سازمان بهزیستی کشور", K.INDEPENDENT_ORGANIZATION),
    ("IHIO", "سازمان بیمه سلامت ایران", K.INDEPENDENT_ORGANIZATION),
    ("IRIMO", "سازمان هواشناسی کشور", K.INDEPENDENT_ORGANIZATION),
    ("NOCR", "سازمان ثبت احوال کشور", K.INDEPENDENT_ORGANIZATION),
    ("NCC", "سازمان نقشه‌برداری کشور", K.INDEPENDENT_ORGANIZATION),
    ("PPO", "سازمان زندان‌ها و اقدامات تأمینی و تربیتی کشور", K.INDEPENDENT_ORGANIZATION),
    ("LMO", "سازمان پزشکی قانونی کشور", K.INDEPENDENT_ORGANIZATION),
    ("GTO", "سازمان تعزیرات حکومتی", K.INDEPENDENT_ORGANIZATION),
    ("NLHO", "سازمان ملی زمین و مسکن", K.INDEPENDENT_ORGANIZATION),
    ("CPPO", "سازمان حمایت مصرف‌کنندگان و تولیدکنندگان", K.INDEPENDENT_ORGANIZATION),
    ("IFDA", "سازمان غذا و دارو", K.INDEPENDENT_ORGANIZATION),
    ("IKRF", "کمیته امداد امام خمینی", K.INDEPENDENT_ORGANIZATION),
    ("TVTO", "سازمان آموزش فنی و حرفه‌ای کشور", K.INDEPENDENT_ORGANIZATION),
    ("TPO", "سازمان توسعه تجارت ایران", K.INDEPENDENT_ORGANIZATION),
    ("PMO", "سازمان بنادر و دریانوردی", K.INDEPENDENT_ORGANIZATION),
    ("CAO", "سازمان هواپیمایی کشوری", K.INDEPENDENT_ORGANIZATION),
    ("RMTO", "سازمان راهداری و حمل و نقل جاده‌ای", K.INDEPENDENT_ORGANIZATION),
    ("IFO", "سازمان شیلات ایران", K.INDEPENDENT_ORGANIZATION),
    ("IVO", "سازمان دامپزشکی کشور", K.INDEPENDENT_ORGANIZATION),
    ("HPO", "سازمان حج و زیارت", K.INDEPENDENT_ORGANIZATION),
    ("ECAO", "سازمان اوقاف و امور خیریه", K.INDEPENDENT_ORGANIZATION),
    ("IPO", "سازمان تبلیغات اسلامی", K.INDEPENDENT_ORGANIZATION),
    ("LMOI", "سازمان نهضت سوادآموزی", K.INDEPENDENT_ORGANIZATION),
    ("ONSS", "سازمان مدارس و مراکز غیردولتی", K.INDEPENDENT_ORGANIZATION),
    ("ONSA", "سازمان امور عشایر ایران", K.INDEPENDENT_ORGANIZATION),
    ("GSI", "سازمان زمین‌شناسی و اکتشافات معدنی کشور", K.INDEPENDENT_ORGANIZATION),
    ("ITO", "سازمان فناوری اطلاعات ایران", K.INDEPENDENT_ORGANIZATION),
    ("FRWO", "سازمان منابع طبیعی و آبخیزداری کشور", K.INDEPENDENT_ORGANIZATION),
]
# How much bigger than a typical first-level organization some are (schools, hospitals, farms…).
SIZE_BOOST = {"MOED": 6.0, "MOH": 4.0, "MOA": 3.0, "MOE": 3.0, "MORUD": 2.0, "MOEF": 2.0, "MOI": 2.0, "SSO": 2.0}
SUBSIDIARY_PATTERNS = [
    "شرکت مادرتخصصی {stem}",
    "سازمان توسعه {stem}",
    "مرکز تحقیقات {stem}",
    "مؤسسه آموزش و پژوهش {stem}",
    "صندوق حمایت از {stem}",
    "شرکت ملی {stem}",
    "سازمان نوسازی {stem}",
    "پژوهشگاه {stem}",
    "مرکز ملی {stem}",
    "مرکز فناوری اطلاعات {stem}",
    "سازمان خدمات {stem}",
    "شرکت توسعه منابع {stem}",
]
# Rough population weight of a province: more regional units, chosen first by partial networks.
PROVINCE_WEIGHT = {"IR-23": 4.0, "IR-09": 2.5, "IR-10": 2.2, "IR-07": 2.0, "IR-06": 2.0, "IR-03": 1.8, "IR-02": 1.5}

MALE = "علی محمد حسین رضا مهدی حسن امیر سعید مجید حمید جواد مصطفی مرتضی احمد ابوالفضل سجاد هادی کاظم وحید یوسف"
FEMALE = "فاطمه زهرا مریم سارا نرگس زینب معصومه لیلا مهسا الهام سمیه طاهره نازنین شیما فرزانه مینا آزاده سمانه"
LAST = (
    "محمدی رضایی حسینی احمدی کریمی موسوی جعفری صادقی نوری فرهاد قاسمی رحیمی اکبری عباسی کاظمی مرادی حیدری "
    "صالحی ابراهیمی یوسفی نجفی طاهری شریفی رستمی منصوری سلیمانی باقری امیری نظری هاشمی زارعی کرمانی "
    "شیرازی تهرانی اصفهانی تبریزی خراسانی گیلانی بهرامی فتحی میرزایی قربانی"
)
FIRST_NAMES = (MALE + " " + FEMALE).split()
LAST_NAMES = LAST.split()
EXPERT_POSTS = [
    "کارشناس ارزیابی عملکرد",
    "کارشناس مسئول برنامه‌ریزی",
    "کارشناس آمار و اطلاعات",
    "کارشناس بودجه",
    "کارشناس تحول اداری",
    "کارشناس مدیریت عملکرد",
]
HEAD_POSTS = ["مدیر دفتر برنامه‌ریزی و بودجه", "رئیس اداره برنامه‌ریزی", "رئیس گروه مدیریت عملکرد"]

# (unit, rollup, nature, lowest target, highest target)
UNITS = [
    ("درصد", RollupRule.AVERAGE, IndicatorNature.HIGHER_IS_BETTER, 40, 100),
    ("تعداد", RollupRule.SUM, IndicatorNature.HIGHER_IS_BETTER, 100, 50_000),
    ("میلیارد ریال", RollupRule.SUM, IndicatorNature.HIGHER_IS_BETTER, 1_000, 900_000),
    ("نفر", RollupRule.SUM, IndicatorNature.HIGHER_IS_BETTER, 50, 20_000),
    ("روز", RollupRule.AVERAGE, IndicatorNature.LOWER_IS_BETTER, 3, 60),
    ("درصد", RollupRule.AVERAGE, IndicatorNature.LOWER_IS_BETTER, 2, 30),
]
GENERAL_TITLES = [
    ("میزان رضایت مردم از خدمات دستگاه", 0),
    ("درصد خدمات الکترونیکی ارائه‌شده در پنجره ملی خدمات دولت هوشمند", 0),
    ("میانگین زمان پاسخ‌گویی به درخواست‌های مردمی", 4),
    ("تعداد فرایندهای بازمهندسی‌شده", 1),
    ("میزان تحقق برنامه صرفه‌جویی در هزینه‌های جاری", 0),
    ("نرخ شکایات ثبت‌شده در سامانه سامد", 5),
    ("سرانه ساعت آموزش کارکنان", 3),
    ("درصد پروژه‌های تکمیل‌شده در موعد مقرر", 0),
    ("میزان انتشار قراردادها در سامانه شفافیت", 0),
    ("درصد کاهش مصرف انرژی ساختمان‌های اداری", 0),
    ("تعداد مجوزهای صادرشده از درگاه ملی مجوزها", 1),
    ("میانگین زمان صدور مجوز", 4),
    ("میزان درآمدهای اختصاصی وصول‌شده", 2),
    ("درصد استقرار نظام مدیریت عملکرد کارکنان", 0),
    ("تعداد نیروی انسانی ساماندهی‌شده", 3),
    ("نرخ خطای پرداخت حقوق و مزایا", 5),
]
SPECIFIC_TITLES = [
    ("میزان تحقق برنامه عملیاتی {stem}", 0),
    ("تعداد طرح‌های تکمیل‌شده {stem}", 1),
    ("درصد پیشرفت فیزیکی پروژه‌های {stem}", 0),
    ("میزان درآمد حاصل از خدمات {stem}", 2),
    ("میانگین زمان ارائه خدمات {stem}", 4),
    ("تعداد بهره‌برداران جدید خدمات {stem}", 3),
    ("میزان جذب اعتبارات تملک دارایی {stem}", 2),
    ("نرخ خرابی و توقف خدمات {stem}", 5),
]
COMMENTS = [
    "عملکرد بر اساس گزارش‌های ماهانه واحدهای استانی تجمیع شد.",
    "اطلاعات از سامانه جامع دستگاه استخراج شده است.",
    "مستندات پیوست شامل صورت‌جلسات و گزارش‌های پیشرفت است.",
    "به دلیل محدودیت اعتبارات، بخشی از برنامه به سال آینده منتقل شد.",
]

_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa(number: int) -> str:
    """Persian digits, as names are written."""
    return str(number).translate(_FA_DIGITS)


def stage_rng(seed: int, stage: str) -> random.Random:
    """One generator per stage: a change in one stage does not reshuffle the others."""
    return random.Random(f"mana-scale:{seed}:{stage}")


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder; ties by index)."""
    if not weights or total <= 0:
        return [0] * len(weights)
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def weighted_sample(rng: random.Random, items: Sequence, weights: Sequence[float], k: int) -> list:
    """``k`` distinct items, heavier ones likelier (Efraimidis–Spirakis keys)."""
    keyed = sorted(((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)), reverse=True)
    return [items[i] for _, i in keyed[:k]]


def zipf_cumulative(n: int, exponent: float = 1.4) -> list[float]:
    """Cumulative weights that make the first of ``n`` people by far the likeliest pick."""
    total, cumulative = 0.0, []
    for i in range(n):
        total += 1.0 / (i + 1) ** exponent
        cumulative.append(total)
    return cumulative


# ---------------------------------------------------------------------------------------------
# Writing rows
# ---------------------------------------------------------------------------------------------


class RowWriter:
    """Bulk-inserts tuples (in ``columns`` order, attribute names) into a model's table.

    PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3. Elsewhere: batched ``INSERT`` with values
    prepared by the fields (dates, aware datetimes, decimals), as ``bulk_create`` would send them, but
    without its ``auto_now`` overrides, so timestamps stay as planned (and reproducible).
    """

    def __init__(self, model, columns: Sequence[str]) -> None:
        self.model = model
        self.fields = [model._meta.get_field(name) for name in columns]
        self.table = connection.ops.quote_name(model._meta.db_table)
        self.column_sql = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        self.count = 0

    def write(self, rows: Iterable[tuple]) -> None:
        if connection.vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {self.table} ({self.column_sql}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    self.count += 1
            return
        placeholders = ", ".join(["%s"] * len(self.fields))
        sql = f"INSERT INTO {self.table} ({self.column_sql}) VALUES ({placeholders})"
        batch: list[list] = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append([f.get_db_prep_save(v, connection) for f, v in zip(self.fields, row, strict=True)])
                if len(batch) >= 2000:
                    cursor.executemany(sql, batch)
                    self.count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                self.count += len(batch)


def next_id(model) -> int:
    """The first free primary key: explicit ids start after whatever the table already holds."""
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def permission_id(codename: str) -> int:
    return Permission.objects.get(content_type__app_label="mana", codename=codename).pk


# ---------------------------------------------------------------------------------------------
# Stage 1: the organization tree
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Unit:
    code: str
    name: str
    kind: str
    province: str | None = None  # province code (IR-xx) for the provincial kinds
    parent: Unit | None = None
    children: list[Unit] = field(default_factory=list)
    id: int = 0
    lft: int = 0
    rght: int = 0
    level: int = 0
    top: Unit | None = None  # the first-level organization this unit belongs to (itself for one)
    branch: Unit | None = None  # the subsidiary it belongs to, or the first-level org for the rest
    people: list[int] = field(default_factory=list)  # user ids; the unit's head first

    def add(self, child: Unit) -> Unit:
        child.parent = self
        self.children.append(child)
        return child


@dataclass
class Tree:
    root: Unit
    units: list[Unit]  # pre-order, the order of ids and lft
    first_level: list[Unit]
    planning: list[Unit]  # the provincial planning organizations, by province code
    provinces: dict[str, int]  # province code → id


def stem_of(name: str) -> str:
    """«وزارت نیرو» → «نیرو», «سازمان ثبت احوال کشور» → «ثبت احوال»: for unit names."""
    for prefix in ("وزارت ", "سازمان ", "معاونت ", "بنیاد ", "ستاد ", "مرکز ", "کمیته ", "گمرک "):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    for suffix in (" کشور", " ایران"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def first_level_count(n_orgs: int) -> int:
    return min(60, max(3, n_orgs // 10))


def first_level_specs(count: int) -> list[tuple[str, str, str]]:
    specs = list(FIRST_LEVEL[:count])
    for n in range(len(specs), count):
        specs.append((f"ORG{n + 1:02d}", f"سازمان مستقل شماره {fa(n + 1)}", K.INDEPENDENT_ORGANIZATION))
    if all(code != "PBO" for code, _, _ in specs):
        specs[-1] = next(spec for spec in FIRST_LEVEL if spec[0] == "PBO")
    return specs


def province_sample(rng: random.Random, count: int) -> list[str]:
    codes = [code for code, _ in PROVINCES]
    chosen = weighted_sample(rng, codes, [PROVINCE_WEIGHT.get(c, 1.0) for c in codes], count)
    return sorted(chosen)


def plan_provincial_network(rng: random.Random, branch: Unit, size: int, prefix: str, names: dict[str, str]) -> None:
    """``size`` units under ``branch``: provincial units (all 31 provinces or fewer) and regional ones."""
    if size <= 0:
        return
    n_provincial = 31 if size >= 31 and rng.random() < 0.7 else rng.randint(3, 31)
    n_provincial = min(n_provincial, size)
    provinces = province_sample(rng, n_provincial)
    weights = [PROVINCE_WEIGHT.get(p, 1.0) * rng.uniform(0.5, 1.5) for p in provinces]
    for province, n_regional in zip(provinces, apportion(size - n_provincial, weights), strict=True):
        unit = branch.add(
            Unit(f"{branch.code}-P{province[3:]}", f"{prefix} استان {names[province]}", K.PROVINCIAL, province)
        )
        for r in range(n_regional):
            name = f"{prefix} منطقه {fa(r + 1)} استان {names[province]}"
            unit.add(Unit(f"{unit.code}-R{r + 1:02d}", name, K.REGIONAL, province))


def plan_first_level(rng: random.Random, spec: tuple[str, str, str], budget: int, names: dict[str, str]) -> Unit:
    """A first-level organization, its headquarters and ``budget`` more units beneath it."""
    code, name, kind = spec
    stem = stem_of(name)
    top = Unit(code, name, kind)
    top.add(Unit(f"{code}-HQ", f"ستاد {name}", K.HEADQUARTERS))
    n_subsidiaries = 0 if budget <= 0 else max(1, min(80, round(budget * 0.06)))
    subsidiaries = []
    for j in range(n_subsidiaries):
        pattern = SUBSIDIARY_PATTERNS[j % len(SUBSIDIARY_PATTERNS)].format(stem=stem)
        label = pattern if j < len(SUBSIDIARY_PATTERNS) else f"{pattern} شماره {fa(j // len(SUBSIDIARY_PATTERNS) + 1)}"
        subsidiaries.append(top.add(Unit(f"{code}-S{j + 1:02d}", label, K.SUBSIDIARY)))
    branches = [top, *subsidiaries]
    weights = [3.0] + [rng.lognormvariate(0, 0.8) for _ in subsidiaries]
    for branch, size in zip(branches, apportion(budget - n_subsidiaries, weights), strict=True):
        prefix = f"اداره کل {stem}" if branch is top else branch.name
        plan_provincial_network(rng, branch, size, prefix, names)
    return top


def plan_tree(rng: random.Random, n_orgs: int) -> Unit:
    """The whole tree, exactly ``n_orgs`` units: ARO, first-level organizations with skewed sizes,
    their headquarters, subsidiaries, provincial and regional units, and the 31 provincial
    planning organizations under the planning and budget organization."""
    names = dict(PROVINCES)
    specs = first_level_specs(first_level_count(n_orgs))
    fixed = 1 + 2 * len(specs) + len(PROVINCES)  # ARO, each first-level org and its HQ, the 31 MPOs
    if n_orgs < fixed + len(specs):
        raise ValueError(f"--orgs must be at least {fixed + len(specs)}")
    weights = [rng.lognormvariate(0, 1.0) * SIZE_BOOST.get(code, 1.0) for code, _, _ in specs]
    root = Unit("ARO", "سازمان اداری و استخدامی کشور", K.ARO)
    for spec, budget in zip(specs, apportion(n_orgs - fixed, weights), strict=True):
        top = root.add(plan_first_level(rng, spec, budget, names))
        if spec[0] == "PBO":
            for province, province_name in PROVINCES:
                name = f"سازمان مدیریت و برنامه‌ریزی استان {province_name}"
                top.add(Unit(f"MPO-{province[3:]}", name, K.PROVINCIAL_PLANNING_ORGANIZATION, province))
    return root


def number_tree(root: Unit, first_id: int) -> list[Unit]:
    """Ids in pre-order and the nested-set bounds and levels, in one iterative depth-first pass.

    Siblings are visited in code order, as mptt's ``order_insertion_by = ["code"]`` keeps them;
    ``lft``/``rght`` run 1..2n once each, every interval nested in its parent's.
    """
    units: list[Unit] = []
    counter, next_pk = 1, first_id
    stack: list[tuple[Unit, bool]] = [(root, False)]
    while stack:
        unit, closing = stack.pop()
        if closing:
            unit.rght = counter
            counter += 1
            continue
        unit.id, unit.lft = next_pk, counter
        next_pk += 1
        counter += 1
        parent = unit.parent
        unit.level = 0 if parent is None else parent.level + 1
        unit.top = None if parent is None else (unit if parent.parent is None else parent.top)
        if unit.kind == K.SUBSIDIARY:
            unit.branch = unit
        elif parent is not None:
            unit.branch = unit.top if parent.parent is None else parent.branch
        units.append(unit)
        unit.children.sort(key=lambda u: u.code)
        stack.append((unit, True))
        stack.extend((child, False) for child in reversed(unit.children))
    return units


def insert_organizations(units: list[Unit], provinces: dict[str, int]) -> int:
    writer = RowWriter(
        Organization,
        ["id", "code", "name", "search_name", "kind", "province", "parent", "tree_id", "lft", "rght", "level"],
    )
    writer.write(
        (
            u.id,
            u.code,
            u.name,
            normalize_for_search(f"{u.name} {u.code}"),  # exactly as Organization.save fills it
            u.kind,
            provinces[u.province] if u.province else None,
            u.parent.id if u.parent else None,
            1,
            u.lft,
            u.rght,
            u.level,
        )
        for u in units
    )
    return writer.count


def build_tree(seed: int, n_orgs: int) -> Tree:
    ensure_provinces()
    provinces = dict(Province.objects.values_list("code", "pk"))
    root = plan_tree(stage_rng(seed, "tree"), n_orgs)
    units = number_tree(root, next_id(Organization))
    first_level = list(root.children)
    planning = sorted((u for u in units if u.kind == K.PROVINCIAL_PLANNING_ORGANIZATION), key=lambda u: u.code)
    return Tree(root, units, first_level, planning, provinces)


# ---------------------------------------------------------------------------------------------
# Stage 2: people, their roles and the organization grants
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Person:
    id: int
    unit: Unit
    role: str
    post: str
    approver: int | None = None
    extra_roles: list[tuple[str, Unit]] = field(default_factory=list)


@dataclass
class People:
    persons: list[Person]
    main_leader: dict[int, int]  # first-level unit id → user id
    hq_experts: dict[int, list[int]]  # first-level unit id → its headquarters' people (coordinator first)
    unit_of: dict[int, Unit]  # user id → unit


def national_code(index: int) -> str:
    """A valid, unique national code: nine digits walked with a stride coprime to 10⁹, then the
    civil registry's check digit (models.identity)."""
    body = f"{(123_456_789 + index * 7_919) % 1_000_000_000:09d}"
    remainder = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    code = body + str(remainder if remainder < 2 else 11 - remainder)
    return code if is_valid_national_code(code) else national_code(index + 10**8)


def mobile_number(index: int) -> str:
    operators = ["12", "13", "19", "35", "36", "37", "01", "02", "03", "90", "91", "21", "22", "17"]
    operator, n = operators[index % len(operators)], index // len(operators)
    return f"09{operator}{(1_234_567 + n * 7_919) % 10_000_000:07d}"


def unit_weight(unit: Unit) -> float:
    """How many experts a unit gets, relatively: headquarters most, regional offices least."""
    if unit.kind == K.HEADQUARTERS:
        return 6.0 + (unit.parent.rght - unit.parent.lft) / 80
    return {K.SUBSIDIARY: 2.0, K.PROVINCIAL: 1.2, K.REGIONAL: 0.5, K.PROVINCIAL_PLANNING_ORGANIZATION: 1.0}.get(
        unit.kind, 0.0
    )


def allocate_experts(units: list[Unit], total: int) -> dict[int, int]:
    """Experts per unit id: two per headquarters first, the rest by unit weight."""
    staffed = [u for u in units if unit_weight(u) > 0]
    minimum = {u.id: 2 if u.kind == K.HEADQUARTERS else 0 for u in staffed}
    rest = total - sum(minimum.values())
    if rest < 0:
        raise ValueError("--users is too small for this many organizations")
    extra = apportion(rest, [unit_weight(u) for u in staffed])
    return {u.id: minimum[u.id] + n for u, n in zip(staffed, extra, strict=True)}


def plan_people(seed: int, tree: Tree, n_users: int, first_id: int) -> People:
    """Leaders first, then every unit's experts in tree order, each with the approver who refers to them:
    the main leader approved his headquarters' experts; they (the coordinator most often) approved the
    heads of subsidiaries and of the ministry's provincial units; a unit's head approved its staff and
    the heads of the units below."""
    rng = stage_rng(seed, "people")
    persons: list[Person] = []

    def person(unit: Unit, role: str, post: str, approver: int | None) -> Person:
        p = Person(first_id + len(persons), unit, role, post, approver)
        persons.append(p)
        unit.people.append(p.id)
        return p

    aro = tree.root
    n_senior = 2 if n_users >= 1000 else 1
    seniors = [person(aro, Role.SENIOR_LEADER, "رئیس امور مدیریت عملکرد", None) for _ in range(n_senior)]
    senior = seniors[0].id
    for p in seniors[1:]:
        p.approver = senior
    for _ in range(max(2, n_users // 5000)):
        person(aro, Role.EVALUATOR, "کارشناس ارزیابی عملکرد", senior)
    main_leader = {
        top.id: person(top, Role.MAIN_LEADER, f"مدیرکل ارزیابی عملکرد {top.name}", senior).id
        for top in tree.first_level
    }
    names = dict(PROVINCES)
    provincial_leader = {
        mpo.id: person(mpo, Role.PROVINCIAL_LEADER, f"معاون توسعه مدیریت استان {names[mpo.province]}", senior).id
        for mpo in tree.planning
    }
    hq_experts: dict[int, list[int]] = {}
    counts = allocate_experts(tree.units, n_users - len(persons))
    for unit in tree.units:
        for index in range(counts.get(unit.id, 0)):
            if unit.kind == K.HEADQUARTERS:
                post = "رئیس گروه مدیریت عملکرد" if index == 0 else rng.choice(EXPERT_POSTS)
                person(unit, Role.SELF_EVALUATOR, post, main_leader[unit.top.id])
                hq_experts.setdefault(unit.top.id, []).append(persons[-1].id)
            elif unit.kind == K.PROVINCIAL_PLANNING_ORGANIZATION:
                person(unit, Role.EVALUATOR, "کارشناس ارزیابی عملکرد استان", provincial_leader[unit.id])
            elif index == 0:
                person(
                    unit, Role.SELF_EVALUATOR, rng.choice(HEAD_POSTS), head_approver(rng, unit, hq_experts, main_leader)
                )
            else:
                person(unit, Role.SELF_EVALUATOR, rng.choice(EXPERT_POSTS), unit.people[0])
    add_second_roles(tree, persons, hq_experts)
    return People(persons, main_leader, hq_experts, {p.id: p.unit for p in persons})


def head_approver(rng: random.Random, unit: Unit, hq_experts: dict[int, list[int]], main_leader: dict[int, int]) -> int:
    """The nearest staffed unit above approved this unit's head; at the first-level organization that
    means one of its headquarters' experts, the coordinator (the first) most often."""
    above = unit.parent
    while above is not unit.top:
        if above.people:
            return above.people[0]
        above = above.parent
    experts = hq_experts.get(unit.top.id)
    if not experts:
        return main_leader[unit.top.id]
    return rng.choices(experts, cum_weights=zipf_cumulative(len(experts)))[0]


def add_second_roles(tree: Tree, persons: list[Person], hq_experts: dict[int, list[int]]) -> None:
    """Like the demo's سارا: every 25th headquarters expert also evaluates a subsidiary."""
    by_id = {p.id: p for p in persons}
    for top in tree.first_level:
        subsidiaries = [u for u in top.children if u.kind == K.SUBSIDIARY]
        for n, user_id in enumerate(hq_experts.get(top.id, [])[1::25]):
            if subsidiaries:
                by_id[user_id].extra_roles.append((Role.SELF_EVALUATOR, subsidiaries[n % len(subsidiaries)]))


def insert_people(seed: int, people: People) -> dict[str, int]:
    """Users (one password hash for all), role assignments and their guardian grants."""
    rng = stage_rng(seed, "names")
    # Hashed once, with a salt from the seed: 100 000 PBKDF2 rounds would take minutes, and a random
    # salt would make two runs of the same seed differ.
    password = make_password(SCALE_PASSWORD, salt=f"manascale{seed}")
    joined = datetime.datetime(2023, 3, 21, 6, 0, tzinfo=datetime.UTC)
    users = RowWriter(
        User,
        [
            "id", "password", "is_superuser", "national_code", "first_name", "last_name", "mobile", "birth_date",
            "landline", "post", "organization", "approver", "is_active", "is_staff", "date_joined",
            "must_change_password",
        ],
    )  # fmt: skip
    users.write(
        (
            p.id,
            password,
            i == 0,  # the first senior leader, like the demo's, may use the admin console
            national_code(i),
            rng.choice(FIRST_NAMES),
            rng.choice(LAST_NAMES),
            mobile_number(i),
            datetime.date(1962, 3, 21) + datetime.timedelta(days=rng.randrange(12_000)),
            "",
            p.post,
            p.unit.id,
            p.approver,
            True,
            i == 0,
            joined + datetime.timedelta(minutes=i),
            False,
        )
        for i, p in enumerate(people.persons)
    )
    lead, view = permission_id("lead_organization"), permission_id("view_organization")
    roles = RowWriter(RoleAssignment, ["id", "user", "role", "organization", "created_at"])
    grants = RowWriter(OrganizationUserObjectPermission, ["id", "user", "permission", "content_object"])
    role_rows, grant_rows, seen = [], [], set()
    role_id, grant_id = next_id(RoleAssignment), next_id(OrganizationUserObjectPermission)
    for p in people.persons:
        for role, unit in [(p.role, p.unit), *p.extra_roles]:
            role_rows.append((role_id + len(role_rows), p.id, role, unit.id, joined + datetime.timedelta(days=1)))
            grant = (p.id, lead if role in SUBTREE_ROLES else view, unit.id)  # permissions.grants.permission_for
            if grant not in seen:
                seen.add(grant)
                grant_rows.append((grant_id + len(grant_rows), *grant))
    roles.write(role_rows)
    grants.write(grant_rows)
    return {"users": users.count, "role_assignments": roles.count, "organization_grants": grants.count}


# ---------------------------------------------------------------------------------------------
# Stage 3: periods, indicators, assignments
# ---------------------------------------------------------------------------------------------


@dataclass
class PeriodPlan:
    id: int
    start: datetime.date
    end: datetime.date
    closed: bool


@dataclass
class IndicatorPlan:
    id: int
    code: str
    rollup: str
    low: int
    high: int


@dataclass(eq=False)
class AssignmentPlan:
    id: int
    indicator: IndicatorPlan
    unit: Unit
    period: PeriodPlan
    target: int  # in ten-thousandths (the column has four decimals)
    deadline: datetime.date
    profile: str | None  # how far its chain has come; None: not referred yet
    status: str
    size: int = 0  # referrals planned for its chain


def insert_periods() -> list[PeriodPlan]:
    """The current open period (as in the demo) and the previous, closed year."""
    writer = RowWriter(
        EvaluationPeriod,
        ["id", "title", "year", "start_date", "end_date", "status", "provincial_proposal_cap", "proposals_open"],
    )
    first = next_id(EvaluationPeriod)
    plans, rows = [], []
    for offset, (title, year, start, end, status) in enumerate((CURRENT_PERIOD, PREVIOUS_PERIOD)):
        plan = PeriodPlan(first + offset, parse_jalali(start), parse_jalali(end), status == PeriodStatus.CLOSED)
        plans.append(plan)
        rows.append((plan.id, title, year, plan.start, plan.end, status, 150, False))
    writer.write(rows)
    return plans


def indicator_count(n_orgs: int) -> int:
    return max(60, min(300, n_orgs // 60))


def insert_indicators(seed: int, tree: Tree) -> tuple[list[IndicatorPlan], dict[int, list[IndicatorPlan]]]:
    """General indicators (every organization's) and each first-level organization's specific ones."""
    rng = stage_rng(seed, "indicators")
    total = indicator_count(len(tree.units))
    n_general = max(12, total // 5)
    specific_counts = apportion(total - n_general, [u.rght - u.lft for u in tree.first_level])
    rows, general, specific = [], [], {}
    first = next_id(Indicator)

    def indicator(code: str, title: str, kind: str, unit_index: int) -> IndicatorPlan:
        unit, rollup, nature, low, high = UNITS[unit_index]
        comparison = ComparisonType.AGAINST_PREVIOUS_YEAR if rng.random() < 0.2 else ComparisonType.AGAINST_TARGET
        plan = IndicatorPlan(first + len(rows), code, rollup, low, high)
        rows.append(
            (
                plan.id, code, title, kind, unit, nature, comparison, rollup,
                "قانون برنامه هفتم پیشرفت و اسناد بالادستی ابلاغی",
                f"{title} بر اساس گزارش رسمی دستگاه در بازه دوره ارزیابی",
            )
        )  # fmt: skip
        return plan

    for n in range(n_general):
        title, unit_index = GENERAL_TITLES[n % len(GENERAL_TITLES)]
        if n >= len(GENERAL_TITLES):
            title = f"{title} (سطح {fa(n // len(GENERAL_TITLES) + 1)})"
        general.append(indicator(f"GEN-{n + 1:03d}", title, IndicatorKind.GENERAL, unit_index))
    for top, count in zip(tree.first_level, specific_counts, strict=True):
        own = []
        for n in range(max(3, count)):
            title, unit_index = SPECIFIC_TITLES[n % len(SPECIFIC_TITLES)]
            title = title.format(stem=stem_of(top.name))
            if n >= len(SPECIFIC_TITLES):
                title = f"{title} (سطح {fa(n // len(SPECIFIC_TITLES) + 1)})"
            own.append(indicator(f"{top.code}-{n + 1:02d}", title, IndicatorKind.SPECIFIC, unit_index))
        specific[top.id] = own
    writer = RowWriter(
        Indicator,
        [
            "id",
            "code",
            "title",
            "kind",
            "unit",
            "nature",
            "comparison_type",
            "rollup",
            "legal_basis",
            "calculation_method",
        ],
    )
    writer.write(rows)
    return general, specific


def assignable_units(tree: Tree) -> list[Unit]:
    """What indicators are assigned to: each first-level organization, its headquarters and subsidiaries."""
    return [u for u in tree.units if u.kind in (*TOP_LEVEL, K.HEADQUARTERS, K.SUBSIDIARY)]


TOP_LEVEL = (K.MINISTRY, K.PRESIDENTIAL_ORGANIZATION, K.INDEPENDENT_ORGANIZATION)
PROFILES = [("early", 0.35), ("mid", 0.35), ("late", 0.2), ("done", 0.1)]


def plan_assignments(
    seed: int,
    tree: Tree,
    periods: list[PeriodPlan],
    general: list[IndicatorPlan],
    specific: dict[int, list[IndicatorPlan]],
    n_referrals: int,
) -> list[AssignmentPlan]:
    """Several indicators per assignable unit and period (enough for the referral budget), with a
    valid target, deadline and the profile of how far each chain has come."""
    rng = stage_rng(seed, "assignments")
    units = assignable_units(tree)
    per_unit = max(3, min(15, math.ceil(n_referrals / (TARGET_CHAIN * len(units) * len(periods)))))
    plans: list[AssignmentPlan] = []
    first = next_id(Assignment)
    for period in periods:
        for unit in units:
            own = specific[unit.top.id]
            n_general = min(len(general), per_unit // 3)
            chosen = rng.sample(general, n_general) + rng.sample(own, min(len(own), per_unit - n_general))
            for indicator in sorted(chosen, key=lambda i: i.id):
                target = rng.randint(indicator.low, indicator.high) * 10_000
                deadline = period.end - datetime.timedelta(days=rng.randint(5, 20))
                if period.closed:
                    profile = "done"
                    status = S.SENT_FOR_EVALUATION if rng.random() < 0.8 else S.FINALIZED
                elif rng.random() < PENDING_SHARE:
                    profile, status = None, S.PENDING
                else:
                    profile = rng.choices([p for p, _ in PROFILES], [w for _, w in PROFILES])[0]
                    status = S.FINALIZED if profile == "done" else S.DELEGATED
                plans.append(
                    AssignmentPlan(first + len(plans), indicator, unit, period, target, deadline, profile, status)
                )
    plan_chain_sizes(rng, plans, periods, n_referrals)
    return plans


def plan_chain_sizes(rng: random.Random, plans: list[AssignmentPlan], periods: list[PeriodPlan], total: int) -> None:
    """Each referred assignment's share of the referral budget: skewed (a few long chains with
    provincial breakdowns, many short ones), at least one each; unreferred if the budget is short."""
    budgets = {periods[0].id: total - round(total * PREVIOUS_SHARE), periods[1].id: round(total * PREVIOUS_SHARE)}
    for period in periods:
        referred = [a for a in plans if a.period is period and a.profile is not None]
        budget = budgets[period.id]
        if len(referred) > budget:
            for a in referred[budget:]:
                a.profile, a.status = None, S.PENDING
            referred = referred[:budget]
        weights = [rng.lognormvariate(0, 0.9) for _ in referred]
        for a, extra in zip(referred, apportion(budget - len(referred), weights), strict=True):
            a.size = 1 + extra


def insert_assignments(plans: list[AssignmentPlan]) -> int:
    writer = RowWriter(
        Assignment,
        ["id", "indicator", "organization", "period", "target", "lower_bound", "upper_bound", "weight", "score_cap",
         "deadline", "status", "is_applicable"],
    )  # fmt: skip
    weights = [Decimal(w) for w in ("50", "72", "85", "100", "60", "40")]

    def row(a: AssignmentPlan) -> tuple:
        weight = weights[a.id % len(weights)]
        target = decimal(a.target)
        # Bounds ordered; the cap is twice the weight, as in the seed.
        lower, upper = decimal(a.target // 2), decimal(a.target * 6 // 5)
        return (
            a.id,
            a.indicator.id,
            a.unit.id,
            a.period.id,
            target,
            lower,
            upper,
            weight,
            weight * 2,
            a.deadline,
            a.status,
            True,
        )

    writer.write(row(a) for a in plans)
    return writer.count


def decimal(ten_thousandths: int) -> Decimal:
    return Decimal(ten_thousandths).scaleb(-4)


# ---------------------------------------------------------------------------------------------
# Stage 4: referral chains
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    """One planned referral."""

    id: int
    parent: Node | None
    referrer: int
    assignee: int
    target: int
    deadline: datetime.date
    province: str | None = None  # a provincial slice's province code
    breakdown_by: str | None = None
    slices: list[tuple[str, int]] = field(default_factory=list)  # (province code, target) of a breakdown
    children: list[Node] = field(default_factory=list)
    status: str = S.IN_PROGRESS
    value: int | None = None
    chain: tuple[int, ...] = ()


class Subordinates:
    """Who each person may refer to (the people they approved), indexed the ways a chain asks."""

    def __init__(self, people: People) -> None:
        self.all: dict[int, list[int]] = defaultdict(list)
        self.by_branch: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.by_province: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.by_branch_province: dict[tuple[int, int, str], list[int]] = defaultdict(list)
        for p in people.persons:
            if p.approver is None or p.role in (Role.MAIN_LEADER, Role.PROVINCIAL_LEADER, Role.SENIOR_LEADER):
                continue
            branch = p.unit.branch.id if p.unit.branch else 0
            self.all[p.approver].append(p.id)
            self.by_branch[(p.approver, branch)].append(p.id)
            if p.unit.province:
                self.by_province[(p.approver, p.unit.province)].append(p.id)
                self.by_branch_province[(p.approver, branch, p.unit.province)].append(p.id)

    def pick(self, rng: random.Random, actor: int, branch: int, province: str | None = None) -> int | None:
        """A subordinate of ``actor``, preferably of the same branch (and province)."""
        candidates: list[int] = []
        if province is not None:
            candidates = self.by_branch_province.get((actor, branch, province)) or self.by_province.get(
                (actor, province), []
            )
        candidates = candidates or self.by_branch.get((actor, branch)) or self.all.get(actor, [])
        return rng.choice(candidates) if candidates else None


class ChainBuilder:
    """Plans one assignment's referral chain, as the workflow would have built it.

    The main leader refers the assignment to a headquarters expert (the coordinator most often); a
    longer chain is broken down by province — by the referrer in the same call, or by the assignee who
    splits it and refers each slice — and slices go on down to regional people. Every referral goes to a
    subordinate of its referrer; a deadline is never later than the one above it.
    """

    def __init__(self, rng: random.Random, people: People, subordinates: Subordinates, tree: Tree) -> None:
        self.rng, self.people, self.subordinates = rng, people, subordinates
        self.branch_provinces = defaultdict(set)
        for unit in tree.units:
            if unit.kind in (K.PROVINCIAL, K.REGIONAL) and unit.branch is not None:
                self.branch_provinces[unit.branch.id].add(unit.province)
        self.zipf = {top: zipf_cumulative(len(experts)) for top, experts in people.hq_experts.items()}
        self.next_id = next_id(Referral)
        self.nodes: list[Node] = []

    def node(self, parent: Node | None, referrer: int, assignee: int, target: int, limit: datetime.date, start):
        deadline = max(start, limit - datetime.timedelta(days=self.rng.randint(0, 4)))
        node = Node(self.next_id, parent, referrer, assignee, target, deadline)
        self.next_id += 1
        self.nodes.append(node)
        if parent is not None:
            parent.children.append(node)
        return node

    def build(self, a: AssignmentPlan) -> list[Node]:
        """At most ``a.size`` nodes (fewer when the people to refer to run out); parents before children."""
        self.nodes = []
        top_unit = a.unit.top
        leader = self.people.main_leader[top_unit.id]
        experts = self.people.hq_experts.get(top_unit.id)
        if not experts:
            return []
        coordinator = self.coordinator(a)
        branch = a.unit.branch.id if a.unit.branch else top_unit.id
        top = self.node(None, leader, coordinator, a.target, a.deadline, a.period.start)
        self.grow(top, a, branch, a.size - 1)
        return self.nodes

    def extend(self, a: AssignmentPlan, nodes: list[Node], budget: int) -> int:
        """Grow an already planned chain by up to ``budget`` referrals below its open ends."""
        self.nodes = nodes
        branch = a.unit.branch.id if a.unit.branch else a.unit.top.id
        added = 0
        for node in list(nodes):
            if added >= budget:
                break
            if not node.children and not node.slices:
                added += self.grow(node, a, branch, budget - added)
        return added

    def coordinator(self, a: AssignmentPlan) -> int:
        """A headquarters expert the main leader refers to: the first (the coordinator) most often."""
        top = a.unit.top.id
        return self.rng.choices(self.people.hq_experts[top], cum_weights=self.zipf[top])[0]

    def grow(self, node: Node, a: AssignmentPlan, branch: int, budget: int) -> int:
        """Add up to ``budget`` referrals beneath ``node``; returns how many were added."""
        if budget <= 0:
            return 0
        near_top = node.province is None and (node.parent is None or node.parent.parent is None)
        if near_top and (budget >= 4 or (budget >= 2 and self.rng.random() < 0.3)):
            added = self.break_down(node, a, branch, budget)
            if added:
                return added
        child_of = self.subordinates.pick(self.rng, node.assignee, branch, node.province)
        if child_of is None:
            return 0
        child = self.node(node, node.assignee, child_of, node.target, node.deadline, a.period.start)
        return 1 + self.grow(child, a, branch, budget - 1)

    def break_down(self, node: Node, a: AssignmentPlan, branch: int, budget: int) -> int:
        """Provincial slices of ``node``: by the referrer (all slices referred at once) or by the
        assignee (split, then some or all slices referred); the rest of the budget extends the slices."""
        modes = [True, False] if self.rng.random() < 0.35 else [False, True]  # by the referrer first?
        usable = [m for m in modes if self.subordinates.all.get(node.referrer if m else node.assignee)]
        if not usable:
            return 0
        by_referrer = usable[0]
        actor = node.referrer if by_referrer else node.assignee
        own = sorted(self.branch_provinces.get(branch, ()))
        # Every slice is referred at once by the referrer, and in a finished chain by the assignee too.
        complete = by_referrer or a.profile == "done"
        wanted = min(31, max(len(own), math.ceil(budget / 3)), budget if complete else 31)
        provinces = (
            own if len(own) >= wanted else sorted(set(own) | set(self.extra_provinces(set(own), wanted - len(own))))
        )
        provinces = sorted(self.rng.sample(provinces, wanted)) if len(provinces) > wanted else provinces
        node.breakdown_by = BreakdownBy.REFERRER if by_referrer else BreakdownBy.ASSIGNEE
        node.slices = list(
            zip(provinces, split_target(self.rng, a.indicator.rollup, node.target, len(provinces)), strict=True)
        )
        referred = node.slices if by_referrer else node.slices[: min(len(node.slices), budget)]
        children = []
        for province, target in referred:
            if node.parent is None and by_referrer:
                assignee = self.coordinator(a)  # the main leader's slices go to headquarters experts
            else:
                assignee = self.subordinates.pick(self.rng, actor, branch, province)
            child = self.node(node, actor, assignee, target, node.deadline, a.period.start)
            child.province = province
            children.append(child)
        added = len(children)
        quotas = apportion(budget - added, [self.rng.uniform(0.5, 1.5) for _ in children])
        for child, quota in zip(children, quotas, strict=True):
            added += self.grow(child, a, branch, quota)
        return added

    def extra_provinces(self, have: set[str], count: int) -> list[str]:
        others = [code for code, _ in PROVINCES if code not in have]
        return self.rng.sample(others, min(count, len(others)))


def split_target(rng: random.Random, rollup: str, target: int, count: int) -> list[int]:
    """Slice targets that agree with the parent's under the roll-up rule (models.rollup): they add
    up to it (SUM) or average to it (AVERAGE), to the ten-thousandth."""
    if rollup == RollupRule.SUM:
        parts = apportion(target, [rng.uniform(0.5, 1.5) for _ in range(count)])
        return parts
    deviations = [round(target * rng.uniform(-0.1, 0.1)) for _ in range(count - 1)]
    last = -sum(deviations)
    if target + last < 0:
        return [target] * count
    return [target + d for d in [*deviations, last]]


# Leaf statuses, and the status of a referral whose every child is approved, by profile.
LEAF_STATUSES = {
    "early": ([S.IN_PROGRESS, S.SUBMITTED, S.RETURNED], [0.8, 0.12, 0.08]),
    "mid": ([S.IN_PROGRESS, S.SUBMITTED, S.RETURNED, S.APPROVED], [0.35, 0.25, 0.1, 0.3]),
    "late": ([S.IN_PROGRESS, S.SUBMITTED, S.RETURNED, S.APPROVED], [0.05, 0.1, 0.05, 0.8]),
    "done": ([S.APPROVED], [1.0]),
}
COMPLETE_STATUSES = {
    "early": ([S.SUBMITTED], [1.0]),
    "mid": ([S.SUBMITTED, S.RETURNED, S.APPROVED], [0.6, 0.1, 0.3]),
    "late": ([S.SUBMITTED, S.RETURNED, S.APPROVED], [0.4, 0.05, 0.55]),
    "done": ([S.APPROVED], [1.0]),
}
HAS_PERFORMANCE = (S.SUBMITTED, S.RETURNED, S.APPROVED, S.FINALIZED, S.SENT_FOR_EVALUATION)


def settle_statuses(rng: random.Random, nodes: list[Node], a: AssignmentPlan) -> None:
    """Statuses the workflow can reach, children before parents: a referral is DELEGATED while a
    child is still open; once every child is approved (every slice, for a breakdown) its result went
    up, so it is submitted, returned or approved in turn; approving the top referral is the final
    registration (FINALIZED, or SENT_FOR_EVALUATION in the closed period). Values roll up too."""
    for node in reversed(nodes):
        if node.children:
            complete = all(c.status == S.APPROVED for c in node.children) and (
                node.breakdown_by is None or len(node.children) == len(node.slices)
            )
            if not complete:
                node.status = S.DELEGATED
                continue
            statuses, weights = COMPLETE_STATUSES[a.profile]
            node.status = rng.choices(statuses, weights)[0]
            values = [c.value for c in node.children]
            node.value = sum(values) if a.indicator.rollup == RollupRule.SUM else sum(values) // len(values)
        elif node.slices:
            node.status = S.IN_PROGRESS  # split, no slice referred yet
        else:
            statuses, weights = LEAF_STATUSES[a.profile]
            node.status = rng.choices(statuses, weights)[0]
            node.value = node.target * rng.randint(70, 125) // 100
        if node.parent is None and node.status == S.APPROVED:
            node.status = a.status if a.profile == "done" else S.SUBMITTED
    for node in nodes:  # view_referral: the assignee and everyone above (permissions.referral_grants)
        above = node.parent.chain if node.parent else ()
        node.chain = tuple(sorted({*above, node.referrer, node.assignee}))


@dataclass
class ReferralWriters:
    referrals: RowWriter
    slices: RowWriter
    events: RowWriter
    performances: RowWriter
    grants: RowWriter

    @classmethod
    def create(cls) -> ReferralWriters:
        return cls(
            RowWriter(
                Referral,
                ["id", "assignment", "parent", "referrer", "assignee", "organization", "province", "target", "deadline",
                 "has_provincial_breakdown", "breakdown_by", "status", "version", "created_at", "updated_at"],
            ),
            RowWriter(ProvincialSlice, ["id", "referral", "province", "target", "weight"]),
            RowWriter(ReferralEvent, ["id", "referral", "actor", "at", "from_status", "to_status", "reason"]),
            RowWriter(
                Performance,
                ["id", "referral", "value", "has_strategic_plan", "has_information_system", "comments", "obstacles",
                 "improvement_solutions", "partner_performance", "is_registry_based", "registry_comments", "version",
                 "updated_at", "updated_by"],
            ),
            RowWriter(ReferralUserObjectPermission, ["id", "user", "permission", "content_object"]),
        )  # fmt: skip


VERSIONS = {S.IN_PROGRESS: 1, S.DELEGATED: 2, S.SUBMITTED: 2, S.RETURNED: 3, S.APPROVED: 3, S.FINALIZED: 4}


class ReferralRows:
    """Turns planned chains into the rows of five tables, buffered and written a chunk at a time."""

    def __init__(self, people: People, provinces: dict[str, int]) -> None:
        self.people, self.provinces = people, provinces
        self.writers = ReferralWriters.create()
        self.view = permission_id("view_referral")
        self.change = permission_id("change_referral")
        self.ids = {
            "slice": next_id(ProvincialSlice),
            "event": next_id(ReferralEvent),
            "performance": next_id(Performance),
            "grant": next_id(ReferralUserObjectPermission),
        }
        self.buffers: dict[str, list[tuple]] = defaultdict(list)

    def take_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind] - 1

    def add_chain(self, a: AssignmentPlan, nodes: list[Node]) -> None:
        start = datetime.datetime.combine(a.period.start, datetime.time(5, 30), tzinfo=datetime.UTC)
        for depth_index, node in enumerate(nodes):
            created = start + datetime.timedelta(days=1 + (a.id % 7), minutes=depth_index * 7)
            updated = created + datetime.timedelta(hours=VERSIONS.get(node.status, 5))
            self.buffers["referrals"].append(
                (node.id, a.id, node.parent.id if node.parent else None, node.referrer, node.assignee,
                 self.people.unit_of[node.assignee].id, self.provinces[node.province] if node.province else None,
                 decimal(node.target), node.deadline, node.breakdown_by is not None, node.breakdown_by, node.status,
                 VERSIONS.get(node.status, 5), created, updated)
            )  # fmt: skip
            for province, target in node.slices:
                self.buffers["slices"].append(
                    (self.take_id("slice"), node.id, self.provinces[province], decimal(target), 1)
                )
            self.buffers["events"].append(
                (self.take_id("event"), node.id, node.referrer, created, None, S.IN_PROGRESS, "")
            )
            if node.status in HAS_PERFORMANCE and node.value is not None:
                self.buffers["performances"].append(
                    (self.take_id("performance"), node.id, decimal(node.value), node.id % 3 != 0, node.id % 4 != 0,
                     COMMENTS[node.id % len(COMMENTS)], "", "", "", False, "", 1, updated, node.assignee)
                )  # fmt: skip
            for user in node.chain:
                self.buffers["grants"].append((self.take_id("grant"), user, self.view, node.id))
            if node.status in WITH_ASSIGNEE:
                self.buffers["grants"].append((self.take_id("grant"), node.assignee, self.change, node.id))

    def pending(self) -> int:
        return len(self.buffers["referrals"])

    def flush(self) -> None:
        w = self.writers
        with transaction.atomic():
            for name, writer in (
                ("referrals", w.referrals),
                ("slices", w.slices),
                ("events", w.events),
                ("performances", w.performances),
                ("grants", w.grants),
            ):
                writer.write(self.buffers[name])
                self.buffers[name] = []

    def counts(self) -> dict[str, int]:
        w = self.writers
        return {
            "referrals": w.referrals.count,
            "provincial_slices": w.slices.count,
            "referral_events": w.events.count,
            "performances": w.performances.count,
            "referral_grants": w.grants.count,
        }


def generate_referrals(
    seed: int,
    tree: Tree,
    people: People,
    periods: list[PeriodPlan],
    plans: list[AssignmentPlan],
    log: Callable[[str], None],
) -> dict[str, int]:
    """Every referred assignment's chain, streamed to the database a chunk at a time. A chain that
    comes out shorter than planned (its people ran out) passes the difference on to the next one; the
    last few chains are held back and extended by whatever is still missing, so the total is exact
    unless the people run out everywhere."""
    rng = stage_rng(seed, "referrals")
    builder = ChainBuilder(rng, people, Subordinates(people), tree)
    rows = ReferralRows(people, tree.provinces)
    # Current period first (what its chains fall short by goes to the previous one); longest planned
    # chains first, so the short ones at the end can take up the difference.
    order = {period.id: index for index, period in enumerate(periods)}
    referred = sorted((a for a in plans if a.profile is not None), key=lambda a: (order[a.period.id], -a.size, a.id))
    held: deque[tuple[AssignmentPlan, list[Node]]] = deque()

    def write(a: AssignmentPlan, nodes: list[Node]) -> None:
        settle_statuses(rng, nodes, a)
        rows.add_chain(a, nodes)
        if rows.pending() >= CHUNK:
            rows.flush()
            log(f"  … {rows.writers.referrals.count:,} referrals")

    carry = 0
    for a in referred:
        a.size += carry
        nodes = builder.build(a)
        carry = a.size - len(nodes)
        held.append((a, nodes))
        if len(held) > HELD_BACK:
            write(*held.popleft())
    for a, nodes in reversed(held):
        if carry <= 0:
            break
        carry -= builder.extend(a, nodes, carry)
    for a, nodes in held:
        write(a, nodes)
    rows.flush()
    return rows.counts()


# ---------------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------------

SEEDED_MODELS = [
    Organization, User, RoleAssignment, OrganizationUserObjectPermission, EvaluationPeriod, Indicator, Assignment,
    Referral, ProvincialSlice, ReferralEvent, Performance, ReferralUserObjectPermission,
]  # fmt: skip


def flush_database() -> None:
    """Empty every table (Django's flush), then put the data-migrated provinces back."""
    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with pending deferred FK checks (e.g. inside a test's transaction).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    ensure_provinces()


def reset_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the rows written."""
    statements = connection.ops.sequence_reset_sql(no_style(), SEEDED_MODELS)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in SEEDED_MODELS:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@contextmanager
def row_checks_deferred_to_the_end():
    """On PostgreSQL, load without the per-row foreign-key triggers (``session_replication_role =
    replica``; superusers only, otherwise the ordinary checks run): each row's check takes a row lock
    on the referenced row and dominated the load. Yields whether they were skipped, in which case
    ``verify_foreign_keys`` checks every reference afterwards in one query per column."""
    skipped = False
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
            skipped = True
        except DatabaseError:
            skipped = False
    try:
        yield skipped
    finally:
        if skipped:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


def verify_foreign_keys() -> None:
    """Every foreign key of the seeded tables points at an existing row (an anti-join per column)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in SEEDED_MODELS:
            for fk in model._meta.concrete_fields:
                if not fk.is_relation:
                    continue
                child, parent = f"c.{quote(fk.column)}", f"p.{quote(fk.target_field.column)}"
                cursor.execute(
                    f"SELECT count(*) FROM {quote(model._meta.db_table)} c "
                    f"LEFT JOIN {quote(fk.related_model._meta.db_table)} p ON {parent} = {child} "
                    f"WHERE {child} IS NOT NULL AND {parent} IS NULL"
                )
                (dangling,) = cursor.fetchone()
                if dangling:
                    raise DatabaseError(f"{model._meta.db_table}.{fk.column}: {dangling} rows point at nothing")


def grant_chain_units() -> int:
    """The ``view_organization_in_chain`` grants that go with the referral grants, by the one
    set-based rule of permissions.referral_grants (after the sequences are reset: it inserts without
    ids). Returns how many there are."""
    grant_chain_units_from_referral_grants()
    return OrganizationUserObjectPermission.objects.filter(
        permission__content_type__app_label="mana", permission__codename=IN_CHAIN
    ).count()


class Stopwatch:
    """Prints each stage with its own and the total elapsed time."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log, self.start, self.last = log, time.monotonic(), time.monotonic()

    def lap(self, message: str) -> None:
        now = time.monotonic()
        self.log(f"{message}  [{now - self.last:.1f} s, total {now - self.start:.1f} s]")
        self.last = now


def load(seed: int, orgs: int, users: int, referrals: int, watch: Stopwatch, log: Callable[[str], None]) -> dict:
    """The four stages, each committed on its own (the referrals a chunk at a time)."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        tree = build_tree(seed, orgs)
        counts["organizations"] = insert_organizations(tree.units, tree.provinces)
    watch.lap(f"organizations: {counts['organizations']:,} (first-level {len(tree.first_level)})")
    with transaction.atomic():
        people = plan_people(seed, tree, users, next_id(User))
        counts |= insert_people(seed, people)
    watch.lap(
        f"people: {counts['users']:,} users, {counts['role_assignments']:,} roles, "
        f"{counts['organization_grants']:,} organization grants"
    )
    with transaction.atomic():
        periods = insert_periods()
        general, specific = insert_indicators(seed, tree)
        plans = plan_assignments(seed, tree, periods, general, specific, referrals)
        counts["periods"] = len(periods)
        counts["indicators"] = len(general) + sum(len(v) for v in specific.values())
        counts["assignments"] = insert_assignments(plans)
    watch.lap(
        f"periods {counts['periods']}, indicators {counts['indicators']:,}, assignments {counts['assignments']:,}"
    )
    counts |= generate_referrals(seed, tree, people, periods, plans, log)
    watch.lap(
        f"referrals: {counts['referrals']:,} ({counts['provincial_slices']:,} slices, {counts['referral_events']:,} "
        f"events, {counts['performances']:,} performances, {counts['referral_grants']:,} grants)"
    )
    return counts


def seed_scale(
    *, orgs: int, users: int, referrals: int, seed: int, flush: bool = False, log: Callable[[str], None] = print
) -> dict[str, int]:
    """Build the whole data set; returns row counts per table. Refuses a database that already
    holds organizations unless ``flush`` (which empties every table first)."""
    if Organization.objects.exists():
        if not flush:
            raise ValueError("The database already holds organizations; run with --flush to replace everything.")
        flush_database()
    watch = Stopwatch(log)
    with row_checks_deferred_to_the_end() as skipped:
        counts = load(seed, orgs, users, referrals, watch, log)
        if skipped:
            verify_foreign_keys()
            watch.lap("foreign keys verified (set-based, instead of row by row)")
    reset_sequences()
    analyze()  # the set-based statement below needs statistics: 4 s instead of 47 s at 100 000 referrals
    watch.lap("sequences reset, tables analyzed")
    counts["chain_unit_grants"] = grant_chain_units()
    analyze()
    watch.lap(f"chain-unit grants: {counts['chain_unit_grants']:,}; analyzed again")
    return counts


# ---------------------------------------------------------------------------------------------
# Personas: who a benchmark signs in as
# ---------------------------------------------------------------------------------------------

OPEN_ASSIGNED = (S.IN_PROGRESS, S.RETURNED, S.DELEGATED)


def personas() -> dict:
    """National codes (and a little context) of the people worth signing in as, found by query on
    the seeded data, so they hold for any size and seed:

    * ``senior_leader``: a SENIOR_LEADER at ARO (sees everything);
    * ``main_leader``: the MAIN_LEADER of the first-level organization with the largest subtree;
    * ``small_main_leader``: the MAIN_LEADER of the one with the smallest subtree;
    * ``provincial_leader``: a PROVINCIAL_LEADER (Tehran's when there is one);
    * ``busy_assignee``: the person with the most open referrals assigned (IN_PROGRESS, RETURNED,
      DELEGATED) in the current period; ``busy_reviewer``: the one with the most SUBMITTED referrals
      they referred (waiting for their review) in the current period;
    * ``period_id``: the current (open) period's primary key; ``password``: everyone's password;
    * ``*_subtree`` / ``*_open`` / ``*_to_review``: the sizes behind the choices.
    """
    period = EvaluationPeriod.objects.filter(status=PeriodStatus.OPEN).order_by("-start_date", "pk").first()
    tops = Organization.objects.filter(kind__in=TOP_LEVEL).annotate(size=(F("rght") - F("lft") + 1) / 2)
    largest = tops.order_by("-size", "code").first()
    smallest = tops.order_by("size", "code").first()

    def holder(role: str, **organization) -> str | None:
        assignment = (
            RoleAssignment.objects.filter(role=role, **organization).select_related("user").order_by("user_id").first()
        )
        return assignment.user.national_code if assignment else None

    referrals = Referral.objects.filter(assignment__period=period)
    busy_assignee = (
        referrals.filter(status__in=OPEN_ASSIGNED)
        .values("assignee")
        .annotate(n=Count("id"))
        .order_by("-n", "assignee")
        .first()
    )
    busy_reviewer = (
        referrals.filter(status=S.SUBMITTED)
        .values("referrer")
        .annotate(n=Count("id"))
        .order_by("-n", "referrer")
        .first()
    )
    busy_ids = [row[key] for row, key in ((busy_assignee, "assignee"), (busy_reviewer, "referrer")) if row]
    codes = dict(User.objects.filter(pk__in=busy_ids).values_list("pk", "national_code"))
    tehran = holder(Role.PROVINCIAL_LEADER, organization__province__code="IR-23")
    return {
        "senior_leader": holder(Role.SENIOR_LEADER, organization__kind=K.ARO),
        "main_leader": holder(Role.MAIN_LEADER, organization=largest),
        "main_leader_subtree": largest.size if largest else 0,
        "small_main_leader": holder(Role.MAIN_LEADER, organization=smallest),
        "small_main_leader_subtree": smallest.size if smallest else 0,
        "provincial_leader": tehran or holder(Role.PROVINCIAL_LEADER),
        "busy_assignee": codes.get(busy_assignee["assignee"]) if busy_assignee else None,
        "busy_assignee_open": busy_assignee["n"] if busy_assignee else 0,
        "busy_reviewer": codes.get(busy_reviewer["referrer"]) if busy_reviewer else None,
        "busy_reviewer_to_review": busy_reviewer["n"] if busy_reviewer else 0,
        "period_id": period.pk if period else None,
        "password": SCALE_PASSWORD,
    }
