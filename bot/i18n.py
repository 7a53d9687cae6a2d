"""Translations, locale choice and right-to-left safe formatting.

Every user-visible string is a literal msgid passed to `Texts.gettext` (never joined from
fragments), so `pybabel extract` finds it and the catalog test can demand a translation in
every supported language. Catalogs are compiled from the `.po` files in memory at start-up:
there is no generated `.mo` file that could go stale.
"""

from __future__ import annotations

import gettext
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "sleutelbrug"
SUPPORTED_LOCALES: tuple[str, ...] = ("ar", "ti", "nl", "en")
DEFAULT_LOCALE = "en"
# Languages are offered by their own name (endonym), which is the same in every catalog.
LANGUAGE_ENDONYMS: Mapping[str, str] = {
    "ar": "العربية",
    "ti": "ትግርኛ",
    "nl": "Nederlands",
    "en": "English",
}
RIGHT_TO_LEFT = frozenset({"ar"})

# First-strong isolate / pop directional isolate: a name or number inside Arabic text keeps
# its own direction without reordering the sentence around it (Unicode bidi, UAX #9).
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolate(value: object) -> str:
    """Wrap a name, number or other inserted value so that bidi text around it stays readable."""
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}"


@dataclass(frozen=True)
class Texts:
    """The translations of one locale."""

    locale: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def format_datetime(self, moment: datetime, pattern: str = "EEEE d MMMM HH:mm") -> str:
        """A date and time as a reader of this locale writes it, e.g. `الاثنين 7 ديسمبر 09:00`."""
        return isolate(format_datetime(moment, pattern, locale=self.locale))

    def format_date(self, day: date, pattern: str = "EEEE d MMMM y") -> str:
        """A date as a reader of this locale writes it, e.g. `maandag 7 december 2026`."""
        return format_date(day, pattern, locale=self.locale)


def load_catalog(locale: str, locales_dir: Path = LOCALES_DIR) -> gettext.GNUTranslations:
    """Compile `locales/<locale>/LC_MESSAGES/sleutelbrug.po` into translations, in memory."""
    po_path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    # Fuzzy entries are guesses nobody checked: they are left out, and the catalog test fails.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def texts_of(locale: str) -> Texts:
    """One locale's texts, loaded once, for code that runs outside the bot's services."""
    return Texts(locale, load_catalog(locale))


def load_all_texts(locales_dir: Path = LOCALES_DIR) -> dict[str, Texts]:
    return {
        locale: Texts(locale, load_catalog(locale, locales_dir)) for locale in SUPPORTED_LOCALES
    }


def suggest_locale(language_code: str | None, text: str | None = None) -> str:
    """Guess the newcomer's language: the script they write in first, then Telegram's setting."""
    script_locale = _locale_of_script(text or "")
    if script_locale is not None:
        return script_locale
    if language_code:
        primary = language_code.split("-")[0].lower()
        if primary in SUPPORTED_LOCALES:
            return primary
    return DEFAULT_LOCALE


def _locale_of_script(text: str) -> str | None:
    """Arabic script suggests Arabic, Ge'ez (Ethiopic) script suggests Tigrinya."""
    counts = {"ar": 0, "ti": 0}
    for character in text:
        if not character.isalpha():
            continue
        name = unicodedata.name(character, "")
        if name.startswith("ARABIC"):
            counts["ar"] += 1
        elif name.startswith("ETHIOPIC"):
            counts["ti"] += 1
    best = max(counts, key=lambda key: counts[key])
    return best if counts[best] > 0 else None
