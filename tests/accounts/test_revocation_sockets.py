"""A change of password or ``is_active`` made outside the API closes the user's open sockets at
once (4001), not only at the next periodic re-check (at most 30 s later)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import User
from accounts.tokens import token_pair_for_user
from imserver.asgi import application
from tests.support.presence import forget_presence

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def sockets():
    opened: list[WebsocketCommunicator] = []

    async def open_for(user: User) -> WebsocketCommunicator:
        token = (await database_sync_to_async(token_pair_for_user)(user))["access_token"]
        headers = [(b"authorization", f"Bearer {token}".encode())]
        communicator = WebsocketCommunicator(application, "/ws", headers=headers)
        connected, _subprotocol = await communicator.connect(timeout=5)
        assert connected
        await communicator.send_to(text_data=json.dumps({"type": "ping"}))
        assert json.loads(await communicator.receive_from(timeout=2))["type"] == "pong"
        opened.append(communicator)
        return communicator

    yield open_for
    forget_presence()


async def closed_with(communicator: WebsocketCommunicator, timeout: float = 2) -> int:
    """The close code, within ``timeout`` (far below the 30 s re-check)."""
    output = await communicator.receive_output(timeout=timeout)
    while output["type"] != "websocket.close":
        output = await communicator.receive_output(timeout=timeout)
    return output.get("code", 1000)


def _untick_is_active(user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    user.is_active = False
    user.save()


def _set_password(user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    user.set_password("reset-by-an-admin-1")
    user.save()


@pytest.mark.parametrize(
    "change", [_untick_is_active, _set_password], ids=["is_active", "password"]
)
async def test_a_change_outside_the_api_closes_sockets_at_once(make_user, sockets, change):
    user = await database_sync_to_async(make_user)("alice")
    first, second = await sockets(user), await sockets(user)
    await database_sync_to_async(change)(user.pk)
    assert await closed_with(first) == 4001
    assert await closed_with(second) == 4001
