"""The office-hours guarantee over a simulated month in the sandbox.

Five weeks from early March to after Easter 2026 — across the change to summer time (29
March) and the Easter holidays — the clock jumps forward in uneven steps while newcomers ask
new questions (offers), write in their conversations (relayed copies), end them with a 👍
(closing notices and thanks), and two sleutelpersonen accept, decline or let offers run out
(so that a late accept edits the other's offer to "already taken"), at any hour, and now and
then ask /hours at night. Amal has irregular hours with a window in the spring-forward gap and
no public holidays; Sanne works on public holidays. Judged by tests/bot/hours_oracle.py, not
by the bot's own schedule: nothing but the answer to her own command reaches a sleutelpersoon
outside her hours; what waited goes when her window opens; each conversation's messages
arrive once and in the order written, and so do its header, closing notice and thanks.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select

from bot import notices
from bot.models import Offer, OutboxMessage
from sandbox import Sandbox, SimUser

from .hours_oracle import AMSTERDAM, Hours
from .kit import TEXTS, BotProcess, add_sleutelpersoon, bot_process, onboard, world
from .test_conversation import ACCEPT, ask_with_photo, is_offer, rasa_nowhere

START = datetime(2026, 3, 2, 10, 0, tzinfo=AMSTERDAM).astimezone(UTC)  # a Monday
END = datetime(2026, 4, 8, 12, 0, tzinfo=AMSTERDAM).astimezone(UTC)
SEED = 20261129
DUTCH = TEXTS["nl"]
DECLINE = DUTCH.gettext("✖️ Decline")
GOOD_FRIDAY, EASTER_MONDAY = date(2026, 4, 3), date(2026, 4, 6)
SPRING_FORWARD_OPENING = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 summer time


def _hhmm(text: str) -> time:
    return time.fromisoformat(text) if text != "24:00" else time(0)


@dataclass
class Helper:
    """A sleutelpersoon in the sandbox, her hours by definition, and what she may get at night."""

    user: SimUser
    hours_spec: str  # as the coordinator types it, for the bot
    hours: Hours  # the same, written out, for the judge
    # Ids of answers to what she did herself (commands, the header of a conversation she
    # accepted): these may reach her at any hour.
    answers: set[int] = field(default_factory=set)
    pressed: set[int] = field(default_factory=set)  # offers she looked at
    answered: set[int] = field(default_factory=set)  # offers she accepted or declined


@dataclass
class Newcomer:
    user: SimUser
    helper: Helper | None = None  # who accepted their question
    done: bool = False
    written: list[str] = field(default_factory=list)  # in their conversation, in order


async def test_a_month_reaches_sleutelpersonen_only_within_their_hours(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    randomness = random.Random(SEED)
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), START) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = Helper(
            sandbox.add_user("Amal", "nl"),
            "mon 09:00-12:00; wed 13:00-17:00 19:00-21:00; fri 10:00-11:30; sun 02:30-04:00",
            Hours(
                windows=(
                    (0, _hhmm("09:00"), _hhmm("12:00")),
                    (2, _hhmm("13:00"), _hhmm("17:00")),
                    (2, _hhmm("19:00"), _hhmm("21:00")),
                    (4, _hhmm("10:00"), _hhmm("11:30")),
                    (6, _hhmm("02:30"), _hhmm("04:00")),
                )
            ),
        )
        sanne = Helper(
            sandbox.add_user("Sanne", "nl"),
            "mon 13:00-15:00; tue 10:00-16:00; thu 20:00-24:00; sat 09:00-10:00",
            Hours(
                windows=(
                    (0, _hhmm("13:00"), _hhmm("15:00")),
                    (1, _hhmm("10:00"), _hhmm("16:00")),
                    (3, _hhmm("20:00"), _hhmm("24:00")),
                    (5, _hhmm("09:00"), _hhmm("10:00")),
                ),
                works_on_public_holidays=True,
            ),
        )
        helpers = [amal, sanne]
        for helper in helpers:
            await add_sleutelpersoon(
                bot,
                helper.user,
                helper.hours_spec,
                languages=("ar",),
                domains=("post",),
                works_on_public_holidays=helper.hours.works_on_public_holidays,
                max_open_conversations=4,
                max_new_per_week=10,
            )
        newcomers: list[Newcomer] = []
        month = Month(bot, sandbox, helpers, newcomers, randomness)

        while clock.now() < END:
            step = timedelta(minutes=randomness.randint(17, 140))
            # The dispatcher ticks every second; here at least when someone's hours open.
            openings = sorted(
                opening
                for helper in helpers
                if not helper.hours.reachable(clock.now())
                and (opening := helper.hours.next_reachable(clock.now(), step)) is not None
            )
            for moment in [*openings, clock.now() + step]:
                clock.set(moment)
                await bot.tick()  # what became due goes out before anyone acts
            await month.step()
        # The rest goes out as the judge's hours open; timers may still write a little.
        while waiting := await _chats_awaiting(bot):
            openings = [
                helper.hours.next_reachable(clock.now(), timedelta(days=14))
                for helper in helpers
                if helper.user.id in waiting
            ]
            assert len(openings) == len(waiting) and None not in openings, waiting
            clock.set(min(moment for moment in openings if moment is not None))
            await bot.tick()
            reachable = {h.user.id for h in helpers if h.hours.reachable(clock.now())}
            assert not reachable & await _chats_awaiting(bot)  # her window opened: all went

        rows_checked = 0
        for helper in helpers:
            for message in helper.user.received():
                if message.message_id in helper.answers:
                    continue
                # Her own accept or decline edits the offer at once, whatever the hour.
                edit_answers_her = message.message_id in helper.answered
                for moment in (message.date, None if edit_answers_her else message.edit_date):
                    if moment is not None:
                        local = moment.astimezone(AMSTERDAM)
                        assert helper.hours.reachable(moment), (
                            f"{helper.user.first_name} got {message.text!r} at {local}"
                        )
                        rows_checked += 1
                        assert helper is sanne or local.date() not in (GOOD_FRIDAY, EASTER_MONDAY)
        for newcomer in newcomers:
            if newcomer.helper is not None:
                received = newcomer.helper.user.received()
                assert [m.text for m in received if m.text in newcomer.written] == newcomer.written
        texts = [m.text for helper in helpers for m in helper.user.received()]
        labelled = [t for t in texts if t is not None and "\u2068#" in t]
        assert len(labelled) == len(set(labelled))  # headers, closings, thanks: each once

        # The run has teeth: every kind was written and judged, much of it outside hours.
        thanks = {notices.thanks_from_newcomer(DUTCH, f"#{n}") for n in range(1, 100)}
        offers = await _rows(bot, Offer.id.is_not(None))
        counts = month.counts
        assert offers >= 10 and texts.count(notices.offer_taken(DUTCH)) >= 1
        assert sum(text in thanks for text in texts) >= 3
        assert counts["relayed"] >= 60 and counts["night answers"] >= 3
        assert counts["night accepts and declines"] >= 1
        assert counts["written outside hours"] > counts["relayed"] / 2
        assert rows_checked > 150
        # What waited for Amal's Sunday 02:30 window went at 03:00 summer time, the first minute
        # after the gap; Sanne, who works on public holidays, got messages on Easter Monday.
        assert SPRING_FORWARD_OPENING in {m.date for m in amal.user.received()}
        assert any(
            m.date.astimezone(AMSTERDAM).date() == EASTER_MONDAY
            for m in sanne.user.received()
            if m.message_id not in sanne.answers
        )


class Month:
    """What people do at one moment, chosen at random."""

    def __init__(
        self,
        bot: BotProcess,
        sandbox: Sandbox,
        helpers: list[Helper],
        newcomers: list[Newcomer],
        randomness: random.Random,
    ) -> None:
        self.bot, self.sandbox, self.helpers = bot, sandbox, helpers
        self.newcomers, self.random = newcomers, randomness
        self.counts = dict.fromkeys(
            ("relayed", "night answers", "night accepts and declines", "written outside hours"), 0
        )

    async def step(self) -> None:
        chance = self.random.random()
        talking = [n for n in self.newcomers if n.helper is not None and not n.done]
        if chance < 0.05:
            await self._new_question()
        elif chance < 0.08 and talking:
            await self._done_with_thanks(self.random.choice(talking))
        elif chance < 0.11:
            await self._hours_at_any_time(self.random.choice(self.helpers))
        elif chance < 0.45 and talking:
            await self._write(self.random.choice(talking))
        for helper in self.helpers:
            await self._answer_offers(helper)

    async def _new_question(self) -> None:
        newcomer = Newcomer(self.sandbox.add_user(f"Nieuw{len(self.newcomers)}", "ar"))
        self.newcomers.append(newcomer)
        await onboard(newcomer.user, "العربية")
        await ask_with_photo(newcomer.user, TEXTS["ar"].gettext("✉️ Letter"))
        await self._settled()

    async def _write(self, newcomer: Newcomer) -> None:
        assert newcomer.helper is not None
        text = f"bericht {sum(len(n.written) for n in self.newcomers) + 1}"
        newcomer.written.append(text)
        self.counts["relayed"] += 1
        now = self.bot.services.clock.now()
        self.counts["written outside hours"] += not newcomer.helper.hours.reachable(now)
        await newcomer.user.send_text(text)
        await self._settled()

    async def _done_with_thanks(self, newcomer: Newcomer) -> None:
        await newcomer.user.send_text("/done")
        await newcomer.user.wait_for_message(lambda m: m.find_button("👍") is not None)
        await newcomer.user.press("👍")
        newcomer.done = True
        await self._settled()

    async def _hours_at_any_time(self, helper: Helper) -> None:
        before = len(list(self.sandbox.world.bot_messages(helper.user.id)))
        await helper.user.send_text("/hours")
        await self._settled()
        new = list(self.sandbox.world.bot_messages(helper.user.id))[before:]
        assert len(new) == 1, [m.text for m in new]  # the answer, and nothing held comes along
        helper.answers.add(new[0].message_id)
        now = self.bot.services.clock.now()
        self.counts["night answers"] += not helper.hours.reachable(now)

    async def _answer_offers(self, helper: Helper) -> None:
        """Answer some of the offers she can see, now, whatever the hour."""
        offers = [m for m in self.sandbox.world.bot_messages(helper.user.id) if is_offer(m)]
        for offer in offers:
            if offer.message_id in helper.pressed or self.random.random() < 0.5:
                continue
            helper.pressed.add(offer.message_id)
            if self.random.random() < 0.4:
                continue  # never answered: it times out, and may later be taken by the other
            accepting = self.random.random() < 0.75
            before = {m.message_id for m in helper.user.received()}
            await helper.user.press(ACCEPT if accepting else DECLINE, message_id=offer.message_id)
            await self._settled()
            helper.answered.add(offer.message_id)
            if not helper.hours.reachable(self.bot.services.clock.now()):
                # Outside her hours only the answer to her press arrives: the header of the
                # conversation she accepted, nothing that waits for her hours.
                new = [m for m in helper.user.received() if m.message_id not in before]
                assert len(new) == int(accepting), [m.text for m in new]
                helper.answers.update(m.message_id for m in new)
                self.counts["night accepts and declines"] += 1
            if accepting:
                self._connect_the_newcomer_told(helper)

    def _connect_the_newcomer_told(self, helper: Helper) -> None:
        """The newcomer whom her accept connected is told her name at once."""
        told = notices.sleutelpersoon_accepted(TEXTS["ar"], helper.user.first_name)
        for newcomer in self.newcomers:
            messages = self.sandbox.world.bot_messages(newcomer.user.id)
            if newcomer.helper is None and any(m.text == told for m in messages):
                newcomer.helper = helper

    async def _settled(self) -> None:
        """Wait until the bot has fetched and handled every update, then send what is due."""
        for _ in range(1000):
            if not self.sandbox.world.pending_updates and await self.bot.unhandled_updates() == 0:
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError("the bot did not handle its updates")
        await self.bot.tick()


async def _chats_awaiting(bot: BotProcess) -> set[int]:
    async with bot.services.sessions() as session:
        chats = await session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.sent_at.is_(None))
        )
        return set(chats)


async def _rows(bot: BotProcess, condition: ColumnElement[bool]) -> int:
    async with bot.services.sessions() as session:
        count = await session.scalar(select(func.count()).where(condition))
    return count or 0
