"""``dashboardUpdated``: the dashboard again, each time figures it covers change.

The workflow announces a unit's changed figures after commit (models.events.figures_changed: one
message to the period's group, naming the unit). Each subscription listens to that group on its
own socket and:

* coalesces a burst — every message arriving within COALESCE_SECONDS of the first — into one
  recomputation, so that a bulk change (a main leader sending a hundred assignments for evaluation,
  an import) costs each subscriber one dashboard, not a hundred;
* skips bursts that touch no unit of its dashboard, from the units' tree positions (cached for the
  subscription's life; the root's range is taken from each recomputation, and the cache is
  dropped when the tree has moved under it) — one small query for units it has not met yet;
* re-reads the socket's viewer (subscriptions/delivery.py) and recomputes with it: a signed-out
  socket closes, and a viewer no longer allowed (role switched, grant withdrawn, unit out of scope
  now) gets nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from asgiref.sync import sync_to_async
from strawberry import Info

from models import dashboard as domain
from models.errors import DomainError
from models.events import DASHBOARD_MESSAGE, dashboard_group
from models.organization import Organization
from permissions.viewer import Viewer
from resolvers.dashboard import decode_arguments, refusal
from schema.context import require_viewer
from schema.loaders import Loaders
from schema.types.dashboard import Dashboard
from subscriptions import delivery
from subscriptions.live import listen_on_socket, socket_consumer

COALESCE_SECONDS = 0.2
_ENDED = object()


async def dashboard_updated(info: Info, period: str, organization: str | None) -> AsyncGenerator[Dashboard, None]:
    viewer = require_viewer(info)
    consumer = socket_consumer(info)
    period_pk, organization_pk = decode_arguments(period, organization)
    try:
        root = await sync_to_async(_checked_root)(viewer, period_pk, organization_pk)
    except DomainError as error:
        # FORBIDDEN (not a leader) or NOT_FOUND (out of scope or missing), for this subscription only.
        raise refusal(error) from None
    messages, stop = await listen_on_socket(consumer, DASHBOARD_MESSAGE, (dashboard_group(period_pk),))
    return _updates(info, consumer, _Watch(root, period_pk, organization_pk), messages, stop)


def _checked_root(viewer: Viewer, period_pk: int, organization_pk: int | None) -> domain.Root:
    root = domain.dashboard_root(viewer, organization_pk)
    domain.dashboard_period(period_pk)
    return root


class _Watch:
    """What one subscription watches, and the tree positions of the units it has met."""

    def __init__(self, root: domain.Root, period_pk: int, organization_pk: int | None) -> None:
        self.root, self.period_pk, self.organization_pk = root, period_pk, organization_pk
        self.positions: dict[int, tuple[int, int, int | None]] = {}

    def touches(self, unit_ids: set[int]) -> bool:
        """Whether any of the units is covered by the dashboard (sync: it may query)."""
        unknown = unit_ids - self.positions.keys()
        if unknown:
            rows = Organization.objects.filter(pk__in=unknown).values_list("pk", "tree_id", "lft", "province_id")
            self.positions.update({pk: (tree_id, lft, province) for pk, tree_id, lft, province in rows})
        return any(self.root.covers(*self.positions[pk]) for pk in unit_ids if pk in self.positions)

    def recompute(self, consumer) -> tuple[Viewer, domain.Dashboard | None]:
        """The dashboard as the socket's viewer sees it now, or None (sync)."""
        viewer = delivery.current_viewer(consumer.mana_user_id, consumer.mana_session_key, consumer.mana_token_id)
        if not viewer.is_authenticated:
            return viewer, None
        try:
            root = domain.dashboard_root(viewer, self.organization_pk)
            result = domain.figures(viewer, root, domain.dashboard_period(self.period_pk))
        except DomainError:
            return viewer, None
        before = self.root.organization
        if (before.pk, before.tree_id, before.lft, before.rght) != (
            root.organization.pk,
            root.organization.tree_id,
            root.organization.lft,
            root.organization.rght,
        ):
            # Another root (the default follows the active role) or a moved tree: positions are stale.
            self.positions.clear()
        self.root = root
        return viewer, result


async def _pump(messages, queue: asyncio.Queue) -> None:
    try:
        async for message in messages:
            await queue.put(message)
    finally:
        queue.put_nowait(_ENDED)


async def _bursts(messages, period_pk: int) -> AsyncGenerator[set[int], None]:
    """The units named by each burst of messages (see COALESCE_SECONDS)."""
    queue: asyncio.Queue = asyncio.Queue()
    pump = asyncio.create_task(_pump(messages, queue))
    try:
        while True:
            burst = [await queue.get()]
            await asyncio.sleep(COALESCE_SECONDS)
            while not queue.empty():
                burst.append(queue.get_nowait())
            units = {m["organization"] for m in burst if m is not _ENDED and m.get("period") == period_pk}
            if units:
                yield units
            if _ENDED in burst:
                return
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump


async def _updates(info: Info, consumer, watch: _Watch, messages, stop) -> AsyncGenerator[Dashboard, None]:
    bursts = _bursts(messages, watch.period_pk)
    try:
        async for units in bursts:
            if not await sync_to_async(watch.touches)(units):
                continue
            try:
                viewer, result = await sync_to_async(watch.recompute)(consumer)
            except delivery.SessionEnded:
                await consumer.end_session()
                return
            if result is None:
                continue
            # The payload is resolved with the viewer as of now and fresh loaders (as subscriptions/live.py).
            info.context.viewer = viewer
            info.context.loaders = Loaders(viewer)
            yield Dashboard.of(result)
    finally:
        await bursts.aclose()
        await stop()
