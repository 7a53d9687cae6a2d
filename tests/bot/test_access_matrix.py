"""Who may do what in the bot: every command and every kind of button the wiring registers, for
every role the bot knows — someone unknown (never /start-ed), a newcomer before consent, a
newcomer in a conversation, the sleutelpersoon of that conversation, and another
sleutelpersoon. (Coordinators have no role in the bot: on Telegram they only receive alerts, so
to the bot they are someone unknown.)

Each cell is one of: allowed (answered, in the user's language, not refused); refused politely
(the "not for you" text in the user's language, and nothing changed); or, for a press on a
button that is not theirs, refused with nothing changed. The lists come from the wiring, so a
new command or button without a row here fails the test. Forged callback data (another's offer,
another's conversation, another's feedback) is refused."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from telegram.ext import CommandHandler

from bot import handlers, notices
from bot.handover import (
    DANGER_PREFIX,
    DOMAIN_PREFIX,
    FEEDBACK_PREFIX,
    OFFER_ACCEPT_PREFIX,
    OFFER_DECLINE_PREFIX,
)
from bot.models import Conversation, HelpRequest, Newcomer, Offer, OfferStatus, Sleutelpersoon
from sandbox import SimUser

from .kit import (
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
from .test_conversation import (
    ACCEPT,
    ARABIC,
    DUTCH,
    TUESDAY_10,
    WORKDAYS,
    ask_with_photo,
    is_offer,
    open_conversation,
    rasa_nowhere,
)


class Role(Enum):
    UNKNOWN = "unknown"
    BEFORE_CONSENT = "newcomer before consent"
    NEWCOMER = "newcomer (own conversation)"
    SLEUTELPERSOON = "sleutelpersoon (own conversation and offer)"
    OTHER_SLEUTELPERSOON = "another sleutelpersoon"


class Outcome(Enum):
    ALLOWED = "allowed"
    REFUSED = "refused politely, nothing changed"
    NOTHING = "nothing changed"


A, R, N = Outcome.ALLOWED, Outcome.REFUSED, Outcome.NOTHING
ROLES = list(Role)
SLEUTELPERSOON_ONLY = dict(zip(ROLES, (R, R, R, A, A), strict=True))
# Before consent there is no newcomer (nothing is stored): only a consented one is one.
NEWCOMER_ONLY = dict(zip(ROLES, (R, R, A, R, R), strict=True))
EVERYONE = dict.fromkeys(ROLES, A)

# Command -> (arguments, outcome per role).
COMMANDS: dict[str, tuple[str, dict[Role, Outcome]]] = {
    "start": ("", EVERYONE),
    "language": ("", EVERYONE),
    "privacy": ("", EVERYONE),
    "done": ("", NEWCOMER_ONLY),
    # After /done: skips the words of feedback.
    "skip": ("", NEWCOMER_ONLY),
    "delete": ("", EVERYONE),
    "mine": ("", SLEUTELPERSOON_ONLY),
    "close": ("", SLEUTELPERSOON_ONLY),
    "handback": ("a note", SLEUTELPERSOON_ONLY),
    "away": ("2026-12-24", SLEUTELPERSOON_ONLY),
    "hours": ("", SLEUTELPERSOON_ONLY),
    "signal": ("a sign", SLEUTELPERSOON_ONLY),
    # Before consent: the language choice, then the consent text (nothing is stored).
    "preferences": ("", dict(zip(ROLES, (A, A, A, R, R), strict=True))),
}
OWN_ONLY = dict(zip(ROLES, (N, N, N, A, N), strict=True))
NEWCOMERS_OWN = dict(zip(ROLES, (N, N, A, N, N), strict=True))


@dataclass(frozen=True)
class Targets:
    """The objects the forged presses point at: Amina's conversation with Amal, and an offer to
    Amal that is still pending."""

    conversation_id: int
    offer_id: int


# Button prefix -> (data pressed, given the targets and the user's language; outcome per role).
BUTTONS: dict[str, tuple[Callable[[Targets, str], str], dict[Role, Outcome]]] = {
    handlers.LANGUAGE_PREFIX: (lambda t, locale: f"{handlers.LANGUAGE_PREFIX}{locale}", EVERYONE),
    # Not agreeing is an answer anyone not a sleutelpersoon may give (a consented newcomer is
    # told the button is no longer valid: withdrawing is /delete's job).
    handlers.CONSENT_PREFIX: (
        lambda t, locale: f"{handlers.CONSENT_PREFIX}no:{locale}",
        dict(zip(ROLES, (A, A, A, N, N), strict=True)),
    ),
    DOMAIN_PREFIX: (lambda t, locale: f"{DOMAIN_PREFIX}post", dict.fromkeys(ROLES, N)),
    handlers.GENDER_PREFIX: (
        lambda t, locale: f"{handlers.GENDER_PREFIX}any",
        dict(zip(ROLES, (N, A, A, N, N), strict=True)),
    ),
    handlers.CIRCLE_PREFIX: (
        lambda t, locale: f"{handlers.CIRCLE_PREFIX}any",
        dict(zip(ROLES, (N, A, A, N, N), strict=True)),
    ),
    handlers.SELECT_PREFIX: (
        lambda t, locale: f"{handlers.SELECT_PREFIX}{t.conversation_id}",
        OWN_ONLY,
    ),
    OFFER_ACCEPT_PREFIX: (lambda t, locale: f"{OFFER_ACCEPT_PREFIX}{t.offer_id}", OWN_ONLY),
    OFFER_DECLINE_PREFIX: (
        lambda t, locale: f"{OFFER_DECLINE_PREFIX}{t.offer_id}",
        OWN_ONLY,
    ),
    FEEDBACK_PREFIX: (
        lambda t, locale: f"{FEEDBACK_PREFIX}up:{t.conversation_id}",
        NEWCOMERS_OWN,
    ),
    handlers.DELETE_PREFIX: (
        lambda t, locale: f"{handlers.DELETE_PREFIX}no",
        dict(zip(ROLES, (A, A, A, A, A), strict=True)),
    ),
    # "Not in danger": thanks to a newcomer; before consent the consent text still asks.
    DANGER_PREFIX: (
        lambda t, locale: f"{DANGER_PREFIX}no",
        dict(zip(ROLES, (N, N, A, N, N), strict=True)),
    ),
    handlers.DONE_PREFIX: (
        lambda t, locale: f"{handlers.DONE_PREFIX}no:{t.conversation_id}",
        NEWCOMERS_OWN,
    ),
}


def registered_commands(bot: BotProcess) -> set[str]:
    return {
        command
        for group in bot.application.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


async def snapshot(bot: BotProcess) -> dict[str, list[tuple[Any, ...]]]:
    """What a refused command or press must not change: every request, offer, conversation,
    newcomer and sleutelpersoon, column by column (activity times aside)."""
    tables = (HelpRequest, Offer, Conversation, Newcomer, Sleutelpersoon)
    state = {}
    async with bot.services.sessions() as session:
        for model in tables:
            columns = [c for c in model.__table__.columns if c.name != "updated_at"]
            rows = await session.execute(select(*columns).order_by(*model.__table__.primary_key))
            state[model.__tablename__] = [tuple(row) for row in rows]
    return state


@dataclass
class Cell:
    role: Role
    user: SimUser
    locale: str
    action: str
    outcome: Outcome


async def check_cell(
    bot: BotProcess, sandbox: Any, cell: Cell, act: Callable[[], Any]
) -> list[str]:
    """Do the action as the cell's user; the problems seen (none when the cell holds)."""
    seen = len(cell.user.received())
    before = await snapshot(bot)
    press = act()
    await quiet(bot, sandbox)
    new = cell.user.received()[seen:]
    said = [m.text for m in new if m.text is not None]
    refusal = notices.not_for_you(TEXTS[cell.locale])
    where = f"{cell.action} as {cell.role.value}"
    problems = [
        f"{where}: not in {cell.locale}: {text[:60]!r}"
        for text in said
        if not in_language(text, cell.locale)
    ]
    if press is not None and not press.answered:
        problems.append(f"{where}: the press was never answered")
    if cell.outcome is Outcome.ALLOWED:
        if not said and (press is None or not press.answered):
            problems.append(f"{where}: no answer")
        if refusal in said:
            problems.append(f"{where}: refused")
    else:
        if len(said) < len(new):
            problems.append(f"{where}: was sent a copy of someone's message")
        after = await snapshot(bot)
        if after != before:
            changed = {
                name: (before[name], rows) for name, rows in after.items() if rows != before[name]
            }
            problems.append(f"{where}: something changed: {changed}")
        if cell.outcome is Outcome.REFUSED and said != [refusal]:
            problems.append(f"{where}: expected only the refusal, got {said}")
        if cell.outcome is Outcome.NOTHING and refusal in said:
            problems.append(f"{where}: told 'not for you' for a button")
    return problems


async def cast(sandbox: Any, bot: BotProcess) -> tuple[dict[Role, SimUser], Targets]:
    """A user for every role (Amina in a conversation with Amal, Hamid's question offered to
    Amal, Noor before consent, Karim another sleutelpersoon, a stranger), and the targets."""
    amal = sandbox.add_user("Amal", "nl")
    amina = await open_conversation(sandbox, bot, amal)
    karim = sandbox.add_user("Karim", "nl")
    await add_sleutelpersoon(bot, karim, WORKDAYS, languages=("ti",), domains=("health",))
    hamid = sandbox.add_user("Hamid", "ar")
    await onboard(hamid, "العربية")
    await ask_with_photo(hamid, ARABIC.gettext("✉️ Letter"))
    await amal.wait_for_message(is_offer)
    noor = sandbox.add_user("Noor", "ar")
    await noor.send_text("/start")
    await noor.wait_for_message(lambda m: m.reply_markup is not None)
    await noor.press("العربية")
    await noor.wait_for_message(lambda m: m.find_button(ARABIC.gettext("✅ I agree")) is not None)
    stranger = sandbox.add_user("Stranger", "en")
    async with bot.services.sessions() as session:
        conversation_id = await session.scalar(select(Conversation.id))
        offer_id = await session.scalar(select(Offer.id).where(Offer.status == OfferStatus.PENDING))
    assert conversation_id is not None and offer_id is not None
    targets = Targets(conversation_id, offer_id)
    users = {
        Role.UNKNOWN: stranger,
        Role.BEFORE_CONSENT: noor,
        Role.NEWCOMER: amina,
        Role.SLEUTELPERSOON: amal,
        Role.OTHER_SLEUTELPERSOON: karim,
    }
    return users, targets


LOCALES = {
    Role.UNKNOWN: "en",
    Role.BEFORE_CONSENT: "ar",
    Role.NEWCOMER: "ar",
    Role.SLEUTELPERSOON: "nl",
    Role.OTHER_SLEUTELPERSOON: "nl",
}
# The owner of the conversation and the offer acts last, after everyone else tried them;
# the language button last of all, as the unknown user's press makes them a newcomer.
ORDER = [
    Role.UNKNOWN,
    Role.BEFORE_CONSENT,
    Role.NEWCOMER,
    Role.OTHER_SLEUTELPERSOON,
    Role.SLEUTELPERSOON,
]
BUTTON_ORDER = sorted(BUTTONS, key=lambda prefix: prefix == handlers.LANGUAGE_PREFIX)


async def test_every_command_and_button_for_every_role(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        # The matrix covers exactly what the wiring registers.
        assert registered_commands(bot) == set(COMMANDS)
        assert set(button_prefixes(bot.application)) == set(BUTTONS)

        users, targets = await cast(sandbox, bot)
        await quiet(bot, sandbox)

        problems: list[str] = []
        for role in ORDER:
            user, locale = users[role], LOCALES[role]
            for prefix in BUTTON_ORDER:
                make_data, outcomes = BUTTONS[prefix]
                data = make_data(targets, locale)
                cell = Cell(role, user, locale, f"button {data}", outcomes[role])
                problems += await check_cell(
                    bot, sandbox, cell, functools.partial(forge_callback, sandbox, user, data)
                )
        # The unknown user pressed the language and consent buttons: for the commands, someone
        # who has pressed nothing.
        users[Role.UNKNOWN] = sandbox.add_user("Another stranger", "en")
        for role in ORDER:
            user, locale = users[role], LOCALES[role]
            for command, (arguments, outcomes) in COMMANDS.items():
                text = f"/{command} {arguments}".strip()
                cell = Cell(role, user, locale, text, outcomes[role])

                def send(text: str = text, user: SimUser = user) -> None:
                    sandbox.world.user_sends_text(user.id, text)

                problems += await check_cell(bot, sandbox, cell, send)
        assert not problems, "\n".join(problems)


async def conversation_count(bot: BotProcess) -> int:
    async with bot.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)) or 0)


async def test_forged_callbacks_find_nothing(sqlite_url: str, redis, redis_key_prefix: str) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        other = sandbox.add_user("Other", "nl")
        stranger = sandbox.add_user("Stranger", "en")
        amina = await open_conversation(sandbox, bot, amal)
        await add_sleutelpersoon(bot, other, WORKDAYS, languages=("ti",), domains=("health",))
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            assert conversation is not None

        # A second newcomer's question is offered to Amal; the other sleutelpersoon forges an
        # accept for it, and a stranger tries too.
        hamid = sandbox.add_user("Hamid", "ar")
        await onboard(hamid, "العربية")
        await ask_with_photo(hamid, ARABIC.gettext("✉️ Letter"))
        offer_message = await amal.wait_for_message(is_offer)
        button = offer_message.find_button(ACCEPT)
        assert button is not None and button.callback_data is not None
        for intruder in (other, stranger, amina):
            forge_callback(sandbox, intruder, button.callback_data)
        forge_callback(sandbox, other, f"conv:select:{conversation.id}")
        forge_callback(sandbox, amina, "offer:decline:999999")
        forge_callback(sandbox, other, "feedback:up:" + str(conversation.id))
        forge_callback(sandbox, stranger, "domain:post")
        forge_callback(sandbox, stranger, "x" * 300)
        await sandbox.wait_until(lambda: not sandbox.world.pending_updates)
        await other.wait_for_message(lambda m: m.text == notices.not_understood_command(DUTCH))
        await bot.tick()

        async with bot.services.sessions() as session:
            statuses = (await session.scalars(select(Offer.status).order_by(Offer.id))).all()
            selected = await session.scalar(select(func.count()).select_from(Conversation))
            conversation_after = await session.get(Conversation, conversation.id)
        assert statuses == [OfferStatus.ACCEPTED, OfferStatus.PENDING]
        assert selected == 1
        assert conversation_after is not None and conversation_after.feedback is None
        # Nobody got anything of the conversation.
        for intruder in (other, stranger):
            assert not any(m.photo for m in intruder.received())
        # The real one still can.
        await amal.press(ACCEPT)
        await amal.wait_for_message(lambda m: m.photo is not None)
        assert await conversation_count(bot) == 2


async def test_a_sleutelpersoon_cannot_write_into_another_conversation(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        karim = sandbox.add_user("Karim", "nl")
        await add_sleutelpersoon(bot, karim, WORKDAYS, languages=("ar",), domains=("post",))
        await karim.send_text("Hallo Amina, ik ben Karim")
        await karim.wait_for_message(lambda m: m.text == notices.which_conversation(DUTCH))
        await karim.send_text("/close")
        await karim.wait_for_message(lambda m: m.text == notices.close_which(DUTCH))
        assert not any("Karim" in (m.text or "") for m in amina.received())
        assert TEXTS["nl"].gettext("This command is not available to you.") not in [
            m.text for m in karim.received()
        ]


# Button prefix -> values after it that no button of ours carries (given the targets).
MALFORMED: dict[str, Callable[[Targets], tuple[str, ...]]] = {
    handlers.LANGUAGE_PREFIX: lambda t: ("xx", "", "AR"),
    handlers.CONSENT_PREFIX: lambda t: ("maybe", ""),
    DOMAIN_PREFIX: lambda t: ("zz",),
    handlers.GENDER_PREFIX: lambda t: ("zz", ""),
    handlers.CIRCLE_PREFIX: lambda t: ("x", "²", "-1"),
    handlers.SELECT_PREFIX: lambda t: ("abc", "²", "9" * 40),
    OFFER_ACCEPT_PREFIX: lambda t: ("abc", f"{t.offer_id}x", "9" * 40),
    OFFER_DECLINE_PREFIX: lambda t: ("", "²"),
    FEEDBACK_PREFIX: lambda t: (f"meh:{t.conversation_id}", "up:abc", "up", "down:²"),
    handlers.DELETE_PREFIX: lambda t: ("maybe", "YES"),
    handlers.DONE_PREFIX: lambda t: (f"maybe:{t.conversation_id}", "yes:x", "no"),
    DANGER_PREFIX: lambda t: ("maybe", "", "YES", "no:1"),
}


async def test_a_known_button_with_a_bad_value_is_answered_as_not_valid(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    """Each kind of button pressed with a value none of ours has, by every role: the press is
    answered with the short "no longer valid" text in the user's language (as unknown button
    data is), nothing is said in the chat, and nothing changes."""
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        assert set(MALFORMED) == set(button_prefixes(bot.application))
        users, targets = await cast(sandbox, bot)
        await quiet(bot, sandbox)
        problems: list[str] = []
        for role in ORDER:
            user, locale = users[role], LOCALES[role]
            seen = len(user.received())
            before = await snapshot(bot)
            presses = [
                (data, forge_callback(sandbox, user, data))
                for prefix, values in MALFORMED.items()
                for data in (prefix + value for value in values(targets))
            ]
            await quiet(bot, sandbox)
            expected = notices.not_understood_command(TEXTS[locale])
            problems += [
                f"{data!r} as {role.value}: answered {press.answer_text!r}"
                for data, press in presses
                if not press.answered or press.answer_text != expected
            ]
            said = [m.text for m in user.received()[seen:]]
            if said:
                problems.append(f"{role.value} was told {said}")
            if await snapshot(bot) != before:
                problems.append(f"something changed for {role.value}")
        assert not problems, "\n".join(problems)
