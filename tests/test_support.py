"""«پشتیبانی» (issue 10 §6): the support contacts on the sign-in page, public, as the administrator
sets them in the admin console."""

from __future__ import annotations

from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from models.demo import DEMO_PASSWORD
from models.site_settings import SiteSettings
from tests.conftest import GraphQLClient
from tests.workflow_helpers import FATEMEH, client_for

SUPPORT = "{ support { phone hours url } }"
SENIOR_LEADER = "0010000011"  # مریم, a staff user of the demo


def signed_in_console() -> Client:
    console = Client()
    # axes counts sign-ins per request and refuses authenticate() without one.
    assert console.login(request=HttpRequest(), national_code=SENIOR_LEADER, password=DEMO_PASSWORD)
    return console


def test_anyone_reads_support_without_signing_in(demo):
    answer = GraphQLClient().execute(SUPPORT)
    assert "errors" not in answer, answer
    # The defaults: the seed's support system and working hours; no phone until one is set.
    assert answer["data"]["support"] == {
        "phone": None,
        "hours": "روزهای کاری ۸ الی ۱۶",
        "url": "https://amalkardtk.aro.gov.ir",
    }


def test_signed_in_people_read_the_same(demo):
    assert client_for(FATEMEH).data(SUPPORT) == GraphQLClient().data(SUPPORT)


def test_an_edit_in_the_admin_console_changes_what_support_answers(demo):
    console = signed_in_console()
    page = reverse("admin:mana_sitesettings_change")
    assert console.get(page).status_code == 200
    response = console.post(
        page,
        {
            "support_phone": "021-42731000",
            "support_hours": "شنبه تا چهارشنبه ۸ الی ۱۵",
            "support_url": "https://support.example.ir/mana",
            "reminder_days_before": "5",
            "_save": "ذخیره",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SiteSettings.get_solo().support_phone == "021-42731000"
    assert GraphQLClient().data(SUPPORT)["support"] == {
        "phone": "021-42731000",
        "hours": "شنبه تا چهارشنبه ۸ الی ۱۵",
        "url": "https://support.example.ir/mana",
    }
    # Cleared, the phone and the address are null, not empty strings (the hours are required).
    response = console.post(
        page, {"support_phone": "", "support_hours": "۸ الی ۱۴", "support_url": "", "reminder_days_before": "5"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert GraphQLClient().data(SUPPORT)["support"] == {"phone": None, "hours": "۸ الی ۱۴", "url": None}


def test_a_bad_address_is_refused_by_the_console_and_changes_nothing(demo):
    console = signed_in_console()
    before = GraphQLClient().data(SUPPORT)
    response = console.post(
        reverse("admin:mana_sitesettings_change"),
        {"support_phone": "1", "support_hours": "x", "support_url": "not a url", "reminder_days_before": "5"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert GraphQLClient().data(SUPPORT) == before
