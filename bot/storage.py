"""Database engine, sessions and migrations.

SQLite is the embedded default and PostgreSQL the production database; the schema is created
only by Alembic migrations (`bot/migrations`), never by `create_all`, so both stay identical.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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


def create_engine_for(database_url: str) -> AsyncEngine:
    # Errors name their statement but not its parameters: those can be what people wrote.
    return create_async_engine(
        async_database_url(database_url), pool_pre_ping=True, hide_parameters=True
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
