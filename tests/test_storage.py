"""The schema comes from migrations and behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from bot.storage import (
    Newcomer,
    NewcomerStore,
    async_database_url,
    create_engine_for,
    migrate,
    session_factory,
    sync_database_url,
    utc_now,
)


def test_migrations_create_the_schema_and_can_run_twice(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    engine = create_engine(sync_database_url(database_url))
    try:
        inspector = inspect(engine)
        assert "newcomers" in inspector.get_table_names()
        columns = {column["name"] for column in inspector.get_columns("newcomers")}
        assert columns == {"id", "telegram_user_id", "locale", "created_at", "updated_at"}
    finally:
        engine.dispose()


async def test_newcomer_locale_round_trip(database_url: str) -> None:
    migrate(database_url)
    engine = create_engine_for(database_url)
    store = NewcomerStore(session_factory(engine))
    try:
        assert await store.locale_of(7001) is None
        await store.set_locale(7001, "ti")
        assert await store.locale_of(7001) == "ti"
        await store.set_locale(7001, "ar")
        assert await store.locale_of(7001) == "ar"
        assert await store.locale_of(7002) is None
    finally:
        await engine.dispose()


async def test_one_row_per_telegram_user(database_url: str) -> None:
    migrate(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    try:
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                now = utc_now()
                for _ in range(2):
                    session.add(
                        Newcomer(telegram_user_id=42, locale="ar", created_at=now, updated_at=now)
                    )
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("configured", "async_url", "sync_url"),
    [
        (
            "sqlite:///data/x.sqlite3",
            "sqlite+aiosqlite:///data/x.sqlite3",
            "sqlite:///data/x.sqlite3",
        ),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        (
            "postgresql+psycopg://u@h/db",
            "postgresql+psycopg://u@h/db",
            "postgresql+psycopg://u@h/db",
        ),
    ],
)
def test_driver_urls(configured: str, async_url: str, sync_url: str) -> None:
    assert async_database_url(configured) == async_url
    assert sync_database_url(configured) == sync_url
