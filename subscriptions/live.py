"""The subscription resolvers: inboxUpdated and referralChanged.

Each subscription listens on its socket (strawberry's ``listen_to_channel``) for the messages the
publisher sends to the socket's groups (subscriptions/publish.py). For each one it re-reads the
socket's viewer and fetches the item with that viewer's scope (subscriptions/delivery.py): nothing
is sent when the item is out of scope, and the payload is resolved with the subscriber's own viewer
and fresh data loaders. One subscriber's check is one or two small indexed queries, on its own
socket: the request that made the change never pays for it.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import AsyncGenerator, Callable

from asgiref.sync import sync_to_async
from strawberry import Info

from models.events import EventKind
from permissions.viewer import Viewer
from schema.context import require_viewer
from schema.errors import ErrorCode, ManaError
from schema.ids import decode_global_id
from schema.loaders import Loaders
from schema.types.live import InboxEvent, InboxEventKind
from subscriptions import delivery
from subscriptions.publish import INBOX_MESSAGE, REFERRAL_MESSAGE, referral_group

logger = logging.getLogger(__name__)

REFERRAL_NOT_FOUND = "ارجاع پیدا نشد."
OVER_WEBSOCKET_ONLY = "اشتراک (subscription) فقط از راه WebSocket در /graphql/ ممکن است."

# Subscriptions listening in this process right now (an operator's gauge; tests wait on it).
listening = 0


def socket_consumer(info: Info):
    if not info.context.over_websocket:
        raise ManaError(ErrorCode.BAD_USER_INPUT, OVER_WEBSOCKET_ONLY)
    return info.context.request


async def listen_on_socket(consumer, message_type: str, groups: tuple[str, ...] = ()):
    """Start listening before the resolver returns: an event committed right after the subscribe
    message is answered must not be missed. Returns (messages, stop)."""
    listener = consumer.listen_to_channel(message_type, groups=groups)
    messages = await listener.__aenter__()
    global listening
    listening += 1

    async def stop() -> None:
        global listening
        listening -= 1
        await listener.__aexit__(None, None, None)

    return messages, stop


async def fresh_item(info: Info, consumer, fetch: Callable[[Viewer], object]):
    """The item as the socket's viewer sees it now, or None; the operation's context gets that
    viewer and new loaders, so the payload is resolved with them (each operation has its own
    context copy: subscriptions/consumers.py)."""
    try:
        viewer, item = await sync_to_async(_viewer_and_item)(consumer, fetch)
    except delivery.SessionEnded:
        await consumer.end_session()
        return None
    if item is None:
        return None
    info.context.viewer = viewer
    info.context.loaders = Loaders(viewer)
    return item


def _viewer_and_item(consumer, fetch):
    viewer = delivery.current_viewer(consumer.mana_user_id, consumer.mana_session_key, consumer.mana_token_id)
    if not viewer.is_authenticated or viewer.active_role is None:
        return viewer, None
    return viewer, fetch(viewer)


async def inbox_updated(info: Info) -> AsyncGenerator[InboxEvent, None]:
    require_viewer(info)
    consumer = socket_consumer(info)
    messages, stop = await listen_on_socket(consumer, INBOX_MESSAGE)
    return _inbox_events(info, consumer, messages, stop)


async def _inbox_events(info, consumer, messages, stop) -> AsyncGenerator[InboxEvent, None]:
    try:
        async for message in messages:
            kind = EventKind(message["kind"])
            if message.get("referral") is not None:
                fetch = functools.partial(_inbox_referral, pk=message["referral"])
                referral = await fresh_item(info, consumer, fetch)
                if referral is None:
                    continue
                yield _event(kind, message, referral=referral)
            elif message.get("registration_request") is not None:
                fetch = functools.partial(_registration_request, pk=message["registration_request"])
                request = await fresh_item(info, consumer, fetch)
                if request is None:
                    continue
                yield _event(kind, message, registration_request=request)
    finally:
        await stop()


def _inbox_referral(viewer, pk: int):
    return delivery.inbox_referral(viewer, pk)


def _registration_request(viewer, pk: int):
    return delivery.visible_registration_request(viewer, pk)


def _event(kind: EventKind, message: dict, referral=None, registration_request=None) -> InboxEvent:
    return InboxEvent(
        kind=InboxEventKind[kind.value],
        referral=referral,
        registration_request=registration_request,
        at=datetime.datetime.fromisoformat(message["at"]),
    )


async def referral_changed(info: Info, id: str):
    viewer = require_viewer(info)
    consumer = socket_consumer(info)
    _, pk = decode_global_id(id, "Referral")
    # Out of scope and missing look the same, as for node(id); an error for this subscription only.
    if await sync_to_async(delivery.visible_referral)(viewer, pk) is None:
        raise ManaError(ErrorCode.NOT_FOUND, REFERRAL_NOT_FOUND)
    messages, stop = await listen_on_socket(consumer, REFERRAL_MESSAGE, (referral_group(pk),))
    return _referral_changes(info, consumer, pk, messages, stop)


async def _referral_changes(info, consumer, pk: int, messages, stop):
    try:
        async for message in messages:
            # The socket's messages of this type come from every referral it listens to.
            if message.get("referral") != pk:
                continue
            referral = await fresh_item(info, consumer, lambda viewer: delivery.visible_referral(viewer, pk))
            if referral is not None:
                yield referral
    finally:
        await stop()
