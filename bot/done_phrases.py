"""Whether a newcomer's short message says their question is answered ("thanks, that's all").

Rasa is not asked during a conversation (messages are only relayed), so closing by words is
recognised here with literal phrase lists per language. It is deliberately narrow: the message
must be short, contain one of the closing phrases below, and otherwise hold only words of
thanks and politeness. Even then the bot only asks whether to close (with buttons); it never
closes on words alone, so a false match costs one question and a true one saves a /done.
"""

from __future__ import annotations

import re
import unicodedata

from nlu.normalize import normalize_text

MAX_CHARACTERS = 80
MAX_WORDS = 10

# Phrases that end a conversation. A bare "done" / "klaar" / "خلص" is left out on purpose:
# newcomers write it about a form they filled in, in the middle of a conversation.
CLOSING_PHRASES = {
    "en": (
        "that's all", "thats all", "that is all", "that was all", "i'm done", "im done",
        "i am done", "no more questions", "i have no more questions", "my question is answered",
        "goodbye", "bye",
    ),
    "nl": (
        "dat was het", "dat is alles", "dat was alles", "ik ben klaar", "geen vragen meer",
        "ik heb geen vragen meer", "mijn vraag is beantwoord", "tot ziens", "doei",
    ),
    "ar": (
        "انتهيت", "خلصت", "بس هيك", "هيك بس", "هذا كل شي", "هذا كل شيء", "ما عندي اسئلة",
        "ما عندي سؤال تاني", "ما عندي سؤال ثاني", "لا يوجد عندي اسئلة اخرى", "مع السلامة",
    ),
    "ti": ("ወዲአ", "ወዲአ እየ", "ካልእ ሕቶ የብለይን", "ደሓን ኩን", "ደሓን ኩኒ"),
}  # fmt: skip

# Words that may stand beside a closing phrase: thanks and politeness, nothing with content.
COURTESY_WORDS = {
    "en": (
        "thank", "thanks", "you", "so", "very", "much", "a", "lot", "ok", "okay", "great",
        "for", "your", "the", "help", "again", "really", "and", "now",
    ),
    "nl": (
        "dank", "je", "u", "jullie", "wel", "bedankt", "heel", "erg", "hartelijk", "voor",
        "de", "hulp", "oke", "oké", "ok", "top", "super", "en", "nu",
    ),
    "ar": (
        "شكرا", "شكراً", "وشكرا", "كتير", "كثير", "جزيلا", "الله", "يعطيك", "العافية",
        "يسلمو", "تسلم", "تسلمي", "على", "المساعدة", "مساعدتك", "مشكور", "مشكورة", "اوكي",
        "تمام", "يخليك", "و", "الحمد", "لله",
    ),
    "ti": ("የቐንየለይ", "የቐንየልና", "ብዙሕ", "ሕራይ", "ጽቡቕ", "ን", "ሓገዝኩም", "ሓገዝክን"),
}  # fmt: skip


def words_of(text: str) -> tuple[str, ...]:
    """The words of a text, in the spelling the NLU model sees, without punctuation or emoji."""
    folded = normalize_text(unicodedata.normalize("NFKC", text)).casefold()
    return tuple(re.findall(r"\w+", folded))


_PHRASES = sorted(
    {words_of(phrase) for phrases in CLOSING_PHRASES.values() for phrase in phrases},
    key=len,
    reverse=True,
)
_COURTESY = {word for words in COURTESY_WORDS.values() for word in words_of(" ".join(words))}


def sounds_done(text: str | None) -> bool:
    """A short message of only a closing phrase and thanks, in any supported language."""
    if not text or len(text) > MAX_CHARACTERS or "?" in text or "؟" in text:
        return False  # "that's all?" asks whether there is more; it does not end anything
    words = words_of(text)
    if not words or len(words) > MAX_WORDS:
        return False
    remaining, found = list(words), False
    for phrase in _PHRASES:
        start = _find(remaining, phrase)
        if start is not None:
            del remaining[start : start + len(phrase)]
            found = True
    return found and all(word in _COURTESY for word in remaining)


def _find(words: list[str], phrase: tuple[str, ...]) -> int | None:
    for start in range(len(words) - len(phrase) + 1):
        if tuple(words[start : start + len(phrase)]) == phrase:
            return start
    return None
