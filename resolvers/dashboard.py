"""The ``dashboard`` root field: decode the ids, compute in the domain (models/dashboard.py)."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from strawberry import Info

from models import dashboard as domain
from models.errors import DomainError
from permissions.viewer import Viewer
from schema.context import require_viewer
from schema.errors import ErrorCode, ManaError
from schema.ids import decode_global_id
from schema.types.dashboard import Dashboard


def decode_arguments(period: str, organization: str | None) -> tuple[int, int | None]:
    _, period_pk = decode_global_id(period, "EvaluationPeriod")
    organization_pk = None if organization is None else decode_global_id(organization, "Organization")[1]
    return period_pk, organization_pk


def refusal(error: DomainError) -> ManaError:
    """A domain refusal (FORBIDDEN, NOT_FOUND) as the top-level error a query answers with."""
    return ManaError(ErrorCode(error.code), error.message)


def _compute(viewer: Viewer, period_pk: int, organization_pk: int | None) -> domain.Dashboard:
    try:
        return domain.dashboard(viewer, period_pk, organization_pk)
    except DomainError as error:
        raise refusal(error) from None


async def dashboard(info: Info, period: str, organization: str | None = None) -> Dashboard:
    viewer = require_viewer(info)
    period_pk, organization_pk = decode_arguments(period, organization)
    return Dashboard.of(await sync_to_async(_compute)(viewer, period_pk, organization_pk))
