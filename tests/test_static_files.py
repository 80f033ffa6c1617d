"""The admin console's static files come from every worker (WhiteNoise), on both handlers."""

from __future__ import annotations

import pytest
from django.test import AsyncClient, Client

CSS = "/static/admin/css/base.css"


def test_a_static_file_is_served():
    response = Client().get(CSS)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"/*")


async def test_a_static_file_is_served_under_asgi():
    response = await AsyncClient().get(CSS)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")


@pytest.mark.django_db
async def test_other_paths_go_on_to_the_application():
    response = await AsyncClient().get("/static/admin/css/no-such-file.css")
    assert response.status_code == 404
    response = await AsyncClient().post("/graphql/", {"query": "{ __typename }"}, content_type="application/json")
    assert response.status_code in (200, 403)  # answered by the GraphQL view (403: no CSRF token)
