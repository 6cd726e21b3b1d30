"""The clients of tests/cluster/test_losing_a_host.py, run inside the client host's namespace.

    python tests/cluster/client_driver.py '{"a": "http://10.77.0.2:8000", "b": "http://..."}'

It speaks to the test in JSON lines: ``{"event": "cut"}`` on stdout when host a's link should
be cut, then it reads one line from stdin (the link is cut), and at the end
``{"event": "result", ...}``: every device's sockets with the ``message`` pushes each got, what
each device fetched with ``after_seq``, and every acknowledged message. The test judges them.

A device is one client of a user (a phone, a tab): it holds one socket at a time and keeps the
messages it has by ``message_id``. It follows the rules of docs/realtime.md:

- a ping every ``PING_S`` (a WebSocket ping of the websockets library; a ``ping`` frame would
  do as well); no answer within ``PING_TIMEOUT_S`` means the host is gone;
- on a lost socket it connects to the other host, then asks each conversation's history
  ``after_seq`` the highest seq up to which it holds every message (connect first, then ask:
  whatever is committed after the question arrives as a push on the new socket);
- a send without an answer is sent again, with the same ``client_msg_id``, once the device has
  a new socket (the server stores it at most once and answers with the stored message);
- a hole in a conversation's seqs is caught up with ``after_seq`` at the end.

Every wait is bounded; the driver gives up (and says so in its result) rather than hang.
"""

import asyncio
import functools
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
import websockets

PING_S = 0.5
PING_TIMEOUT_S = 1.5
# Longer than DB_IDLE_IN_TRANSACTION_TIMEOUT_S (10 s): a send waiting for the locks of a
# transaction the lost host left open is answered, late.
REST_TIMEOUT = (2, 15)  # connect, read
ACK_TIMEOUT_S = 15
NEW_SOCKET_WAIT_S = 3  # after a send without an answer, before sending it again
RECONNECT_WITHIN_S = 20
SENDS_BEFORE_CUT = 2  # per device, all delivered before the cut
SENDS_AROUND_CUT = 16  # per device, while the cut happens
SEND_INTERVAL_S = 0.15
CUT_AFTER_S = 1.0  # into the second round
ATTEMPTS = 4

# user -> hosts of its devices; cat and cid have a device on each host.
DEVICES = {"ann": "aa", "abe": "a", "bea": "bb", "bob": "b", "cat": "ab", "cid": "ab"}
OFFLINE = ["off1", "off2", "off3", "off4"]  # members of the big group without a socket
PRIVATE = [("ann", "bea"), ("abe", "bob"), ("cat", "cid"), ("ann", "cid"), ("bea", "cat")]
GROUPS = {"all": [*DEVICES, *OFFLINE], "trio": ["ann", "bea", "cat"]}
# "all" has 10 members: more than DIRECT_MAX (8), so its messages take the fan-out path to every
# server process; "trio"'s go to each member's push group.


class Unanswered(Exception):
    """A send got no answer: the socket or host went away, or the wait timed out."""


def rest(method: str, url: str, token: str | None = None, **options: Any) -> dict[str, Any]:
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: these hosts are local
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = session.request(method, url, headers=headers, timeout=REST_TIMEOUT, **options)
    body = response.json()
    if body.get("code") != 20000:
        raise RuntimeError(f"{method} {url}: {response.status_code} {body}")
    return body["data"]


@dataclass
class User:
    name: str
    id: int
    token: str


@dataclass
class Conversation:
    key: str
    chat_type: int
    members: list[str]
    group_id: int | None = None

    def target(self, me: User, users: dict[str, User]) -> dict[str, int]:
        if self.group_id is not None:
            return {"group_id": self.group_id, "chat_type": 1}
        peer = next(name for name in self.members if name != me.name)
        return {"to_user_id": users[peer].id, "chat_type": 0}

    def history_query(self, me: User, users: dict[str, User]) -> str:
        target = self.target(me, users)
        target_id = target.get("group_id") or target["to_user_id"]
        return f"target_id={target_id}&chat_type={target['chat_type']}"


def key_of(message: dict[str, Any], sender: str, receiver: str) -> str:
    """The conversation of a push (``sender_id``/``receiver_id``) or a history entry."""
    if message["chat_type"] == 1:
        return f"g:{message['group_id']}"
    low, high = sorted((message[sender], message[receiver]))
    return f"p:{low}:{high}"


@dataclass
class SocketRecord:
    host: str
    opened: float
    pushes: list[int] = field(default_factory=list)
    closed: float | None = None
    close_reason: str = ""


@dataclass
class Device:
    name: str
    user: User
    home: str
    conversations: list[Conversation]
    host: str = ""
    sockets: list[SocketRecord] = field(default_factory=list)
    held: dict[str, dict[int, int]] = field(default_factory=dict)  # key -> seq -> message_id
    caught_up: list[int] = field(default_factory=list)  # after_seq on reconnect
    gap_filled: list[int] = field(default_factory=list)  # after_seq for a hole, at the end
    unanswered: int = 0
    websocket: Any = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    generation: int = 0
    lost: asyncio.Event = field(default_factory=asyncio.Event)  # set when its socket is lost
    waiting: dict[str, asyncio.Future] = field(default_factory=dict)
    stopping: bool = False

    def hold(self, key: str, seq: int, message_id: int) -> None:
        self.held.setdefault(key, {})[seq] = message_id

    def prefix(self, key: str) -> int:
        """The highest seq up to which this device holds every message of ``key``."""
        seqs = self.held.get(key, {})
        return next(seq for seq in itertools.count(1) if seq not in seqs) - 1

    def message_ids(self) -> set[int]:
        return {mid for seqs in self.held.values() for mid in seqs.values()}


class Cluster:
    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = hosts
        self.users: dict[str, User] = {}
        self.conversations: list[Conversation] = []
        self.devices: list[Device] = []
        self.acked: dict[int, dict[str, Any]] = {}  # message_id -> what acknowledged it
        self.never_acked: list[str] = []
        self.sends = 0  # messages meant (a retry is the same message)
        self.events: dict[str, float] = {}
        self.started = time.monotonic()
        # Blocking calls (requests, stdin). Not the loop's default executor, which asyncio.run
        # waits for: requests given up on the lost host may still be waiting there.
        self.threads = ThreadPoolExecutor(max_workers=32)

    async def in_thread(self, function: Callable[..., Any], *args: Any, **options: Any) -> Any:
        call = functools.partial(function, *args, **options)
        return await asyncio.get_running_loop().run_in_executor(self.threads, call)

    async def rest(self, *args: Any, **options: Any) -> dict[str, Any]:
        return await self.in_thread(rest, *args, **options)

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    # --- set-up over REST, alternating hosts ---------------------------------------------
    def set_up(self) -> None:
        hosts = itertools.cycle(self.hosts.values())
        for name in [*DEVICES, *OFFLINE]:
            base = next(hosts)
            body = {"username": name, "password": "secret123", "email": f"{name}@e.com"}
            rest("POST", f"{base}/register", json=body)
            token = rest("POST", f"{base}/login", json=body)["access_token"]
            user_id = rest("GET", f"{base}/user/profile", token)["id"]
            self.users[name] = User(name, user_id, token)
        for one, two in PRIVATE:
            low, high = sorted((self.users[one].id, self.users[two].id))
            self.conversations.append(Conversation(f"p:{low}:{high}", 0, [one, two]))
        for group, members in GROUPS.items():
            base, owner = next(hosts), self.users[members[0]]
            group_id = rest("POST", f"{base}/group/create", owner.token, json={"group_name": group})
            group_id = group_id["group_id"]
            others = [self.users[name].id for name in members[1:]]
            rest(
                "POST",
                f"{base}/group/invite",
                owner.token,
                json={"group_id": group_id, "user_ids": others},
            )
            self.conversations.append(Conversation(f"g:{group_id}", 1, members, group_id))
        for name, homes in DEVICES.items():
            mine = [c for c in self.conversations if name in c.members]
            for number, home in enumerate(homes, 1):
                device = Device(f"{name}{number}@{home}", self.users[name], home, mine)
                device.host = home
                self.devices.append(device)

    # --- sockets ------------------------------------------------------------------------
    async def keep_connected(self, device: Device) -> None:
        """Hold a socket; when it is lost, move to the other host and catch up."""
        first = True
        while not device.stopping:
            url = self.hosts[device.host].replace("http", "ws", 1) + "/ws"
            websocket = await self.connect(url, device.user.token)
            record = SocketRecord(device.host, self.now())
            device.sockets.append(record)
            device.websocket = websocket
            device.generation += 1
            device.lost = asyncio.Event()
            receiving = asyncio.create_task(self.receive(device, websocket, record))
            if not first:
                await self.catch_up(device, device.caught_up)
            first = False
            device.ready.set()
            await receiving
            device.ready.clear()
            if not device.stopping:
                device.host = "b" if device.host == "a" else "a"

    async def connect(self, url: str, token: str) -> Any:
        deadline = time.monotonic() + RECONNECT_WITHIN_S
        while True:
            try:
                return await websockets.connect(
                    f"{url}?token={token}",
                    open_timeout=3,
                    ping_interval=PING_S,
                    ping_timeout=PING_TIMEOUT_S,
                    close_timeout=1,
                    proxy=None,
                )
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def receive(self, device: Device, websocket: Any, record: SocketRecord) -> None:
        try:
            async for raw in websocket:
                frame = json.loads(raw)
                kind, data = frame["type"], frame["data"]
                if kind == "message":
                    record.pushes.append(data["message_id"])
                    key = key_of(data, "sender_id", "receiver_id")
                    device.hold(key, data["seq"], data["message_id"])
                elif kind in ("ack", "error"):
                    waiter = device.waiting.pop(data.get("client_msg_id"), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(frame)
            record.close_reason = f"closed {websocket.close_code}"
        except websockets.ConnectionClosed as closed:
            record.close_reason = f"lost: {closed}"
        record.closed = self.now()
        device.lost.set()
        for waiter in device.waiting.values():
            if not waiter.done():
                waiter.set_exception(Unanswered("socket lost"))
        device.waiting.clear()

    async def catch_up(
        self, device: Device, into: list[int], keys: list[str] | None = None
    ) -> None:
        """``after_seq`` from the highest seq held without a hole, page by page."""
        base = self.hosts[device.host]
        for conversation in device.conversations:
            if keys is not None and conversation.key not in keys:
                continue
            query = conversation.history_query(device.user, self.users)
            for _page in range(100):
                after = device.prefix(conversation.key)
                page = await self.rest(
                    "GET",
                    f"{base}/chat/history?{query}&after_seq={after}&limit=100",
                    device.user.token,
                )
                for message in page["messages"]:
                    if message["id"] not in device.message_ids():
                        into.append(message["id"])
                    key = key_of(message, "from_user_id", "to_user_id")
                    device.hold(key, message["seq"], message["id"])
                if not page["hasMore"]:
                    break

    # --- sending ------------------------------------------------------------------------
    async def send(self, device: Device, conversation: Conversation, label: str, rest_: bool):
        self.sends += 1
        body = {
            **conversation.target(device.user, self.users),
            "content": label,
            "client_msg_id": label,
        }
        hosts: list[str] = []  # of each attempt
        for attempt in range(1, ATTEMPTS + 1):
            async with asyncio.timeout(RECONNECT_WITHIN_S):
                await device.ready.wait()
            generation = device.generation
            hosts.append(device.host)
            try:
                answer = await (
                    self.send_rest(device, body) if rest_ else self.send_ws(device, body)
                )
            except Unanswered:
                device.unanswered += 1
                # Send again on the next socket, or on this one if it outlives a short wait.
                await self.until_new_socket(device, generation)
                continue
            self.acked[answer["message_id"]] = {
                "conversation": conversation.key,
                "seq": answer["seq"],
                "device": device.name,
                "hosts": hosts,
                "rest": rest_,
                "attempts": attempt,
                "at": self.now(),
            }
            return
        self.never_acked.append(label)

    async def until_new_socket(self, device: Device, generation: int) -> None:
        deadline = time.monotonic() + NEW_SOCKET_WAIT_S
        while device.generation == generation and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    async def send_rest(self, device: Device, body: dict[str, Any]) -> dict[str, Any]:
        """A request still waiting when the device's socket is found lost is given up (its
        thread ends by its own timeout): the host is gone, the send goes again elsewhere."""
        url = f"{self.hosts[device.host]}/chat/send"
        request = asyncio.ensure_future(self.rest("POST", url, device.user.token, json=body))
        lost = asyncio.ensure_future(device.lost.wait())
        await asyncio.wait([request, lost], return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        if not request.done():
            raise Unanswered("the host was lost")
        try:
            data = request.result()
        except requests.RequestException as error:
            raise Unanswered(str(error)) from error
        return {"message_id": data["id"], "seq": data["seq"]}

    async def send_ws(self, device: Device, body: dict[str, Any]) -> dict[str, Any]:
        waiter = asyncio.get_running_loop().create_future()
        device.waiting[body["client_msg_id"]] = waiter
        try:
            await device.websocket.send(json.dumps({"type": "message", "data": body}))
            async with asyncio.timeout(ACK_TIMEOUT_S):
                frame = await waiter
        except (websockets.ConnectionClosed, TimeoutError) as error:
            raise Unanswered(str(error)) from error
        finally:
            device.waiting.pop(body["client_msg_id"], None)
        if frame["type"] != "ack":
            raise RuntimeError(f"refused: {frame}")
        return frame["data"]

    async def round(self, name: str, count: int, interval: float) -> None:
        """Every device sends ``count`` messages, over its conversations in turn, alternating
        /ws frames and REST."""

        async def sends(device: Device) -> None:
            for number in range(count):
                conversation = device.conversations[number % len(device.conversations)]
                label = f"{name}-{device.name}-{number}"
                await self.send(device, conversation, label, rest_=number % 2 == 1)
                await asyncio.sleep(interval)

        await asyncio.gather(*(sends(device) for device in self.devices))

    def missing(self, device: Device) -> set[int]:
        keys = {c.key for c in device.conversations}
        wanted = {mid for mid, ack in self.acked.items() if ack["conversation"] in keys}
        return wanted - device.message_ids()

    async def settle(self, within: float) -> bool:
        """Wait until every device holds every acknowledged message of its conversations."""
        deadline = time.monotonic() + within
        while any(self.missing(device) for device in self.devices):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    # --- the scenario -------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        connections = [asyncio.create_task(self.keep_connected(d)) for d in self.devices]
        async with asyncio.timeout(RECONNECT_WITHIN_S):
            for device in self.devices:
                await device.ready.wait()
        self.events["connected"] = self.now()

        await self.round("before", SENDS_BEFORE_CUT, 0)
        before = set(self.acked)
        settled_before = await self.settle(10)
        self.events["settled before the cut"] = self.now()

        around = asyncio.create_task(self.round("around", SENDS_AROUND_CUT, SEND_INTERVAL_S))
        await asyncio.sleep(CUT_AFTER_S)
        self.events["cut asked"] = self.now()
        print(json.dumps({"event": "cut"}), flush=True)
        async with asyncio.timeout(15):
            await self.in_thread(sys.stdin.readline)
        self.events["cut"] = self.now()
        async with asyncio.timeout(90):
            await around
        self.events["sent"] = self.now()

        # A last message in every conversation from a device that never moved, so that a
        # message whose push was lost leaves a hole before it.
        for conversation in self.conversations:
            sender = next(
                d for d in self.devices if d.home == "b" and d.user.name in conversation.members
            )
            await self.send(sender, conversation, f"last-{conversation.key}", rest_=True)
        settled_by_push = await self.settle(10)
        for device in self.devices:
            holes = [
                c.key
                for c in device.conversations
                if device.prefix(c.key) < max(device.held.get(c.key, {0: 0}))
            ]
            if holes:
                await self.catch_up(device, device.gap_filled, holes)
        self.events["done"] = self.now()

        for device in self.devices:
            device.stopping = True
            await device.websocket.close()
        async with asyncio.timeout(10):
            await asyncio.gather(*connections)
        return {
            "event": "result",
            "events": self.events,
            "before_cut": sorted(before),
            "settled_before_cut": settled_before,
            "settled_by_push": settled_by_push,
            "sends": self.sends,
            "acked": self.acked,
            "never_acked": self.never_acked,
            "devices": {
                d.name: {
                    "user": d.user.name,
                    "home": d.home,
                    "conversations": [c.key for c in d.conversations],
                    "sockets": [vars(s) for s in d.sockets],
                    "caught_up": d.caught_up,
                    "gap_filled": d.gap_filled,
                    "held": sorted(d.message_ids()),
                    "unanswered": d.unanswered,
                }
                for d in self.devices
            },
        }


def main() -> None:
    cluster = Cluster(json.loads(sys.argv[1]))
    cluster.set_up()
    result = asyncio.run(cluster.run())
    print(json.dumps(result), flush=True)
    # Without waiting for the threads of requests given up on the lost host.
    os._exit(0)


if __name__ == "__main__":
    main()
