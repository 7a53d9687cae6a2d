"""Wiring: which handler answers which update, and how the Application reaches Telegram."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import BotCommand
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import handlers, notices
from bot.clock import Clock
from bot.crypto import MessageCipher
from bot.handover import (
    DANGER_PREFIX,
    DOMAIN_PREFIX,
    FEEDBACK_PREFIX,
    OFFER_ACCEPT_PREFIX,
    OFFER_DECLINE_PREFIX,
    Handover,
    HandoverPolicy,
)
from bot.i18n import SUPPORTED_LOCALES, Texts, isolate
from bot.inbound_limit import InboundLimits
from bot.nlu_guard import GuardedClassifier
from bot.outbox import OutboxSender
from bot.rate_limit import SharedRateLimiter, TelegramRateLimiter
from bot.services import SERVICES_KEY, Services


@dataclass(frozen=True)
class Dependencies:
    """What the bot needs from outside: translations, the database, NLU, a clock, a policy,
    and the limits that all bot processes share."""

    texts: dict[str, Texts]
    sessions: async_sessionmaker[AsyncSession]
    nlu: GuardedClassifier
    clock: Clock
    policy: HandoverPolicy
    cipher: MessageCipher
    rate_limiter: SharedRateLimiter
    # How fast one chat's updates are handled (bot/inbound_limit.py).
    inbound_limits: InboundLimits
    # The Redis all bot processes share, and the prefix of every key the bot writes in it.
    redis: Redis
    redis_key_prefix: str
    retention_days: int = 90


def build_application(
    token: str,
    dependencies: Dependencies,
    *,
    base_url: str | None = None,
    base_file_url: str | None = None,
) -> Application:  # type: ignore[type-arg]
    """An Application with every handler registered; `base_url` points it at a Bot API server."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(TelegramRateLimiter(dependencies.rate_limiter))
    )
    if base_url is not None:
        builder = builder.base_url(base_url)
    if base_file_url is not None:
        builder = builder.base_file_url(base_file_url)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = Services(
        texts=dependencies.texts,
        sessions=dependencies.sessions,
        nlu=dependencies.nlu,
        clock=dependencies.clock,
        handover=Handover(dependencies.texts, dependencies.policy, dependencies.cipher),
        outbox=OutboxSender(
            dependencies.sessions,
            application.bot,
            dependencies.clock,
            limiter=dependencies.rate_limiter,
        ),
        redis=dependencies.redis,
        redis_key_prefix=dependencies.redis_key_prefix,
        retention_days=dependencies.retention_days,
    )

    commands = {
        "start": handlers.start,
        "language": handlers.language,
        "preferences": handlers.preferences,
        "done": handlers.done,
        "skip": handlers.skip,
        "mine": handlers.mine,
        "close": handlers.close,
        "handback": handlers.handback,
        "away": handlers.away,
        "hours": handlers.hours,
        "privacy": handlers.privacy,
        "delete": handlers.delete,
        "signal": handlers.signal,
    }
    # Before the commands: an edited "/delete" is an edit too, not a second command.
    application.add_handler(
        MessageHandler(
            filters.UpdateType.EDITED_MESSAGE & filters.ChatType.PRIVATE, handlers.edited
        )
    )
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback))
    buttons = {
        handlers.LANGUAGE_PREFIX: handlers.choose_language,
        handlers.CONSENT_PREFIX: handlers.consent,
        DOMAIN_PREFIX: handlers.choose_domain,
        handlers.GENDER_PREFIX: handlers.choose_gender,
        handlers.CIRCLE_PREFIX: handlers.choose_circle,
        handlers.SELECT_PREFIX: handlers.select_conversation,
        OFFER_ACCEPT_PREFIX: handlers.answer_offer,
        OFFER_DECLINE_PREFIX: handlers.answer_offer,
        FEEDBACK_PREFIX: handlers.give_feedback,
        handlers.DELETE_PREFIX: handlers.confirm_delete,
        handlers.DONE_PREFIX: handlers.confirm_done,
        DANGER_PREFIX: handlers.answer_danger,
    }
    for prefix, callback in buttons.items():
        application.add_handler(CallbackQueryHandler(callback, pattern=f"^{prefix}"))
    # Last: any other button data still gets an answer, or the user's button keeps spinning.
    application.add_handler(CallbackQueryHandler(handlers.unknown_button))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, handlers.message)
    )
    application.add_error_handler(handlers.error_handler)
    return application


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    """The menu of a chat that has none of its own yet (handlers set one when a newcomer chooses
    a language or a sleutelpersoon connects): newcomers' commands in the language of the user's
    Telegram; a Telegram that speaks none of ours (there is no Tigrinya interface) shows all
    four descriptions."""
    services = application.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    menus = [
        [BotCommand(*command) for command in notices.newcomer_commands(services.texts[locale])]
        for locale in SUPPORTED_LOCALES
    ]
    for locale, menu in zip(SUPPORTED_LOCALES, menus, strict=True):
        await application.bot.set_my_commands(menu, language_code=locale)
    await application.bot.set_my_commands(
        [
            BotCommand(
                same[0].command, " / ".join(isolate(command.description) for command in same)
            )
            for same in zip(*menus, strict=True)
        ]
    )
