"""Dashboard translations (Dutch and English) with Babel, in their own catalog domain.

Messages are English msgids in the code and templates, translated through
`locales/<nl|en>/LC_MESSAGES/dashboard.po`, compiled in memory at start-up like the bot's
catalogs (no `.mo` file that could go stale). The reader's locale is chosen per request.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from bot.i18n import LOCALES_DIR

DOMAIN = "dashboard"
LOCALES: tuple[str, ...] = ("nl", "en")
DEFAULT_LOCALE = "nl"
# Coordinators work in Dutch local time, whatever the server's zone.
DISPLAY_ZONE = ZoneInfo("Europe/Amsterdam")


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Translator:
    """Translations and formatting for one reader's locale."""

    locale: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def datetime(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return format_datetime(
            moment.astimezone(DISPLAY_ZONE), "EEE d MMM y HH:mm", locale=self.locale
        )

    def date(self, day: date | None) -> str:
        return "–" if day is None else format_date(day, "EEE d MMM y", locale=self.locale)

    def duration(self, span: timedelta | None) -> str:
        if span is None:
            return "–"
        return format_timedelta(span, threshold=1.5, format="short", locale=self.locale)

    def number(self, value: float | int | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value, format="#,##0.#", locale=self.locale)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, format="#,##0%", locale=self.locale)

    def weekday_names(self) -> list[str]:
        names = Locale.parse(self.locale).days["format"]["wide"]
        return [str(names[day]) for day in range(7)]


def load_translators(locales_dir: Path = LOCALES_DIR) -> dict[str, Translator]:
    return {locale: Translator(locale, _catalog(locale, locales_dir)) for locale in LOCALES}


def choose_locale(*preferences: str | None, accept_language: str | None = None) -> str:
    """The first supported explicit preference, else the browser's, else Dutch."""
    for preference in preferences:
        if preference in LOCALES:
            return preference
    for part in (accept_language or "").split(","):
        primary = part.split(";")[0].strip().split("-")[0].lower()
        if primary in LOCALES:
            return primary
    return DEFAULT_LOCALE


def _catalog(locale: str, locales_dir: Path) -> gettext.GNUTranslations:
    with (locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    # Fuzzy entries are unchecked guesses: left out (and the catalog test fails on them).
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translated_choices(translator: Translator, choices: Mapping[str, str]) -> dict[str, str]:
    """Codes with their translated labels, e.g. domains for a select box."""
    return {code: translator.gettext(label) for code, label in choices.items()}
