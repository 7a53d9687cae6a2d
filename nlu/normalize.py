"""Spelling normalisation for Arabic and Tigrinya, shared by Rasa components and the app's tests.

Newcomers write Arabic on phones with whatever keyboard they have: hamza or not, taa marbuta
or haa, Persian or Arabic yeh and kaf, vowel marks or not, Eastern or Western digits. These are
spelling variants of the same word, so they must reach the classifier as one form. The function
is pure and imports nothing from Rasa: Rasa (Python 3.10) and the app (3.11) both import it.
Non-Arabic text (Latin, Ge'ez) passes through unchanged.
"""

from __future__ import annotations

import re

# Vowel marks (tashkeel), shadda, sukun, superscript alef and Quranic annotation signs carry no
# meaning for routing a question and are mostly absent in informal writing.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
TATWEEL = "\u0640"

_LETTERS = str.maketrans(
    {
        "أ": "ا",  # alef with hamza above
        "إ": "ا",  # alef with hamza below
        "آ": "ا",  # alef with madda
        "ٱ": "ا",  # alef wasla
        "ٲ": "ا",  # alef with wavy hamza above
        "ٳ": "ا",  # alef with wavy hamza below
        "ؤ": "و",  # waw with hamza
        "ئ": "ي",  # yeh with hamza
        "ى": "ي",  # alef maqsura, written for final yeh and the other way round
        "ة": "ه",  # taa marbuta, often typed as haa
        "ی": "ي",  # Persian yeh (Persian and Urdu keyboards)
        "ک": "ك",  # Persian kaf
        TATWEEL: None,
        **{chr(0x0660 + digit): str(digit) for digit in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + digit): str(digit) for digit in range(10)},  # Persian digits
    }
)


def normalize_arabic(text: str) -> str:
    """One spelling for the common variants of an Arabic word; other scripts are unchanged."""
    return _MARKS.sub("", text).translate(_LETTERS)


# Ge'ez letters that Tigrinya pronounces alike and writers mix up: ሠ-row as ሰ-row, ፀ-row as ጸ-row.
# Each row holds a consonant in its seven vowel orders, so a row maps onto a row.
_GEEZ_HOMOPHONES = str.maketrans(
    {chr(0x1220 + order): chr(0x1230 + order) for order in range(8)}
    | {chr(0x1340 + order): chr(0x1338 + order) for order in range(7)}
)


def normalize_geez(text: str) -> str:
    """One spelling for Ge'ez letters that sound alike in Tigrinya; other scripts are unchanged."""
    return text.translate(_GEEZ_HOMOPHONES)


def normalize_text(text: str) -> str:
    """Arabic and Ge'ez normalisation together: what the classifier sees of every word."""
    return normalize_geez(normalize_arabic(text))
