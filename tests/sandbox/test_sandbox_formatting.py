"""Parse modes and the entities Telegram clients detect, without a server."""

from __future__ import annotations

import pytest

from sandbox import ApiError
from sandbox.formatting import detect_user_entities, parse_formatted_text


def parse_error(text: str, parse_mode: str) -> str:
    with pytest.raises(ApiError) as refused:
        parse_formatted_text(text, parse_mode)
    return refused.value.description


def test_html_becomes_text_and_entities_with_utf16_offsets() -> None:
    text, entities = parse_formatted_text(
        '😀 <b>vet</b> <i>schuin <u>onder</u></i> &lt;3 <a href="https://x.nl">link</a>', "HTML"
    )
    assert text == "😀 vet schuin onder <3 link"
    # The emoji takes two UTF-16 code units, so "vet" starts at offset 3.
    assert entities == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "italic", "offset": 7, "length": 12},
        {"type": "underline", "offset": 14, "length": 5},
        {"type": "text_link", "url": "https://x.nl", "offset": 23, "length": 4},
    ]


def test_html_pre_with_language() -> None:
    text, entities = parse_formatted_text(
        '<pre><code class="language-python">x = 1</code></pre>', "HTML"
    )
    assert (text, entities) == (
        "x = 1",
        [{"type": "pre", "language": "python", "offset": 0, "length": 5}],
    )


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ],
)
def test_bad_html_is_refused(markup: str, problem: str) -> None:
    assert parse_error(markup, "HTML") == f"Bad Request: can't parse entities: {problem}"


def test_markdown_v2() -> None:
    text, entities = parse_formatted_text(
        "*vet* _schuin_ __onder__ ~weg~ ||geheim|| `code` [link](https://x.nl) 1\\.5", "MarkdownV2"
    )
    assert text == "vet schuin onder weg geheim code link 1.5"
    assert [entity["type"] for entity in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    assert parse_error("Klaar.", "MarkdownV2").endswith(
        "Character '.' is reserved and must be escaped with the preceding '\\'"
    )
    assert parse_error("*open", "MarkdownV2").endswith(
        "Can't find end of Bold entity at byte offset 0"
    )


def test_legacy_markdown_and_unknown_mode() -> None:
    assert parse_formatted_text("*vet* en _schuin_", "Markdown") == (
        "vet en schuin",
        [{"type": "bold", "offset": 0, "length": 3}, {"type": "italic", "offset": 7, "length": 6}],
    )
    assert parse_formatted_text("plain <b>", None) == ("plain <b>", [])
    assert parse_error("x", "BBCode") == "Bad Request: unsupported parse_mode BBCode"


def test_user_text_gets_command_link_and_mention_entities() -> None:
    assert detect_user_entities("/start abc") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert detect_user_entities("zie https://gemeente.nl/x. en @sleutel_bot") == [
        {"type": "url", "offset": 4, "length": 21},
        {"type": "mention", "offset": 30, "length": 12},
    ]
    assert detect_user_entities("a/b en 1/2") == []
