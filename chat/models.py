"""Conversations, messages and each user's position in a conversation (CONTRACT 6).

A group send writes a constant number of rows whatever the group size: the message, the
conversation's counters and the sender's own position. Everything per reader (unread counts,
what history shows, whether a conversation is listed) derives from sequence numbers compared
with that reader's ``ConversationMember`` positions.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value


class ChatType(models.IntegerChoices):
    PRIVATE = 0, "private"
    GROUP = 1, "group"


class Conversation(models.Model):
    """A private pair (``user_low`` < ``user_high``) or a group; owns the ``seq`` counter."""

    type = models.PositiveSmallIntegerField(choices=ChatType.choices)
    user_low = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user_high = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.OneToOneField(
        "groups.Group",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversation",
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    last_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user_low", "user_high"],
                condition=Q(type=ChatType.PRIVATE),
                name="chat_conversation_private_pair_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        type=ChatType.PRIVATE,
                        user_low__isnull=False,
                        user_high__isnull=False,
                        group__isnull=True,
                    )
                    | Q(type=ChatType.GROUP, group__isnull=False, user_low__isnull=True)
                ),
                name="chat_conversation_private_pair_or_group",
            ),
        ]

    def __str__(self) -> str:
        if self.type == ChatType.GROUP:
            return f"group {self.group_id}"
        return f"private {self.user_low_id}-{self.user_high_id}"


class Message(models.Model):
    class Type(models.IntegerChoices):
        TEXT = 0, "text"
        IMAGE = 1, "image"
        FILE = 2, "file"
        AUDIO = 3, "audio"
        VIDEO = 4, "video"

    class Status(models.IntegerChoices):
        NORMAL = 1, "normal"
        RECALLED = 2, "recalled"

    # PROTECT, not CASCADE: a message is never deleted (its seq would leave a gap in everyone
    # else's history), so deleting its conversation, sender, recipient or group is refused
    # (ProtectedError) instead of taking the message along. Users are banned, groups dismissed.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages"
    )
    seq = models.PositiveBigIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sent_messages"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    type = models.PositiveSmallIntegerField(choices=Type.choices, default=Type.TEXT)
    content = models.TextField()
    file = models.ForeignKey(
        "files.File", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.NORMAL)
    # NULL, not "", when absent: the unique (sender, client_msg_id) constraint skips NULLs.
    client_msg_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    recalled_at = models.DateTimeField(null=True, blank=True)
    # CONTRACT 10. The quoted message of a reply, always of the same conversation.
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Mentioned user ids in the order given; ``MessageMention`` holds the same as rows, one per
    # user (and one without a user for ``mention_all``), which the mention counts read.
    mentions = models.JSONField(default=list, db_default=Value([], models.JSONField()), blank=True)
    mention_all = models.BooleanField(default=False, db_default=False)
    forwarded = models.BooleanField(default=False, db_default=False)
    # ``[{emoji, count, user_ids}]`` in the order each emoji was first used: written with the
    # ``Reaction`` rows under this message's row lock, read as it is by every message object.
    reactions = models.JSONField(default=list, db_default=Value([], models.JSONField()), blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # What search matches (CONTRACT 11): the current text, a file message's file name, "" once
    # recalled. Written with the row by the send, edit and recall; indexed for substring search
    # by migration 0004 (a bigram GIN index on PostgreSQL, an FTS5 trigram table on SQLite).
    search_text = models.TextField(default="", db_default="", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "seq"], name="chat_message_conversation_seq_unique"
            ),
            models.UniqueConstraint(
                fields=["sender", "client_msg_id"],
                condition=Q(client_msg_id__isnull=False),
                name="chat_message_sender_client_msg_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} seq {self.seq} in {self.conversation_id}"

    @property
    def chat_type(self) -> int:
        return ChatType.GROUP if self.group_id else ChatType.PRIVATE

    @property
    def is_recalled(self) -> bool:
        return self.status == self.Status.RECALLED


class ConversationMember(models.Model):
    """One user's place in one conversation: the 8.6 list entry and its read/clear positions.

    - ``read_seq``: everything up to it is read (unread = ``last_seq - read_seq``).
    - ``clear_seq``: history starts after it (set on joining a group and on deleting the
      conversation).
    - ``hidden_until_seq``: the conversation is left out of my list until a message with a
      higher ``seq`` arrives (set by deleting the conversation).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_entries"
    )
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="members")
    read_seq = models.PositiveBigIntegerField(default=0)
    clear_seq = models.PositiveBigIntegerField(default=0)
    hidden_until_seq = models.PositiveBigIntegerField(null=True, blank=True)
    is_pinned = models.BooleanField(default=False)
    # Do not disturb (CONTRACT 10): changes no delivery, only which badge counts the unread.
    is_muted = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "conversation"], name="chat_member_user_conversation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} in {self.conversation_id}"


class MessageDeletion(models.Model):
    """A message hidden for one user only (8.5)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deletions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "message"], name="chat_deletion_user_message_unique"
            )
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} hidden for user {self.user_id}"


class MessageMention(models.Model):
    """One mentioned user of one message, or (``user`` null) everyone: ``mention_all``.

    ``conversation`` and ``seq`` are the message's, so "mentions of me after my read position"
    is a range over ``(user, conversation, seq)`` without touching the messages themselves.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mention_rows")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["user", "conversation", "seq"], name="chat_mention_user_seq"),
            models.Index(
                fields=["conversation", "seq"],
                condition=Q(user__isnull=True),
                name="chat_mention_all_seq",
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} mentions {self.user_id or 'everyone'}"


class Reaction(models.Model):
    """One user's emoji on one message; ids give the reaction order."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reaction_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="chat_reaction_message_user_emoji_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"


class MessageEdit(models.Model):
    """One edit of a message: the text before and after, who and when (kept for staff)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    previous_content = models.TextField()
    content = models.TextField()
    edited_at = models.DateTimeField()

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"edit of {self.message_id} at {self.edited_at:%Y-%m-%d %H:%M:%S}"
