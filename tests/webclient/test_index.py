"""The page at / is the web client: plain HTML for anyone, its modules served as static files."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

MODULES = [
    "app.js",
    "api.js",
    "socket.js",
    "store.js",
    "dom.js",
    "style.css",
    "views/auth.js",
    "views/chat.js",
    "views/composer.js",
    "views/contacts.js",
    "views/conversations.js",
    "views/groups.js",
    "views/message-dialogs.js",
    "views/notices.js",
    "views/profile.js",
    "views/quote.js",
    "views/search.js",
    "views/view.js",
]


def test_index_is_html_without_login(api_client):
    response = api_client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<script type="module" src="/static/webclient/app.js"></script>' in html
    assert 'href="/static/webclient/style.css"' in html


def test_head_is_allowed(api_client):
    assert api_client.head("/").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_the_405_envelope(api_client, method):
    response = getattr(api_client, method)("/")
    assert response.status_code == 405
    assert response.json()["code"] == 40000


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_a_static_file(name):
    assert finders.find(f"webclient/{name}"), name


def test_no_remote_resources():
    """No CDN: every import and stylesheet is relative to the app itself."""
    for name in MODULES:
        text = Path(finders.find(f"webclient/{name}")).read_text(encoding="utf-8")
        assert "https://" not in text and "http://" not in text, name
