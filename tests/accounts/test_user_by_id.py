"""The user read of every authenticated request (``accounts.selectors.user_by_id``)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from accounts.models import User
from accounts.selectors import user_by_id

pytestmark = pytest.mark.django_db


def test_it_reads_the_whole_user_or_none(make_user):
    alice = make_user("alice")
    read = user_by_id(alice.pk)
    expected = User.objects.get(pk=alice.pk)
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert user_by_id(alice.pk + 1000) is None


def _from_another_connection(sql: str) -> None:
    """Run ``sql`` as a migration would: on another connection (Django's connections are per
    thread), committed at once."""

    def run() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def _prepared_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_it_is_prepared_and_survives_a_migration_that_adds_a_column(make_user):
    """A statement a connection runs often is prepared (DB_PREPARED_STATEMENTS). Had it been a
    ``SELECT *``, a column added meanwhile by another connection (a migration while servers
    run) would fail it inside a transaction: 'cached plan must not change result type'."""
    alice = make_user("alice")
    before = _prepared_statements()
    for _ in range(10):  # past psycopg's prepare_threshold (5)
        assert user_by_id(alice.pk).pk == alice.pk
    assert _prepared_statements() > before
    table = User._meta.db_table
    _from_another_connection(f"ALTER TABLE {table} ADD COLUMN added_later integer")
    try:
        with transaction.atomic():
            assert user_by_id(alice.pk).username == "alice"
    finally:
        _from_another_connection(f"ALTER TABLE {table} DROP COLUMN added_later")
