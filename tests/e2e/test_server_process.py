"""The server as `make run` starts it: daphne serving the ASGI app on a loopback port."""

import pytest

from tests.support.server import ServerProcess


@pytest.fixture
def server(tmp_path):
    proc = ServerProcess({"DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}"})
    proc.migrate()
    proc.start()
    yield proc
    proc.stop()


def test_register_login_profile_over_real_http(server):
    body = {"username": "eve", "password": "123456", "email": "eve@example.com"}
    assert server.request("POST", "/register", body) == (
        200,
        {"code": 20000, "message": "success", "data": {"message": "注册成功"}},
    )
    status, login = server.request("POST", "/login", {"username": "eve", "password": "123456"})
    assert status == 200
    token = login["data"]["access_token"]
    status, profile = server.request("GET", "/user/profile", token=token)
    assert (status, profile["data"]["username"]) == (200, "eve")
    assert server.request("GET", "/nope") == (404, {"code": 40004, "message": "资源不存在"})
