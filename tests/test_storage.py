"""The schema comes from migrations, matches the models, and behaves the same on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from bot.models import Base, Newcomer
from bot.storage import (
    async_database_url,
    create_engine_for,
    migrate,
    session_factory,
    sync_database_url,
)

NOW = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)


def test_migrations_match_the_models_and_can_run_twice(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    engine = create_engine(sync_database_url(database_url))
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


async def test_instants_come_back_aware_and_in_utc(database_url: str) -> None:
    migrate(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    amsterdam_morning = datetime(2026, 12, 8, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    try:
        async with sessions.begin() as session:
            session.add(
                Newcomer(
                    telegram_user_id=7001,
                    locale="ti",
                    consented_at=amsterdam_morning,
                    created_at=amsterdam_morning,
                    updated_at=amsterdam_morning,
                )
            )
        async with sessions() as session:
            stored = await session.scalar(select(Newcomer).where(Newcomer.telegram_user_id == 7001))
            assert stored is not None
            assert stored.created_at == NOW
            assert stored.created_at.utcoffset() == timedelta(0)
            # Comparisons in SQL use the same UTC instants.
            later = await session.scalar(
                select(Newcomer.id).where(Newcomer.created_at > NOW - timedelta(minutes=1))
            )
            assert later == stored.id
    finally:
        await engine.dispose()


async def test_naive_instants_are_refused(sqlite_url: str) -> None:
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    try:
        with pytest.raises(Exception, match="timezone-aware"):
            async with session_factory(engine).begin() as session:
                naive = datetime(2026, 12, 8, 9, 30)
                session.add(
                    Newcomer(
                        telegram_user_id=1,
                        locale="ar",
                        consented_at=naive,
                        created_at=naive,
                        updated_at=naive,
                    )
                )
    finally:
        await engine.dispose()


async def test_one_row_per_telegram_user(database_url: str) -> None:
    migrate(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    try:
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                for _ in range(2):
                    session.add(
                        Newcomer(
                            telegram_user_id=42,
                            locale="ar",
                            consented_at=NOW,
                            created_at=NOW,
                            updated_at=NOW,
                        )
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


def test_profiles_erased_before_the_erased_at_column_are_marked_by_the_migration(
    database_url: str,
) -> None:
    migrate(database_url, "0010_encrypted_notes")
    engine = create_engine(sync_database_url(database_url))
    insert = text(
        "INSERT INTO sleutelpersonen (display_name, locale, languages, domains, roles,"
        " organisation, paid, timezone, works_on_public_holidays, max_open_conversations,"
        " max_new_per_week, active, created_at) VALUES (:name, 'nl', '[]', '[]', '[]', :org,"
        " false, 'Europe/Amsterdam', false, 3, 5, :active, :created)"
    )
    try:
        with engine.begin() as connection:
            # A tombstone as erasure left it, and someone who is really called "erased".
            connection.execute(
                insert, {"name": "erased", "org": None, "active": False, "created": NOW}
            )
            connection.execute(
                insert, {"name": "erased", "org": "Tilburg", "active": True, "created": NOW}
            )
        migrate(database_url)
        with engine.connect() as connection:
            marked = connection.execute(
                text("SELECT organisation, erased_at IS NOT NULL FROM sleutelpersonen ORDER BY id")
            ).all()
        assert [tuple(row) for row in marked] == [(None, True), ("Tilburg", False)]
    finally:
        engine.dispose()


def test_newcomers_who_never_consented_are_deleted_by_the_migration(database_url: str) -> None:
    migrate(database_url, "0012_danger_check")
    engine = create_engine(sync_database_url(database_url))
    insert = text(
        "INSERT INTO newcomers (telegram_user_id, locale, consented_at, created_at, updated_at)"
        " VALUES (:user, 'ar', :consented, :created, :created)"
    )
    try:
        with engine.begin() as connection:
            connection.execute(insert, {"user": 1, "consented": None, "created": NOW})
            connection.execute(insert, {"user": 2, "consented": NOW, "created": NOW})
        migrate(database_url)
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT telegram_user_id FROM newcomers")).all()
        assert [tuple(row) for row in kept] == [(2,)]
    finally:
        engine.dispose()
