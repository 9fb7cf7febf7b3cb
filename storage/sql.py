"""SQL that differs between SQLite and PostgreSQL, behind one name each, so ``domain`` writes
its queries once and never asks which database it runs on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session

CHUNK = 500  # rows per statement, far below both databases' parameter limits


def _insert(session: Session):
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def insert_new(session: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]) -> None:
    """Insert rows in bulk; a row whose ``key`` columns exist already is left as it is
    (INSERT ... ON CONFLICT DO NOTHING on both databases)."""
    statement = _insert(session)(table).on_conflict_do_nothing(index_elements=list(key))
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, list(rows[start:start + CHUNK]))


def add_to_counts(session: Session, table: Table, key: str, count: str, changes: Sequence[tuple[Any, int]]) -> None:
    """Add ``change`` to the ``count`` column of the row whose ``key`` is the given value,
    creating the row when there is none (INSERT ... ON CONFLICT DO UPDATE)."""
    for start in range(0, len(changes), CHUNK):
        statement = _insert(session)(table).values([{key: value, count: change}
                                                    for value, change in changes[start:start + CHUNK]])
        session.execute(statement.on_conflict_do_update(
            index_elements=[table.c[key]], set_={count: table.c[count] + statement.excluded[count]}))


class Scanned(ColumnElement):
    """A column compared as it is, except on SQLite, where it is written ``+column``.
    The unary plus changes nothing but keeps SQLite's planner (which has no statistics) from
    reading a large part of a table through an index, one random lookup per row: for terms
    most rows match, reading the table once is several times faster."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(Scanned)
def _compile_scanned(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(Scanned, "sqlite")
def _compile_scanned_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


def put(session: Session, table: Table, row: dict[str, Any], key: Sequence[str]) -> None:
    """Insert the row, or overwrite the one with the same ``key`` (INSERT ... ON CONFLICT DO
    UPDATE on both databases): two writers of the same row never fail, the last one wins."""
    statement = _insert(session)(table).values(row)
    session.execute(statement.on_conflict_do_update(
        index_elements=list(key), set_={name: statement.excluded[name] for name in row if name not in key}))
