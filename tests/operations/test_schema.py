"""/api/schema and /api/docs: a valid OpenAPI 3 document listing every API.md path, whose
response schemas the real responses conform to; Swagger UI served without any CDN."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# API.md's endpoints (and the two additions), as (method, path).
API_PATHS = {
    ("post", "/register"),
    ("post", "/login"),
    ("post", "/refresh_token"),
    ("post", "/logout"),
    ("get", "/user/profile"),
    ("get", "/user/info"),
    ("put", "/user/update/info"),
    ("put", "/user/update/password"),
    ("get", "/search"),
    ("post", "/friend/request/send"),
    ("post", "/friend/request/handle"),
    ("get", "/friend/list"),
    ("delete", "/friend/delete"),
    ("post", "/friend/block"),
    ("post", "/friend/unblock"),
    ("get", "/friend/blocked/list"),
    ("put", "/friend/remark"),
    ("post", "/group/create"),
    ("get", "/group/info"),
    ("get", "/group/list"),
    ("get", "/group/members"),
    ("put", "/group/update/info"),
    ("post", "/group/set/role"),
    ("post", "/group/mute/member"),
    ("post", "/group/invite"),
    ("post", "/group/join"),
    ("post", "/group/leave"),
    ("post", "/group/dismiss"),
    ("post", "/group/transfer"),
    ("post", "/group/kick"),
    ("get", "/group/member_info"),
    ("put", "/group/update/member_info"),
    ("post", "/group/request/handle"),
    ("get", "/notification/request/friend"),
    ("get", "/notification/request/friend/unread-count"),
    ("get", "/notification/group/notifications"),
    ("get", "/notification/request/group"),
    ("get", "/notification/request/group/unread-count"),
    ("post", "/file/upload"),
    ("get", "/file/download"),
    ("delete", "/file/delete"),
    ("get", "/file/info"),
    ("get", "/file/record"),
    ("post", "/chat/send"),
    ("get", "/chat/history"),
    ("post", "/chat/read"),
    ("post", "/chat/message/recall"),
    ("post", "/chat/message/delete"),
    ("get", "/chat/conversation/list"),
    ("post", "/chat/conversation/delete"),
    ("post", "/chat/conversation/pin"),
}
# The endpoints that CONTRACT sections 10 and later add beyond API.md.
CONTRACT_PATHS = {
    ("post", "/chat/message/react"),
    ("post", "/chat/message/unreact"),
    ("post", "/chat/message/edit"),
    ("post", "/chat/message/forward"),
    ("get", "/chat/message/readers"),
    ("post", "/chat/conversation/mute"),
    ("get", "/chat/unread-count"),
    ("get", "/chat/search"),
}
PUBLIC = {"/register", "/login", "/refresh_token", "/logout", "/healthz", "/livez"}


@pytest.fixture(scope="module")
def spec(django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_yaml_by_default_json_on_request_and_not_enveloped(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert "code" not in document
    as_json = client.get("/api/schema?format=json")
    assert as_json["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert json.loads(as_json.content)["paths"].keys() == document["paths"].keys()


def test_schema_validates_as_openapi_3(spec):
    validate(spec)


def test_every_api_md_path_is_described_with_its_method(spec):
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert described - {("get", "/healthz"), ("get", "/livez")} == API_PATHS | CONTRACT_PATHS


def test_the_list_matches_api_md_itself():
    """When the shared spec sits beside the repository, read API.md's own endpoint lines."""
    api_md = next(
        (
            p
            for p in (ROOT.parent / "shared/spec/API.md", ROOT / "shared/spec/API.md")
            if p.exists()
        ),
        None,
    )
    if api_md is None:
        pytest.skip("API.md is not beside the repository")  # pragma: no cover
    found = set(re.findall(r"`(GET|POST|PUT|DELETE) (/[^`\s]*)`", api_md.read_text()))
    documented = {(method.lower(), path) for method, path in found if path != "/ws"}
    assert documented <= API_PATHS
    assert API_PATHS - documented == {("post", "/logout"), ("post", "/friend/unblock")}


def test_operations_have_inputs_envelopes_errors_and_security(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert "500" in responses, where
            if path == "/file/download":
                assert "*/*" in responses["200"]["content"]
            else:
                ok = responses["200"]["content"]["application/json"]["schema"]["$ref"]
                assert ok.endswith("Envelope"), where
            if method in ("post", "put"):
                assert "requestBody" in operation, where
                assert "400" in responses, where
            if path in PUBLIC:
                assert operation.get("security", [{}]) == [{}], where
            else:
                assert operation["security"] == [{"bearerAuth": []}], where
                assert "401" in responses, where
    upload = spec["paths"]["/file/upload"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    info_params = {p["name"] for p in spec["paths"]["/user/info"]["get"]["parameters"]}
    assert info_params == {"user_id"}
    history = {p["name"]: p for p in spec["paths"]["/chat/history"]["get"]["parameters"]}
    assert history["target_id"]["required"] and history["chat_type"]["required"]
    assert {p["name"] for p in spec["paths"]["/file/delete"]["delete"]["parameters"]} == {"file_id"}


def test_docs_page_serves_swagger_ui_from_local_static_files(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset  # no CDN
        assert client.get(asset).status_code == 200, asset


# --- responses conform to the schema ------------------------------------------------------


def _conforms(spec: dict, method: str, path: str, response) -> None:
    operation = spec["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path}: {status} is not documented"
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    OAS30Validator({**schema, "components": spec["components"]}).validate(response.json())


def test_real_responses_conform(spec, make_user, client_for, api_client):
    """A short scenario through many endpoints; every body must match its documented schema."""
    alice, bob = make_user("alice"), make_user("bob", avatar="")
    a, b = client_for(alice), client_for(bob)

    def call(client, method: str, path: str, data: dict | None = None, **kwargs):
        if method == "get":
            response = client.get(path, data or {})
        else:
            response = getattr(client, method)(path, data or {}, format="json", **kwargs)
        _conforms(spec, method, path, response)
        return response.json()

    body = {"username": "carol", "password": "123456", "email": "carol@example.com"}
    call(api_client, "post", "/register", body)
    call(api_client, "post", "/register", body)  # 409
    tokens = call(api_client, "post", "/login", {"username": "carol", "password": "123456"})
    call(api_client, "post", "/login", {"username": "carol", "password": "wrong!"})  # 401
    call(api_client, "post", "/refresh_token", {"refresh_token": tokens["data"]["refresh_token"]})
    call(a, "get", "/user/profile")
    call(a, "get", "/user/info", {"user_id": bob.pk})
    call(a, "get", "/user/info", {"user_id": "x"})  # 400
    call(api_client, "get", "/user/profile")  # 401
    call(a, "get", "/search", {"keyword": "o"})
    request_id = call(a, "post", "/friend/request/send", {"to_user_id": bob.pk})["data"]
    call(b, "get", "/notification/request/friend")
    call(b, "get", "/notification/request/friend/unread-count")
    call(b, "post", "/friend/request/handle", {**request_id, "action": 2})
    call(a, "get", "/friend/list")
    call(a, "put", "/friend/remark", {"user_id": bob.pk, "remark": "B"})
    group = call(a, "post", "/group/create", {"group_name": "Team"})["data"]
    group_id = group["group_id"]
    call(a, "post", "/group/invite", {"group_id": group_id, "user_ids": [bob.pk]})
    call(a, "get", "/group/members", {"group_id": group_id})
    call(a, "get", "/group/member_info", {"group_id": group_id, "user_id": bob.pk})
    call(a, "post", "/group/mute/member", {"group_id": group_id, "user_id": bob.pk, "duration": 60})
    call(a, "post", "/group/mute/member", {"group_id": group_id, "user_id": bob.pk, "duration": 0})
    call(b, "get", "/notification/group/notifications")
    call(a, "get", "/notification/request/group")
    call(a, "get", "/notification/request/group/unread-count")
    call(a, "get", "/group/list")
    call(a, "get", "/group/info", {"group_id": 999999})  # 404
    upload = a.post(
        "/file/upload", {"file": SimpleUploadedFile("a.txt", b"hello")}, format="multipart"
    )
    _conforms(spec, "post", "/file/upload", upload)
    file_id = upload.json()["data"]["file_id"]
    call(a, "get", "/file/info", {"file_id": file_id})
    call(a, "get", "/file/record")
    sent = call(a, "post", "/chat/send", {"to_user_id": bob.pk, "type": 0, "content": "hi"})
    call(a, "post", "/chat/send", {"group_id": group_id, "type": 2, "content": file_id})
    call(
        b,
        "post",
        "/chat/send",
        {"receiver_id": group_id, "receiver_type": "group", "content": "yo"},
    )
    call(b, "get", "/chat/history", {"target_id": group_id, "chat_type": 1})
    call(b, "post", "/chat/read", {"target_id": alice.pk, "chat_type": 0})
    call(a, "get", "/chat/conversation/list")
    call(a, "post", "/chat/conversation/pin", {"target_id": bob.pk, "chat_type": 0, "is_pinned": 1})
    call(a, "post", "/chat/message/recall", {"message_id": sent["data"]["id"]})
    call(b, "post", "/chat/message/delete", {"message_id": sent["data"]["id"]})
    call(b, "post", "/chat/conversation/delete", {"target_id": alice.pk, "chat_type": 0})
    call(a, "post", "/friend/block", {"friend_id": bob.pk})
    call(a, "get", "/friend/blocked/list")
    call(a, "post", "/friend/unblock", {"friend_id": bob.pk})
    call(a, "post", "/group/leave", {"group_id": group_id})  # the owner may not: 400
    call(a, "post", "/group/dismiss", {"group_id": group_id})
    call(api_client, "get", "/healthz")
    call(api_client, "get", "/livez")
