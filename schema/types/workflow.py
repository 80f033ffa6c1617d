"""Inputs and payloads of the referral workflow's mutations."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.file_uploads import Upload

from schema.enums import BreakdownByEnum
from schema.errors import UserError
from schema.types.referral import EvidenceNode, PerformanceNode, ReferralNode

if TYPE_CHECKING:
    from schema.types.indicator import AssignmentNode


@strawberry.input(description="One province's slice: its target (and weight for a weighted average).")
class ProvinceSliceInput:
    province: strawberry.ID
    target: Decimal = strawberry.field(
        description="At most 14 digits before the point and 4 after it; never negative (NEGATIVE_NOT_ALLOWED: a count)."
    )
    weight: Decimal | None = strawberry.field(default=None, description="Defaults to 1; as many digits as a target.")
    assignee: strawberry.ID | None = strawberry.field(
        default=None, description="Required when the referrer breaks down (breakdownBy: REFERRER)."
    )
    deadline: datetime.date | None = strawberry.field(default=None, description="Defaults to the referral's deadline.")


@strawberry.input
class ReferInput:
    source: strawberry.ID = strawberry.field(
        description="An Assignment the viewer leads or a Referral assigned to them."
    )
    assignee: strawberry.ID
    deadline: datetime.date
    has_provincial_breakdown: bool = False
    breakdown_by: BreakdownByEnum | None = None
    slices: list[ProvinceSliceInput] | None = None
    province: strawberry.ID | None = strawberry.field(
        default=None, description="Refer one slice of a referral the viewer split by province."
    )


@strawberry.type
class ReferPayload:
    errors: list[UserError]
    referral: ReferralNode | None = None


@strawberry.input
class SplitByProvinceInput:
    referral: strawberry.ID
    version: int
    slices: list[ProvinceSliceInput]


@strawberry.type
class SplitByProvincePayload:
    errors: list[UserError]
    referral: ReferralNode | None = None


@strawberry.input(description="The «جزئیات عملکرد» form; omitted fields keep their saved value.")
class SavePerformanceInput:
    referral: strawberry.ID
    version: int = strawberry.field(description="The performance version the form was loaded with (0 if none yet).")
    value: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Stored as given, never rounded: 14 digits before the point and 4 after it at most "
            "(DECIMAL_OUT_OF_RANGE, DECIMAL_TOO_PRECISE); not negative when the indicator's unit is a count "
            "(NEGATIVE_NOT_ALLOWED). null clears it."
        ),
    )
    has_strategic_plan: bool | None = strawberry.UNSET
    has_information_system: bool | None = strawberry.UNSET
    comments: str | None = strawberry.UNSET
    obstacles: str | None = strawberry.UNSET
    improvement_solutions: str | None = strawberry.UNSET
    partner_performance: str | None = strawberry.UNSET
    is_registry_based: bool | None = strawberry.UNSET
    registry_comments: str | None = strawberry.UNSET


@strawberry.type
class SavePerformancePayload:
    errors: list[UserError]
    performance: PerformanceNode | None = None


@strawberry.input
class UploadEvidenceInput:
    referral: strawberry.ID
    file: Upload


@strawberry.type
class UploadEvidencePayload:
    errors: list[UserError]
    evidence: EvidenceNode | None = None


@strawberry.input
class FinishReferralInput:
    referral: strawberry.ID
    version: int = strawberry.field(description="The referral version the viewer acted on.")


@strawberry.type
class FinishReferralPayload:
    errors: list[UserError]
    referral: ReferralNode | None = None


@strawberry.input
class ReturnReferralInput:
    referral: strawberry.ID
    version: int
    reason: str


@strawberry.type
class ReturnReferralPayload:
    errors: list[UserError]
    referral: ReferralNode | None = None


@strawberry.input
class SendForEvaluationInput:
    period: strawberry.ID


@strawberry.type
class SendForEvaluationPayload:
    errors: list[UserError]
    assignments: list[Annotated[AssignmentNode, strawberry.lazy("schema.types.indicator")]] = strawberry.field(
        default_factory=list
    )
