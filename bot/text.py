"""Names and short labels as they are stored, wherever they come in: dashboard forms, the command
line, the bot.

Rule kept here: a name is one line of visible text. Control characters (C0 and C1, tabs and
line breaks included) and the characters that change the direction of the text around them
(U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates, and the marks U+200E, U+200F,
U+061C) are removed: a name `\u202eB-RTL gnp.exe` must not show as `exe.png LTR-B`, and nothing
may hide a NUL byte in a name. Runs of spaces become one space. The dashboard still isolates
every user text (`<bdi>`, `dir="auto"`), so right-to-left names keep their own direction there
without these characters. Message content is never changed here: it is the newcomer's words.
"""

from __future__ import annotations

import unicodedata

DIRECTION_CONTROLS = frozenset(
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def one_line(text: str) -> str:
    """`text` without control or direction characters, its whitespace runs as single spaces,
    trimmed."""
    kept = "".join(
        " " if character.isspace() else character
        for character in text
        if character.isspace()
        or (unicodedata.category(character) != "Cc" and character not in DIRECTION_CONTROLS)
    )
    return " ".join(kept.split())
