"""GraphQL enums, made from the domain's choices so names cannot drift apart."""

import enum

import strawberry

from models.inbox import InboxAction
from models.indicators import ComparisonType, IndicatorKind, IndicatorNature, ReferralStatus, RollupRule
from models.organization import OrganizationKind
from models.referrals import BreakdownBy
from models.requests import RequestStatus
from models.roles import Role

RoleEnum = strawberry.enum(Role, name="Role")
OrganizationKindEnum = strawberry.enum(OrganizationKind, name="OrganizationKind")
IndicatorKindEnum = strawberry.enum(IndicatorKind, name="IndicatorKind")
IndicatorNatureEnum = strawberry.enum(IndicatorNature, name="IndicatorNature")
ComparisonTypeEnum = strawberry.enum(ComparisonType, name="ComparisonType")
ReferralStatusEnum = strawberry.enum(ReferralStatus, name="ReferralStatus")
BreakdownByEnum = strawberry.enum(BreakdownBy, name="BreakdownBy")
RequestStatusEnum = strawberry.enum(RequestStatus, name="RequestStatus")
InboxActionEnum = strawberry.enum(
    InboxAction,
    name="InboxAction",
    description=(
        "What the inbox asks of the viewer for a referral: REGISTER_OR_REFER (assigned to them, in progress: "
        "register the performance or refer it on), CORRECT (returned to them for correction), REVIEW (they "
        "referred it and it was submitted to them: approve or return it), WAIT (they referred it on and wait "
        "for the answer)."
    ),
)
RollupRuleEnum = strawberry.enum(
    RollupRule,
    name="RollupRule",
    description=(
        "How an indicator's provincial slices add up to the referral they split, their targets (checked when "
        "splitting, to within 0.0001: SLICE_TARGETS_INCONSISTENT otherwise) and their approved values alike. "
        "SUM: the sum of the slices (counts, amounts); AVERAGE: their plain mean (rates, percentages); "
        "WEIGHTED_AVERAGE: Σ(weight × slice) / Σ weight, with each slice's `weight`."
    ),
)


@strawberry.enum(name="ReviewDecision", description="A reviewer's decision: approve, or reject with a reason.")
class ReviewDecision(enum.Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
