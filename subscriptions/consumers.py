"""The WebSocket consumer: GraphQL over graphql-transport-ws, with the same viewer and errors as HTTP."""

from __future__ import annotations

import dataclasses

from asgiref.sync import sync_to_async
from graphql import GraphQLError
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.execution import ExecutionResult
from strawberry.utils.aio import aclosing

from permissions.viewer import Viewer, viewer_for
from schema.bearer import bearer_token, viewer_for_token_string
from schema.context import ManaContext, not_over_websocket
from schema.errors import format_error
from schema.loaders import Loaders


class ManaFormattedError(GraphQLError):
    """An error already in Mana's wire format: strawberry's WebSocket handlers send ``.formatted``."""

    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self._mana_formatted = format_error(error)

    @property
    def formatted(self) -> dict:
        return self._mana_formatted


def _in_mana_format(result):
    if isinstance(result, ExecutionResult) and result.errors:
        result.errors = [
            # An unknown operationName is a malformed subscribe message: strawberry closes the
            # socket with 4400 and the reason, as graphql-transport-ws prescribes. The rest are
            # formatted (and unexpected ones masked, and logged once) by the same function as HTTP.
            error if isinstance(error.original_error, CannotGetOperationTypeError) else ManaFormattedError(error)
            for error in result.errors
        ]
    return result


async def _results_in_mana_format(results):
    async with aclosing(results):
        async for result in results:
            yield _in_mana_format(result)


class ManaErrorsSchema:
    """The schema as the WebSocket handlers see it: each result's errors formatted as over HTTP.

    strawberry's graphql-transport-ws handler sends ``error.formatted`` of graphql-core's errors,
    without a code and with the raw exception text; it runs every operation through
    ``schema.stream`` (``subscribe`` for the legacy protocol), so that is where errors are formatted.
    """

    def __init__(self, schema) -> None:
        self._schema = schema

    def __getattr__(self, name: str):
        return getattr(self._schema, name)

    async def stream(self, *args, **kwargs):
        return _results_in_mana_format(await self._schema.stream(*args, **_own_loaders(kwargs)))

    async def subscribe(self, *args, **kwargs):
        return _results_in_mana_format(await self._schema.subscribe(*args, **_own_loaders(kwargs)))


def _own_loaders(kwargs: dict) -> dict:
    """Each operation on a socket gets its own data loaders, as each HTTP request does.

    The handler builds one context per connection and passes it to every operation; its loaders
    cache what they load, so a long-lived socket would keep answering with rows read by an earlier
    operation (a renamed unit, a referral since approved). Operations run concurrently on one
    socket, so the connection's context is copied, not changed.
    """
    context = kwargs.get("context_value")
    if isinstance(context, ManaContext):
        kwargs["context_value"] = dataclasses.replace(context, loaders=Loaders(context.viewer))
    return kwargs


class ManaGraphQLWSConsumer(GraphQLWSConsumer):
    def __init__(self, schema, **kwargs) -> None:
        # Only graphql-transport-ws: the legacy graphql-ws protocol runs nothing but subscriptions.
        kwargs.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        super().__init__(ManaErrorsSchema(schema), **kwargs)

    @property
    def session(self):
        # The consumer is the context's ``request``. Django's login, logout and any session write
        # reach the session through ``request.session``; over WebSocket that is refused with a
        # code (there is no response to carry the cookie) instead of an AttributeError.
        raise not_over_websocket()

    async def get_context(self, request, response) -> ManaContext:
        # Channels' AuthMiddlewareStack put the session user in the scope; the active role is
        # read from the same session as on HTTP, so scope cannot differ between transports.
        viewer = await sync_to_async(viewer_for)(self.scope.get("user"), self.scope.get("session"))
        return ManaContext(
            request=request, response=response, viewer=viewer, loaders=Loaders(viewer), over_websocket=True
        )

    async def on_ws_connect(self, context: ManaContext):
        """connection_init's ``{"authorization": "Bearer mana_…"}`` signs the socket in with an API
        token: its owner in its role, whatever cookie the handshake carried. A token that does not
        authenticate (or is over its rate) closes the socket with 4403, never leaves it anonymous.
        Without it, the handshake's session cookie stands."""
        params = context.connection_params or {}
        authorization = params.get("authorization", params.get("Authorization"))
        if authorization is None:
            return await super().on_ws_connect(context)
        presented = bearer_token(authorization)
        if presented is None:
            # Given, but not «Bearer …»: refused, not ignored (unlike an HTTP header, this key is Mana's own).
            raise ConnectionRejectionError()
        outcome = await sync_to_async(viewer_for_token_string)(presented)
        if not isinstance(outcome, Viewer):
            raise ConnectionRejectionError()
        # Before any operation: each one copies this context (and makes its own loaders).
        context.viewer = outcome
        context.loaders = Loaders(outcome)
        return await super().on_ws_connect(context)
