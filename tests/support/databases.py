"""A database of its own for a server process started by a test."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


@contextmanager
def fresh_database_url(tmp_path: Path, name: str = "server") -> Iterator[str]:
    """A new, empty database of the kind the suite runs on: on PostgreSQL (``DATABASE_URL``) a
    database created for the block and dropped after it; otherwise a SQLite file in ``tmp_path``.
    """
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    database = f"im_{name}_{uuid.uuid4().hex[:8]}"
    server_url = database_url.rsplit("/", 1)[0]
    _execute(f"{server_url}/postgres", f"CREATE DATABASE {database}")
    try:
        yield f"{server_url}/{database}"
    finally:
        _execute(f"{server_url}/postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)
