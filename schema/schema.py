"""The root schema: queries and mutations composed from the domains, limits from settings."""

from __future__ import annotations

import datetime
from collections.abc import AsyncGenerator

import strawberry
import strawberry_django
from asgiref.sync import sync_to_async
from graphql import GraphQLError
from strawberry import Info, relay
from strawberry.schema.config import StrawberryConfig
from strawberry.types.execution import PreExecutionError
from strawberry_django.optimizer import DjangoOptimizerExtension

from resolvers import (
    api_tokens,
    auth,
    captcha,
    dashboard,
    evaluation,
    imports,
    inbox,
    me,
    nodes,
    non_applicability,
    organizations,
    passwords,
    proposals,
    registration,
    roles,
    workflow,
)
from resolvers.sina import sina_sign_in
from schema.connection import ManaConnection
from schema.cost import QueryCostLimit
from schema.documents import ParseAndValidateOffTheLoop
from schema.enums import OrganizationKindEnum, ReferralStatusEnum, RequestStatusEnum
from schema.input_guards import RefuseUnstorableText
from schema.introspection import IntrospectionForSignedIn
from schema.limits import DocumentLimits
from schema.login_rules import OneLoginPerRequest
from schema.metrics import OperationMetrics
from schema.scalars import SCALAR_MAP
from schema.types import api_tokens as tokens_io
from schema.types import auth as auth_io
from schema.types import dashboard as dashboard_io
from schema.types import evaluation as evaluation_io
from schema.types import imports as imports_io
from schema.types import live as live_io
from schema.types import non_applicability as non_applicability_io
from schema.types import proposal as proposal_io
from schema.types import registration as registration_io
from schema.types import workflow as io
from schema.types.geography import ProvinceNode
from schema.types.indicator import AssignmentNode
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode
from schema.types.referral import ReferralNode
from schema.types.registry import NODE_TYPES
from schema.types.sina import SinaSignIn
from schema.types.user import Me
from subscriptions import dashboard as dashboard_live
from subscriptions import import_progress, live


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; null when it does not exist or is out of scope.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        return await nodes.resolve_node(info, id)

    @strawberry.field(description="Objects by global ids, in the same order; null where not visible.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        return await nodes.resolve_nodes(info, ids)

    @strawberry.field(description="A new captcha challenge (for login, requestOtp, forgotPassword, registration).")
    async def captcha(self, info: Info) -> auth_io.Captcha:
        return await captcha.captcha(info)

    @strawberry.field(description="The signed-in person, their roles and the active one.")
    async def me(self, info: Info) -> Me | None:
        return await me.me(info)

    @strawberry.field(description="Sign-in through Sina for main leaders, for anyone; null when Sina is not enabled.")
    def sina_sign_in(self, info: Info) -> SinaSignIn | None:
        return sina_sign_in(info)

    @strawberry_django.field(description="Evaluation periods, newest first; `on`: only those that include that day.")
    def periods(self, info: Info, on: datetime.date | None = None) -> list[EvaluationPeriodNode]:
        return me.periods(info, on=on)

    @strawberry_django.field(description="The 31 provinces (ISO 3166-2:IR codes), for a provincial breakdown.")
    def provinces(self, info: Info) -> list[ProvinceNode]:
        return me.provinces(info)

    @strawberry_django.connection(
        ManaConnection[OrganizationNode],
        description="Organizations in the viewer's scope, in tree order. `search` folds ي/ك and digits.",
    )
    def organizations(
        self,
        info: Info,
        search: str | None = None,
        kind: OrganizationKindEnum | None = None,
        parent: strawberry.ID | None = None,
        province: strawberry.ID | None = None,
    ) -> list[OrganizationNode]:
        return organizations.organizations(
            info, search=search, kind=kind.value if kind else None, parent=parent, province=province
        )

    @strawberry_django.connection(
        ManaConnection[ReferralNode],
        description=(
            "The viewer's work in a period (کارپوشه): referrals assigned to them under the active role, "
            "submissions waiting for their review, items returned to them; by deadline, then id."
        ),
    )
    def inbox(self, info: Info, period: strawberry.ID, status: ReferralStatusEnum | None = None) -> list[ReferralNode]:
        return inbox.inbox(info, period, status.value if status else None)

    @strawberry_django.connection(
        ManaConnection[tokens_io.ApiTokenNode],
        description="The viewer's own API tokens, newest first, revoked and expired ones too; never their secrets.",
    )
    def api_tokens(self, info: Info) -> list[tokens_io.ApiTokenNode]:
        return api_tokens.api_tokens(info)

    @strawberry_django.connection(
        ManaConnection[imports_io.ImportJobNode],
        description="Excel imports the viewer uploaded (the senior leader: everyone's), newest first.",
    )
    def import_jobs(
        self,
        info: Info,
        kind: imports_io.ImportKindEnum | None = None,
        status: imports_io.ImportStatusEnum | None = None,
    ) -> list[imports_io.ImportJobNode]:
        return imports.import_jobs(info, kind=kind.value if kind else None, status=status.value if status else None)

    @strawberry_django.connection(
        ManaConnection[AssignmentNode],
        description=(
            "ارزیابی: assignments sent for evaluation (and evaluated) in a period, as far as the viewer sees them: "
            "the senior leader, every one of their subtree; an evaluator, those given to them; an organization, its "
            "own. By id. `status`: SENT_FOR_EVALUATION or EVALUATED only."
        ),
    )
    def sent_for_evaluation(
        self, info: Info, period: strawberry.ID, status: ReferralStatusEnum | None = None
    ) -> list[AssignmentNode]:
        return evaluation.sent_for_evaluation(info, period, status.value if status else None)

    @strawberry_django.connection(
        ManaConnection[non_applicability_io.NonApplicabilityRequestNode],
        description=(
            "درخواست‌های عدم مصداق about the assignments of the active role's units (the senior leader: all of "
            "their subtree), newest first; `assignment`: one assignment's."
        ),
    )
    def non_applicability_requests(
        self, info: Info, status: RequestStatusEnum | None = None, assignment: strawberry.ID | None = None
    ) -> list[non_applicability_io.NonApplicabilityRequestNode]:
        return non_applicability.non_applicability_requests(info, status.value if status else None, assignment)

    @strawberry_django.connection(
        ManaConnection[registration_io.RegistrationRequestNode],
        description=(
            "تأیید درخواست‌ها: registration requests that name the viewer as approver, for units of the active "
            "role; newest first. `search`: tracking code, national code, mobile or name."
        ),
    )
    def registration_requests(
        self, info: Info, status: RequestStatusEnum | None = None, search: str | None = None
    ) -> list[registration_io.RegistrationRequestNode]:
        return registration.registration_requests(info, status.value if status else None, search)

    @strawberry.field(
        description=(
            "Organizations for the registration form (no sign-in needed): ARO and the first level "
            "without `parent`, else the children of `parent`."
        )
    )
    async def registration_organizations(
        self, info: Info, parent: strawberry.ID | None = None
    ) -> list[registration_io.OrganizationChoice]:
        return await sync_to_async(registration.organization_choices)(parent)

    @strawberry.field(
        description=(
            "داشبورد: a period's figures for an organization (default: the active role's unit) and each unit "
            "directly below it, rolled up and ranked; a provincial leader at their own unit sees their province. "
            "Leaders only (FORBIDDEN otherwise); NOT_FOUND for an organization out of scope or missing."
        )
    )
    async def dashboard(
        self, info: Info, period: strawberry.ID, organization: strawberry.ID | None = None
    ) -> dashboard_io.Dashboard:
        return await dashboard.dashboard(info, period, organization)

    @strawberry_django.connection(
        ManaConnection[proposal_io.ProposalNode],
        description=(
            "پیشنهاد شاخص: indicator proposals in the viewer's scope (the senior leader: all; a main leader: their "
            "subtree's; a provincial leader: their province's units' and their own; anyone else: none), newest "
            "first. `kind`: the unit's kind; `search`: words of the indicator's title or the unit's name."
        ),
    )
    def proposals(
        self,
        info: Info,
        period: strawberry.ID | None = None,
        status: RequestStatusEnum | None = None,
        organization: strawberry.ID | None = None,
        kind: OrganizationKindEnum | None = None,
        search: str | None = None,
    ) -> list[proposal_io.ProposalNode]:
        return proposals.proposals_list(
            info,
            period=period,
            status=status.value if status else None,
            organization=organization,
            kind=kind.value if kind else None,
            search=search,
        )

    @strawberry.field(description="«پشتیبانی»: support phone, hours and address (no sign-in needed).")
    async def support(self, info: Info) -> proposal_io.Support:
        return await proposals.support(info)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in with national code, password and captcha; starts a session.")
    async def login(self, info: Info, input: auth_io.LoginInput) -> auth_io.LoginPayload:
        return await auth.login(info, input)

    @strawberry.mutation(
        description="ورود با رمز یکبار مصرف: a sign-in code by SMS; the same answer for any national code."
    )
    async def request_otp(self, info: Info, input: auth_io.RequestOtpInput) -> auth_io.RequestOtpPayload:
        return await auth.request_otp(info, input)

    @strawberry.mutation(description="Sign in with the one-time code received by SMS; starts a session.")
    async def login_with_otp(self, info: Info, input: auth_io.LoginWithOtpInput) -> auth_io.LoginPayload:
        return await auth.login_with_otp(info, input)

    @strawberry.mutation(description="End the session.")
    async def logout(self, info: Info) -> auth_io.LogoutPayload:
        return await auth.logout(info)

    @strawberry.mutation(
        description="فراموشی رمز عبور: temporary credentials by SMS, to be changed at the first sign-in."
    )
    async def forgot_password(self, info: Info, input: auth_io.ForgotPasswordInput) -> auth_io.ForgotPasswordPayload:
        return await passwords.forgot_password(info, input)

    @strawberry.mutation(description="Change one's password (Django's password rules; other sessions end).")
    async def change_password(self, info: Info, input: auth_io.ChangePasswordInput) -> auth_io.ChangePasswordPayload:
        return await passwords.change_password(info, input)

    @strawberry.mutation(description="تغییر نقش: act in another of one's roles without signing out.")
    async def switch_role(self, info: Info, input: auth_io.SwitchRoleInput) -> auth_io.SwitchRolePayload:
        return await roles.switch_role(info, input)

    @strawberry.mutation(
        description="ثبت‌نام: ask for an account; checked with the civil registry and Shahkar. Returns a tracking code."
    )
    async def submit_registration_request(
        self, info: Info, input: registration_io.SubmitRegistrationRequestInput
    ) -> registration_io.SubmitRegistrationRequestPayload:
        return await registration.submit(info, input)

    @strawberry.mutation(
        description="Approve a request addressed to you: the person joins with the requested role, as your subordinate."
    )
    async def approve_registration_request(
        self, info: Info, input: registration_io.ReviewRegistrationRequestInput
    ) -> registration_io.ReviewRegistrationRequestPayload:
        return await registration.approve(info, input)

    @strawberry.mutation(description="Reject a request addressed to you, with a reason (sent to the applicant).")
    async def reject_registration_request(
        self, info: Info, input: registration_io.ReviewRegistrationRequestInput
    ) -> registration_io.ReviewRegistrationRequestPayload:
        return await registration.reject(info, input)

    @strawberry.mutation(description="Refer an assignment or one's own referral to a subordinate (ارجاع).")
    async def refer(self, info: Info, input: io.ReferInput) -> io.ReferPayload:
        return await workflow.refer(info, input)

    @strawberry.mutation(description="Split one's referral into provincial slices (breakdown by the assignee).")
    async def split_by_province(self, info: Info, input: io.SplitByProvinceInput) -> io.SplitByProvincePayload:
        return await workflow.split_by_province(info, input)

    @strawberry.mutation(description="Save the performance details (a draft; every version is kept).")
    async def save_performance(self, info: Info, input: io.SavePerformanceInput) -> io.SavePerformancePayload:
        return await workflow.save_performance(info, input)

    @strawberry.mutation(description="Attach an evidence file (GraphQL multipart request): PDF, DOC, DOCX, XLS, XLSX.")
    async def upload_evidence(self, info: Info, input: io.UploadEvidenceInput) -> io.UploadEvidencePayload:
        return await workflow.upload_evidence(info, input)

    @strawberry.mutation(description="اتمام عملیات: submit (assignee) or approve and send one level up (referrer).")
    async def finish_referral(self, info: Info, input: io.FinishReferralInput) -> io.FinishReferralPayload:
        return await workflow.finish_referral(info, input)

    @strawberry.mutation(description="Return a received submission for correction, with a reason.")
    async def return_referral(self, info: Info, input: io.ReturnReferralInput) -> io.ReturnReferralPayload:
        return await workflow.return_referral(info, input)

    @strawberry.mutation(description="Send the organization's finalized assignments to the senior leader.")
    async def send_for_evaluation(self, info: Info, input: io.SendForEvaluationInput) -> io.SendForEvaluationPayload:
        return await workflow.send_for_evaluation(info, input)

    @strawberry.mutation(
        description=(
            "ورود ابلاغ‌ها از اکسل (GraphQL multipart request): an XLSX of the assignments template for a period, "
            "checked and written in the background (importProgress); the senior leader anywhere, a main leader "
            "for their subtree. Every row is written, or none."
        )
    )
    async def import_assignments(
        self, info: Info, input: imports_io.ImportAssignmentsInput
    ) -> imports_io.ImportAssignmentsPayload:
        return await imports.import_assignments(info, input)

    @strawberry.mutation(
        description=(
            "ورود دستگاه‌ها از اکسل (GraphQL multipart request): an XLSX of the organizations template, checked and "
            "written in the background (importProgress); the senior leader only. Every row is written, or none."
        )
    )
    async def import_organizations(
        self, info: Info, input: imports_io.ImportOrganizationsInput
    ) -> imports_io.ImportOrganizationsPayload:
        return await imports.import_organizations(info, input)

    @strawberry.mutation(
        description=(
            "پیشنهاد شاخص: a provincial leader for their province's provincial and regional units (within the "
            "period's cap), a main leader for their subtree while proposals are open; the senior leader reviews it."
        )
    )
    async def propose_indicator(
        self, info: Info, input: proposal_io.ProposeIndicatorInput
    ) -> proposal_io.ProposeIndicatorPayload:
        return await proposals.propose_indicator(info, input)

    @strawberry.mutation(
        description=(
            "The senior leader approves a pending proposal (it becomes an assignment of the unit) or rejects it "
            "with a reason."
        )
    )
    async def review_proposal(
        self, info: Info, input: proposal_io.ReviewProposalInput
    ) -> proposal_io.ReviewProposalPayload:
        return await proposals.review_proposal(info, input)

    @strawberry.mutation(
        description=(
            "The senior leader gives assignments sent for evaluation to an evaluator or honorary evaluator "
            "(giving one again changes nothing)."
        )
    )
    async def assign_evaluators(
        self, info: Info, input: evaluation_io.AssignEvaluatorsInput
    ) -> evaluation_io.AssignEvaluatorsPayload:
        return await evaluation.assign_evaluators(info, input)

    @strawberry.mutation(
        description=(
            "An evaluator records (or, until published, corrects) the evaluated score and feedback of an "
            "assignment given to them."
        )
    )
    async def evaluate_assignment(
        self, info: Info, input: evaluation_io.EvaluateAssignmentInput
    ) -> evaluation_io.EvaluateAssignmentPayload:
        return await evaluation.evaluate_assignment(info, input)

    @strawberry.mutation(
        description=(
            "The senior leader publishes assignments' recorded evaluations: the organization reads its feedback, "
            "the assignments become EVALUATED."
        )
    )
    async def publish_evaluations(
        self, info: Info, input: evaluation_io.PublishEvaluationsInput
    ) -> evaluation_io.PublishEvaluationsPayload:
        return await evaluation.publish_evaluations(info, input)

    @strawberry.mutation(
        description=(
            "درخواست عدم مصداق (GraphQL multipart request): the main leader asks that an assignment of their "
            "organization not apply to it, with a reason and an evidence file."
        )
    )
    async def request_non_applicability(
        self, info: Info, input: non_applicability_io.RequestNonApplicabilityInput
    ) -> non_applicability_io.RequestNonApplicabilityPayload:
        return await non_applicability.request(info, input)

    @strawberry.mutation(
        description=(
            "The senior leader approves a pending non-applicability request (the assignment leaves scoring and "
            "the totals) or rejects it with a reason."
        )
    )
    async def review_non_applicability(
        self, info: Info, input: non_applicability_io.ReviewNonApplicabilityInput
    ) -> non_applicability_io.ReviewNonApplicabilityPayload:
        return await non_applicability.review(info, input)

    @strawberry.mutation(
        description=(
            "An API token for one of one's roles; its secret is in this answer only. "
            "Not with an API token (NOT_WITH_TOKEN): sign in to make one."
        )
    )
    async def create_api_token(
        self, info: Info, input: tokens_io.CreateApiTokenInput
    ) -> tokens_io.CreateApiTokenPayload:
        return await api_tokens.create(info, input)

    @strawberry.mutation(description="Revoke one of one's API tokens: it stops working at once.")
    async def revoke_api_token(
        self, info: Info, input: tokens_io.RevokeApiTokenInput
    ) -> tokens_io.RevokeApiTokenPayload:
        return await api_tokens.revoke(info, input)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "The viewer's inbox changed (assigned, returned, submission received, approved, finalized, sent for "
            "evaluation, registration request received): over WebSocket, only what the active role may see then."
        )
    )
    async def inbox_updated(self, info: Info) -> AsyncGenerator[live_io.InboxEvent, None]:
        return await live.inbox_updated(info)

    @strawberry.subscription(
        description=(
            "A referral changed (status, performance, evidence, timeline): its new state, as the viewer sees it. "
            "NOT_FOUND when out of scope or missing."
        )
    )
    async def referral_changed(self, info: Info, id: strawberry.ID) -> AsyncGenerator[ReferralNode, None]:
        return await live.referral_changed(info, id)

    @strawberry.subscription(
        description=(
            "An Excel import job as it goes: at once as it stands, then after each chunk of rows checked or written, "
            "until DONE, REFUSED or FAILED. NOT_FOUND for a job one may not see (only its uploader and the senior "
            "leader see it)."
        )
    )
    async def import_progress(self, info: Info, id: strawberry.ID) -> AsyncGenerator[imports_io.ImportJobNode, None]:
        return await import_progress.import_progress(info, id)

    @strawberry.subscription(
        description=(
            "The dashboard again whenever figures it covers change (a burst of changes is sent once), computed as "
            "the viewer sees it then; the same refusals as `dashboard`, for this subscription only."
        )
    )
    async def dashboard_updated(
        self, info: Info, period: strawberry.ID, organization: strawberry.ID | None = None
    ) -> AsyncGenerator[dashboard_io.Dashboard, None]:
        return await dashboard_live.dashboard_updated(info, period, organization)


class ManaSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Refusals (ManaError) are answers, not faults: only unexpected exceptions are logged,
        # once, by schema.errors.format_error.
        return None

    async def _prepare_operation_async(self, context, extensions_runner):
        # A document refused before parsing (schema/limits.py) or unparsable is raised from the
        # parse hook; strawberry's execute() would answer it, its stream() (WebSocket) would not.
        # Answered here, it is a pre-execution error on both transports.
        try:
            return await super()._prepare_operation_async(context, extensions_runner)
        except GraphQLError as error:
            context.pre_execution_errors = [error]
            return PreExecutionError(data=None, errors=[error])


schema = ManaSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=list(NODE_TYPES.values()),
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    extensions=[
        # First: its time (a histogram per operation, schema/metrics.py) covers the others' work.
        OperationMetrics,
        DjangoOptimizerExtension,
        # A client sends the same few documents again and again: parse and validate each once,
        # a new one in a worker thread (schema/documents.py), after the size and token limits.
        # Validation is cached per (document, rules); DocumentLimits keeps its rules the same
        # objects from request to request so that the cache can hit.
        ParseAndValidateOffTheLoop,
        DocumentLimits,
        OneLoginPerRequest,
        IntrospectionForSignedIn,
        RefuseUnstorableText,
        # Last: only a document that passed every other check has its cost estimated.
        QueryCostLimit,
    ],
)
