"""A migrated database of its own for a server process started by a test."""

import atexit
import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.support.server import run_migrate, sqlite_copy_of_migrated_template


@contextmanager
def fresh_database_url(tmp_path: Path, name: str = "server") -> Iterator[str]:
    """A new database with every migration applied, of the kind the suite runs on: on PostgreSQL
    (``DATABASE_URL``) a copy of a template migrated once per session, dropped after the block;
    otherwise a SQLite file in ``tmp_path``.
    """
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        path = tmp_path / f"{name}.sqlite3"
        sqlite_copy_of_migrated_template(path)
        yield f"sqlite:///{path}"
        return
    server_url = database_url.rsplit("/", 1)[0]
    database = f"im_{name}_{uuid.uuid4().hex[:8]}"
    _execute(server_url, f"CREATE DATABASE {database} TEMPLATE {_postgres_template(server_url)}")
    try:
        yield f"{server_url}/{database}"
    finally:
        _execute(server_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@functools.cache
def _postgres_template(server_url: str) -> str:
    template = f"im_template_{uuid.uuid4().hex[:8]}"
    _execute(server_url, f"CREATE DATABASE {template}")
    atexit.register(_execute, server_url, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
    run_migrate({**os.environ, "DEBUG": "1", "DATABASE_URL": f"{server_url}/{template}"})
    return template


def _execute(server_url: str, statement: str) -> None:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
        connection.execute(statement)
