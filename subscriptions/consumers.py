"""The WebSocket consumer: GraphQL over graphql-transport-ws, with the same viewer as HTTP."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from strawberry.channels import GraphQLWSConsumer

from permissions.viewer import viewer_for
from schema.context import ManaContext
from schema.loaders import Loaders


class ManaGraphQLWSConsumer(GraphQLWSConsumer):
    async def get_context(self, request, response) -> ManaContext:
        # Channels' AuthMiddlewareStack put the session user in the scope; the active role is
        # read from the same session as on HTTP, so scope cannot differ between transports.
        viewer = await sync_to_async(viewer_for)(self.scope.get("user"), self.scope.get("session"))
        return ManaContext(request=request, response=response, viewer=viewer, loaders=Loaders(viewer))
