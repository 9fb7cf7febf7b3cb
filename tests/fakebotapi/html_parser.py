"""Telegram's ``parse_mode=HTML`` parser, re-implemented after tdlib's ``parse_html``.

Input is the raw message text, output is the plain text a user sees plus Bot API
``MessageEntity`` dicts (offsets/lengths in UTF-16 code units, as Telegram sends them).

Rules (as in tdlib, td/telegram/MessageEntity.cpp):

* Supported tags: ``b strong i em u ins s strike del a code pre span tg-spoiler
  tg-emoji blockquote``. Tag names are case-insensitive; ``span`` needs
  ``class="tg-spoiler"``; ``blockquote`` may carry a bare ``expandable`` attribute;
  ``<pre><code class="language-x">`` becomes a ``pre`` entity with ``language``.
* Character references: ``&lt; &gt; &amp; &quot;`` and numeric ``&#NN; &#xHH;``
  (the trailing ``;`` is optional, exactly like tdlib).
* Errors read like Telegram's, e.g. ``Unsupported start tag "br" at byte offset 5``;
  the Bot API prefixes them with ``Bad Request: can't parse entities: ``.

One deliberate difference: real Telegram keeps a ``&`` that does not start a known
entity as a literal ``&``. With ``strict_ampersand=True`` (the fake's default) such a
stray ``&`` in the text is rejected, so that missing ``html.escape()`` calls are caught
by tests even when the test data contains no ``<``. Inside attribute values (URLs with
query strings) a stray ``&`` is always accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "span", "tg-spoiler", "tg-emoji", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SPACES = frozenset(" \t\r\n\v\f")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_ENTITY_TYPES = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler",
}  # fmt: skip
_URL_SCHEMES = frozenset({"http", "https", "ftp", "tg", "ton", "tonsite"})
_USER_LINK = re.compile(r"^tg://user\?id=(\d+)$", re.IGNORECASE)

UserResolver = Callable[[int], "dict[str, Any] | None"]


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(error)`` is tdlib's message."""


@dataclass
class ParsedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_start: int  # index into the output characters
    byte_offset: int
    expandable: bool = False


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def decode_entity(src: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``src[pos] == "&"``.

    Returns ``(character, position after the reference)`` or ``None`` if ``&`` does not
    start a reference Telegram understands.
    """
    end = pos + 1
    if src.startswith("#", end):
        end += 1
        hexadecimal = src.startswith("x", end)
        if hexadecimal:
            end += 1
        digits_start = end
        allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < len(src) and src[end] in allowed:
            end += 1
        digits = src[digits_start:end]
        value = int(digits, 16 if hexadecimal else 10) if digits else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < len(src) and src[end].isascii() and src[end].isalpha():
            end += 1
        char = _NAMED_ENTITIES.get(src[pos + 1 : end])
        if char is None:
            return None
    if src.startswith(";", end):
        end += 1
    return char, end


def normalize_url(url: str) -> str | None:
    """Roughly tdlib's ``check_url``: the URL a text_link gets, or None (entity dropped)."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme:
        return url if scheme.group(1).lower() in _URL_SCHEMES else None
    if url.lower().startswith(("tg:", "mailto:")):
        return url
    if "." in url:
        return "http://" + url
    return None


def parse_html(
    source: str, *, strict_ampersand: bool = True, resolve_user: UserResolver | None = None
) -> ParsedText:
    """Parse Telegram HTML; raise :class:`HtmlParseError` with tdlib's wording on errors.

    ``resolve_user(user_id)`` returns the User dict for ``<a href="tg://user?id=N">``
    mentions; unknown users make the mention disappear (the text stays).
    """
    return _HtmlParser(source, strict_ampersand, resolve_user).parse()


class _HtmlParser:
    """Single-pass scanner; ``pos`` indexes ``src`` (code points)."""

    def __init__(
        self, src: str, strict_ampersand: bool, resolve_user: UserResolver | None
    ) -> None:
        self.src = src
        self.n = len(src)
        self.pos = 0
        self.strict_ampersand = strict_ampersand
        self.resolve_user = resolve_user
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    # -- driver -------------------------------------------------------------------
    def parse(self) -> ParsedText:
        while self.pos < self.n:
            char = self.src[self.pos]
            if char == "&":
                self._ampersand()
            elif char == "<":
                self._tag()
            else:
                self._emit(char)
                self.pos += 1
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        text = "".join(self.out)
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            raise HtmlParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return ParsedText(text, _finalize(self.entities))

    def _emit(self, char: str) -> None:
        self.out.append(char)
        self.utf16 += 2 if ord(char) > 0xFFFF else 1

    def _byte_offset(self, pos: int) -> int:
        return len(self.src[:pos].encode("utf-8", "surrogatepass"))

    def _at(self, i: int) -> str:
        return self.src[i] if i < self.n else ""

    def _skip_spaces(self, i: int) -> int:
        while i < self.n and self.src[i] in _SPACES:
            i += 1
        return i

    # -- character references ---------------------------------------------------------
    def _ampersand(self) -> None:
        decoded = decode_entity(self.src, self.pos)
        if decoded is not None:
            char, self.pos = decoded
            self._emit(char)
            return
        if self.strict_ampersand:
            raise HtmlParseError(
                f'Unescaped "&" at byte offset {self._byte_offset(self.pos)}; '
                'use "&amp;" (fake Bot API strict mode)'
            )
        self._emit("&")
        self.pos += 1

    # -- tags -----------------------------------------------------------------------------
    def _tag(self) -> None:
        if self._at(self.pos + 1) == "/":
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        begin = self.pos
        byte_offset = self._byte_offset(begin)
        i = begin + 1
        while i < self.n and self.src[i] not in _SPACES and self.src[i] != ">":
            i += 1
        if i >= self.n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset}")
        name = self.src[begin + 1 : i].lower()
        if name not in SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
        attributes, i = self._attributes(name, i, byte_offset)
        self.pos = i + 1  # past ">"
        argument = self._tag_argument(name, attributes, byte_offset)
        self.stack.append(
            _OpenTag(
                name=name,
                argument=argument,
                utf16_offset=self.utf16,
                text_start=len(self.out),
                byte_offset=byte_offset,
                expandable="expandable" in attributes,
            )
        )

    def _attributes(self, tag: str, i: int, byte_offset: int) -> tuple[dict[str, str], int]:
        """Read attributes up to the closing ``>``; returns them and the index of ``>``."""
        attributes: dict[str, str] = {}
        while True:
            i = self._skip_spaces(i)
            if i >= self.n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset}")
            if self.src[i] == ">":
                return attributes, i
            name_start = i
            while i < self.n and self.src[i] not in _SPACES and self.src[i] not in "=>":
                i += 1
            attribute = self.src[name_start:i]
            if not attribute:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset}'
                )
            i = self._skip_spaces(i)
            if self._at(i) != "=":
                if tag == "blockquote" and attribute == "expandable":
                    attributes["expandable"] = ""
                    continue
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {byte_offset}'
                )
            i = self._skip_spaces(i + 1)
            if i >= self.n:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {byte_offset}')
            value, i = self._attribute_value(i)
            if i >= self.n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset}")
            attributes[attribute] = value

    def _attribute_value(self, i: int) -> tuple[str, int]:
        quote = self.src[i]
        if quote in "'\"":
            i += 1
            value: list[str] = []
            while i < self.n and self.src[i] != quote:
                decoded = decode_entity(self.src, i) if self.src[i] == "&" else None
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                else:
                    value.append(self.src[i])
                    i += 1
            return "".join(value), (i + 1 if i < self.n else i)
        # An unquoted name token: letters, digits, periods, hyphens; case-insensitive.
        start = i
        while i < self.n and (
            (self.src[i].isascii() and self.src[i].isalnum()) or self.src[i] in ".-"
        ):
            i += 1
        if i < self.n and self.src[i] not in _SPACES and self.src[i] != ">":
            raise HtmlParseError(
                f"Unexpected end of name token at byte offset {self._byte_offset(i)}"
            )
        return self.src[start:i].lower(), i

    @staticmethod
    def _tag_argument(tag: str, attributes: dict[str, str], byte_offset: int) -> str:
        if tag == "a":
            return attributes.get("href", "")
        if tag == "code":
            css_class = attributes.get("class", "")
            return css_class[len("language-") :] if css_class.startswith("language-") else ""
        if tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset}'
                )
            return "spoiler"
        if tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id", "")
            if not emoji_id.isdigit() or int(emoji_id) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            return emoji_id
        return ""

    def _end_tag(self) -> None:
        begin = self.pos
        byte_offset = self._byte_offset(begin)
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset}")
        i = begin + 2
        while i < self.n and self.src[i] not in _SPACES and self.src[i] != ">":
            i += 1
        end_name = self.src[begin + 2 : i].lower()
        i = self._skip_spaces(i)
        if self._at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset}")
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {byte_offset}, expected "</{open_tag.name}>", '
                f'found "</{end_name}>"'
            )
        self.stack.pop()
        self.pos = i + 1
        if self.utf16 > open_tag.utf16_offset:
            self._close_entity(open_tag)

    # -- entities -------------------------------------------------------------------------
    def _close_entity(self, tag: _OpenTag) -> None:
        offset = tag.utf16_offset
        length = self.utf16 - offset
        base = {"offset": offset, "length": length}
        if tag.name in _SIMPLE_ENTITY_TYPES:
            self.entities.append({"type": _SIMPLE_ENTITY_TYPES[tag.name], **base})
        elif tag.name == "a":
            entity = self._link_entity(tag)
            if entity is not None:
                self.entities.append({**entity, **base})
        elif tag.name == "tg-emoji":
            self.entities.append({"type": "custom_emoji", **base, "custom_emoji_id": tag.argument})
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.expandable else "blockquote"
            self.entities.append({"type": kind, **base})
        elif tag.name == "pre":
            self._close_pre(base)
        elif tag.name == "code":
            self._close_code(base, tag.argument)

    def _link_entity(self, tag: _OpenTag) -> dict[str, Any] | None:
        url = tag.argument or "".join(self.out[tag.text_start :])
        mention = _USER_LINK.match(url)
        if mention:
            user = self.resolve_user(int(mention.group(1))) if self.resolve_user else None
            return {"type": "text_mention", "user": user} if user else None
        normalized = normalize_url(url)
        return {"type": "text_link", "url": normalized} if normalized else None

    def _close_pre(self, base: dict[str, int]) -> None:
        last = self.entities[-1] if self.entities else None
        if last and last["type"] == "code" and _same_range(last, base) and last.get("_language"):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            self.entities.append({"type": "pre", **base})

    def _close_code(self, base: dict[str, int], language: str) -> None:
        last = self.entities[-1] if self.entities else None
        if last and last["type"] == "pre" and _same_range(last, base) and language:
            last["language"] = language
        else:
            entity = {"type": "code", **base}
            if language:
                entity["_language"] = language
            self.entities.append(entity)


def _same_range(entity: dict[str, Any], base: dict[str, int]) -> bool:
    return entity["offset"] == base["offset"] and entity["length"] == base["length"]


def _finalize(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for entity in entities:
        entity.pop("_language", None)
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))
