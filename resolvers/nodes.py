"""``node`` and ``nodes``: any object by its global id, within the viewer's scope.

An id outside the scope resolves to null, exactly like an id that does not exist, so the answer
never tells whether something out of reach exists.
"""

from __future__ import annotations

from collections import defaultdict

from asgiref.sync import sync_to_async
from strawberry import Info

from schema.context import require_viewer
from schema.errors import ErrorCode, ManaError
from schema.ids import decode_global_id
from schema.types.registry import NODE_TYPES


async def resolve_nodes(info: Info, ids: list[str]) -> list[object | None]:
    require_viewer(info)
    decoded = []
    for value in ids:
        type_name, pk = decode_global_id(value)
        if type_name not in NODE_TYPES:
            raise ManaError(ErrorCode.INVALID_ID, f"شناسه «{value}» به نوع شناخته‌شده‌ای اشاره نمی‌کند.")
        decoded.append((type_name, pk))

    wanted: dict[str, set[int]] = defaultdict(set)
    for type_name, pk in decoded:
        wanted[type_name].add(pk)
    found: dict[tuple[str, int], object] = {}
    for type_name, pks in wanted.items():
        node_type = NODE_TYPES[type_name]
        rows = node_type.resolve_nodes(info=info, node_ids=sorted(pks), required=False)
        for row in await sync_to_async(list)(rows) if not hasattr(rows, "__await__") else await rows:
            if row is not None:
                found[(type_name, row.pk)] = row
    return [found.get(key) for key in decoded]


async def resolve_node(info: Info, id: str) -> object | None:
    (result,) = await resolve_nodes(info, [id])
    return result
