"""Rasa stopped mid-run: questions still reach a sleutelpersoon through the domain buttons,
none is lost, and Rasa is not asked again for every question (the shared pause).

The bot reaches the session's real Rasa through a relay of this test's own. "Stopping Rasa"
makes the relay close every connection at once, as a port whose server died would; the
shared Rasa server itself keeps running for the other tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import notices
from bot.models import HelpRequest, RequestStatus
from nlu.service import RasaServer
from tests.bot.kit import TEXTS, add_sleutelpersoon, bot_process, onboard, world
from tests.bot.test_conversation import is_offer

from .figures import record_figures
from .kit import TcpProxy, eventually

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
ARABIC = TEXTS["ar"]
ARABIC_POST_QUESTION = "وصلتني رسالة من البلدية وما فهمت شو بدهم مني"
QUESTIONS_DURING_OUTAGE = 5
WAIT_SECONDS = 30


class RasaRelay(TcpProxy):
    """Relays to the real Rasa; once stopped, closes each connection unanswered and counts
    it: each is a classification the bot tried during the outage."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        super().__init__(parts.hostname or "127.0.0.1", parts.port or 5005)
        self.stopped = False
        self.refused = 0
        self.relayed = 0

    def stop(self) -> None:
        """Rasa dies: open connections break, new ones are closed unanswered."""
        self.stopped = True
        for writer in list(self._writers):
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.stopped:
            self.refused += 1
            writer.close()
            return
        self.relayed += 1
        await super()._relay(reader, writer)


@asynccontextmanager
async def rasa_relay(target: str) -> AsyncIterator[tuple[RasaRelay, str]]:
    relay = RasaRelay(target)
    await relay.start()
    try:
        yield relay, f"http://127.0.0.1:{relay.port}"
    finally:
        await relay.cut()


@pytest.mark.rasa
async def test_with_rasa_stopped_questions_reach_a_sleutelpersoon_through_the_buttons(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        rasa_relay(rasa_server.url) as (relay, rasa_url),
        world(sqlite_url, redis_key_prefix, rasa_url, TUESDAY_10) as (sandbox, clock, settings),
        bot_process(settings, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(
            bot, amal, "mon-fri 09:00-17:00", languages=("ar",), domains=("post", "finance")
        )
        first = sandbox.add_user("Newcomer0", "ar")
        await onboard(first, "العربية")
        await first.send_text(ARABIC_POST_QUESTION)
        await amal.wait_for_message(is_offer)
        assert relay.relayed >= 1, "the first question was not classified by Rasa"

        relay.stop()
        asked = [
            sandbox.add_user(f"Newcomer{n}", "ar") for n in range(1, 1 + QUESTIONS_DURING_OUTAGE)
        ]
        loop = asyncio.get_running_loop()
        for newcomer in asked:
            await onboard(newcomer, "العربية")
            started = loop.time()
            await newcomer.send_text(ARABIC_POST_QUESTION)
            await newcomer.wait_for_message(lambda m: m.text == notices.nlu_unavailable(ARABIC))
            waited = loop.time() - started
            assert waited < settings.rasa_timeout_seconds, "the newcomer waited for Rasa"
            await newcomer.press(ARABIC.gettext("✉️ Letter"))

        async def every_question_offered() -> bool:
            return sum(is_offer(m) for m in amal.received()) == 1 + QUESTIONS_DURING_OUTAGE

        await eventually(every_question_offered, WAIT_SECONDS, "an offer for every question")
        async with bot.services.sessions() as session:
            statuses = (await session.scalars(select(HelpRequest.status))).all()

    report = (
        f"Rasa stopped: 1 question classified by Rasa, then Rasa stopped and "
        f"{QUESTIONS_DURING_OUTAGE} more asked\n"
        f"offers to the sleutelpersoon: {sum(is_offer(m) for m in amal.received())}; "
        f"requests: {len(statuses)}; lost: {1 + QUESTIONS_DURING_OUTAGE - len(statuses)}; "
        f"classifications tried while Rasa was down: {relay.refused}\n"
    )
    record_figures("rasa-stopped", report)

    assert statuses == [RequestStatus.OFFERED] * (1 + QUESTIONS_DURING_OUTAGE)
    # One failure pauses classification for every process; the rest go straight to buttons.
    assert relay.refused == 1
