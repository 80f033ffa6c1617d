"""dashboardUpdated over graphql-transport-ws: the workflow's changes reach the dashboards that
cover the unit, recomputed as each subscriber sees it then; a burst is sent once; refusals are
coded (models/dashboard.py, subscriptions/dashboard.py)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from models.organization import Organization
from models.periods import EvaluationPeriod
from schema.ids import encode_global_id
from subscriptions import dashboard as dashboard_live
from tests.test_subscriptions import (
    close_all,
    cookie_of,
    nothing_more,
    open_socket,
    received,
    refer,
    subscribe,
    until_listening,
)
from tests.workflow_helpers import ALI, FATEMEH, HASAN, SAVE, client_for, mutate, period_id

pytestmark = pytest.mark.django_db(transaction=True)

MARYAM = "0010000011"  # senior leader
ZAHRA = "0010000054"  # provincial leader, Tehran
REZA = "0010000062"  # evaluator

UPDATED = """subscription($period: ID!, $organization: ID) {
  dashboardUpdated(period: $period, organization: $organization) {
  organization { code } generatedAt totals { assignments referred selfScore }
  units { rank organization { code } own { assignments referred submitted selfScore } } } }"""


@pytest.fixture
def people(demo) -> dict:
    return {code: client_for(code) for code in (ALI, FATEMEH, HASAN, MARYAM, ZAHRA, REZA)}


async def dashboard_socket(client, organization: str | None = None, operation_id: str = "dashboard"):
    socket = await open_socket(cookie_of(client))
    variables = {"period": await sync_to_async(period_id)()}
    if organization is not None:
        pk = (await Organization.objects.aget(code=organization)).pk
        variables["organization"] = encode_global_id("Organization", pk)
    await subscribe(socket, operation_id, UPDATED, variables)
    return socket


def units_of(data: dict) -> dict[str, dict]:
    return {unit["organization"]["code"]: unit for unit in data["dashboardUpdated"]["units"]}


async def test_a_referral_in_the_ministry_updates_the_dashboards_that_cover_it(people):
    ali = await dashboard_socket(people[ALI])
    senior = await dashboard_socket(people[MARYAM])
    tavanir = await dashboard_socket(people[ALI], "MOE-TAVANIR", "tavanir")
    hasan = await dashboard_socket(people[HASAN])
    zahra = await dashboard_socket(people[ZAHRA])
    await until_listening(5)

    referral = await refer(people[ALI], "MOE-02", FATEMEH)

    data = await received(ali)
    assert data["dashboardUpdated"]["organization"] == {"code": "MOE"}
    # The demo's MOE-01 and now MOE-02 are referred.
    assert units_of(data)["MOE-HQ"]["own"]["referred"] == 2
    assert data["dashboardUpdated"]["totals"]["referred"] == 2
    country = await received(senior)
    assert units_of(country)["MOE"]["own"]["assignments"] == 0
    assert country["dashboardUpdated"]["totals"]["referred"] == 2
    # Tavanir's subtree, another ministry, Tehran's province: not theirs.
    await nothing_more(tavanir, hasan, zahra)

    # A value registered on the top referral changes the self-registered score.
    saved = await sync_to_async(mutate)(
        people[FATEMEH], SAVE, {"referral": referral["id"], "version": 0, "value": "36.5"}
    )
    assert saved["errors"] == []
    assert units_of(await received(ali))["MOE-HQ"]["own"]["selfScore"] == "85"
    assert (await received(senior))["dashboardUpdated"]["totals"]["selfScore"] == "85"
    await nothing_more(ali, senior, tavanir, hasan, zahra)
    await close_all(ali, senior, tavanir, hasan, zahra)


async def test_a_burst_of_changes_is_sent_once(people, monkeypatch):
    from models.events import figures_changed

    monkeypatch.setattr(dashboard_live, "COALESCE_SECONDS", 0.3)
    ali = await dashboard_socket(people[ALI])
    await until_listening(1)
    headquarters = await Organization.objects.aget(code="MOE-HQ")
    period = (await EvaluationPeriod.objects.aget()).pk

    def bulk_change() -> None:
        # As an import or a bulk decision announces it: one message per unit and change.
        with transaction.atomic():
            for _ in range(100):
                figures_changed(period, headquarters.pk)

    await sync_to_async(bulk_change)()
    assert (await received(ali))["dashboardUpdated"]["organization"] == {"code": "MOE"}
    await nothing_more(ali)
    await close_all(ali)


async def test_a_subscriber_no_longer_in_scope_gets_nothing(people):
    from guardian.shortcuts import remove_perm

    from models.users import User

    ali = await dashboard_socket(people[ALI])
    await until_listening(1)
    await refer(people[ALI], "MOE-02", FATEMEH)
    assert units_of(await received(ali))["MOE-HQ"]["own"]["referred"] == 2

    # An administrator withdraws his lead of the ministry: the next change reaches him no more.
    user = await User.objects.aget(national_code=ALI)
    ministry = await Organization.objects.aget(code="MOE")
    await sync_to_async(remove_perm)("mana.lead_organization", user, ministry)
    from models.events import figures_changed

    headquarters = await Organization.objects.aget(code="MOE-HQ")
    period = (await EvaluationPeriod.objects.aget()).pk
    await sync_to_async(figures_changed)(period, headquarters.pk)
    await nothing_more(ali)
    await close_all(ali)


async def test_refusals_are_coded_for_that_subscription_only(people):
    from tests.test_subscriptions import PERIODS

    async def answer(client, organization: str | None, operation_id: str) -> list[str]:
        socket = await dashboard_socket(client, organization, operation_id) if client else await open_socket()
        if client is None:
            await subscribe(socket, operation_id, UPDATED, {"period": await sync_to_async(period_id)()})
        message = await socket.receive_json_from(timeout=5)
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        # The socket goes on.
        await subscribe(socket, "periods", PERIODS)
        assert (await socket.receive_json_from(timeout=5))["type"] in {"next", "complete"}
        await socket.disconnect()
        return [error["extensions"]["code"] for error in errors]

    # A self-evaluator and an evaluator: not for them (the seed's rule), whatever they name.
    assert await answer(people[FATEMEH], None, "self") == ["FORBIDDEN"]
    assert await answer(people[REZA], "MOE", "evaluator") == ["FORBIDDEN"]
    # Another ministry's leader: out of scope is missing.
    assert await answer(people[HASAN], "MOE", "outside") == ["NOT_FOUND"]
    assert await answer(None, None, "anonymous") == ["UNAUTHENTICATED"]


async def test_a_change_in_a_province_reaches_the_provincial_leader_and_the_leaders_above(people):
    from models.events import figures_changed

    zahra = await dashboard_socket(people[ZAHRA])
    tavanir = await dashboard_socket(people[ALI], "MOE-TAVANIR", "tavanir")
    hasan = await dashboard_socket(people[HASAN])
    await until_listening(3)
    tehran = await Organization.objects.aget(code="MOE-TAVANIR-THR")
    period = (await EvaluationPeriod.objects.aget()).pk
    # As an approved proposal or an import announces a new assignment of Tehran's distribution company.
    await sync_to_async(figures_changed)(period, tehran.pk)
    province = (await received(zahra))["dashboardUpdated"]
    assert province["organization"] == {"code": "MPO-THR"}
    assert "MOE-TAVANIR-THR" in units_of({"dashboardUpdated": province})
    assert (await received(tavanir))["dashboardUpdated"]["organization"] == {"code": "MOE-TAVANIR"}
    await nothing_more(zahra, tavanir, hasan)
    await close_all(zahra, tavanir, hasan)
