"""The WebSocket consumer: GraphQL over graphql-transport-ws, with the same viewer and errors as HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import hashlib
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.core.cache import cache
from django.dispatch import receiver
from graphql import GraphQLError
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.execution import ExecutionResult
from strawberry.utils.aio import aclosing

from permissions.viewer import ANONYMOUS, Viewer, viewer_for
from schema.bearer import bearer_token, viewer_for_token_string
from schema.context import ManaContext, not_over_websocket
from schema.errors import ErrorCode, ManaError, format_error
from schema.json_encoding import encode_json_text
from schema.loaders import Loaders
from subscriptions import delivery, publish

logger = logging.getLogger(__name__)

TOO_MANY_SUBSCRIPTIONS_MESSAGE = "روی این اتصال بیش از {limit} اشتراک هم‌زمان نمی‌توان داشت؛ یکی را ببندید (complete)."
# Close codes beyond graphql-transport-ws's own: both are "fatal" to the graphql-ws client (it
# does not reconnect on its own), as they should be.
TOO_MANY_CONNECTIONS = (4429, "Too many connections for this person")
SESSION_ENDED = (4401, "Session ended")
# The socket's API token was revoked or has expired: the same code as a token refused at connect.
TOKEN_REVOKED = (4403, "Token no longer valid")
# A person's connection counter lives this many credential checks past its last renewal.
CONNECTION_COUNT_CHECKS = 5


def _count_ttl() -> int:
    return max(60, int(CONNECTION_COUNT_CHECKS * settings.MANA_WS_SESSION_CHECK_INTERVAL))


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
        return _results_in_mana_format(await self._schema.stream(*args, **await _operation_context(kwargs)))

    async def subscribe(self, *args, **kwargs):
        return _results_in_mana_format(await self._schema.subscribe(*args, **await _operation_context(kwargs)))


async def _operation_context(kwargs: dict) -> dict:
    """Each operation on a socket gets the viewer as of now and its own data loaders, as each HTTP
    request does.

    The handler builds one context per connection and passes it to every operation. Its viewer was
    read at connect: a role switched since, a permission withdrawn, a token revoked or expired, a
    deactivated account would otherwise go on answering queries on an open socket. Its loaders
    cache what they load, so a long-lived socket would keep answering with rows read by an earlier
    operation (a renamed unit, a referral since approved). Operations run concurrently on one
    socket, so the connection's context is copied, not changed.
    """
    context = kwargs.get("context_value")
    if isinstance(context, ManaContext):
        viewer = await context.request.viewer_now(context.viewer)
        kwargs["context_value"] = dataclasses.replace(context, viewer=viewer, loaders=Loaders(viewer))
    return kwargs


class CloseConnection(Exception):
    """Raised from on_ws_connect: close the socket with this code instead of acknowledging."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ManaTransportWSHandler(BaseGraphQLTransportWSHandler):
    """strawberry's graphql-transport-ws handler, with Mana's answers to two of its limits."""

    async def handle_connection_init(self, message) -> None:
        try:
            await super().handle_connection_init(message)
        except CloseConnection as close:
            await self.websocket.close(code=close.code, reason=close.reason)

    async def handle_subscribe(self, message) -> None:
        # strawberry refuses one operation too many with an uncoded English error: the same refusal,
        # coded and in Persian. Only the operation is refused; the socket and its others go on.
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = ManaError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, TOO_MANY_SUBSCRIPTIONS_MESSAGE.format(limit=limit))
            await self.send_message({"id": message["id"], "type": "error", "payload": [format_error(error)]})
            return
        await super().handle_subscribe(message)


def session_digest(session_key: str | None) -> str | None:
    """How a session is named in channel-layer messages: never the key itself (it is the cookie)."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()


def _connections_key(user_id: int) -> str:
    return f"ws-connections:{user_id}"


class ManaGraphQLWSConsumer(GraphQLWSConsumer):
    graphql_transport_ws_handler_class = ManaTransportWSHandler

    def __init__(self, schema, **kwargs) -> None:
        # Only graphql-transport-ws: the legacy graphql-ws protocol runs nothing but subscriptions.
        kwargs.setdefault("subscription_protocols", (GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        kwargs.setdefault(
            "connection_init_wait_timeout", datetime.timedelta(seconds=settings.MANA_WS_INIT_TIMEOUT)
        )
        kwargs.setdefault("max_subscriptions_per_connection", settings.MANA_WS_MAX_SUBSCRIPTIONS)
        super().__init__(ManaErrorsSchema(schema), **kwargs)
        # Who the socket is, for re-reading its viewer when an event arrives (subscriptions/delivery.py).
        self.mana_user_id: int | None = None
        self.mana_session_key: str | None = None
        self.mana_token_id: int | None = None
        self._joined_group: str | None = None
        self._counted_user: int | None = None
        self._credential_watch: asyncio.Task | None = None
        self._ended = False

    def encode_json(self, data: object) -> str:
        # Persian as Persian in WebSocket frames too, as in HTTP answers (schema/json_encoding.py).
        return encode_json_text(data)

    async def connect(self) -> None:
        # The loop the publisher must send on, for the in-memory layer (subscriptions/publish.py).
        publish.remember_server_loop(asyncio.get_running_loop())
        await super().connect()

    async def dispatch(self, message) -> None:
        # strawberry hands every non-websocket message to listening subscriptions; the end of a
        # session is the socket's own business, whether or not anything is subscribed.
        if message.get("type") == publish.SESSION_ENDED_MESSAGE:
            if self.mana_session_key and message.get("session") == session_digest(self.mana_session_key):
                await self.end_session()
            return
        if message.get("type") == publish.TOKEN_REVOKED_MESSAGE:
            if self.mana_token_id is not None and message.get("token") == self.mana_token_id:
                await self.end_session()
            return
        await super().dispatch(message)

    async def end_session(self) -> None:
        """The socket's credential ended — its session signed out or expired (4401: sign in again),
        its API token revoked or expired (4403) — close it."""
        if self._ended:
            return
        self._ended = True
        code, reason = TOKEN_REVOKED if self.mana_token_id is not None else SESSION_ENDED
        await self.close(code=code, reason=reason)

    async def viewer_now(self, connected_as: Viewer) -> Viewer:
        """Who this socket is now (for each operation): the session's or the token's viewer re-read,
        anonymous once the credential has ended (and the socket closing); an anonymous socket stays so."""
        if self.mana_user_id is None:
            return connected_as
        try:
            viewer = await sync_to_async(delivery.current_viewer)(
                self.mana_user_id, self.mana_session_key, self.mana_token_id
            )
        except delivery.SessionEnded:
            viewer = ANONYMOUS
        if not viewer.is_authenticated:
            await self.end_session()
        return viewer

    async def __call__(self, scope, receive, send):
        # Whatever ends the socket — a clean close, or an exception in the consumer or its channel
        # layer (daphne then closes with 1011 and disconnect() never runs) — it leaves its group and
        # is counted out: a crashed socket must not hold one of the person's connections.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._leave()

    async def disconnect(self, code: int) -> None:
        try:
            await super().disconnect(code)
        finally:
            await self._leave()

    async def _join(self, viewer: Viewer) -> None:
        """An authenticated socket: counted against the person's limit, and in their group (for
        their inbox events and for the end of their session)."""
        if not viewer.is_authenticated:
            return
        user_id = viewer.user.pk
        self.mana_user_id = user_id
        if viewer.api_token is not None:
            self.mana_token_id = viewer.api_token.pk
        else:
            session = self.scope.get("session")
            self.mana_session_key = getattr(session, "session_key", None)
        if not await sync_to_async(self._count_in)(user_id):
            raise CloseConnection(*TOO_MANY_CONNECTIONS)
        group = publish.user_group(user_id)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
            self._joined_group = group
        except Exception as error:
            logger.warning("live updates: socket not joined to its group (%s: %s)", type(error).__name__, error)
        self._credential_watch = asyncio.create_task(self._watch_credential())

    def _count_in(self, user_id: int) -> bool:
        """Count this socket in the person's connections; False (and not counted) over the limit.

        In the cache, so that every worker counts the same (Redis with REDIS_URL). A socket that
        ends in any way is counted out (__call__); a counter left high by a worker that was killed
        expires a few credential checks after the person's last live socket renewed it; a cache
        fault lets the socket in rather than lock everyone out."""
        key = _connections_key(user_id)
        try:
            cache.add(key, 0, _count_ttl())
            count = cache.incr(key)
        except Exception as error:
            logger.warning("live updates: connections not counted (%s)", type(error).__name__)
            return True
        if count > settings.MANA_WS_MAX_CONNECTIONS_PER_PERSON:
            # Refused: the counter's life is not renewed, so a count left high (a worker killed
            # with its sockets) runs out instead of locking the person out for as long as they retry.
            self._count_out(user_id)
            return False
        self._counted_user = user_id
        self._keep_count()
        return True

    def _keep_count(self) -> None:
        """Renew the person's counter while this socket lives (on connect and at every credential
        check): it expires a few check intervals after the person's last live socket."""
        if self._counted_user is not None:
            with contextlib.suppress(Exception):
                cache.touch(_connections_key(self._counted_user), _count_ttl())

    @staticmethod
    def _count_out(user_id: int) -> None:
        # Expired (ValueError) or the cache is down: nothing to undo.
        with contextlib.suppress(Exception):
            cache.decr(_connections_key(user_id))

    async def _leave(self) -> None:
        if self._credential_watch is not None:
            self._credential_watch.cancel()
            self._credential_watch = None
        if self._joined_group is not None:
            group, self._joined_group = self._joined_group, None
            # The layer is down: the membership expires on its own (channels' group_expiry).
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
        if self._counted_user is not None:
            user_id, self._counted_user = self._counted_user, None
            await sync_to_async(self._count_out)(user_id)

    async def _watch_credential(self) -> None:
        """An expired (or deleted) session, an expired token or a deactivated account ends the
        socket, even when no event or operation comes to notice it."""
        while True:
            await asyncio.sleep(settings.MANA_WS_SESSION_CHECK_INTERVAL)
            try:
                viewer = await sync_to_async(delivery.current_viewer)(
                    self.mana_user_id, self.mana_session_key, self.mana_token_id
                )
            except delivery.SessionEnded:
                viewer = ANONYMOUS
            except Exception as error:
                logger.warning("live updates: credential not re-checked (%s)", type(error).__name__)
                continue
            if not viewer.is_authenticated:
                await self.end_session()
                return
            await sync_to_async(self._keep_count)()

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
            await self._join(context.viewer)
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
        await self._join(outcome)
        return await super().on_ws_connect(context)


@receiver(user_logged_out)
def end_sockets_of_session(sender, request, user, **kwargs) -> None:
    """Signing out over HTTP closes the sockets opened with that session (and only those: the
    person's other devices stay signed in). Sent before Django flushes the session."""
    if user is None or request is None or getattr(request, "session", None) is None:
        return
    digest = session_digest(request.session.session_key)
    if digest is not None:
        publish.publish_to_user(user.pk, {"type": publish.SESSION_ENDED_MESSAGE, "session": digest})
