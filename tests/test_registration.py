"""ثبت‌نام and «تأیید درخواست‌ها»: the seed's story through POST /graphql/, and every refusal."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from models.credentials import OneTimeCode
from models.organization import Organization
from models.requests import RegistrationRequest, RequestStatus
from models.users import RoleAssignment, User
from schema.ids import encode_global_id
from tests.conftest import GraphQLClient
from tests.identity_helpers import LOGIN, LOGIN_WITH_OTP, PASSED, REQUEST_OTP, six_digits, texts_to
from tests.workflow_helpers import ALI, FATEMEH, client_for

HAMIDREZA = "0091537525"
HAMIDREZA_MOBILE = "09121112233"
ALI_MOBILE = "09120000021"
MARYAM = "0010000011"
MARYAM_MOBILE = "09120000011"

SUBMIT = """mutation($i: SubmitRegistrationRequestInput!) { submitRegistrationRequest(input: $i) {
  errors { field code message } trackingCode fullName } }"""
QUEUE = """query($status: RequestStatus, $search: String) { registrationRequests(status: $status, search: $search) {
  totalCount edges { node { id trackingCode subsystem organization { code name } nationalCode fullName post mobile
  landline birthDate status requestedRole createdAt reviewedAt reviewReason } } } }"""
APPROVE = """mutation($i: ReviewRegistrationRequestInput!) { approveRegistrationRequest(input: $i) {
  errors { field code message } request { trackingCode status reviewedAt } } }"""
REJECT = """mutation($i: ReviewRegistrationRequestInput!) { rejectRegistrationRequest(input: $i) {
  errors { field code message } request { trackingCode status reviewReason } } }"""


def org_id(code: str) -> str:
    return encode_global_id("Organization", Organization.objects.get(code=code).pk)


def form(**changes) -> dict:
    values = {
        "nationalCode": "۰۰۹۱۵۳۷۵۲۵",
        "mobile": "+98 912 111 2233",
        "birthDate": "۱۳۶۸/۰۵/۲۱",
        "landline": "021-81234567",
        "post": "مدیر دفتر توسعه مدیریت و بهره‌وری",
        "approverMobile": ALI_MOBILE,
        "requestedRole": "SELF_EVALUATOR",
        "organization": org_id("MOE-TAVANIR"),
        "captcha": PASSED,
    }
    values.update(changes)
    return values


def submit(client=None, **changes) -> dict:
    client = client or GraphQLClient()
    return client.data(SUBMIT, {"i": form(**changes)})["submitRegistrationRequest"]


def _state() -> tuple:
    return (
        list(RegistrationRequest.objects.order_by("id").values_list("id", "status", "reviewed_at")),
        list(User.objects.order_by("id").values_list("id", "is_active", "approver_id", "password")),
        list(RoleAssignment.objects.order_by("id").values_list("id", "user_id", "role", "organization_id")),
    )


def test_the_seed_story_register_approve_sign_in(demo, sms_outbox, settings):
    submitted = submit()
    assert submitted["errors"] == [] and submitted["fullName"] == "حمیدرضا قهرمانی"
    tracking = submitted["trackingCode"]
    assert tracking.isdigit() and len(tracking) == 10
    assert tracking in texts_to(sms_outbox, HAMIDREZA_MOBILE)[0]
    assert any("در انتظار تصمیم" in t for t in texts_to(sms_outbox, ALI_MOBILE))

    ali = client_for(ALI)
    queue = ali.data(QUEUE, {"status": "PENDING"})["registrationRequests"]
    mine = next(e["node"] for e in queue["edges"] if e["node"]["trackingCode"] == tracking)
    assert mine | {"id": None, "createdAt": None} == {
        "id": None,
        "trackingCode": tracking,
        "subsystem": "مدیریت عملکرد",
        "organization": {"code": "MOE-TAVANIR", "name": "شرکت مادرتخصصی توانیر"},
        "nationalCode": HAMIDREZA,
        "fullName": "حمیدرضا قهرمانی",
        "post": "مدیر دفتر توسعه مدیریت و بهره‌وری",
        "mobile": HAMIDREZA_MOBILE,
        "landline": "02181234567",
        "birthDate": "1368/05/21",
        "status": "PENDING",
        "requestedRole": "SELF_EVALUATOR",
        "createdAt": None,
        "reviewedAt": None,
        "reviewReason": "",
    }
    assert ali.data(QUEUE, {"search": "قهرمانی"})["registrationRequests"]["totalCount"] == 1
    assert ali.data(QUEUE, {"search": tracking})["registrationRequests"]["totalCount"] == 1
    # The same object through node.
    node = ali.data(
        "query($id: ID!) { node(id: $id) { ... on RegistrationRequest { trackingCode } } }", {"id": mine["id"]}
    )
    assert node == {"node": {"trackingCode": tracking}}

    sms_outbox.clear()
    approved = ali.data(APPROVE, {"i": {"request": mine["id"]}})["approveRegistrationRequest"]
    assert approved["errors"] == [] and approved["request"]["status"] == "APPROVED"
    [text] = texts_to(sms_outbox, HAMIDREZA_MOBILE)
    temporary = text.split("رمز عبور موقت: ")[1].split("\n")[0]

    person = User.objects.get(national_code=HAMIDREZA)
    assert (person.first_name, person.last_name, person.approver.national_code) == ("حمیدرضا", "قهرمانی", ALI)
    assert person.organization.code == "MOE-TAVANIR" and person.must_change_password
    assert list(person.role_assignments.values_list("role", "organization__code")) == [
        ("SELF_EVALUATOR", "MOE-TAVANIR")
    ]

    # He signs in with password + captcha, picks his own password, and sees his unit.
    hamidreza = GraphQLClient()
    signed_in = hamidreza.data(LOGIN, {"i": {"nationalCode": HAMIDREZA, "password": temporary, "captcha": PASSED}})
    assert signed_in["login"]["mustChangePassword"] is True
    changed = hamidreza.data(
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { errors { code } } }",
        {"i": {"currentPassword": temporary, "newPassword": "Hamidreza-own-1402"}},
    )
    assert changed == {"changePassword": {"errors": []}}
    units = hamidreza.data("{ organizations { edges { node { code } } } }")["organizations"]["edges"]
    assert [e["node"]["code"] for e in units] == ["MOE-TAVANIR"]
    # And with a one-time code.
    otp_client = GraphQLClient()
    otp_client.data(REQUEST_OTP, {"i": {"nationalCode": HAMIDREZA, "captcha": PASSED}})
    code = six_digits(texts_to(sms_outbox, HAMIDREZA_MOBILE)[-1])
    assert (
        otp_client.data(LOGIN_WITH_OTP, {"i": {"nationalCode": HAMIDREZA, "code": code}})["loginWithOtp"]["errors"]
        == []
    )
    # He is among the main leader's subordinates, someone to refer indicators to.
    subordinates = ali.data("{ me { subordinates { nationalCode organization { code } } } }")["me"]["subordinates"]
    assert {"nationalCode": HAMIDREZA, "organization": {"code": "MOE-TAVANIR"}} in subordinates
    # A decided request is not decided again.
    again = ali.data(REJECT, {"i": {"request": mine["id"], "reason": "دیر"}})["rejectRegistrationRequest"]
    assert again["errors"][0]["code"] == "CONFLICT"
    assert OneTimeCode.objects.filter(national_code=HAMIDREZA).count() == 1


def test_rejection_needs_a_reason_and_tells_the_applicant(demo, sms_outbox):
    submit()
    ali = client_for(ALI)
    request_id = ali.data(QUEUE, {"search": HAMIDREZA})["registrationRequests"]["edges"][0]["node"]["id"]
    before = _state()
    for reason in (None, "   "):
        refused = ali.data(REJECT, {"i": {"request": request_id, "reason": reason}})["rejectRegistrationRequest"]
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("reason", "REASON_REQUIRED")]
    assert _state() == before
    sms_outbox.clear()
    rejected = ali.data(REJECT, {"i": {"request": request_id, "reason": "پست سازمانی نادرست است"}})
    assert rejected["rejectRegistrationRequest"]["request"]["status"] == "REJECTED"
    [text] = texts_to(sms_outbox, HAMIDREZA_MOBILE)
    assert "رد شد" in text and "پست سازمانی نادرست است" in text
    assert not User.objects.filter(national_code=HAMIDREZA).exists()
    # Rejected, the person may ask again.
    assert submit()["errors"] == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"nationalCode": "0091537526"}, [("nationalCode", "INVALID_NATIONAL_CODE")]),
        ({"mobile": "0212345678"}, [("mobile", "INVALID_MOBILE")]),
        ({"landline": "09121234567"}, [("landline", "INVALID_LANDLINE")]),
        ({"landline": "8123"}, [("landline", "INVALID_LANDLINE")]),
        ({"post": "  "}, [("post", "INVALID")]),
        ({"birthDate": "1400/01/01"}, [("birthDate", "INVALID_DATE")]),
        ({"approverMobile": "123"}, [("approverMobile", "INVALID_MOBILE")]),
        # Nobody has this mobile; the senior leader is above, but not a main leader's approver.
        ({"approverMobile": "09129999999"}, [("approverMobile", "UNKNOWN_APPROVER")]),
        # فاطمه's role is at the ministry's headquarters, not above توانیر.
        ({"approverMobile": "09121555900"}, [("approverMobile", "UNKNOWN_APPROVER")]),
        ({"organization": None}, [("organization", "ORGANIZATION_TOO_GENERAL")]),
        ({"organization": "bm9wZQ=="}, [("organization", "NOT_FOUND")]),
        ({"requestedRole": "MAIN_LEADER"}, [("requestedRole", "ROLE_NOT_REQUESTABLE")]),
        ({"requestedRole": "HONORARY_EVALUATOR"}, [("requestedRole", "ROLE_NOT_REQUESTABLE")]),
        ({"requestedRole": "PROVINCIAL_LEADER"}, [("requestedRole", "ROLE_NOT_REQUESTABLE")]),
        (
            {"nationalCode": "12", "mobile": "1", "landline": "1"},
            [("nationalCode", "INVALID_NATIONAL_CODE"), ("mobile", "INVALID_MOBILE"), ("landline", "INVALID_LANDLINE")],
        ),
        # The registry: unknown person, another birth date; Shahkar: another's mobile.
        ({"nationalCode": "0499370899"}, [("nationalCode", "UNKNOWN_PERSON")]),
        ({"birthDate": "1368/05/22"}, [("birthDate", "BIRTH_DATE_MISMATCH")]),
        ({"mobile": "09121112244"}, [("mobile", "MOBILE_MISMATCH")]),
        ({"captcha": {"key": "x", "value": "1"}}, [("captcha", "CAPTCHA_INVALID")]),
    ],
)
def test_a_refused_registration_creates_nothing(demo, sms_outbox, settings, changes, expected):
    if changes.get("organization", "") is None:
        changes["organization"] = org_id("MOE")
    if "captcha" in changes:
        settings.CAPTCHA_TEST_MODE = False
    before = _state()
    refused = submit(**changes)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == expected
    assert all(e["message"] for e in refused["errors"])
    assert refused["trackingCode"] is None
    assert _state() == before and sms_outbox == []


def test_a_second_pending_request_is_refused(demo, sms_outbox):
    assert submit()["errors"] == []
    before = _state()
    assert [(e["field"], e["code"]) for e in submit()["errors"]] == [("nationalCode", "DUPLICATE_REQUEST")]
    assert _state() == before


def test_an_unreachable_registry_is_said_and_nothing_is_created(demo, sms_outbox, settings):
    settings.MANA_IDENTITY_BACKEND = "http"
    settings.MANA_CIVIL_REGISTRY_URL = "http://127.0.0.1:9/registry"
    settings.MANA_SHAHKAR_URL = "http://127.0.0.1:9/shahkar"
    before = _state()
    refused = submit()
    assert [e["code"] for e in refused["errors"]] == ["IDENTITY_SERVICE_UNAVAILABLE"]
    assert _state() == before


def test_honorary_evaluators_register_with_the_senior_leaders_office(demo, sms_outbox):
    applicant = {"nationalCode": "0087654326", "mobile": "09121112244", "birthDate": "1370/12/24"}
    # A main leader is not who approves an honorary evaluator.
    refused = submit(
        requestedRole="HONORARY_EVALUATOR",
        organization=org_id("ARO"),
        approverMobile=ALI_MOBILE,
        **applicant,
    )
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("approverMobile", "UNKNOWN_APPROVER")]
    ok = submit(
        requestedRole="HONORARY_EVALUATOR",
        organization=org_id("ARO"),
        approverMobile=MARYAM_MOBILE,
        **applicant,
    )
    assert ok["errors"] == []
    maryam = client_for(MARYAM)
    [edge] = maryam.data(QUEUE, {"status": "PENDING"})["registrationRequests"]["edges"]
    assert edge["node"]["requestedRole"] == "HONORARY_EVALUATOR"
    assert maryam.data(APPROVE, {"i": {"request": edge["node"]["id"]}})["approveRegistrationRequest"]["errors"] == []
    person = User.objects.get(national_code="0087654326")
    assert list(person.role_assignments.values_list("role", "organization__code")) == [("HONORARY_EVALUATOR", "ARO")]


def test_nobody_acts_on_a_request_not_addressed_to_them(demo, sms_outbox):
    submit()
    request = RegistrationRequest.objects.get(national_code=HAMIDREZA)
    request_id = encode_global_id("RegistrationRequest", request.pk)
    before = _state()
    for client in (client_for(FATEMEH), client_for(MARYAM), client_for("0010000038")):
        # Not in their queue, not through node, and not theirs to decide.
        assert all(e["node"]["nationalCode"] != HAMIDREZA for e in client.data(QUEUE)["registrationRequests"]["edges"])
        assert client.data("query($id: ID!) { node(id: $id) { id } }", {"id": request_id}) == {"node": None}
        for document, extra in ((APPROVE, {}), (REJECT, {"reason": "نه"})):
            result = client.data(document, {"i": {"request": request_id, **extra}})
            [payload] = result.values()
            assert [(e["field"], e["code"]) for e in payload["errors"]] == [("request", "NOT_FOUND")]
    anonymous = GraphQLClient()
    assert anonymous.error_codes(QUEUE) == ["UNAUTHENTICATED"]
    assert anonymous.error_codes(APPROVE, {"i": {"request": request_id}}) == ["UNAUTHENTICATED"]
    assert _state() == before
    assert RegistrationRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING


def test_the_queue_follows_the_active_role(demo, sms_outbox):
    """سارا موسوی holds a role at ستاد and one at توانیر: a request for a توانیر unit waits in her queue
    only while she acts at توانیر."""
    sara_mobile = User.objects.get(national_code="0010000070").mobile
    assert submit(approverMobile=sara_mobile)["errors"] == []
    sara = client_for("0010000070")
    assert sara.data(QUEUE)["registrationRequests"]["totalCount"] == 0
    tavanir = RoleAssignment.objects.get(user__national_code="0010000070", organization__code="MOE-TAVANIR")
    sara.data(
        "mutation($i: SwitchRoleInput!) { switchRole(input: $i) { errors { code } } }",
        {"i": {"roleAssignment": encode_global_id("RoleAssignment", tavanir.pk)}},
    )
    assert sara.data(QUEUE)["registrationRequests"]["totalCount"] == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL's row locks"
)
@pytest.mark.django_db(transaction=True)
def test_two_decisions_at_once_one_wins(sms_outbox):
    from models.demo import load_demo

    load_demo()
    request = RegistrationRequest.objects.get(status=RequestStatus.PENDING)
    request_id = encode_global_id("RegistrationRequest", request.pk)
    ali_a, ali_b = client_for(ALI), client_for(ALI)
    results: dict[str, dict] = {}
    barrier = threading.Barrier(2)

    def act(name, client, document, extra):
        barrier.wait()
        try:
            results[name] = client.data(document, {"i": {"request": request_id, **extra}})
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("approve", ali_a, APPROVE, {})),
        threading.Thread(target=act, args=("reject", ali_b, REJECT, {"reason": "تکراری"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    payloads = [next(iter(result.values())) for result in results.values()]
    assert sorted(bool(p["errors"]) for p in payloads) == [False, True]
    loser = next(p for p in payloads if p["errors"])
    assert loser["errors"][0]["code"] == "CONFLICT"
    request.refresh_from_db()
    created = User.objects.filter(national_code=request.national_code).exists()
    assert created == (request.status == RequestStatus.APPROVED)


def test_registration_form_choices_need_no_sign_in(demo):
    anonymous = GraphQLClient()
    top = anonymous.data("{ registrationOrganizations { id name kind hasChildren } }")["registrationOrganizations"]
    assert {row["kind"] for row in top} == {"ARO", "MINISTRY", "PRESIDENTIAL_ORGANIZATION"}
    moe = next(row for row in top if row["name"] == "وزارت نیرو")
    children = anonymous.data(
        "query($p: ID) { registrationOrganizations(parent: $p) { name kind } }", {"p": moe["id"]}
    )["registrationOrganizations"]
    assert {"name": "شرکت مادرتخصصی توانیر", "kind": "SUBSIDIARY"} in children
    assert anonymous.error_codes('{ registrationOrganizations(parent: "bad") { id } }') == ["INVALID_ID"]


def test_arabic_digits_are_read_in_every_number(demo, sms_outbox):
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    submitted = submit(
        nationalCode="0091537525".translate(arabic),
        mobile="09121112233".translate(arabic),
        birthDate="1368/05/21".translate(arabic),
        landline="021-81234567".translate(arabic),
        approverMobile=ALI_MOBILE.translate(arabic),
    )
    assert submitted["errors"] == []
    request = RegistrationRequest.objects.get(tracking_code=submitted["trackingCode"])
    assert (request.national_code, request.mobile, request.landline) == (HAMIDREZA, HAMIDREZA_MOBILE, "02181234567")


def test_an_approval_that_cannot_be_carried_out_changes_nothing(demo, sms_outbox):
    """The applicant's mobile went to someone else meanwhile: refused, the request still pending."""
    pending = RegistrationRequest.objects.get(status=RequestStatus.PENDING)
    User.objects.filter(national_code=FATEMEH).update(mobile=pending.mobile)
    before = _state()
    sms_outbox.clear()
    ali = client_for(ALI)
    refused = ali.data(APPROVE, {"i": {"request": encode_global_id("RegistrationRequest", pending.pk)}})
    assert [(e["field"], e["code"]) for e in refused["approveRegistrationRequest"]["errors"]] == [
        ("request", "MOBILE_TAKEN")
    ]
    assert _state() == before and list(sms_outbox) == []


def test_the_queue_costs_the_same_number_of_queries_however_long_it_is(demo, count_queries):
    """A page of requests (with each one's unit) is read in a fixed number of statements."""
    template = RegistrationRequest.objects.get(status=RequestStatus.PENDING)
    units = list(Organization.objects.filter(code__in=["MOE-TAVANIR", "MOE-HQ", "MOE-WRM"]))
    ali = client_for(ALI)

    def counted() -> tuple[int, int]:
        with count_queries() as counter:
            page = ali.data(QUEUE, {"status": "PENDING"})
        return page["registrationRequests"]["totalCount"], counter.count

    small = counted()
    for n in range(40):
        RegistrationRequest.objects.create(
            **{
                field.name: getattr(template, field.name)
                for field in RegistrationRequest._meta.concrete_fields
                if field.name not in {"id", "tracking_code", "national_code", "organization", "created_at"}
            },
            tracking_code=f"99{n:08d}",
            national_code=f"{n:010d}",
            organization=units[n % len(units)],
        )
    large = counted()
    assert (small[0], large[0]) == (1, 41)
    assert large[1] == small[1], (small, large)
