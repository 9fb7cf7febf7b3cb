"""Engine and session set-up, and migrations to the newest schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, create_engine

from storage.models import OutboxMessage

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_SQLITE_PATH = Path("data") / "stammgast.db"


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    # The sqlite3 module would open transactions only before writes, and not before a
    # SAVEPOINT, whose RELEASE then commits on its own. We begin every transaction ourselves
    # (see _begin_immediate), so transactions and savepoints behave as on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the dispatcher read while a handler writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


READ_ONLY = "stammgast_read_only"  # execution option of the engine behind Store.reading()


def _begin_immediate(connection) -> None:
    # SQLite has one writer at a time. Taking the write lock when the transaction begins (and
    # waiting up to busy_timeout for it) means a transaction that reads and then writes can
    # never fail halfway because another one wrote in between (SQLITE_BUSY_SNAPSHOT). A
    # read-only transaction needs no lock: in WAL mode it reads its snapshot while others write.
    connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def _create_private_file(path: Path) -> None:
    """The SQLite file (and its directory, if it is new) readable by the bot's user only; SQLite
    gives its -wal and -shm files the same permissions. An existing file keeps its own."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


# hide_parameters: a failed statement's error message names the statement, never its values
# (names, phone numbers, message texts), so database errors keep customer data out of the logs.
def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, hide_parameters=True)
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3 here
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # No JIT compilation: it pays off for long analytical queries, but PostgreSQL's cost
    # estimate of a segment with a tier (a subquery per customer it will rarely run) is high
    # enough to make it compile for a second or two before a query that needs half a second.
    # Always a plan for the values at hand: psycopg prepares a statement run five times on a
    # connection, and PostgreSQL then switches to one generic plan, blind to the values. For
    # "the oldest date among the entries after id N" (N the newest id, so no rows) the generic
    # plan walks the whole date index: 16 s per query at a million customers, every 5 minutes
    # in the report job, instead of a millisecond. Planning afresh costs well under a millisecond.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         connect_args={"options": "-c jit=off -c plan_cache_mode=force_custom_plan"},
                         hide_parameters=True)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    command.upgrade(_alembic_config(engine), "head")


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


OUTBOX_WRITTEN = "outbox_written"  # session.info key: this unit of work queued outbox rows (or made some due again)


def _note_new_outbox_rows(session: Session, _context, _instances) -> None:
    if any(isinstance(row, OutboxMessage) for row in session.new) or any(
            isinstance(row, OutboxMessage) and row.status == "pending" for row in session.dirty):
        session.info[OUTBOX_WRITTEN] = True


def _note_outbox_inserts(state: ORMExecuteState) -> None:
    # Bulk inserts (a campaign's recipients) bypass the flush above.
    if state.is_insert and getattr(state.statement, "table", None) is OutboxMessage.__table__:
        state.session.info[OUTBOX_WRITTEN] = True


class ReadOnlySessionError(RuntimeError):
    """Something tried to write in a ``Store.reading()`` session."""


def _refuse_writes_when_reading(session: Session, _context, _instances) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.deleted or any(
            session.is_modified(row) for row in session.dirty)):
        raise ReadOnlySessionError("a read-only session tried to write")


event.listen(Session, "before_flush", _refuse_writes_when_reading)
event.listen(Session, "before_flush", _note_new_outbox_rows)
event.listen(Session, "do_orm_execute", _note_outbox_inserts)


class Store:
    """The database of one shop: owns the engine, hands out sessions (units of work)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_db_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits when the block succeeds, rolls back when it raises. After
        the block, ``session.info[OUTBOX_WRITTEN]`` says whether it queued outbox rows (so
        the caller can wake the dispatcher once they are committed)."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it takes no write lock (so it never waits for
        a writer, nor makes one wait), and it ends without a commit (closing the session hands
        its connection back with a rollback, and keeps what was read loaded). Writing in it is
        a bug and raises ``ReadOnlySessionError`` at the flush."""
        with Session(self._read_engine, expire_on_commit=False, info={READ_ONLY: True}) as session:
            yield session

    @cached_property
    def _read_engine(self) -> Engine:
        return self.engine.execution_options(**{READ_ONLY: True})

    def migrate(self) -> None:
        migrate(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
