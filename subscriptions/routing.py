"""WebSocket routes: GraphQL over ``graphql-transport-ws`` at the same path as HTTP."""

from django.urls import re_path
from strawberry.channels import GraphQLWSConsumer

from schema.schema import schema

websocket_urlpatterns = [
    re_path(r"^graphql/?$", GraphQLWSConsumer.as_asgi(schema=schema)),
]
