"""Each API path answers only the methods API.md gives it; any other is 405 with 40000.

(A ViewSet action named like an HTTP method, e.g. ``delete``, would otherwise also answer that
method on every route of its ViewSet.)
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]


def api_routes() -> list[tuple[str, set[str]]]:
    routes = []

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                actions = getattr(pattern.callback, "actions", None)
                if actions:
                    routes.append((prefix + str(pattern.pattern), set(actions)))

    walk(get_resolver().url_patterns, "/")
    return routes


ROUTES = api_routes()


def test_every_api_md_section_is_routed():
    paths = {path for path, _methods in ROUTES}
    for expected in (
        "/register",
        "/friend/list",
        "/group/kick",
        "/notification/request/group",
        "/file/upload",
        "/chat/send",
        "/chat/conversation/pin",
    ):
        assert expected in paths


@pytest.mark.parametrize(("path", "allowed"), ROUTES, ids=[path for path, _ in ROUTES])
def test_other_methods_are_405(make_user, client_for, path, allowed):
    client = client_for(make_user("alice"))
    for method in METHODS:
        if method in allowed:
            continue
        response = getattr(client, method)(path)
        assert response.status_code == 405, (method, path)
        assert response.json()["code"] == 40000
