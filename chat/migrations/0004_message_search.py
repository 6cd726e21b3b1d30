"""Message search (CONTRACT 11): ``Message.search_text``, filled for existing messages, and an
index for substring search on it.

- PostgreSQL: ``im_bigrams(text)``, the set of a text's two-character substrings, and a GIN index
  on ``im_bigrams(lower(search_text))``, built ``CONCURRENTLY`` (writes go on meanwhile; hence
  a non-atomic migration). A term of two or more characters is looked up as the bigrams it
  contains, then checked with ``ILIKE``; unlike trigrams, this also serves two-character
  Chinese words.
- SQLite: an FTS5 table with the trigram tokenizer over ``search_text`` (external content), kept
  current by triggers in the writing transaction.

Both are dropped again when the migration is reversed.
"""

from django.db import migrations, models
from django.db.models import Case, F, Value, When

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION im_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
  FROM generate_series(1, char_length(t) - 1) AS i
$$
"""
PG_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_message_search_bigrams "
    "ON chat_message USING gin (im_bigrams(lower(search_text)))"
)
PG_DROP = [
    "DROP INDEX CONCURRENTLY IF EXISTS chat_message_search_bigrams",
    "DROP FUNCTION IF EXISTS im_bigrams(text)",
]

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE chat_message_search USING fts5("
    "search_text, content='chat_message', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER chat_message_search_insert AFTER INSERT ON chat_message BEGIN "
    "INSERT INTO chat_message_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER chat_message_search_delete AFTER DELETE ON chat_message BEGIN "
    "INSERT INTO chat_message_search(chat_message_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER chat_message_search_update AFTER UPDATE OF search_text ON chat_message BEGIN "
    "INSERT INTO chat_message_search(chat_message_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO chat_message_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO chat_message_search(chat_message_search) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS chat_message_search_insert",
    "DROP TRIGGER IF EXISTS chat_message_search_delete",
    "DROP TRIGGER IF EXISTS chat_message_search_update",
    "DROP TABLE IF EXISTS chat_message_search",
]

TEXT, RECALLED = 0, 2


def fill_search_text(apps, schema_editor) -> None:
    Message = apps.get_model("chat", "Message")
    File = apps.get_model("files", "File")
    file_name = File.objects.filter(pk=models.OuterRef("file_id")).values("file_name")[:1]
    Message.objects.using(schema_editor.connection.alias).update(
        search_text=Case(
            When(status=RECALLED, then=Value("")),
            When(type=TEXT, then=F("content")),
            default=models.functions.Coalesce(models.Subquery(file_name), Value("")),
            output_field=models.TextField(),
        )
    )


def _run(schema_editor, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement)


def create_index(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_FUNCTION, PG_INDEX])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_CREATE)


def drop_index(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_DROP)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_DROP)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("chat", "0003_message_features"),
        ("files", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="search_text",
            field=models.TextField(blank=True, db_default="", default=""),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_index, drop_index),
    ]
