"""WebSocket routes: GraphQL over ``graphql-transport-ws`` at the same path as HTTP."""

from django.urls import re_path

from schema.schema import schema
from subscriptions.consumers import ManaGraphQLWSConsumer

websocket_urlpatterns = [
    re_path(r"^graphql/?$", ManaGraphQLWSConsumer.as_asgi(schema=schema)),
]
