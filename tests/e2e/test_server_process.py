"""The server as `make run` starts it: daphne serving the ASGI app on a loopback port."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from chat.serializers import MAX_TEXT_LENGTH
from imserver.fanout_wire import DIRECT_MAX
from tests.e2e.conftest import Client
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


def test_a_long_group_message_reaches_every_socket_intact(tmp_path):
    """Pushes to many sockets share one frame (imserver/overrides/prepared_frames.py): every
    member gets the whole text, multibyte characters included, and then a private message and
    its ack (frames of their own) arrive as themselves."""
    server = ServerProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fanout.sqlite3'}",
            "IM_THROTTLE": "0",
            "IM_REQUIRE_FRIENDSHIP": "0",
        }
    )
    server.migrate()
    server.start()
    try:
        _long_group_message_scenario(server)
    finally:
        server.stop()


def _long_group_message_scenario(server: ServerProcess) -> None:
    owner = Client(server, "owner")
    members = [Client(server, f"member{n}") for n in range(DIRECT_MAX + 2)]
    group_id = owner.call("POST", "/group/create", {"group_name": "long"})["group_id"]
    owner.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [m.id for m in members]})
    long_text = ("长消息 long message 👋 " * MAX_TEXT_LENGTH)[:MAX_TEXT_LENGTH]

    async def scenario() -> None:
        for member in members:
            await member.connect()
        owner.call("POST", "/chat/send", {"group_id": group_id, "chat_type": 1, "content": "hi"})
        owner.call(
            "POST", "/chat/send", {"group_id": group_id, "chat_type": 1, "content": long_text}
        )
        for member in members:
            assert (await member.next("message"))["content"] == "hi"
            assert (await member.next("message"))["content"] == long_text
        peer = members[1]
        await members[0].send(
            {"type": "message", "data": {"to_user_id": peer.id, "chat_type": 0, "content": "ok"}}
        )
        assert (await members[0].next("ack"))["seq"] == 1
        assert (await peer.next("message"))["content"] == "ok"
        for member in members:
            await member.socket.close()

    asyncio.run(scenario())
