"""The module Django's app registry imports: every model of the ``mana`` app, by domain."""

from models.credentials import ApiToken, OneTimeCode
from models.evaluations import Evaluation, EvaluatorAssignment
from models.geography import Province
from models.imports import ImportJob
from models.indicators import Assignment, Indicator
from models.object_permissions import (
    OrganizationGroupObjectPermission,
    OrganizationUserObjectPermission,
    ReferralUserObjectPermission,
)
from models.organization import Organization
from models.periods import EvaluationPeriod
from models.referrals import Evidence, Performance, ProvincialSlice, Referral, ReferralEvent
from models.reminders import DeadlineReminder
from models.requests import NonApplicabilityRequest, Proposal, RegistrationRequest
from models.site_settings import SiteSettings
from models.users import RoleAssignment, User

__all__ = [
    "ApiToken",
    "Assignment",
    "DeadlineReminder",
    "Evaluation",
    "EvaluationPeriod",
    "EvaluatorAssignment",
    "Evidence",
    "ImportJob",
    "Indicator",
    "NonApplicabilityRequest",
    "OneTimeCode",
    "Organization",
    "OrganizationGroupObjectPermission",
    "OrganizationUserObjectPermission",
    "Performance",
    "Proposal",
    "Province",
    "ProvincialSlice",
    "Referral",
    "ReferralEvent",
    "ReferralUserObjectPermission",
    "RegistrationRequest",
    "RoleAssignment",
    "SiteSettings",
    "User",
]
