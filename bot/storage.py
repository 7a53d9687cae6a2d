"""Database models and sessions (SQLAlchemy 2.0, typed).

SQLite is the embedded default and PostgreSQL the production database; the schema is created
only by Alembic migrations (`bot/migrations`), never by `create_all`, so both stay identical.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import BigInteger, DateTime, String, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


class Newcomer(Base):
    """A person who asks for help. Only what the bot needs to answer them is kept."""

    __tablename__ = "newcomers"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


def migrate(database_url: str) -> None:
    """Bring the schema up to the newest migration; safe to run on every start."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_database_url(database_url).replace("%", "%%"))
    command.upgrade(config, "head")


def create_engine_for(database_url: str) -> AsyncEngine:
    return create_async_engine(async_database_url(database_url), pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def utc_now() -> datetime:
    return datetime.now(UTC)


class NewcomerStore:
    """Reads and writes newcomers; each call is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def locale_of(self, telegram_user_id: int) -> str | None:
        async with self._sessions() as session:
            locale = await session.scalar(
                select(Newcomer.locale).where(Newcomer.telegram_user_id == telegram_user_id)
            )
            return locale

    async def set_locale(self, telegram_user_id: int, locale: str) -> None:
        now = utc_now()
        async with self._sessions.begin() as session:
            newcomer = await session.scalar(
                select(Newcomer).where(Newcomer.telegram_user_id == telegram_user_id)
            )
            if newcomer is None:
                session.add(
                    Newcomer(
                        telegram_user_id=telegram_user_id,
                        locale=locale,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                newcomer.locale = locale
                newcomer.updated_at = now
