"""Two sleutelpersonen accept the same request at the same moment from two bot processes:
exactly one conversation, on PostgreSQL and on SQLite. Each process has its own engine and
connection pool, as separate processes would."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.handover import AcceptOutcome, Handover, HandoverPolicy
from bot.i18n import load_all_texts
from bot.models import (
    Conversation,
    HelpRequest,
    Newcomer,
    Offer,
    OfferStatus,
    RequestStatus,
    Sleutelpersoon,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.storage import create_engine_for, migrate, session_factory
from matching.office_hours import parse_weekly_hours

NOW = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
ROUNDS = 15


async def test_simultaneous_accepts_make_exactly_one_conversation(database_url: str) -> None:
    migrate(database_url)
    setup_engine = create_engine_for(database_url)
    process_engines = [create_engine_for(database_url) for _ in range(2)]
    handover = Handover(
        load_all_texts(), HandoverPolicy(), MessageCipher(parse_keys(new_key_spec("t")))
    )
    try:
        async with session_factory(setup_engine).begin() as session:
            newcomer = Newcomer(telegram_user_id=1, locale="ar", created_at=NOW, updated_at=NOW)
            people = [
                create_sleutelpersoon(
                    session,
                    NOW,
                    NewProfile(
                        display_name=name,
                        languages=("ar",),
                        domains=("post",),
                        windows=parse_weekly_hours("mon-sun 00:00-24:00"),
                        telegram_user_id=telegram_id,
                        max_open_conversations=ROUNDS + 1,
                        max_new_per_week=ROUNDS + 1,
                    ),
                )[0]
                for name, telegram_id in (("A", 101), ("B", 102))
            ]
            session.add(newcomer)
            await session.flush()
            person_ids = [person.id for person in people]
            newcomer_id = newcomer.id

        outcomes: list[list[AcceptOutcome]] = []
        for _ in range(ROUNDS):
            async with session_factory(setup_engine).begin() as session:
                request = HelpRequest(
                    newcomer_id=newcomer_id,
                    language="ar",
                    domain="post",
                    status=RequestStatus.OFFERED,
                    institutions=[],
                    created_at=NOW,
                    updated_at=NOW,
                )
                session.add(request)
                await session.flush()
                offers = [
                    Offer(
                        request_id=request.id,
                        sleutelpersoon_id=person_id,
                        status=OfferStatus.PENDING,
                        created_at=NOW,
                        expires_at=None,
                    )
                    for person_id in person_ids
                ]
                session.add_all(offers)
                await session.flush()
                offer_ids = [offer.id for offer in offers]

            async def accept_in_process(process: int, offer_id: int) -> AcceptOutcome:
                async with session_factory(process_engines[process]).begin() as session:
                    offer = await session.get_one(Offer, offer_id)
                    person = await session.get_one(Sleutelpersoon, person_ids[process])
                    return await handover.accept(session, NOW, offer, person)

            outcomes.append(
                list(
                    await asyncio.gather(
                        accept_in_process(0, offer_ids[0]), accept_in_process(1, offer_ids[1])
                    )
                )
            )

        for pair in outcomes:
            assert sorted(pair) == [AcceptOutcome.ACCEPTED, AcceptOutcome.ALREADY_TAKEN], pair
        async with session_factory(setup_engine)() as session:
            conversations = await session.scalar(select(func.count()).select_from(Conversation))
            accepted = await session.scalar(
                select(func.count()).select_from(Offer).where(Offer.status == OfferStatus.ACCEPTED)
            )
        assert conversations == ROUNDS
        assert accepted == ROUNDS
    finally:
        for engine in (setup_engine, *process_engines):
            await engine.dispose()
