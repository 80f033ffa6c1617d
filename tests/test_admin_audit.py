"""The admin console cannot rewrite the workflow's audit trail, and tree writes there take the lock."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from models.organization import Organization
from models.referrals import Performance, ReferralEvent
from models.tree_integrity import check_tree
from models.tree_lock import _process_lock
from tests.test_admin import console, one_of_each  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_performance_history_cannot_be_reverted(console, one_of_each):  # noqa: F811
    performance = Performance.objects.get()
    performance.value = Decimal(13)
    performance.save()
    oldest = performance.history.order_by("history_date", "history_id").first()
    url = reverse("admin:mana_performance_simple_history", args=[performance.pk, oldest.history_id])
    assert console.get(url).status_code == 200  # the old version can be read
    response = console.post(url, {"value": "1", "referral": performance.referral_id})
    assert response.status_code == 403
    performance.refresh_from_db()
    assert performance.value == Decimal(13)
    assert performance.history.count() == 2


def test_referral_events_cannot_be_changed_or_deleted(console, one_of_each):  # noqa: F811
    event = ReferralEvent.objects.first()
    change = reverse("admin:mana_referralevent_change", args=[event.pk])
    assert b'name="_save"' not in console.get(change).content
    assert console.post(reverse("admin:mana_referralevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert ReferralEvent.objects.filter(pk=event.pk).exists()


def test_bulk_delete_of_units_rebuilds_the_tree_under_the_lock(console, monkeypatch):  # noqa: F811
    held_during_rebuild = []
    rebuild = Organization._tree_manager.partial_rebuild

    def watched(tree_id):
        held_during_rebuild.append(_process_lock._is_owned())
        return rebuild(tree_id)

    monkeypatch.setattr(Organization._tree_manager, "partial_rebuild", watched)
    leaves = Organization.objects.filter(code__in=["MOE-WRM-FRS", "MOE-ABFA-KHZ"])
    response = console.post(
        reverse("admin:mana_organization_changelist"),
        {"action": "delete_selected", "_selected_action": [o.pk for o in leaves], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Organization.objects.filter(code__in=["MOE-WRM-FRS", "MOE-ABFA-KHZ"]).exists()
    assert held_during_rebuild == [True]
    assert check_tree() == []
