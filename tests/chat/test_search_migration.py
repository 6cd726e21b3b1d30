"""Migration 0004 on an existing database: it fills ``search_text`` for the messages already
there, builds the search index, and is reversible (the index goes, and comes back)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.support.databases import fresh_database_url
from tests.support.server import ROOT


def _manage(database_url: str, *args: str) -> str:
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def _shell(database_url: str, code: str) -> str:
    """What ``code`` printed last (the shell prints its automatic imports first)."""
    output = _manage(database_url, "shell", "-c", code).strip()
    return output.splitlines()[-1] if output else ""


# Written as the code before 0004 wrote messages (the model of today has ``search_text``).
SEED = """
from django.db import connection
from django.utils import timezone
from accounts.models import User
from chat.models import Conversation
a = User.objects.create(username="a", email="a@e.com")
b = User.objects.create(username="b", email="b@e.com")
c = Conversation.objects.create(type=0, user_low=a, user_high=b, last_seq=2)
now = connection.ops.adapt_datetimefield_value(timezone.now())
with connection.cursor() as cursor:
    for seq, sender, peer, content, status in [
        (1, a, b, "大家你好呀 Hello", 1), (2, b, a, "gone", 2)
    ]:
        cursor.execute(
            "INSERT INTO chat_message (conversation_id, seq, sender_id, to_user_id, type, "
            "content, status, created_at) VALUES (%s, %s, %s, %s, 0, %s, %s, %s)",
            [c.pk, seq, sender.pk, peer.pk, content, status, now],
        )
"""
FILLED = (
    "from chat.models import Message; "
    "print(sorted(Message.objects.values_list('seq', 'search_text')))"
)


def _index_exists(database_url: str) -> bool:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            row = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'chat_message_search'"
            ).fetchone()
    else:
        with psycopg.connect(database_url) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'chat_message_search_bigrams'"
            ).fetchone()
    return row[0] == 1


def test_0004_fills_existing_messages_and_is_reversible(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path, "search_migration") as database_url:
        _manage(database_url, "migrate", "chat", "0003", "-v0")
        assert not _index_exists(database_url)
        _shell(database_url, SEED)
        _manage(database_url, "migrate", "-v0")
        assert _shell(database_url, FILLED) == "[(1, '大家你好呀 Hello'), (2, '')]"
        assert _index_exists(database_url)
        _manage(database_url, "migrate", "chat", "0003", "-v0")
        assert not _index_exists(database_url)
        _manage(database_url, "migrate", "-v0")
        assert _index_exists(database_url)
