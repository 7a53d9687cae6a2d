"""Bad input: thousands of generated updates of every shape through the sandbox, against the
real bot.

Hypothesis generates batches of updates — texts that are very long, empty, only emoji, mixed
right-to-left and left-to-right, full of control characters; commands; edits; stickers, polls,
locations, channel posts, update types the bot does not know; button data that is random,
garbled under a known prefix, or longer than Telegram allows. Passing means:
- no unhandled exception (nothing logged as an error);
- no question lost: every text a consented newcomer wrote is stored, as often as it was
  written (decrypted and counted), and nothing at all of the newcomer who did not consent;
- a polite reply in the user's language where one is due: everything the bot wrote to a user
  is a text of that user's language catalog, every edit is answered with the notice that edits
  are not passed on, and every button press is answered — one the bot does not know with a
  short text in the user's language, so no button keeps spinning.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from sqlalchemy import select

from bot import notices
from bot.i18n import SUPPORTED_LOCALES
from bot.models import HelpRequest, Newcomer, RequestMessage
from sandbox import CallbackQueryRecord, SimUser

from .kit import (
    REDIS_URL,
    TEXTS,
    BotProcess,
    add_sleutelpersoon,
    bot_process,
    button_prefixes,
    forge_callback,
    in_language,
    onboard,
    quiet,
    world,
)
from .test_conversation import TUESDAY_10, WORKDAYS, rasa_nowhere

BATCHES = 8
# Hypothesis draws at most 8 KiB of choices per example: a batch of this size fits only with
# short generated pieces, so long texts and long button data repeat a short piece.
UPDATES_PER_BATCH = (255, 290)
CHARACTERS = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from(
        list("سلامعليكمرسالةمنالبلدية ሰላምደብዳቤ 😀🙏🏽✉️ \u200f\u200e\u2068\u2069\x00\x1b\n\t")
    ),
)


def a_question(text: str) -> bool:
    """Something a Telegram client sends as a message (not blank) that is not a command."""
    return bool(text.strip()) and not text.startswith("/")


# Long texts repeat a generated piece up to 3000-4096 characters: as hard on the bot as any
# other long text, and cheap for Hypothesis to generate hundreds of.
LONG_TEXTS = st.builds(
    lambda piece, length: (piece * 4096)[:length],
    st.text(CHARACTERS, min_size=1, max_size=4),
    st.integers(3000, 4096),
)
QUESTIONS = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=8),
    LONG_TEXTS,
    st.sampled_from(
        ["😀😀😀", " \u200f ", "\u200f\u200f", "رسالة from the IND ሓቲተ", "ሰላም 🙏🏽 hallo"]
    ),
).filter(a_question)
COMMANDS = st.sampled_from(["/start", "/nonsense", "/privacy", "/hours", "/done", "/skip"])
GARBLED_BUTTON_DATA = (
    "lang:xx", "lang:", "consent:maybe", "domain:weather", "pref:gender:?", "pref:circle:99",
    "conv:select:abc", "offer:accept:-1", "offer:decline:", "feedback:up:x", "feedback:meh:1",
    "delete:perhaps", "done:?", "danger:maybe", "danger:",
)  # fmt: skip
# Button data a modified client can send: random, garbled under the bot's own prefixes, and
# longer than Telegram's 64 bytes.
BUTTON_DATA = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=8),
    st.sampled_from(GARBLED_BUTTON_DATA),
    st.builds(lambda piece: (piece * 300)[:300], st.text(CHARACTERS, min_size=1, max_size=3)),
)
RAW_KINDS = ("sticker", "poll", "location", "channel_post", "unknown", "edited", "empty")

Event = tuple[str, int, Any]  # (kind, user index, value)


def events() -> st.SearchStrategy[list[Event]]:
    users = st.integers(0, 2)
    questions = st.tuples(st.just("text"), users, QUESTIONS)
    commands = st.tuples(st.just("command"), users, COMMANDS)
    buttons = st.tuples(st.just("button"), users, BUTTON_DATA)
    raw = st.tuples(st.sampled_from(RAW_KINDS), users, st.text(CHARACTERS, max_size=6))
    return st.lists(
        st.one_of(questions, questions, questions, commands, buttons, raw, raw),
        min_size=UPDATES_PER_BATCH[0],
        max_size=UPDATES_PER_BATCH[1],
    )


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
                "allows_multiple_answers": False, "allows_revoting": False,
                "members_only": False}  # fmt: skip
        return "message", {**base, "poll": poll}
    if kind == "location":
        return "message", {**base, "location": {"latitude": 52.09, "longitude": 5.12}}
    if kind == "channel_post":
        channel = {"id": -1001234, "type": "channel", "title": "kanaal"}
        return "channel_post", {"message_id": next(ids), "date": base["date"], "chat": channel,
                                "text": value or "post"}  # fmt: skip
    if kind == "unknown":
        return "something_telegram_adds_later", {"id": value, "payload": [1, 2, 3]}
    if kind == "edited":
        return "edited_message", {**base, "text": value or "edit", "edit_date": base["date"]}
    return "message", {**base, "text": ""}


async def stored_texts(bot: BotProcess, user: SimUser) -> Counter[str] | None:
    """The decrypted texts stored for the newcomer, counted; None when they never consented."""
    cipher = bot.services.handover.cipher
    async with bot.services.sessions() as session:
        newcomer = await session.scalar(
            select(Newcomer).where(Newcomer.telegram_user_id == user.id)
        )
        if newcomer is None:
            return None  # never consented: nothing is kept before
        bodies = await session.scalars(
            select(RequestMessage.body_encrypted)
            .join(HelpRequest, HelpRequest.id == RequestMessage.request_id)
            .where(HelpRequest.newcomer_id == newcomer.id)
        )
        texts = Counter(cipher.decrypt(body) for body in bodies if body is not None)
    return texts


async def run_batch(batch: list[Event], workdir: Path) -> int:
    """Feed one batch to a fresh bot and check it; the number of updates fed."""
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
            locales = ("ar", "ti", "nl")
            newcomers = [sandbox.add_user(f"N{index}", code) for index, code in enumerate(locales)]
            for newcomer, button in zip(newcomers[:2], ("العربية", "ትግርኛ"), strict=True):
                await onboard(newcomer, button)
            before = {user.id: len(user.received()) for user in newcomers}
            known_prefixes = button_prefixes(bot.application)
            ids = itertools.count(10_000)
            questions: list[Counter[str]] = [Counter() for _ in newcomers]
            edits = Counter[int]()
            presses: list[list[tuple[str, CallbackQueryRecord]]] = [[] for _ in newcomers]
            for kind, index, value in batch:
                user = newcomers[index]
                if kind in {"text", "command"}:
                    sent = await user.send_text(value)
                    if kind == "text":
                        questions[index][sent.text or ""] += 1
                elif kind == "button":
                    presses[index].append((value, forge_callback(sandbox, user, value)))
                else:
                    update_kind, payload = raw_update(kind, user, value, ids)
                    sandbox.world.enqueue_update(update_kind, payload)
                    edits[index] += kind == "edited"
            await quiet(bot, sandbox)

            # No question lost, none stored twice; nothing of the one who did not consent.
            for index, user in enumerate(newcomers):
                stored = await stored_texts(bot, user)
                if index < 2:
                    assert stored == questions[index], f"questions of newcomer {index}"
                else:
                    assert stored is None

            # Everything said to a newcomer is in their language: the one they chose. The one
            # who never chose is spoken to in a guess (their Telegram's, or the script of their
            # words; a refused consent starts over), so each text is in one of our languages.
            # Each edit gets the notice that edits are not passed on; each press an answer, one
            # the bot does not know a short text, so no button keeps spinning.
            for index, user in enumerate(newcomers):
                languages = {locales[index]} if index < 2 else set(SUPPORTED_LOCALES)
                said = [m.text for m in user.received()[before[user.id] :] if m.text]
                foreign = [
                    text for text in said if not any(in_language(text, x) for x in languages)
                ]
                assert not foreign, (languages, foreign[:3])
                edit_notices = {notices.edits_not_passed_on(TEXTS[x]) for x in languages}
                assert sum(text in edit_notices for text in said) == edits[index]
                if questions[index]:
                    assert said, f"newcomer {index} got no answer"
                invalid = {notices.not_understood_command(TEXTS[x]) for x in languages}
                for data, press in presses[index]:
                    assert press.answered, data
                    if not data.startswith(known_prefixes):
                        assert press.answer_text in invalid, data
            return len(batch)
    finally:
        client = Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


FED: list[int] = []


@settings(
    max_examples=BATCHES,
    deadline=None,
    # A failing batch is reported whole, with its seed: shrinking hundreds of updates, each
    # try a fresh bot, takes longer than the suite allows.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,  # caplog is cleared for each example
    ],
)
@given(batch=events())
def test_generated_updates_break_nothing_and_lose_no_question(
    batch: list[Event], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR), tempfile.TemporaryDirectory() as workdir:
        FED.append(asyncio.run(run_batch(batch, Path(workdir))))
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]


def test_thousands_of_updates_were_fed() -> None:
    """Runs after the generated batches (pytest keeps the file's order)."""
    if not FED:
        pytest.skip("the generated batches did not run in this session")
    print(f"bad input: {sum(FED)} generated updates in {len(FED)} batches")
    assert sum(FED) >= 2000
