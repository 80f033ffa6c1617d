"""Publishing events to the channel layer, after commit and off the request's path.

``publish`` runs in ``transaction.on_commit`` (models/events.py), in the thread that committed. It
does not wait for the channel layer: it schedules the sends as a task on an event loop and returns,
so neither a slow Redis nor a down one delays (or fails) the response. The loop is the ASGI
server's own — the one the WebSocket consumers run on, remembered when a socket connects — because
the in-memory channel layer is a set of asyncio queues that only that loop may touch, and with
Redis the server's loop already holds the layer's connection pool. A process that has no such
loop (a management command, a test without sockets) gets a small background thread with its own.

One ``group_send`` per concerned person (``mana.user.<id>``) and one per referral
(``mana.referral.<id>``): a handful per event, whatever the number of subscribers. The channel
layer hands the message to every socket in those groups, and each socket decides with its own
viewer whether it may see it (subscriptions/delivery.py).

django-tasks (as integrations/sms does) was not used: its immediate backend runs the task in the
request, and its database queue adds a worker's polling delay to what must arrive in a fraction of
a second; an event lost while Redis is down is not worth retrying later (clients re-read on
reconnect), so a queue buys nothing here.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from channels.layers import get_channel_layer

from models.events import Event

logger = logging.getLogger(__name__)

USER_GROUP = "mana.user.{}"
REFERRAL_GROUP = "mana.referral.{}"
# Message types (the consumer's dispatch routes them: subscriptions/consumers.py).
INBOX_MESSAGE = "mana.inbox"
REFERRAL_MESSAGE = "mana.referral"
SESSION_ENDED_MESSAGE = "mana.session.ended"
TOKEN_REVOKED_MESSAGE = "mana.token.revoked"

_server_loop: asyncio.AbstractEventLoop | None = None
_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_lock = threading.Lock()


def user_group(user_id: int) -> str:
    return USER_GROUP.format(user_id)


def referral_group(referral_id: int) -> str:
    return REFERRAL_GROUP.format(referral_id)


def remember_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by the consumer on connect: the loop the sockets (and their layer) live on."""
    global _server_loop
    _server_loop = loop


def _background_loop() -> asyncio.AbstractEventLoop:
    global _own_loop
    with _own_loop_lock:
        if _own_loop is None or _own_loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="mana-event-publisher", daemon=True).start()
            _own_loop = loop
        return _own_loop


def _loop() -> asyncio.AbstractEventLoop:
    loop = _server_loop
    if loop is not None and loop.is_running() and not loop.is_closed():
        return loop
    return _background_loop()


def messages(event: Event) -> list[tuple[str, dict]]:
    """(group, message) pairs for ``event``: what goes where."""
    body = event.as_message()
    sends = []
    if event.in_inbox:
        sends.extend((user_group(pk), {"type": INBOX_MESSAGE, **body}) for pk in event.user_ids)
    if event.referral_id is not None:
        sends.append((referral_group(event.referral_id), {"type": REFERRAL_MESSAGE, **body}))
    return sends


async def send(sends: list[tuple[str, dict]], what: str) -> bool:
    """Send each (group, message); on the first failure log once and give up on the rest."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        for group, message in sends:
            await layer.group_send(group, message)
    except Exception as error:
        # Ids and kinds only: an event carries no secrets, and the exception's class says enough.
        logger.warning("live updates: %s was not published (%s: %s)", what, type(error).__name__, error)
        return False
    return True


def publish(event: Event) -> None:
    """Hand ``event`` to the channel layer without waiting (runs after commit)."""
    sends = messages(event)
    if not sends:
        return
    what = f"{event.kind.value} referral={event.referral_id} registration_request={event.registration_request_id}"
    _schedule(send(sends, what))


def schedule_send(group: str, message: dict, what: str) -> None:
    """One message to one group, without waiting (models.events.figures_changed)."""
    _schedule(send([(group, message)], what))


def publish_to_user(user_id: int, message: dict) -> None:
    """One control message to a person's sockets (session ended, token revoked), without waiting."""
    _schedule(send([(user_group(user_id), message)], f"{message['type']} user={user_id}"))


def _schedule(coroutine) -> None:
    try:
        future = asyncio.run_coroutine_threadsafe(coroutine, _loop())
    except RuntimeError:
        # The loop closed between the check and the call (a test ending, a server shutting down).
        coroutine.close()
        logger.warning("live updates: no event loop to publish on")
        return
    _pending.add(future)
    future.add_done_callback(_pending.discard)


# Scheduled sends not yet done (tests wait for them: ``await drain()``).
_pending: set = set()


async def drain(timeout: float = 5) -> None:
    """Wait until every scheduled send has finished (for tests and orderly shutdown)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while _pending and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
