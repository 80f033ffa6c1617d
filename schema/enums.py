"""GraphQL enums, made from the domain's choices so names cannot drift apart."""

import enum

import strawberry

from models.indicators import ComparisonType, IndicatorKind, IndicatorNature, ReferralStatus
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


@strawberry.enum(name="ReviewDecision", description="A reviewer's decision: approve, or reject with a reason.")
class ReviewDecision(enum.Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
