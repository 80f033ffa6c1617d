"""Every type that implements Node, by its GraphQL name (for ``node`` and the schema)."""

from schema.types.api_tokens import ApiTokenNode
from schema.types.evaluation import EvaluationNode
from schema.types.geography import ProvinceNode
from schema.types.imports import ImportJobNode
from schema.types.indicator import AssignmentNode, IndicatorNode
from schema.types.non_applicability import NonApplicabilityRequestNode
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode
from schema.types.proposal import ProposalNode
from schema.types.referral import EvidenceNode, PerformanceNode, ReferralNode
from schema.types.registration import RegistrationRequestNode
from schema.types.user import RoleAssignmentNode, UserNode

NODE_TYPES = {
    "Province": ProvinceNode,
    "Organization": OrganizationNode,
    "EvaluationPeriod": EvaluationPeriodNode,
    "Indicator": IndicatorNode,
    "Assignment": AssignmentNode,
    "User": UserNode,
    "RoleAssignment": RoleAssignmentNode,
    "Referral": ReferralNode,
    "Performance": PerformanceNode,
    "Evidence": EvidenceNode,
    "RegistrationRequest": RegistrationRequestNode,
    "ApiToken": ApiTokenNode,
    "ImportJob": ImportJobNode,
    "Evaluation": EvaluationNode,
    "NonApplicabilityRequest": NonApplicabilityRequestNode,
    "Proposal": ProposalNode,
}
