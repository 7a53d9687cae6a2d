"""Bad input: generated updates of every shape through the sandbox, against the real bot.

Hypothesis generates batches of updates — texts that are very long, empty, only emoji, mixed
right-to-left and left-to-right, full of control characters; edits; stickers, polls, locations,
channel posts, update types the bot does not know; callback data that is malformed, forged or
too long. Passing means: no unhandled exception, every newcomer who wrote a question has it
stored (nothing lost), and every newcomer who wrote got an answer in their own language.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from sqlalchemy import select

from bot.models import HelpRequest, Newcomer, RequestMessage
from sandbox import SimUser

from .kit import REDIS_URL, TEXTS, BotProcess, add_sleutelpersoon, bot_process, onboard, world
from .test_conversation import TUESDAY_10, WORKDAYS, rasa_nowhere

CHARACTERS = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(
        list("سلامعليكمرسالةمنالبلدية ሰላምደብዳቤ 😀🙏🏽✉️ \u200f\u200e\u2068\u2069\x00\x1b\n\t")
    ),
)
TEXTS_OF_ALL_KINDS = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=40),
    st.text(CHARACTERS, min_size=3000, max_size=4096),
    st.sampled_from(
        ["😀😀😀", "   ", "\u200f\u200f", "رسالة from the IND ሓቲተ", "/start", "/nonsense"]
    ),
)
RAW_KINDS = (
    "sticker",
    "poll",
    "location",
    "channel_post",
    "unknown",
    "callback",
    "edited",
    "empty",
)

Event = tuple[str, int, Any]  # (kind, user index, value)


def events() -> st.SearchStrategy[list[Event]]:
    texts = st.tuples(st.just("text"), st.integers(0, 2), TEXTS_OF_ALL_KINDS)
    raw = st.tuples(
        st.sampled_from(RAW_KINDS), st.integers(0, 2), st.text(CHARACTERS, max_size=200)
    )
    return st.lists(st.one_of(texts, texts, raw), min_size=60, max_size=160)


def raw_update(
    kind: str, user: SimUser, value: str, ids: itertools.count[int]
) -> tuple[str, dict[str, Any]]:
    sender = {
        "id": user.id,
        "is_bot": False,
        "first_name": user.first_name,
        "language_code": user.language_code,
    }
    chat = {"id": user.id, "type": "private", "first_name": user.first_name}
    base = {
        "message_id": next(ids),
        "date": int(TUESDAY_10.timestamp()),
        "chat": chat,
        "from": sender,
    }
    if kind == "sticker":
        sticker = {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
        return "message", {**base, "sticker": sticker}
    if kind == "poll":
        poll = {"id": "p1", "question": value[:300] or "?", "options": [], "total_voter_count": 0,
                "is_closed": False, "is_anonymous": True, "type": "regular",
                "allows_multiple_answers": False}  # fmt: skip
        return "message", {**base, "poll": poll}
    if kind == "location":
        return "message", {**base, "location": {"latitude": 52.09, "longitude": 5.12}}
    if kind == "channel_post":
        channel = {"id": -1001234, "type": "channel", "title": "kanaal"}
        return "channel_post", {"message_id": next(ids), "date": base["date"], "chat": channel,
                                "text": value or "post"}  # fmt: skip
    if kind == "unknown":
        return "something_telegram_adds_later", {"id": value, "payload": [1, 2, 3]}
    if kind == "callback":
        return "callback_query", {"id": str(next(ids)), "from": sender, "chat_instance": "ci",
                                  "data": value, "message": {**base, "text": "old"}}  # fmt: skip
    if kind == "edited":
        return "edited_message", {**base, "text": value or "edit", "edit_date": base["date"]}
    return "message", {**base, "text": ""}


async def quiet(bot: BotProcess, sandbox: Any) -> None:
    """Wait until every update was fetched and handled and the outbox is empty."""
    calm = 0
    while calm < 5:
        await asyncio.sleep(0.05)
        busy = bool(sandbox.world.pending_updates) or await bot.unhandled_updates() > 0
        calm = 0 if busy else calm + 1
    await bot.tick()


async def run_batch(batch: list[Event], workdir: Path) -> None:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    database_url = f"sqlite:///{workdir / 'fuzz.sqlite3'}"
    try:
        async with (
            world(database_url, prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
            bot_process(cfg, sandbox, clock) as bot,
        ):
            helper = sandbox.add_user("Helper", "nl")
            await add_sleutelpersoon(
                bot, helper, WORKDAYS, languages=("ar", "ti"), domains=("post",)
            )
            newcomers = [
                sandbox.add_user(f"N{index}", code) for index, code in enumerate(("ar", "ti", "nl"))
            ]
            for newcomer, button in zip(newcomers[:2], ("العربية", "ትግርኛ"), strict=True):
                await onboard(newcomer, button)
            ids = itertools.count(10_000)
            wrote_question: set[int] = set()
            for kind, index, value in batch:
                user = newcomers[index]
                if kind == "text":
                    await user.send_text(value)
                    if not value.startswith("/"):
                        wrote_question.add(index)
                else:
                    update_kind, payload = raw_update(kind, user, value, ids)
                    sandbox.world.enqueue_update(update_kind, payload)
            await quiet(bot, sandbox)

            async with bot.services.sessions() as session:
                for index in wrote_question:
                    newcomer = await session.scalar(
                        select(Newcomer).where(Newcomer.telegram_user_id == newcomers[index].id)
                    )
                    assert newcomer is not None
                    if newcomer.consented_at is None:
                        continue  # asked for consent first; nothing was stored, as promised
                    stored = await session.scalars(
                        select(RequestMessage.id)
                        .join(HelpRequest, HelpRequest.id == RequestMessage.request_id)
                        .where(HelpRequest.newcomer_id == newcomer.id)
                    )
                    assert stored.all(), f"the question of newcomer {index} was lost"
            for index in wrote_question:
                replies = newcomers[index].received()
                assert replies, f"newcomer {index} got no answer"
            for user, locale in zip(newcomers[:2], ("ar", "ti"), strict=True):
                if newcomers.index(user) in wrote_question:
                    known = {TEXTS[locale].gettext(msgid) for msgid in _SOME_REPLIES}
                    assert any(message.text in known for message in user.received())
    finally:
        client = Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


_SOME_REPLIES = (
    "What is your question about? Tap a button.",
    "I cannot read your message automatically right now. "
    "What is your question about? Tap a button.",
    "I added this to your question.",
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # caplog is cleared for each example
    ],
)
@given(batch=events())
def test_generated_updates_break_nothing_and_lose_no_question(
    batch: list[Event], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR), tempfile.TemporaryDirectory() as workdir:
        asyncio.run(run_batch(batch, Path(workdir)))
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]
