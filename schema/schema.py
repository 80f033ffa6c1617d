"""The root schema: queries and mutations composed from the domains, limits from settings."""

from __future__ import annotations

import datetime

import strawberry
import strawberry_django
from graphql import GraphQLError
from strawberry import Info, relay
from strawberry.schema.config import StrawberryConfig
from strawberry.types.execution import PreExecutionError
from strawberry_django.optimizer import DjangoOptimizerExtension

from resolvers import auth, inbox, me, nodes, organizations, workflow
from schema.connection import ManaConnection
from schema.cost import QueryCostLimit
from schema.documents import ParseAndValidateOffTheLoop
from schema.enums import OrganizationKindEnum, ReferralStatusEnum
from schema.input_guards import RefuseUnstorableText
from schema.introspection import IntrospectionForSignedIn
from schema.limits import DocumentLimits
from schema.login_rules import OneLoginPerRequest
from schema.scalars import SCALAR_MAP
from schema.types import workflow as io
from schema.types.auth import LoginInput, LoginPayload, LogoutPayload
from schema.types.geography import ProvinceNode
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode
from schema.types.referral import ReferralNode
from schema.types.registry import NODE_TYPES
from schema.types.user import Me


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; null when it does not exist or is out of scope.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        return await nodes.resolve_node(info, id)

    @strawberry.field(description="Objects by global ids, in the same order; null where not visible.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        return await nodes.resolve_nodes(info, ids)

    @strawberry.field(description="The signed-in person, their roles and the active one.")
    async def me(self, info: Info) -> Me | None:
        return await me.me(info)

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


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in with national code and password; starts a session.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        return await auth.login(info, input)

    @strawberry.mutation(description="End the session.")
    async def logout(self, info: Info) -> LogoutPayload:
        return await auth.logout(info)

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
    types=list(NODE_TYPES.values()),
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    extensions=[
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
