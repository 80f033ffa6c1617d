"""An assignee who splits her referral by province can name the provinces and place her people."""

from __future__ import annotations

import pytest

from models.organization import Organization
from models.users import RoleAssignment, User
from schema.ids import encode_global_id
from tests.workflow_helpers import ALI, FATEMEH, HASAN, MOHAMMAD, client_for

pytestmark = pytest.mark.django_db

PROVINCES = "{ provinces { id code name } }"
SUBORDINATES = "{ me { subordinates { nationalCode organization { code province { code } } } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Organization { code province { code name } } } }"


def test_provinces_are_the_31_for_every_signed_in_person(gql, demo):
    assert gql.error_codes(PROVINCES) == ["UNAUTHENTICATED"]
    for person in (FATEMEH, ALI, MOHAMMAD):
        provinces = client_for(person).data(PROVINCES)["provinces"]
        assert len(provinces) == 31
        assert provinces[0] == {"id": provinces[0]["id"], "code": "IR-00", "name": "مرکزی"}
        assert {"code": "IR-23", "name": "تهران"} in [{k: p[k] for k in ("code", "name")} for p in provinces]


def test_a_province_id_from_provinces_is_what_refer_takes(demo):
    fatemeh = client_for(FATEMEH)
    tehran = next(p for p in fatemeh.data(PROVINCES)["provinces"] if p["code"] == "IR-23")
    # The id resolves back through node, the same object.
    assert fatemeh.data("query($id: ID!) { node(id: $id) { ... on Province { code } } }", {"id": tehran["id"]}) == {
        "node": {"code": "IR-23"}
    }


def test_one_sees_the_unit_and_province_of_each_subordinate(demo):
    subordinates = client_for(FATEMEH).data(SUBORDINATES)["me"]["subordinates"]
    units = {s["nationalCode"]: s["organization"] for s in subordinates}
    assert units[MOHAMMAD] == {"code": "MOE-TAVANIR-THR", "province": {"code": "IR-23"}}
    assert all(unit is not None for unit in units.values()), units


def test_a_subordinates_unit_is_seen_through_them_only(demo):
    fatemeh = client_for(FATEMEH)
    tehran_unit = Organization.objects.get(code="MOE-TAVANIR-THR")
    # Through the subordinate, yes; as part of her scope (node, organizations), no.
    assert fatemeh.data(NODE, {"id": encode_global_id("Organization", tehran_unit.pk)}) == {"node": None}
    organizations = fatemeh.data("{ organizations { edges { node { code } } } }")["organizations"]
    codes = [edge["node"]["code"] for edge in organizations["edges"]]
    assert "MOE-TAVANIR-THR" not in codes
    # His ministry's main leader sees it through his subtree; another ministry's does not see him.
    mohammad = encode_global_id("User", User.objects.get(national_code=MOHAMMAD).pk)
    query = "query($id: ID!) { node(id: $id) { ... on User { organization { code } } } }"
    assert client_for(ALI).data(query, {"id": mohammad}) == {"node": {"organization": {"code": "MOE-TAVANIR-THR"}}}
    assert client_for(HASAN).data(query, {"id": mohammad}) == {"node": None}


def test_a_withdrawn_subordinate_or_role_hides_the_unit_again(demo):
    fatemeh = client_for(FATEMEH)
    User.objects.filter(national_code=MOHAMMAD).update(is_active=False)
    subordinates = fatemeh.data(SUBORDINATES)["me"]["subordinates"]
    assert MOHAMMAD not in {s["nationalCode"] for s in subordinates}
    User.objects.filter(national_code=MOHAMMAD).update(is_active=True)
    RoleAssignment.objects.filter(user__national_code=FATEMEH).delete()
    assert fatemeh.error_codes(SUBORDINATES) == ["FORBIDDEN"]


def test_subordinates_units_cost_the_same_queries_for_three_or_thirty(demo, count_queries):
    fatemeh = client_for(FATEMEH)
    with count_queries() as few:
        fatemeh.data(SUBORDINATES)
    approver = User.objects.get(national_code=FATEMEH)
    units = list(Organization.objects.filter(kind__in=["PROVINCIAL", "REGIONAL"]))
    for index in range(27):
        code = f"{990000000 + index:09d}"
        check = sum(int(d) * (10 - i) for i, d in enumerate(code)) % 11
        User.objects.create_user(
            code + str(check if check < 2 else 11 - check),
            "x",
            first_name="کارشناس",
            last_name=f"شماره {index}",
            approver=approver,
            organization=units[index % len(units)],
        )
    with count_queries() as many:
        subordinates = fatemeh.data(SUBORDINATES)["me"]["subordinates"]
    assert len(subordinates) == 30 and all(s["organization"] for s in subordinates)
    assert many.count == few.count, many.sql()
