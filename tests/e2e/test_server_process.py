"""The server as `make run` starts it: daphne serving the ASGI app on a loopback port."""

from concurrent.futures import ThreadPoolExecutor

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


def test_concurrent_writes_on_the_embedded_sqlite_database_all_succeed(tmp_path):
    """`make run`'s SQLite file under writes from every lane at once (no "database is locked")."""
    server = ServerProcess(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'busy.sqlite3'}", "IM_THROTTLE": "0"}
    )
    server.migrate()
    server.start()
    try:

        def register(n: int) -> int:
            body = {"username": f"user{n}", "password": "123456", "email": f"u{n}@example.com"}
            return server.request("POST", "/register", body)[1]["code"]

        with ThreadPoolExecutor(max_workers=24) as pool:
            codes = list(pool.map(register, range(48)))
        assert codes == [20000] * 48
    finally:
        server.stop()
