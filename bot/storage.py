"""Database engine, sessions and migrations.

SQLite is the embedded default and PostgreSQL the production database; the schema is created
only by Alembic migrations (`bot/migrations`), never by `create_all`, so both stay identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def async_database_url(url: str) -> str:
    """The async driver for a configured URL: aiosqlite for SQLite, psycopg 3 for PostgreSQL."""
    if url.startswith("sqlite:"):
        return url.replace("sqlite:", "sqlite+aiosqlite:", 1)
    if url.startswith("postgresql:") or url.startswith("postgresql+psycopg2:"):
        return "postgresql+psycopg:" + url.split(":", 1)[1]
    return url


def sync_database_url(url: str) -> str:
    """The sync driver Alembic uses for the same database."""
    if url.startswith("sqlite+aiosqlite:"):
        return url.replace("sqlite+aiosqlite:", "sqlite:", 1)
    if url.startswith("postgresql:"):
        return "postgresql+psycopg:" + url.split(":", 1)[1]
    return url


def migrate(database_url: str, revision: str = "head") -> None:
    """Bring the schema up to the newest migration (or `revision`); safe on every start."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_database_url(database_url).replace("%", "%%"))
    command.upgrade(config, revision)


# How long a SQLite transaction waits for another's write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine_for(database_url: str) -> AsyncEngine:
    # Errors name their statement but not its parameters: those can be what people wrote.
    engine = create_async_engine(
        async_database_url(database_url), pool_pre_ping=True, hide_parameters=True
    )
    if engine.dialect.name == "sqlite":
        _serialise_sqlite_transactions(engine)
    return engine


def _serialise_sqlite_transactions(engine: AsyncEngine) -> None:
    """SQLite has one writer at a time. Its default (BEGIN DEFERRED) takes the write lock only at
    the first write, so two transactions that both read first can deadlock, and SQLite then
    fails one at once ("database is locked") instead of letting it wait. Chats are handled side
    by side and chats are sent to side by side, so every transaction begins IMMEDIATE: it takes
    the write lock up front and waits for it, up to `SQLITE_BUSY_TIMEOUT_MS`. PostgreSQL, for
    more than one process, needs none of this."""

    @event.listens_for(engine.sync_engine, "connect")
    def take_over_transactions(dbapi_connection: Any, _record: Any) -> None:
        # The driver would otherwise emit its own BEGIN DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
