"""Every dashboard text, in the code and in the templates, is translated in Dutch and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dashboard.i18n import LOCALES, load_translators
from dashboard.web import template_environment

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
LOCALES_DIR = DASHBOARD.parent / "locales"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def source_msgids() -> set[str]:
    """Found the way `pybabel extract -F dashboard/babel.cfg` finds them."""
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            DASHBOARD,
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            options_map={"**/templates/**.html": {"silent": "false"}},
        )
        if isinstance(message, str)
    }


def test_code_and_templates_have_messages() -> None:
    found = source_msgids()
    assert "Sign in" in found  # a template
    assert "Requests by topic" in found  # Python, marked with N_
    assert len(found) > 200


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_and_not_fuzzy(locale: str) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "dashboard.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=locale, domain="dashboard")
    entries = {message.id: message for message in catalog if message.id}
    missing = sorted(source_msgids() - entries.keys())
    assert not missing, f"{locale}: no entry for {missing}"
    for msgid in source_msgids():
        message = entries[msgid]
        assert message.string, f"{locale}: empty translation of {msgid!r}"
        assert not message.fuzzy, f"{locale}: fuzzy translation of {msgid!r}"
        assert sorted(PLACEHOLDER.findall(str(message.string))) == sorted(
            PLACEHOLDER.findall(msgid)
        ), f"{locale}: placeholders differ in {msgid!r}"


def test_dutch_is_dutch() -> None:
    translators = load_translators()
    assert translators["nl"].gettext("Sign in") == "Inloggen"
    assert translators["en"].gettext("Sign in") == "Sign in"
    differing = [m for m in source_msgids() if translators["nl"].gettext(m) != m]
    # Names that are the same in both (Telegram, Status, Feedback ...) are the exception.
    assert len(differing) > 0.9 * len(source_msgids())


def test_every_template_compiles() -> None:
    environment = template_environment()
    for template in (DASHBOARD / "templates").glob("*.html"):
        environment.get_template(template.name)
