"""Wiring: which handler answers which update, and how the Application reaches Telegram."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import handlers
from bot.services import SERVICES_KEY, Services

# Telegram answers 429 when a private chat gets more than about one message a second; the
# limiter waits `retry_after` and tries again instead of dropping the reply.
RATE_LIMIT_RETRIES = 3


def build_application(
    token: str,
    services: Services,
    *,
    base_url: str | None = None,
    base_file_url: str | None = None,
) -> Application:  # type: ignore[type-arg]
    """An Application with every handler registered; `base_url` points it at a Bot API server."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
    )
    if base_url is not None:
        builder = builder.base_url(base_url)
    if base_file_url is not None:
        builder = builder.base_file_url(base_file_url)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services

    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("language", handlers.language))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(
        CallbackQueryHandler(
            handlers.choose_language, pattern=f"^{handlers.LANGUAGE_CALLBACK_PREFIX}"
        )
    )
    application.add_handler(
        CallbackQueryHandler(handlers.choose_domain, pattern=f"^{handlers.DOMAIN_CALLBACK_PREFIX}")
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.question))
    application.add_handler(
        MessageHandler(
            filters.PHOTO | filters.VOICE | filters.AUDIO | filters.Document.ALL,
            handlers.media_question,
        )
    )
    application.add_error_handler(handlers.error_handler)
    return application


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    """Show the commands in Telegram's menu, named in all four languages."""
    await application.bot.set_my_commands(
        [
            BotCommand("start", "Start / ابدأ / ጀምር / Begin"),
            BotCommand("language", "Language / اللغة / ቋንቋ / Taal"),
            BotCommand("help", "Help / مساعدة / ሓገዝ / Hulp"),
        ]
    )
