"""No message content in any log: a marker phrase written by a newcomer (as text and as a
caption) and by a sleutelpersoon appears in no log record of any logger, at DEBUG, with the
logging `sleutelbrug` configures, nor in a log file under DATA_DIR, nor in Rasa's log; also
not when a handler fails with the text in hand or Rasa is down.

Records of the sandbox are left out: it plays Telegram, whose servers see the texts anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot import notices
from bot.cli import LIBRARY_LOG_FLOORS, configure_logging
from bot.handover import Handover
from bot.settings import Settings
from nlu.service import RasaServer
from sandbox import SimUser, make_png

from .kit import add_sleutelpersoon, bot_process, onboard, world
from .test_conversation import (
    ACCEPT,
    ARABIC,
    DUTCH,
    TUESDAY_10,
    WORKDAYS,
    is_offer,
    rasa_nowhere,
)

MARKER = "MARKER-c41e لا تكتبني ሚስጥር"
LETTER = ARABIC.gettext("✉️ Letter")
APOLOGY = ARABIC.gettext("Sorry, something went wrong on our side. Please send your message again.")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Keep(logging.Handler):
    """Keeps every record as a log file would show it, tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("sandbox"):
            self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def logging_like_the_app(settings: Settings) -> Iterator[Keep]:
    """`sleutelbrug`'s logging at the settings' LOG_LEVEL, with a log file in DATA_DIR and
    every record also kept for the test; put back as it was afterwards."""
    root = logging.getLogger()
    touched = [root, *(logging.getLogger(name) for name in LIBRARY_LOG_FLOORS)]
    levels = [logger.level for logger in touched]
    configure_logging(settings.log_level)
    root.setLevel(settings.log_level)  # basicConfig leaves a root that has handlers alone
    (settings.data_dir / "logs").mkdir(parents=True, exist_ok=True)
    log_file = logging.FileHandler(settings.data_dir / "logs" / "bot.log", encoding="utf-8")
    log_file.setFormatter(logging.Formatter(LOG_FORMAT))
    kept = Keep()
    root.addHandler(log_file)
    root.addHandler(kept)
    try:
        yield kept
    finally:
        root.removeHandler(kept)
        root.removeHandler(log_file)
        log_file.close()
        for logger, level in zip(touched, levels, strict=True):
            logger.setLevel(level)


def files_under(folder: Path) -> dict[Path, str]:
    return {
        path: path.read_bytes().decode("utf-8", errors="replace")
        for path in folder.rglob("*")
        if path.is_file()
    }


async def ask_and_connect(newcomer: SimUser, helper: SimUser, question: str) -> None:
    """The question reaches the sleutelpersoon: routed by Rasa, or through the buttons."""
    await newcomer.send_text(question)
    first = await newcomer.wait_for_message(
        lambda m: (
            m.text == notices.nlu_unavailable(ARABIC)
            or m.text == notices.choose_domain(ARABIC)
            or m.text == notices.someone_will_come(ARABIC, "ar")
        )
    )
    if first.text != notices.someone_will_come(ARABIC, "ar"):
        await newcomer.press(LETTER)
    await helper.wait_for_message(is_offer)
    await helper.press(ACCEPT)
    await helper.wait_for_message(lambda m: m.text == question)


async def write_everywhere(sandbox: Any, bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The marker in every place a newcomer and a sleutelpersoon can write it, and once in a
    handler that fails with it in hand."""
    amal = sandbox.add_user("Amal", "nl")
    await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("ar",), domains=("post", "finance"))
    amina = sandbox.add_user("Amina", "ar")
    await onboard(amina, "العربية")
    await ask_and_connect(amina, amal, f"عندي رسالة من الضرائب {MARKER}")
    await amina.send_photo(make_png(30, 40), caption=f"caption {MARKER}")
    await amal.wait_for_message(lambda m: m.caption == f"caption {MARKER}")
    await amal.send_text(f"helper {MARKER}")
    await amina.wait_for_message(lambda m: m.text == f"helper {MARKER}")
    await amal.send_text(f"/signal {MARKER}")
    await amal.wait_for_message(lambda m: m.text == notices.signal_saved(DUTCH, "#1"))

    async def fails_with_the_text(
        self: Handover, session: Any, now: Any, conversation: Any, newcomer: Any, content: Any
    ) -> None:
        # A statement that fails with the words as its parameter: errors must not show them.
        await session.execute(
            text("INSERT INTO no_such_table VALUES (:words)"), {"words": content.text}
        )

    with monkeypatch.context() as patched:
        patched.setattr(Handover, "relay_from_newcomer", fails_with_the_text)
        await amina.send_text(f"again {MARKER}")
        await amina.wait_for_message(lambda m: m.text == APOLOGY)

    await amina.send_text("/done")
    await amina.wait_for_message(
        lambda m: m.text == notices.conversation_closed_ask_feedback(ARABIC)
    )
    await amina.press("👍")
    await amina.wait_for_message(lambda m: m.text == notices.feedback_thanks_ask_words(ARABIC))
    await amina.send_text(f"feedback {MARKER}")
    await amina.wait_for_message(lambda m: m.text == notices.feedback_received(ARABIC))

    # The control: with python-telegram-bot's own DEBUG records let through, the same capture
    # does see message texts, so finding none above means none was logged.
    telegram = logging.getLogger("telegram")
    floor = telegram.level
    telegram.setLevel(logging.DEBUG)
    try:
        await amina.send_text("/privacy")
        await amina.wait_for_message(lambda m: "/delete" in (m.text or ""))
    finally:
        telegram.setLevel(floor)


def test_library_loggers_never_go_below_their_floor_whatever_log_level() -> None:
    root = logging.getLogger()
    touched = [root, logging.getLogger("bot"), *map(logging.getLogger, LIBRARY_LOG_FLOORS)]
    levels = [logger.level for logger in touched]
    try:
        for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
            configure_logging(level)
            root.setLevel(level)
            assert logging.getLogger("bot.handlers").getEffectiveLevel() == logging.getLevelName(
                level
            )
            for name, floor in LIBRARY_LOG_FLOORS.items():
                effective = logging.getLogger(f"{name}.anything").getEffectiveLevel()
                assert effective == max(floor, logging.getLevelName(level))
    finally:
        for logger, level in zip(touched, levels, strict=True):
            logger.setLevel(level)


@pytest.mark.parametrize("rasa", ["down", "real"])
async def test_a_marker_phrase_reaches_no_log_at_debug(
    rasa: str,
    sqlite_url: str,
    redis,
    redis_key_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    server: RasaServer | None = request.getfixturevalue("rasa_server") if rasa == "real" else None
    rasa_url = server.url if server is not None else rasa_nowhere()
    async with world(sqlite_url, redis_key_prefix, rasa_url, TUESDAY_10) as (sandbox, clock, cfg):
        settings = cfg.model_copy(update={"data_dir": tmp_path / "data", "log_level": "DEBUG"})
        rasa_log_before = server.log_path.read_text(errors="replace") if server else ""
        with logging_like_the_app(settings) as kept:
            async with bot_process(settings, sandbox, clock) as bot:
                await write_everywhere(sandbox, bot, monkeypatch)
        logs = {"captured records": kept.text, **files_under(settings.data_dir)}
        if server is not None:
            logs["rasa"] = server.log_path.read_text(errors="replace")[len(rasa_log_before) :]
        # What the test relies on: the bot logged, DEBUG records were kept, the error was
        # logged, and the control's DEBUG records of python-telegram-bot carried the texts.
        assert any(" bot." in line for line in kept.lines)
        assert any(" DEBUG " in line for line in kept.lines)  # DEBUG records were kept
        assert "update handling failed: OperationalError" in kept.text
        assert "hide_parameters" in kept.text  # the failed statement, without its parameters
        assert "/delete" in kept.text and " DEBUG telegram." in kept.text
        assert settings.data_dir / "logs" / "bot.log" in logs
        for name, content in logs.items():
            assert "MARKER-c41e" not in content, f"the marker is in {name}"
            assert "ሚስጥር" not in content, f"the marker is in {name}"
