"""Excel exports (issue 10 §5): an organization's results and the dashboard as XLSX — Persian
headers, Jalali dates, right to left — through permission-checked download addresses; and the
import templates. Opened with openpyxl, as a spreadsheet program would."""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from models.evaluations import Evaluation
from models.excel_export import DASHBOARD_HEADERS, HEADER_ROW, HEADERS, NOT_APPLICABLE_STATUS, TOTAL_LABEL
from models.excel_templates import ASSIGNMENT_COLUMNS, ORGANIZATION_COLUMNS
from models.indicators import Assignment, Indicator
from models.jalali import format_jalali
from models.organization import Organization
from models.users import User
from schema.ids import encode_global_id
from tests.conftest import GraphQLClient
from tests.workflow_helpers import (
    ALI,
    FATEMEH,
    FINISH,
    HASAN,
    SAVE,
    build_chain,
    client_for,
    mutate,
    period_id,
)

pytestmark = pytest.mark.django_db

SENIOR = "0010000011"
REZA = "0010000062"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def organization_id(code: str) -> str:
    return encode_global_id("Organization", Organization.objects.get(code=code).pk)


def results_url(organization: str, period: str | None = None) -> str:
    return f"/exports/results/{period or period_id()}/{organization}.xlsx"


def download(client: GraphQLClient, url: str):
    response = client.http.get(url)
    return response, response.content


def workbook_of(content: bytes):
    return load_workbook(io.BytesIO(content))


def table(sheet, header_row: int = HEADER_ROW) -> list[dict]:
    headers = [cell.value for cell in sheet[header_row]]
    rows = []
    for values in sheet.iter_rows(min_row=header_row + 1, values_only=True):
        rows.append(dict(zip(headers, values, strict=True)))
    return rows


@pytest.fixture
def finalized(demo):
    """MOE-02 walked to the final registration with the value 30 (Ali → Fatemeh → Amir), two
    published evaluations of it (60 and 65) and one not yet published; MOE-05 found not applicable."""
    chain = build_chain()
    amir, fatemeh, ali = chain["amir"], chain["fatemeh"], chain["ali"]
    child = chain["child"]
    assert mutate(amir, SAVE, {"referral": child["id"], "version": 0, "value": "30"})["errors"] == []
    child = mutate(amir, FINISH, {"referral": child["id"], "version": child["version"]})["referral"]
    assert mutate(fatemeh, FINISH, {"referral": child["id"], "version": child["version"]})["errors"] == []
    from models.referrals import Referral
    from schema.ids import decode_global_id

    top = Referral.objects.get(pk=decode_global_id(chain["top"]["id"])[1])
    assert mutate(ali, FINISH, {"referral": chain["top"]["id"], "version": top.version})["errors"] == []
    moe02 = Assignment.objects.get(indicator__code="MOE-02")
    assert moe02.status == "FINALIZED"
    now = timezone.now()
    maryam, reza = User.objects.get(national_code=SENIOR), User.objects.get(national_code=REZA)
    Evaluation.objects.create(assignment=moe02, evaluator=maryam, score=Decimal("60"), feedback="خوب", published_at=now)
    Evaluation.objects.create(assignment=moe02, evaluator=reza, score=Decimal("65"), feedback="خوب", published_at=now)
    moe03 = Assignment.objects.get(indicator__code="MOE-03")
    Evaluation.objects.create(assignment=moe03, evaluator=reza, score=Decimal("100"), feedback="پیش‌نویس")
    Assignment.objects.filter(indicator__code="MOE-05").update(is_applicable=False)
    return {"ali": ali, "fatemeh": fatemeh}


# --- the done-when: the results export opens in a spreadsheet --------------------------------------


def test_the_results_export_opens_in_a_spreadsheet(finalized):
    response, content = download(finalized["ali"], results_url(organization_id("MOE-HQ")))
    assert response.status_code == 200, content[:300]
    assert response["Content-Type"] == XLSX
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition
    assert unquote(disposition.split("filename*=utf-8''")[1]).startswith("نتایج ستاد وزارت نیرو - دوره ارزیابی")

    workbook = workbook_of(content)
    sheet = workbook.active
    assert sheet.title == "نتایج"
    assert sheet.sheet_view.rightToLeft is True
    assert sheet["A1"].value == "نتایج ارزیابی عملکرد — ستاد وزارت نیرو"
    assert sheet["A2"].value.startswith("دوره ارزیابی عملکرد شهید رجایی ۱۴۰۲ — تاریخ تهیه: ")
    assert sheet["A2"].value.endswith(format_jalali(timezone.localdate()))
    assert tuple(cell.value for cell in sheet[HEADER_ROW]) == HEADERS
    assert HEADERS[:3] == ("ردیف", "کد شاخص", "عنوان شاخص")

    rows = table(sheet)
    results, total = rows[:-1], rows[-1]
    assert [r["کد شاخص"] for r in results] == ["MOE-01", "MOE-02", "MOE-03", "MOE-04", "MOE-05", "MOE-06", "MOE-07"]
    assert [r["ردیف"] for r in results] == list(range(1, 8))
    moe02 = results[1]
    assert moe02["عنوان شاخص"] == "راندمان شبکه برق کشور"
    assert (moe02["نوع"], moe02["واحد سنجش"], moe02["ماهیت"]) == ("اختصاصی", "درصد", "افزایشی (بیشتر بهتر)")
    assert Decimal(str(moe02["هدف"])) == Decimal("36.5")
    assert (moe02["وزن"], moe02["سقف امتیاز"]) == (85, 170)
    assert moe02["مهلت"] == "1402/11/20"  # Jalali, as people read it
    assert moe02["عملکرد"] == 30
    # min(cap, weight × value / target) = 85 × 30 / 36.5
    assert Decimal(str(moe02["امتیاز خوداظهاری"])) == Decimal("69.86")
    # The average of the published evaluations only (60, 65; the draft 100 of MOE-03 is not shown).
    assert Decimal(str(moe02["امتیاز ارزیابی"])) == Decimal("62.5")
    assert moe02["وضعیت"] == "ثبت نهایی" and moe02["مصداق دارد"] == "بله"
    assert results[2]["امتیاز ارزیابی"] is None
    # Not referred yet: no value, no score.
    assert (results[3]["عملکرد"], results[3]["امتیاز خوداظهاری"], results[3]["وضعیت"]) == (
        None,
        None,
        "در انتظار ارجاع",
    )
    # Found not applicable: listed, marked, out of the scores and totals.
    assert (results[4]["مصداق دارد"], results[4]["وضعیت"], results[4]["امتیاز خوداظهاری"]) == (
        "خیر",
        NOT_APPLICABLE_STATUS,
        None,
    )
    assert total["عنوان شاخص"] == TOTAL_LABEL
    assert Decimal(str(total["امتیاز خوداظهاری"])) == Decimal("69.86")
    assert Decimal(str(total["امتیاز ارزیابی"])) == Decimal("62.5")
    # Numbers are numbers, not text: a spreadsheet can add them up.
    assert sheet.cell(row=HEADER_ROW + 2, column=HEADERS.index("هدف") + 1).data_type == "n"


def test_the_export_shows_what_the_viewer_may_read_and_no_more(finalized):
    # Fatemeh's unit is ستاد وزارت نیرو: she exports it too, and reads the value she approved.
    response, content = download(finalized["fatemeh"], results_url(organization_id("MOE-HQ")))
    assert response.status_code == 200
    rows = table(workbook_of(content).active)
    assert rows[1]["عملکرد"] == 30
    # Sara sees the unit but is in none of its chains: the assignments, without anyone's values.
    sara = client_for("0010000070")
    response, content = download(sara, results_url(organization_id("MOE-HQ")))
    rows = table(workbook_of(content).active)
    assert rows[1]["کد شاخص"] == "MOE-02" and rows[1]["عملکرد"] is None


def test_out_of_scope_is_not_found_like_missing_and_anonymous_is_unauthenticated(finalized):
    hasan = client_for(HASAN)
    out_of_scope, _ = download(hasan, results_url(organization_id("MOE-HQ")))
    missing, _ = download(hasan, results_url(encode_global_id("Organization", 999999)))
    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.json() == missing.json()
    assert out_of_scope.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for bad in (
        results_url("not-an-id"),
        results_url(organization_id("MOE-HQ"), encode_global_id("EvaluationPeriod", 999)),
        results_url(organization_id("MOE-HQ"), organization_id("MOE")),
    ):
        assert download(finalized["ali"], bad)[0].status_code == 404
    anonymous, _ = download(GraphQLClient(), results_url(organization_id("MOE-HQ")))
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # His own ministry's unit, yes.
    assert download(hasan, results_url(organization_id("MOA-HQ")))[0].status_code == 200


def test_an_integrator_downloads_with_an_api_token_as_the_schema_says(finalized):
    """Download addresses take the API token too (the schema's `url` descriptions say so): in the
    token's scope; a bad token is refused as on /graphql/; out of scope is 404 as with a cookie."""
    from django.test import Client

    from models.api_tokens import create_api_token
    from models.users import RoleAssignment

    def token_of(national_code):
        role = RoleAssignment.objects.select_related("user").filter(user__national_code=national_code).first()
        return create_api_token(role.user, role, "export", None)[1]

    ali = Client(HTTP_AUTHORIZATION=f"Bearer {token_of(ALI)}")
    hasan = Client(HTTP_AUTHORIZATION=f"Bearer {token_of(HASAN)}")
    url = results_url(organization_id("MOE-HQ"))
    answer = ali.get(url)
    assert answer.status_code == 200
    assert workbook_of(b"".join(answer.streaming_content) if answer.streaming else answer.content)
    assert hasan.get(url).status_code == 404
    refused = Client(HTTP_AUTHORIZATION="Bearer mana_notatoken").get(url)
    assert refused.status_code == 401 and "WWW-Authenticate" in refused


def test_a_temporary_password_must_be_changed_first(finalized):
    User.objects.filter(national_code=ALI).update(must_change_password=True)
    response, _ = download(finalized["ali"], results_url(organization_id("MOE-HQ")))
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "PASSWORD_CHANGE_REQUIRED"


def test_the_export_costs_the_same_queries_for_7_assignments_and_for_57(finalized):
    url = results_url(organization_id("MOE-HQ"))
    with CaptureQueriesContext(connection) as few:
        assert download(finalized["ali"], url)[0].status_code == 200
    hq = Organization.objects.get(code="MOE-HQ")
    period = Assignment.objects.filter(organization=hq).first().period
    for n in range(50):
        indicator = Indicator.objects.create(
            code=f"EXP-{n}", title=f"شاخص {n}", kind="GENERAL", unit="درصد", nature="HIGHER_IS_BETTER"
        )
        Assignment.objects.create(
            indicator=indicator, organization=hq, period=period, target=10, weight=5, score_cap=10
        )
    with CaptureQueriesContext(connection) as many:
        _, content = download(finalized["ali"], url)
    assert len(table(workbook_of(content).active)) == 57 + 1
    assert len(many) == len(few)


# --- the dashboard -------------------------------------------------------------------------------

DASHBOARD = """query($p: ID!) { dashboard(period: $p) { organization { name }
  own { assignments selfScore } totals { assignments selfScore evaluatedScore }
  units { rank organization { code name } totals { assignments referredPercent selfScore evaluatedScore } } } }"""


def test_the_dashboard_exports_the_figures_the_dashboard_shows(finalized):
    board = finalized["ali"].data(DASHBOARD, {"p": period_id()})["dashboard"]
    response, content = download(finalized["ali"], f"/exports/dashboard/{period_id()}.xlsx")
    assert response.status_code == 200, content[:300]
    sheet = workbook_of(content).active
    assert sheet.title == "داشبورد" and sheet.sheet_view.rightToLeft is True
    assert sheet["A1"].value == "داشبورد — وزارت نیرو"
    assert tuple(cell.value for cell in sheet[HEADER_ROW]) == DASHBOARD_HEADERS
    rows = table(sheet)
    own, units, total = rows[0], rows[1:-1], rows[-1]
    assert own["دستگاه"] == "وزارت نیرو (شاخص‌های خود دستگاه)"
    assert own["تعداد شاخص‌ها"] == board["own"]["assignments"]
    assert [(u["رتبه"], u["کد دستگاه"]) for u in units] == [
        (u["rank"], u["organization"]["code"]) for u in board["units"]
    ]
    for row, unit in zip(units, board["units"], strict=True):
        assert row["دستگاه"] == unit["organization"]["name"]
        assert row["تعداد شاخص‌ها"] == unit["totals"]["assignments"]
        assert Decimal(str(row["امتیاز خوداظهاری"])) == Decimal(unit["totals"]["selfScore"])
        assert row["ارجاع‌شده (درصد)"] == unit["totals"]["referredPercent"]
    assert total["دستگاه"] == "جمع کل"
    assert total["تعداد شاخص‌ها"] == board["totals"]["assignments"]
    assert Decimal(str(total["امتیاز خوداظهاری"])) == Decimal(board["totals"]["selfScore"])
    assert Decimal(str(total["امتیاز ارزیابی"])) == Decimal(board["totals"]["evaluatedScore"])

    named = f"/exports/dashboard/{period_id()}/{organization_id('MOE-HQ')}.xlsx"
    assert workbook_of(download(finalized["ali"], named)[1]).active["A1"].value == "داشبورد — ستاد وزارت نیرو"


def test_the_dashboard_export_is_refused_as_the_dashboard_is(finalized):
    forbidden, _ = download(finalized["fatemeh"], f"/exports/dashboard/{period_id()}.xlsx")
    assert forbidden.status_code == 403 and forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    hasan = client_for(HASAN)
    assert download(hasan, f"/exports/dashboard/{period_id()}/{organization_id('MOE')}.xlsx")[0].status_code == 404
    assert download(hasan, f"/exports/dashboard/{encode_global_id('EvaluationPeriod', 999)}.xlsx")[0].status_code == 404
    assert download(GraphQLClient(), f"/exports/dashboard/{period_id()}.xlsx")[0].status_code == 401


# --- the import templates ------------------------------------------------------------------------


def test_the_templates_are_served_to_those_who_may_import(demo):
    senior, ali, fatemeh = client_for(SENIOR), client_for(ALI), client_for(FATEMEH)
    for client, kind, columns in (
        (senior, "organizations", ORGANIZATION_COLUMNS),
        (ali, "assignments", ASSIGNMENT_COLUMNS),
    ):
        response, content = download(client, f"/imports/template/{kind}.xlsx")
        assert response.status_code == 200 and response["Content-Type"] == XLSX
        workbook = workbook_of(content)
        sheet = workbook.worksheets[0]
        assert sheet.sheet_view.rightToLeft is True
        assert [cell.value for cell in sheet[1]] == [column.header for column in columns]
        assert sheet.max_row == 1  # headers only: nothing to delete before filling it
        guide = workbook["راهنما"]
        assert [row[0] for row in guide.iter_rows(min_row=2, max_row=len(columns) + 1, values_only=True)] == [
            column.header for column in columns
        ]
    assert download(ali, "/imports/template/organizations.xlsx")[0].status_code == 403
    assert download(fatemeh, "/imports/template/assignments.xlsx")[0].status_code == 403
    assert download(senior, "/imports/template/people.xlsx")[0].status_code == 404
    assert download(GraphQLClient(), "/imports/template/assignments.xlsx")[0].status_code == 401


def test_the_templates_command_writes_both(tmp_path):
    from django.core.management import call_command

    call_command("excel_templates", "--out", str(tmp_path), stdout=io.StringIO())
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["قالب ورود ابلاغ شاخص‌ها.xlsx", "قالب ورود دستگاه‌ها.xlsx"]
    sheet = load_workbook(tmp_path / names[0]).worksheets[0]
    assert [cell.value for cell in sheet[1]] == [column.header for column in ASSIGNMENT_COLUMNS]
