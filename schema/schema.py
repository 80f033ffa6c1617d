"""The root schema: queries and mutations composed from the domains, limits from settings."""

from __future__ import annotations

import datetime

import strawberry
import strawberry_django
from django.conf import settings
from strawberry import Info, relay
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from resolvers import auth, me, nodes, organizations
from schema.connection import ManaConnection
from schema.enums import OrganizationKindEnum
from schema.scalars import SCALAR_MAP
from schema.types.auth import LoginInput, LoginPayload, LogoutPayload
from schema.types.organization import OrganizationNode
from schema.types.period import EvaluationPeriodNode
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


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in with national code and password; starts a session.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        return await auth.login(info, input)

    @strawberry.mutation(description="End the session.")
    async def logout(self, info: Info) -> LogoutPayload:
        return await auth.logout(info)


class ManaSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Refusals (ManaError) are answers, not faults: only unexpected exceptions are logged,
        # once, by schema.errors.format_error.
        return None


schema = ManaSchema(
    query=Query,
    mutation=Mutation,
    types=list(NODE_TYPES.values()),
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    extensions=[
        DjangoOptimizerExtension,
        lambda: QueryDepthLimiter(max_depth=settings.MANA["MAX_QUERY_DEPTH"]),
        lambda: MaxAliasesLimiter(max_alias_count=settings.MANA["MAX_ALIASES"]),
    ],
)
