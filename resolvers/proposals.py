"""Indicator proposals: propose, review, the list; and the public support contacts."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db.models import Q, QuerySet
from strawberry import Info

from models import proposals
from models.requests import Proposal
from models.site_settings import SiteSettings
from models.text import normalize_for_search
from permissions.viewer import Viewer
from resolvers.workflow import decode_id, run_mutation
from schema.context import require_viewer
from schema.enums import ReviewDecision
from schema.ids import decode_global_id
from schema.types import proposal as io


async def propose_indicator(info: Info, input: io.ProposeIndicatorInput) -> io.ProposeIndicatorPayload:
    def work(viewer: Viewer) -> dict:
        form = proposals.ProposalForm(
            period_id=decode_id(input.period, "EvaluationPeriod", "period"),
            organization_id=decode_id(input.organization, "Organization", "organization"),
            title=input.title,
            unit=input.unit,
            nature=input.nature.value,
            calculation_method=input.calculation_method or "",
            target=input.target,
            lower_bound=input.lower_bound,
            upper_bound=input.upper_bound,
            score=input.score,
        )
        return {"proposal": proposals.propose(viewer=viewer, form=form)}

    return await run_mutation(info, io.ProposeIndicatorPayload, work)


async def review_proposal(info: Info, input: io.ReviewProposalInput) -> io.ReviewProposalPayload:
    def work(viewer: Viewer) -> dict:
        proposal = proposals.review(
            viewer=viewer,
            proposal_id=decode_id(input.proposal, "Proposal", "proposal"),
            approve=input.decision == ReviewDecision.APPROVE,
            reason=input.reason or "",
        )
        return {"proposal": proposal}

    return await run_mutation(info, io.ReviewProposalPayload, work)


def proposals_list(
    info: Info,
    period: str | None = None,
    status: str | None = None,
    organization: str | None = None,
    kind: str | None = None,
    search: str | None = None,
) -> QuerySet[Proposal]:
    require_viewer(info)
    # Scope comes from ProposalNode.get_queryset, which strawberry-django applies to the result.
    queryset = Proposal.objects.all()
    if period is not None:
        queryset = queryset.filter(period_id=decode_global_id(period, "EvaluationPeriod")[1])
    if status is not None:
        queryset = queryset.filter(status=status)
    if organization is not None:
        queryset = queryset.filter(organization_id=decode_global_id(organization, "Organization")[1])
    if kind is not None:
        queryset = queryset.filter(organization__kind=kind)
    for word in (search or "").split():
        # Unit names are stored folded (ي→ی, ك→ک, digits); titles as typed: both forms are tried.
        folded = normalize_for_search(word)
        queryset = queryset.filter(
            Q(title__icontains=word) | Q(title__icontains=folded) | Q(organization__search_name__contains=folded)
        )
    return queryset.order_by("-created_at", "-id")


def _support() -> io.Support:
    settings = SiteSettings.get_solo()
    return io.Support(
        phone=settings.support_phone or None, hours=settings.support_hours or None, url=settings.support_url or None
    )


async def support(info: Info) -> io.Support:
    # Public: the sign-in page shows it, before anyone signs in.
    return await sync_to_async(_support)()
