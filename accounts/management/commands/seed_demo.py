"""``python manage.py seed_demo``: a small world to try the API, the admin and the docs with.

Users alice, bob and carol (password ``demo1234``) who are friends, a group owned by alice with
both others in it, a few private and group messages, a file and a file message, and a staff
account ``admin`` (``demo1234``) for ``/admin/``. Everything goes through the services, so the
rows, counters and sequence numbers are those the API would have made. Running it again changes
nothing: each step first looks for what it would create.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services as account_services
from accounts.models import User
from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.models import ChatType, Message
from files import services as file_services
from files.models import File
from files.selectors import unexpired_files
from files.uploads import StreamingUploadHandler
from groups import services as group_services
from groups.models import Group, GroupMember
from social import services as social_services
from social.selectors import are_friends

DEMO_PASSWORD = "demo1234"
DEMO_USERS = [
    ("alice", "Alice"),
    ("bob", "Bob"),
    ("carol", "Carol"),
]
STAFF_USERNAME = "admin"
GROUP_NAME = "Demo group"
FILE_NAME = "welcome.txt"
FILE_CONTENT = b"Welcome to imserver! This file was uploaded by seed_demo.\n"
# (client_msg_id, sender, receiver: a username or None for the group, text)
MESSAGES = [
    ("seed-demo-1", "alice", "bob", "Hi Bob! This is a private message."),
    ("seed-demo-2", "bob", "alice", "Hi Alice, it works."),
    ("seed-demo-3", "alice", None, "Welcome to the demo group, everyone."),
    ("seed-demo-4", "carol", None, "Hello from Carol."),
    ("seed-demo-5", "bob", None, "Hello from Bob."),
]


class Command(BaseCommand):
    help = "Create demo users (password demo1234), friendships, a group, messages and a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="run with DEBUG off too (the accounts have a published password)",
        )
        parser.add_argument("--base-url", default="http://127.0.0.1:8080")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with a published password: run it with DEBUG=1 "
                "(development) or pass --force."
            )
        self.created: list[str] = []
        users = {username: self._user(username, nickname) for username, nickname in DEMO_USERS}
        self._staff()
        self._friends(users["alice"], users["bob"])
        self._friends(users["alice"], users["carol"])
        self._friends(users["bob"], users["carol"])
        group = self._group(users["alice"], members=[users["bob"], users["carol"]])
        for client_msg_id, sender, receiver, text in MESSAGES:
            self._message(users[sender], client_msg_id, receiver, group, text, users)
        demo_file = self._file(users["alice"])
        self._send(
            users["alice"], "seed-demo-file", ChatType.GROUP, group.pk, Message.Type.FILE,
            str(demo_file.pk),
        )  # fmt: skip
        self._report(options["base_url"], group)

    # --- steps, each a no-op when its result exists ---------------------------------------

    def _user(self, username: str, nickname: str) -> User:
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            user = account_services.user_register(
                username=username,
                password=DEMO_PASSWORD,
                email=f"{username}@example.com",
                nickname=nickname,
            )
            self.created.append(f"user {username}")
        return user

    def _staff(self) -> None:
        if not User.objects.filter(username__iexact=STAFF_USERNAME).exists():
            User.objects.create_superuser(
                username=STAFF_USERNAME,
                email=f"{STAFF_USERNAME}@example.com",
                password=DEMO_PASSWORD,
                nickname="Admin",
            )
            self.created.append(f"staff user {STAFF_USERNAME}")

    def _friends(self, one: User, other: User) -> None:
        if are_friends(one.pk, other.pk):
            return
        # A request each way: the second accepts the first (CONTRACT 4).
        social_services.friend_request_send(from_user=one, to_user_id=other.pk, message="Hi!")
        social_services.friend_request_send(from_user=other, to_user_id=one.pk, message="Hi!")
        self.created.append(f"friendship {one.username}-{other.username}")

    def _group(self, owner: User, *, members: list[User]) -> Group:
        group = Group.objects.filter(
            name=GROUP_NAME, owner=owner, status=Group.Status.NORMAL
        ).first()
        if group is None:
            group = group_services.group_create(
                owner=owner, name=GROUP_NAME, description="Created by seed_demo"
            )
            self.created.append(f"group {GROUP_NAME!r}")
        present = set(GroupMember.objects.filter(group=group).values_list("user_id", flat=True))
        missing = [member.pk for member in members if member.pk not in present]
        if missing:
            group_services.group_invite(user=owner, group_id=group.pk, user_ids=missing)
            self.created.append(f"{len(missing)} group member(s)")
        return group

    def _message(
        self,
        sender: User,
        client_msg_id: str,
        receiver: str | None,
        group: Group,
        text: str,
        users: dict[str, User],
    ) -> None:
        if receiver is None:
            chat_type, target_id = ChatType.GROUP, group.pk
        else:
            chat_type, target_id = ChatType.PRIVATE, users[receiver].pk
        self._send(sender, client_msg_id, chat_type, target_id, Message.Type.TEXT, text)

    def _send(
        self,
        sender: User,
        client_msg_id: str,
        chat_type: int,
        target_id: int,
        message_type: int,
        content: str,
    ) -> None:
        if chat_selectors.message_by_client_id(sender_id=sender.pk, client_msg_id=client_msg_id):
            return
        chat_services.message_send(
            sender=sender,
            chat_type=chat_type,
            target_id=target_id,
            type=message_type,
            content=content,
            client_msg_id=client_msg_id,
        )
        self.created.append(f"message {client_msg_id}")

    def _file(self, owner: User) -> File:
        existing = unexpired_files().filter(user=owner, file_name=FILE_NAME).first()
        if existing is not None:
            return existing
        # The upload handler the API streams through: MD5, sniffed type, size, temporary file.
        handler = StreamingUploadHandler(max_bytes=settings.IM_MAX_UPLOAD_BYTES)
        handler.new_file("file", FILE_NAME, "text/plain", len(FILE_CONTENT), "utf-8")
        handler.receive_data_chunk(FILE_CONTENT, 0)
        upload = handler.file_complete(len(FILE_CONTENT))
        assert upload is not None  # the handler keeps the first part named "file"
        try:
            demo_file = file_services.file_upload(user=owner, upload=upload)
        finally:
            upload.close()
        self.created.append(f"file {FILE_NAME}")
        return demo_file

    # --- output ---------------------------------------------------------------------------

    def _report(self, base_url: str, group: Group) -> None:
        if self.created:
            self.stdout.write(self.style.SUCCESS("Created: " + ", ".join(self.created) + "."))
        else:
            self.stdout.write(
                self.style.SUCCESS("The demo data is already there; nothing changed.")
            )
        names = ", ".join(username for username, _ in DEMO_USERS)
        self.stdout.write(
            f"""
Users {names} (password {DEMO_PASSWORD}) are friends and members of group {group.pk}
({GROUP_NAME!r}); staff user {STAFF_USERNAME} ({DEMO_PASSWORD}) for {base_url}/admin/.
API docs: {base_url}/api/docs

  curl -s -X POST {base_url}/login -H 'Content-Type: application/json' \\
    -d '{{"username":"alice","password":"{DEMO_PASSWORD}"}}'
  TOKEN=...   # data.access_token of the answer
  curl -s {base_url}/chat/conversation/list -H "Authorization: Bearer $TOKEN"
  curl -s '{base_url}/chat/history?target_id={group.pk}&chat_type=1' \\
    -H "Authorization: Bearer $TOKEN"
"""
        )
