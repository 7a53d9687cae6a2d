"""Which new passwords are refused, wherever one is set: `sleutelbrug coordinator add`, a new
account or a reset on the admin page, and one's own change on the account page.

Rules kept here (each refusal is a msgid, said in the coordinator's language):
- at least 12 characters;
- not one of the 5,000 most common passwords (common_passwords.txt, which names its source),
  not even with digits or symbols added before or after it (`Password123!`);
- not predictable: a short part repeated (`abcabcabcabc`), or mostly repeated characters and
  alphabetical, numerical or keyboard sequences (`aaaaaaaaaaaa`, `abcdefgh1234`, `qwertyuiop12`);
- not containing the account's name or the name part of its e-mail address;
- reusing the current password is refused where it is known (dashboard/auth.py).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from dashboard.i18n import N_

MIN_LENGTH = 12
# Characters outside repetitions and sequences that a password must keep: fewer means a
# guesser that tries runs first finds it among few candidates.
MIN_UNPREDICTABLE = 6
# Shorter parts of a name or address ("Bo", "li") occur by chance in ordinary words.
MIN_PERSONAL_PART = 3
# Rows as on a keyboard: `qwerty` and `asdfgh` are sequences as much as `abcdef` is.
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_NEXT = {row[i]: row[i + 1] for row in KEYBOARD_ROWS for i in range(len(row) - 1)}

TOO_SHORT = N_("Use a password of at least 12 characters.")
COMMON = N_(
    "This password is one of the most common passwords, perhaps with digits or symbols added. "
    "Choose another, for example four or five unrelated words."
)
PREDICTABLE = N_(
    "This password is too predictable: repeated characters, a sequence such as abcd or 1234, or "
    "a part said twice. Choose another, for example four or five unrelated words."
)
PERSONAL = N_("The password must not contain the account's name or e-mail address.")
REUSED = N_("The new password must differ from the current one.")

_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_PARTS = re.compile(r"[\W_]+")


@cache
def _common() -> frozenset[str]:
    lines = (Path(__file__).with_name("common_passwords.txt")).read_text("utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _step(before: str, after: str) -> int | None:
    """+1, 0 or -1 when `after` follows, repeats or precedes `before` (alphabet, digits or a
    keyboard row); None otherwise."""
    if _KEYBOARD_NEXT.get(before) == after:
        return 1
    if _KEYBOARD_NEXT.get(after) == before:
        return -1
    difference = ord(after) - ord(before)
    return difference if difference in (-1, 0, 1) else None


def _unpredictable(folded: str) -> int:
    """How many characters are outside runs of three or more that repeat one character or
    follow one sequence in one direction."""
    predictable = [False] * len(folded)
    start = 0
    while start < len(folded) - 2:
        step = _step(folded[start], folded[start + 1])
        end = start + 1
        while step is not None and end + 1 < len(folded):
            if _step(folded[end], folded[end + 1]) != step:
                break
            end += 1
        if step is not None and end - start >= 2:
            predictable[start : end + 1] = [True] * (end - start + 1)
            start = end
        else:
            start += 1
    return predictable.count(False)


def _repeats_a_part(folded: str) -> bool:
    length = len(folded)
    return any(
        folded == folded[:size] * (length // size)
        for size in range(1, length // 2 + 1)
        if length % size == 0
    )


def _personal_parts(email: str, name: str) -> set[str]:
    local = email.casefold().partition("@")[0]
    parts = {local, *_PARTS.split(local), *_PARTS.split(name.casefold())}
    return {part for part in parts if len(part) >= MIN_PERSONAL_PART}


def password_problem(password: str, *, email: str, name: str) -> str | None:
    """Why a new password for the account with this e-mail address and name is refused (a
    msgid), or None (module rules)."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    folded = password.casefold()
    common = _common()
    if folded in common or _ENDS.sub("", folded) in common:
        return COMMON
    if _repeats_a_part(folded) or _unpredictable(folded) < MIN_UNPREDICTABLE:
        return PREDICTABLE
    if any(part in folded for part in _personal_parts(email, name)):
        return PERSONAL
    return None
