"""Live-update events: what the domain announces once a change has committed.

The workflow (models/workflow.py) and registration (models/registration.py) call :func:`announce`
inside their transaction; the event is handed to the publisher (subscriptions/publish.py) only in
``transaction.on_commit``, so a change that rolls back never announces itself. An event names the
item (a referral or a registration request), the actor, the time and the people whose inbox it
concerns — ids only: what each subscriber may see is decided on delivery, with the subscriber's own
viewer (subscriptions/delivery.py), never here and never with the actor's. The request that made
the change therefore does no per-subscriber work at all.
"""

from __future__ import annotations

import datetime
import enum
import functools
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from models.indicators import ReferralStatus

logger = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    # In the inbox of the referral's assignee and referrer (inboxUpdated) and on referralChanged.
    ASSIGNED = "ASSIGNED"
    RETURNED = "RETURNED"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    FINALIZED = "FINALIZED"
    SENT_FOR_EVALUATION = "SENT_FOR_EVALUATION"
    # The assignment's evaluation was published (models/evaluation_workflow.py): feedback to read.
    EVALUATED = "EVALUATED"
    # In the assignee's inbox only: a referral's deadline is near / has passed (models/deadline_reminders.py).
    DEADLINE_NEAR = "DEADLINE_NEAR"
    DEADLINE_PASSED = "DEADLINE_PASSED"
    # In the approver's inbox only.
    REGISTRATION_REQUEST = "REGISTRATION_REQUEST"
    # On referralChanged only: the inbox does not change with them.
    DELEGATED = "DELEGATED"
    PERFORMANCE_SAVED = "PERFORMANCE_SAVED"
    EVIDENCE_ADDED = "EVIDENCE_ADDED"


INBOX_KINDS = frozenset(
    {
        EventKind.ASSIGNED,
        EventKind.RETURNED,
        EventKind.SUBMITTED,
        EventKind.APPROVED,
        EventKind.FINALIZED,
        EventKind.SENT_FOR_EVALUATION,
        EventKind.EVALUATED,
        EventKind.DEADLINE_NEAR,
        EventKind.DEADLINE_PASSED,
        EventKind.REGISTRATION_REQUEST,
    }
)

S = ReferralStatus
# The status a transition reaches → what happened (None: a new referral, in progress).
KIND_OF_STATUS = {
    S.IN_PROGRESS.value: EventKind.ASSIGNED,
    S.RETURNED.value: EventKind.RETURNED,
    S.SUBMITTED.value: EventKind.SUBMITTED,
    S.APPROVED.value: EventKind.APPROVED,
    S.FINALIZED.value: EventKind.FINALIZED,
    S.SENT_FOR_EVALUATION.value: EventKind.SENT_FOR_EVALUATION,
    S.DELEGATED.value: EventKind.DELEGATED,
}


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: datetime.datetime
    actor_id: int | None
    referral_id: int | None = None
    registration_request_id: int | None = None
    # Whose inbox it concerns: one channel-layer group per person (mana.user.<id>).
    user_ids: tuple[int, ...] = ()

    @property
    def in_inbox(self) -> bool:
        return self.kind in INBOX_KINDS and bool(self.user_ids)

    def as_message(self) -> dict:
        """The channel-layer message body (msgpack/JSON-safe: ids, strings)."""
        return {
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "referral": self.referral_id,
            "registration_request": self.registration_request_id,
        }


def announce(event: Event) -> None:
    """Publish ``event`` once the current transaction commits (at once outside a transaction).

    ``robust``: a publisher fault after the commit is logged by Django and never turns the
    committed change into an error for the person who made it."""
    from subscriptions.publish import publish

    transaction.on_commit(functools.partial(publish, event), robust=True)


def referral_changed(referral, actor, kind: EventKind) -> None:
    """A referral's status, performance or evidence changed: its subscribers, and for the inbox
    kinds its assignee and referrer (both sides of the item; the actor is one of them, and their
    other open tabs want the update too)."""
    user_ids = tuple(sorted({pk for pk in (referral.assignee_id, referral.referrer_id) if pk is not None}))
    announce(
        Event(
            kind=kind,
            at=timezone.now(),
            actor_id=getattr(actor, "pk", None),
            referral_id=referral.pk,
            user_ids=user_ids if kind in INBOX_KINDS else (),
        )
    )
    if referral.parent_id is None and kind in FIGURE_KINDS:
        _top_referral_figures_changed(referral)


# What a dashboard counts of a top referral (models/dashboard.py): its creation (referred), its
# submission, return and final registration, and the value registered on it (the self-registered
# score; an approval below writes the carried-up value together with the SUBMITTED transition).
FIGURE_KINDS = frozenset(
    {EventKind.ASSIGNED, EventKind.SUBMITTED, EventKind.RETURNED, EventKind.FINALIZED, EventKind.PERFORMANCE_SAVED}
)


def _top_referral_figures_changed(referral) -> None:
    # The workflow has the assignment loaded (locked or just referred); a bare row costs one query.
    assignment = referral._state.fields_cache.get("assignment")
    if assignment is None:
        from models.indicators import Assignment

        assignment = Assignment.objects.only("period_id", "organization_id").get(pk=referral.assignment_id)
    figures_changed(assignment.period_id, assignment.organization_id)


def referral_transition(referral, actor, to_status: str) -> None:
    """Every status transition the workflow records (models.workflow._record)."""
    kind = KIND_OF_STATUS.get(getattr(to_status, "value", to_status))
    if kind is not None:
        referral_changed(referral, actor, kind)


def registration_request_received(request) -> None:
    announce(
        Event(
            kind=EventKind.REGISTRATION_REQUEST,
            at=timezone.now(),
            actor_id=None,
            registration_request_id=request.pk,
            user_ids=(request.approver_id,),
        )
    )


def tokens_revoked(revoked: list[tuple[int, int]]) -> None:
    """(user id, token id) of API tokens just revoked: once committed, the sockets signed in with
    them close (subscriptions/consumers.py); a rolled-back revocation closes nothing."""
    from subscriptions.publish import TOKEN_REVOKED_MESSAGE, publish_to_user

    for user_id, token_id in revoked:
        message = {"type": TOKEN_REVOKED_MESSAGE, "token": token_id}
        transaction.on_commit(functools.partial(publish_to_user, user_id, message), robust=True)


DASHBOARD_MESSAGE = "mana.dashboard"


def dashboard_group(period_id: int) -> str:
    return f"mana.dashboard.{period_id}"


def figures_changed(period_id: int, organization_id: int) -> None:
    """Something a dashboard counts changed for ``organization_id``'s assignments in the period (a
    referral moved, an evaluation was published, an assignment was added or taken out of scoring).

    Once committed, one message to the period's dashboard group, naming the unit: each dashboard
    subscription decides on its own socket whether the unit is in what it shows and recomputes
    (subscriptions/live.py) — the request that made the change does nothing per subscriber."""
    from subscriptions.publish import schedule_send

    message = {"type": DASHBOARD_MESSAGE, "period": period_id, "organization": organization_id}
    transaction.on_commit(
        functools.partial(schedule_send, dashboard_group(period_id), message, f"figures of unit {organization_id}"),
        robust=True,
    )
