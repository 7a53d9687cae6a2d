"""Two sleutelpersonen accept the same request at the same moment from two bot processes:
exactly one conversation, on PostgreSQL and on SQLite. Each process has its own engine and
connection pool, as separate processes would. The loser of the insert keeps a usable
transaction (its handler still commits that the update was handled)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
HANDOVER = Handover(
    load_all_texts(), HandoverPolicy(), MessageCipher(parse_keys(new_key_spec("t")))
)


async def newcomer_and_two_helpers(session: AsyncSession) -> tuple[int, list[int]]:
    """A newcomer and two sleutelpersonen, A and B, who may both take every request."""
    newcomer = Newcomer(
        telegram_user_id=1, locale="ar", consented_at=NOW, created_at=NOW, updated_at=NOW
    )
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
    return newcomer.id, [person.id for person in people]


async def offered_to_both(
    session: AsyncSession, newcomer_id: int, person_ids: list[int]
) -> tuple[int, list[int]]:
    """A request offered to each sleutelpersoon at once: its id and the offers' ids."""
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
    return request.id, [offer.id for offer in offers]


async def test_simultaneous_accepts_make_exactly_one_conversation(database_url: str) -> None:
    migrate(database_url)
    setup_engine = create_engine_for(database_url)
    process_engines = [create_engine_for(database_url) for _ in range(2)]
    try:
        async with session_factory(setup_engine).begin() as session:
            newcomer_id, person_ids = await newcomer_and_two_helpers(session)

        outcomes: list[list[AcceptOutcome]] = []
        for _ in range(ROUNDS):
            async with session_factory(setup_engine).begin() as session:
                _, offer_ids = await offered_to_both(session, newcomer_id, person_ids)

            async def accept_in_process(process: int, offer_id: int) -> AcceptOutcome:
                async with session_factory(process_engines[process]).begin() as session:
                    offer = await session.get_one(Offer, offer_id)
                    person = await session.get_one(Sleutelpersoon, person_ids[process])
                    return await HANDOVER.accept(session, NOW, offer, person)

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


async def test_losing_the_insert_leaves_the_transaction_usable(database_url: str) -> None:
    """Another process's conversation for the request appears between this accept's update
    and its insert (the window the unique request_id guards): this accept says 'taken', and
    its transaction still works and commits (on PostgreSQL only thanks to the savepoint)."""
    migrate(database_url)
    engine = create_engine_for(database_url)
    try:
        async with session_factory(engine).begin() as session:
            newcomer_id, person_ids = await newcomer_and_two_helpers(session)
            request_id, offer_ids = await offered_to_both(session, newcomer_id, person_ids)
            # The winner's conversation, committed while the request still reads as offered.
            session.add(
                Conversation(
                    request_id=request_id,
                    newcomer_id=newcomer_id,
                    sleutelpersoon_id=person_ids[0],
                    label="#1",
                    status="open",
                    opened_at=NOW,
                    feedback_pending=False,
                )
            )
        async with session_factory(engine).begin() as session:
            offer = await session.get_one(Offer, offer_ids[1])
            person = await session.get_one(Sleutelpersoon, person_ids[1])
            outcome = await HANDOVER.accept(session, NOW, offer, person)
            # What the handler does next in the same transaction: it must still be possible.
            still_usable = await session.scalar(select(func.count()).select_from(Conversation))
        async with session_factory(engine)() as session:
            conversations = (await session.scalars(select(Conversation))).all()
            loser = await session.get_one(Offer, offer_ids[1])
        assert outcome == AcceptOutcome.ALREADY_TAKEN
        assert still_usable == 1
        assert [(c.request_id, c.sleutelpersoon_id) for c in conversations] == [
            (request_id, person_ids[0])
        ]
        assert loser.status == OfferStatus.TAKEN
    finally:
        await engine.dispose()
