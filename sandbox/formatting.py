"""Message text formatting: Telegram's parse modes and the entities clients detect.

Telegram parses ``parse_mode`` markup on the server, stores plain text plus entities, and refuses
malformed markup with "can't parse entities". Bots commonly trip over that (an unescaped ``<`` in
HTML, a ``.`` in MarkdownV2), so the sandbox parses the same way. Entity offsets and lengths are
counted in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, bad_request

Entity = dict[str, Any]

MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")

_HTML_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_HTML_TAG_NAME = re.compile(r"</?([^\s>/]*)")
_HTML_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_HTML_CHARACTER_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_HTML_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}

# What Telegram clients turn into entities when a person types a message.
_USER_ENTITY_PATTERNS = (
    ("bot_command", re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")),
    ("url", re.compile(r"(?<!\S)(?:https?://|www\.)[^\s]+[^\s.,!?;:)\]]")),
    ("mention", re.compile(r"(?<!\S)@[A-Za-z0-9_]{4,32}\b")),
)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _cannot_parse(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


@dataclass
class _TextBuilder:
    """Collects plain text while tracking the UTF-16 position entities refer to."""

    parts: list[str] = field(default_factory=list)
    position: int = 0
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.position += utf16_length(text)

    def close_entity(self, entity: Entity, start: int) -> None:
        # Telegram silently drops entities that cover no text.
        if self.position > start:
            self.entities.append({**entity, "offset": start, "length": self.position - start})

    def result(self) -> tuple[str, list[Entity]]:
        ordered = sorted(self.entities, key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.parts), ordered


def parse_formatted_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Return the plain text and entities Telegram stores for ``text`` sent with ``parse_mode``."""
    if parse_mode is None or parse_mode == "":
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _MarkdownV2Parser(text).parse()
    if mode == "markdown":
        return _parse_legacy_markdown(text)
    raise bad_request(f"unsupported parse_mode {parse_mode}")


def detect_user_entities(text: str) -> list[Entity]:
    """Entities a Telegram client attaches to what a person typed (commands, links, mentions)."""
    entities: list[Entity] = []
    for entity_type, pattern in _USER_ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            entities.append(
                {
                    "type": entity_type,
                    "offset": utf16_length(text[: match.start()]),
                    "length": utf16_length(match.group()),
                }
            )
    return sorted(entities, key=lambda entity: entity["offset"])


# --- HTML -----------------------------------------------------------------------------------


@dataclass
class _OpenTag:
    name: str
    entity: Entity | None
    start: int


def _html_attributes(text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in _HTML_ATTRIBUTE.finditer(text):
        value = match.group(2) or ""
        if value[:1] in {'"', "'"}:
            value = value[1:-1]
        attributes[match.group(1).lower()] = html.unescape(value)
    return attributes


def _html_entity(name: str, attributes: dict[str, str], byte_offset: int) -> Entity | None:
    """The entity a start tag opens, or None for a tag that only annotates its parent."""
    if name in _HTML_SIMPLE_TAGS:
        return {"type": _HTML_SIMPLE_TAGS[name]}
    if name == "a":
        href = attributes.get("href", "")
        return {"type": "text_link", "url": href} if href else None
    if name == "span":
        if attributes.get("class") != "tg-spoiler":
            raise _cannot_parse('Tag "span" must have class "tg-spoiler"')
        return {"type": "spoiler"}
    if name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attributes else "blockquote"}
    if name == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attributes.get("emoji-id", "")}
    raise _cannot_parse(f'Unsupported start tag "{name}" at byte offset {byte_offset}')


def _parse_html(source: str) -> tuple[str, list[Entity]]:
    builder = _TextBuilder()
    open_tags: list[_OpenTag] = []
    index = 0
    while index < len(source):
        character = source[index]
        if character == "&":
            reference = _HTML_CHARACTER_REFERENCE.match(source, index)
            if reference is None:
                builder.add("&")
                index += 1
            else:
                builder.add(html.unescape(reference.group()))
                index = reference.end()
            continue
        if character != "<":
            builder.add(character)
            index += 1
            continue

        byte_offset = _byte_offset(source, index)
        tag = _HTML_TAG.match(source, index)
        if tag is None:
            name_match = _HTML_TAG_NAME.match(source, index)
            name = name_match.group(1) if name_match else ""
            raise _cannot_parse(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
        is_end_tag, name = tag.group(1) == "/", tag.group(2).lower()
        index = tag.end()
        if is_end_tag:
            if not open_tags:
                raise _cannot_parse(f"Unexpected end tag at byte offset {byte_offset}")
            opened = open_tags.pop()
            if opened.name != name:
                raise _cannot_parse(
                    f'Unmatched end tag at byte offset {byte_offset}, expected "</{opened.name}>", '
                    f'found "</{name}>"'
                )
            if opened.entity is not None:
                builder.close_entity(opened.entity, opened.start)
            continue

        attributes = _html_attributes(tag.group(3))
        language = attributes.get("class", "")
        if name == "code" and open_tags and open_tags[-1].name == "pre" and language:
            # <pre><code class="language-x"> is one pre entity with a language.
            parent = open_tags[-1].entity
            if parent is not None:
                parent["language"] = language.removeprefix("language-")
            open_tags.append(_OpenTag(name, None, builder.position))
            continue
        entity = _html_entity(name, attributes, byte_offset)
        open_tags.append(_OpenTag(name, entity, builder.position))

    if open_tags:
        raise _cannot_parse(
            f'Can\'t find end tag corresponding to start tag "{open_tags[-1].name}"'
        )
    return builder.result()


# --- MarkdownV2 -----------------------------------------------------------------------------

_MARKDOWN_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _OpenMarkup:
    entity_type: str
    start: int
    byte_offset: int


class _MarkdownV2Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.index = 0
        self.builder = _TextBuilder()
        self.open: list[_OpenMarkup] = []
        self.quote_start: int | None = None

    def parse(self) -> tuple[str, list[Entity]]:
        source = self.source
        while self.index < len(source):
            character = source[self.index]
            at_line_start = self.index == 0 or source[self.index - 1] == "\n"
            if character == "\\" and self._escapable(self.index + 1):
                self.builder.add(source[self.index + 1])
                self.index += 2
            elif character == "\n":
                self._end_quote_line()
                self.builder.add(character)
                self.index += 1
            elif character == ">" and at_line_start:
                self._start_quote_line()
                self.index += 1
            elif character not in MARKDOWN_V2_RESERVED:
                self.builder.add(character)
                self.index += 1
            else:
                self._markup(character)
        self._end_quote_line()
        if self.open:
            unclosed = self.open[-1]
            name = _MARKDOWN_V2_NAMES[unclosed.entity_type]
            raise _cannot_parse(
                f"Can't find end of {name} entity at byte offset {unclosed.byte_offset}"
            )
        return self.builder.result()

    def _escapable(self, index: int) -> bool:
        return index < len(self.source) and 1 <= ord(self.source[index]) <= 126

    def _start_quote_line(self) -> None:
        if self.quote_start is None:
            self.quote_start = self.builder.position

    def _end_quote_line(self) -> None:
        following = self.index + 1
        continues = following < len(self.source) and self.source[following] == ">"
        if self.quote_start is not None and not continues:
            self.builder.close_entity({"type": "blockquote"}, self.quote_start)
            self.quote_start = None

    def _markup(self, character: str) -> None:
        source, index = self.source, self.index
        if character == "`":
            self._code_or_pre()
            return
        if character == "]" and self._is_open("text_link"):
            self._close_link()
            return
        if character == "!" and source.startswith("![", index):
            self._open("custom_emoji", 2)
            return
        if character == "[":
            self._open("text_link", 1)
            return
        toggles = {"*": "bold", "~": "strikethrough"}
        if character in toggles:
            self._toggle(toggles[character], 1)
            return
        if character == "_":
            if source.startswith("__", index) and not (
                self._is_open("italic") and not self._is_open("underline")
            ):
                self._toggle("underline", 2)
            else:
                self._toggle("italic", 1)
            return
        if character == "|" and source.startswith("||", index):
            self._toggle("spoiler", 2)
            return
        raise _cannot_parse(
            f"Character '{character}' is reserved and must be escaped with the preceding '\\'"
        )

    def _is_open(self, entity_type: str) -> bool:
        return any(markup.entity_type == entity_type for markup in self.open)

    def _open(self, entity_type: str, width: int) -> None:
        self.open.append(
            _OpenMarkup(entity_type, self.builder.position, _byte_offset(self.source, self.index))
        )
        self.index += width

    def _toggle(self, entity_type: str, width: int) -> None:
        if not self._is_open(entity_type):
            self._open(entity_type, width)
            return
        innermost = self.open[-1]
        if innermost.entity_type != entity_type:
            name = _MARKDOWN_V2_NAMES[innermost.entity_type]
            raise _cannot_parse(
                f"Can't find end of {name} entity at byte offset {innermost.byte_offset}"
            )
        self.open.pop()
        self.builder.close_entity({"type": entity_type}, innermost.start)
        self.index += width

    def _close_link(self) -> None:
        opened = self.open.pop()
        if opened.entity_type not in {"text_link", "custom_emoji"}:
            name = _MARKDOWN_V2_NAMES[opened.entity_type]
            raise _cannot_parse(
                f"Can't find end of {name} entity at byte offset {opened.byte_offset}"
            )
        target_start = self.index + 1
        if not self.source.startswith("(", target_start):
            raise _cannot_parse(
                f"Can't find end of {_MARKDOWN_V2_NAMES[opened.entity_type]} entity at byte "
                f"offset {opened.byte_offset}"
            )
        target, end = self._read_until(")", target_start + 1, opened)
        self.index = end + 1
        if opened.entity_type == "custom_emoji":
            emoji_id = target.removeprefix("tg://emoji?id=")
            self.builder.close_entity(
                {"type": "custom_emoji", "custom_emoji_id": emoji_id}, opened.start
            )
        else:
            self.builder.close_entity({"type": "text_link", "url": target}, opened.start)

    def _read_until(self, terminator: str, start: int, opened: _OpenMarkup) -> tuple[str, int]:
        """Read up to an unescaped ``terminator``; only ``\\`` escapes apply inside."""
        characters: list[str] = []
        index = start
        while index < len(self.source):
            character = self.source[index]
            if character == "\\" and self._escapable(index + 1):
                characters.append(self.source[index + 1])
                index += 2
                continue
            if self.source.startswith(terminator, index):
                return "".join(characters), index
            characters.append(character)
            index += 1
        name = _MARKDOWN_V2_NAMES.get(opened.entity_type, opened.entity_type.capitalize())
        raise _cannot_parse(f"Can't find end of {name} entity at byte offset {opened.byte_offset}")

    def _code_or_pre(self) -> None:
        byte_offset = _byte_offset(self.source, self.index)
        is_pre = self.source.startswith("```", self.index)
        opened = _OpenMarkup("pre" if is_pre else "code", self.builder.position, byte_offset)
        if is_pre:
            content, end = self._read_until("```", self.index + 3, opened)
            language, newline, body = content.partition("\n")
            entity: Entity = {"type": "pre"}
            if newline and language and " " not in language:
                entity["language"] = language
                content = body
            self.builder.add(content)
            self.builder.close_entity(entity, opened.start)
            self.index = end + 3
        else:
            content, end = self._read_until("`", self.index + 1, opened)
            self.builder.add(content)
            self.builder.close_entity({"type": "code"}, opened.start)
            self.index = end + 1


# --- legacy Markdown ------------------------------------------------------------------------

_LEGACY_MARKERS = {"*": "bold", "_": "italic"}


def _parse_legacy_markdown(source: str) -> tuple[str, list[Entity]]:
    builder = _TextBuilder()
    index = 0
    while index < len(source):
        character = source[index]
        if character == "\\" and index + 1 < len(source) and source[index + 1] in "_*`[":
            builder.add(source[index + 1])
            index += 2
            continue
        if character not in "_*`[":
            builder.add(character)
            index += 1
            continue
        start = builder.position
        byte_offset = _byte_offset(source, index)
        unclosed = _cannot_parse(
            f"Can't find end of the entity starting at byte offset {byte_offset}"
        )
        if character == "[":
            close = source.find("](", index + 1)
            target_end = source.find(")", close + 2) if close != -1 else -1
            if target_end == -1:
                raise unclosed
            builder.add(source[index + 1 : close])
            builder.close_entity(
                {"type": "text_link", "url": source[close + 2 : target_end]}, start
            )
            index = target_end + 1
            continue
        marker = "```" if source.startswith("```", index) else character
        end = source.find(marker, index + len(marker))
        if end == -1:
            raise unclosed
        content = source[index + len(marker) : end]
        entity_type = {"```": "pre", "`": "code"}.get(marker) or _LEGACY_MARKERS[character]
        builder.add(content)
        builder.close_entity({"type": entity_type}, start)
        index = end + len(marker)
    return builder.result()
