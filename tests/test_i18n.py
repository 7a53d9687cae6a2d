"""Every user-visible string is translated in every language, and formatting respects the reader."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import (
    FIRST_STRONG_ISOLATE,
    LOCALES_DIR,
    POP_DIRECTIONAL_ISOLATE,
    SUPPORTED_LOCALES,
    isolate,
    load_all_texts,
    suggest_locale,
)
from bot.notices import (
    EMERGENCY_NUMBER,
    SUICIDE_PREVENTION_NUMBER,
    VEILIG_THUIS_NUMBER,
    emergency_help,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def source_msgids() -> set[str]:
    """Every msgid in the code, found the way `pybabel extract` finds it."""
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(PROJECT_ROOT / "bot")
        if isinstance(message, str)
    }


def test_the_code_has_messages_to_translate() -> None:
    assert "Choose your language" in source_msgids()
    assert len(source_msgids()) >= 15


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_is_translated_and_not_fuzzy(locale: str) -> None:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "sleutelbrug.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    entries = {message.id: message for message in catalog if message.id}
    missing = sorted(source_msgids() - entries.keys())
    assert not missing, f"{locale}: no entry for {missing}"
    for msgid in source_msgids():
        message = entries[msgid]
        assert message.string, f"{locale}: empty translation of {msgid!r}"
        assert not message.fuzzy, f"{locale}: fuzzy translation of {msgid!r}"
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(msgid)), (
            f"{locale}: placeholders differ in {msgid!r}"
        )


def test_translations_are_really_in_their_language() -> None:
    texts = load_all_texts()
    assert re.search(r"[\u0600-\u06ff]", texts["ar"].gettext("Choose your language"))
    assert re.search(r"[\u1200-\u137f]", texts["ti"].gettext("Choose your language"))
    assert texts["nl"].gettext("Choose your language") == "Kies je taal"
    assert texts["en"].gettext("Choose your language") == "Choose your language"


def test_emergency_numbers_are_isolated_in_arabic() -> None:
    text = emergency_help(load_all_texts()["ar"])
    for number in (EMERGENCY_NUMBER, SUICIDE_PREVENTION_NUMBER, VEILIG_THUIS_NUMBER):
        assert isolate(number) in text


def test_no_latin_or_digit_run_sits_unisolated_in_arabic() -> None:
    """Inside right-to-left text a Latin or numeric run typed into a translation ("113.nl",
    "/away off", "Sleutelbrug") is reordered by the display ("nl.113") unless it is wrapped in
    isolation marks; values filled in by the code are isolated by the code (placeholders)."""
    with (LOCALES_DIR / "ar" / "LC_MESSAGES" / "sleutelbrug.po").open("rb") as po_file:
        catalog = read_po(po_file, locale="ar")
    isolated = re.compile("\u2068[^\u2069]*\u2069")
    latin_or_digits = re.compile(r"[A-Za-z0-9]")
    bare = {
        message.id: text
        for message in catalog
        if message.id
        for text in ([message.string] if isinstance(message.string, str) else message.string)
        if latin_or_digits.search(PLACEHOLDER.sub("", isolated.sub("", text)))
    }
    assert bare == {}


def test_commands_survive_translation() -> None:
    """Slash commands are typed by users: every translation keeps the msgid's commands."""
    command = re.compile(r"/[a-z]+")
    for locale, texts in load_all_texts().items():
        for msgid in source_msgids():
            assert command.findall(texts.gettext(msgid)) == command.findall(msgid), (locale, msgid)


def test_dates_follow_the_readers_locale() -> None:
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    texts = load_all_texts()
    arabic = texts["ar"].format_datetime(monday)
    assert arabic == isolate("الاثنين 7 ديسمبر 09:00")
    assert texts["ti"].format_datetime(monday) == isolate("ሰኑይ 7 ታሕሳስ 09:00")
    assert texts["nl"].format_datetime(monday) == isolate("maandag 7 december 09:00")


def test_isolate_wraps_in_first_strong_isolate() -> None:
    assert isolate(42) == f"{FIRST_STRONG_ISOLATE}42{POP_DIRECTIONAL_ISOLATE}"


@pytest.mark.parametrize(
    ("language_code", "text", "expected"),
    [
        ("nl", "عندي رسالة من البلدية", "ar"),
        (None, "ደብዳቤ መጺኡኒ", "ti"),
        ("ar-SY", None, "ar"),
        ("ti", "hello", "ti"),
        ("de", "Hallo", "en"),
        (None, None, "en"),
        ("nl", "رسالة من Belastingdienst", "ar"),
        ("en", "zorgtoeslag ብኸመይ ይሕተት", "ti"),
    ],
)
def test_suggest_locale(language_code: str | None, text: str | None, expected: str) -> None:
    assert suggest_locale(language_code, text) == expected
