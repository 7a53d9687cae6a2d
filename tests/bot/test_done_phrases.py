"""Which short messages sound like "my question is answered" in each language, and which
do not: the bot then only asks whether to close, so the list stays narrow."""

from __future__ import annotations

import pytest

from bot.done_phrases import CLOSING_PHRASES, sounds_done

ENDINGS = [
    "Thank you, that's all!",
    "thanks that’s all 🙏",
    "Ok thanks, I am done",
    "Dank je wel, dat was het",
    "Bedankt voor de hulp, ik heb geen vragen meer.",
    "شكرا، هذا كل شي",
    "شكراً جزيلاً انتهيت",
    "خلصت، شكرا كتير",
    "የቐንየለይ ወዲአ",
    "ብዙሕ የቐንየለይ፣ ካልእ ሕቶ የብለይን።",
]
NOT_ENDINGS = [
    "thanks",
    "done",
    "klaar",
    "خلص",
    "Is that all?",
    "that's all?",
    "I'm done with the form but the letter says something else",
    "That is all the letter says about the fine",
    "dat was het niet",
    "انتهيت من تعبئة الاستمارة بس عندي سؤال عن الموعد",
    "ወዲአ ግን ካልእ ደብዳቤ መጺኡኒ",
    "",
    None,
]


@pytest.mark.parametrize("text", ENDINGS)
def test_short_closing_messages_sound_done(text: str) -> None:
    assert sounds_done(text)


@pytest.mark.parametrize("text", NOT_ENDINGS)
def test_other_messages_do_not(text: str | None) -> None:
    assert not sounds_done(text)


@pytest.mark.parametrize("language", sorted(CLOSING_PHRASES))
def test_every_closing_phrase_alone_sounds_done(language: str) -> None:
    assert all(sounds_done(phrase) for phrase in CLOSING_PHRASES[language])


def test_a_long_message_never_sounds_done() -> None:
    assert not sounds_done("thank you " * 5 + "that's all")
