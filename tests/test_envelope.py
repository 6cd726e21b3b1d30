"""Every response is the JSON envelope: success, 404, 405, malformed input, 500 (CONTRACT 1)."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "patch"])
@pytest.mark.parametrize("path", ["/nope", "/user/profile/", "/friend/unknown", "/static-x"])
def test_unknown_paths_are_a_40004_envelope(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": 40004, "message": "资源不存在"}


@override_settings(DEBUG=True)
def test_unknown_path_is_json_also_with_debug_on(api_client):
    response = api_client.get("/nope")
    assert response.json()["code"] == 40004


def test_wrong_method_is_405_with_40000(api_client):
    response = api_client.get("/register")
    assert response.status_code == 405
    assert response.json() == {"code": 40000, "message": "请求方法不被允许"}


def test_english_with_accept_language_en(api_client):
    response = api_client.get("/nope", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == {"code": 40004, "message": "Not found"}


def test_malformed_json_is_40000(api_client):
    response = api_client.generic("POST", "/register", "{not json", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, 40000)


def test_json_array_body_is_40000(api_client):
    response = api_client.post("/login", ["a"], format="json")
    assert response.json()["code"] == 40000


def test_unsupported_media_type_is_40000(api_client):
    response = api_client.generic("POST", "/login", "x", content_type="text/plain")
    assert response.json()["code"] == 40000


def test_success_envelope_and_request_id_header(api_client, make_user, client_for):
    response = client_for(make_user("alice")).get("/user/profile", HTTP_X_REQUEST_ID="abc-123")
    body = response.json()
    assert (body["code"], body["message"]) == (20000, "success")
    assert body["data"]["username"] == "alice"
    assert response["X-Request-ID"] == "abc-123"


@pytest.mark.urls("tests.crash_urls")
@pytest.mark.parametrize("path", ["/__crash/api", "/__crash/plain"])
def test_crash_is_50000_without_a_stack_trace(client, path, caplog):
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 500
    body = response.json()
    assert (body["code"], body["message"]) == (50000, "服务器内部错误")
    assert body["request_id"] == response["X-Request-ID"]
    text = response.content.decode()
    assert "secret internal detail" not in text and "Traceback" not in text
    assert "secret internal detail" in caplog.text  # the log keeps it
