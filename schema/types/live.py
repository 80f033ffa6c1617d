"""Live updates (subscriptions) as the API shows them."""

from __future__ import annotations

import datetime
import enum

import strawberry

from models.events import INBOX_KINDS, EventKind
from schema.types.referral import ReferralNode
from schema.types.registration import RegistrationRequestNode

# Made from the domain's kinds (models/events.py), so the names cannot drift apart; the kinds that
# only referralChanged carries (performance saved, evidence added, delegated) are not inbox events.
InboxEventKind = strawberry.enum(
    enum.Enum("InboxEventKind", {kind.value: kind.value for kind in EventKind if kind in INBOX_KINDS}),
    name="InboxEventKind",
    description="What happened to an item of the viewer's inbox.",
)


@strawberry.type(description="The viewer's inbox changed: what happened, to which item, when.")
class InboxEvent:
    kind: InboxEventKind
    referral: ReferralNode | None = strawberry.field(
        description="The referral, as the subscriber sees it now (null for a registration request)."
    )
    registration_request: RegistrationRequestNode | None = strawberry.field(
        description="The registration request addressed to the subscriber (REGISTRATION_REQUEST)."
    )
    at: datetime.datetime = strawberry.field(description="When it happened.")
