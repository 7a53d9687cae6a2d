"""A bot process for the relay benchmark: `python -m bench.relay_worker CONFIG.json`.

It runs in its own process so that its peak RSS and its CPU time are its own, apart from the
sandbox's and the simulated users'. Two kinds:

- `relay`: the real bot, `bot.cli.run_bot` (the Application of `build_application`, its
  durable inbox, outbox dispatcher, the database and Redis) polling the sandbox. With
  `self_rate_limit` false, the flood limits the bot keeps for Telegram (30 messages a second
  overall, one per chat) are raised to 1000, so the measurement shows what the bot itself can
  do rather than the limits it puts on itself.
- `echo`: a bare python-telegram-bot Application whose one handler copies every message to the
  sender's partner — the same Bot API work per message, nothing else: the ceiling of the stack.

SIGTERM stops either one cleanly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

RELAY = "relay"
ECHO = "echo"
# The most the settings allow: far above what the benchmark sends, so no limit is met.
UNLIMITED_MESSAGES_PER_SECOND = "1000"


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs, written as JSON by the harness."""

    kind: str
    token: str
    base_url: str
    base_file_url: str
    # relay only
    database_url: str = ""
    redis_url: str = ""
    redis_key_prefix: str = ""
    message_keys: str = ""
    self_rate_limit: bool = True
    # echo only: [chat id, partner chat id] for both directions of every pair
    partners: tuple[tuple[int, int], ...] = ()

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> WorkerConfig:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        data["partners"] = tuple(tuple(pair) for pair in data["partners"])
        return cls(**data)


async def run_relay(config: WorkerConfig, stop: asyncio.Event) -> None:
    # Imported here so that the echo worker's memory holds nothing of the bot.
    from bot.cli import configure_logging, run_bot
    from bot.settings import load_settings

    limits = (
        {}
        if config.self_rate_limit
        else {
            "TELEGRAM_MESSAGES_PER_SECOND": UNLIMITED_MESSAGES_PER_SECOND,
            "TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND": UNLIMITED_MESSAGES_PER_SECOND,
        }
    )
    settings = load_settings(
        DATABASE_URL=config.database_url,
        REDIS_URL=config.redis_url,
        REDIS_KEY_PREFIX=config.redis_key_prefix,
        MESSAGE_KEYS=config.message_keys,
        # Relaying never asks Rasa; nothing listens here, so a stray call would fail loudly.
        RASA_URL="http://127.0.0.1:9",
        **limits,
    )
    configure_logging(settings.log_level)
    await run_bot(
        settings,
        stop,
        token=config.token,
        base_url=config.base_url,
        base_file_url=config.base_file_url,
    )


async def run_echo(config: WorkerConfig, stop: asyncio.Event) -> None:
    partner_of = dict(config.partners)

    async def copy_to_partner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        await context.bot.copy_message(partner_of[message.chat_id], message.chat_id, message.id)

    application = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .build()
    )
    application.add_handler(MessageHandler(filters.ALL, copy_to_partner))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling()
        await application.start()
        await stop.wait()
        await application.updater.stop()
        await application.stop()


async def serve(config: WorkerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if config.kind == RELAY:
        await run_relay(config, stop)
    elif config.kind == ECHO:
        logging.basicConfig(level=logging.WARNING)
        await run_echo(config, stop)
    else:
        raise ValueError(f"unknown worker kind {config.kind!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.relay_worker CONFIG.json", file=sys.stderr)
        return 2
    asyncio.run(serve(WorkerConfig.read(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
