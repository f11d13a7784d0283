"""A fake Telegram Bot API server that the real aiogram bot talks to over HTTP on 127.0.0.1.

The server half speaks the Bot API wire protocol (multipart, urlencoded and JSON bodies, the
``{"ok": ...}`` envelope, Telegram's error wording and limits). The test half lets a test act as
Telegram users (send messages, press buttons) and inspect what those users would see.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

T = TypeVar("T")

Params = dict[str, Any]
Json = dict[str, Any]

HOST = "127.0.0.1"
BOT_USERNAME = "eportal_test_bot"
BOT_FIRST_NAME = "ePortal Test Bot"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"

# Update types Telegram leaves out unless a bot asks for them explicitly.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Field types shared by every Bot API method, used to coerce string form values.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
        "link_preview_options",
        "reply_parameters",
        "message_ids",
    }
)
INT_FIELDS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
    }
)
CHAT_ID_FIELDS = frozenset({"chat_id", "from_chat_id"})
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_sending_without_reply",
        "allow_paid_broadcast",
        "disable_web_page_preview",
    }
)

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
BUTTON_URL_RE = re.compile(r"(?:https?|tg)://\S+", re.IGNORECASE)
COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]+)?")
BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
API_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[^/]+)/?")
FILE_PATH_RE = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)")
TOKEN_RE = re.compile(r"(?P<bot_id>\d+):\S+")

FILE_KINDS: dict[str, tuple[str, str, str]] = {
    # kind: (file_id prefix, folder of file_path, default extension)
    "document": ("BQACAgIAAxkBAAI", "documents", ".bin"),
    "photo": ("AgACAgIAAxkBAAI", "photos", ".jpg"),
    "sticker": ("CAACAgIAAxkBAAI", "stickers", ".webp"),
    "voice": ("AwACAgIAAxkBAAI", "voice", ".oga"),
}


# --------------------------------------------------------------------------------------------
# Errors and small helpers
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error response: HTTP status equals ``error_code`` like on api.telegram.org."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> Json:
        """The error envelope Telegram sends."""
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram text limit and entity offset."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class FakeRequest(NamedTuple):
    """One Bot API call the fake received, with coerced parameters."""

    method: str
    params: Params


class FakeError(NamedTuple):
    """One error response the fake returned."""

    method: str
    code: int
    description: str


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content: bytes
    content_type: str | None


Files = dict[str, Upload]


# --------------------------------------------------------------------------------------------
# Telegram's HTML subset
# --------------------------------------------------------------------------------------------

HTML_TAGS: dict[str, str] = {
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
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ENTITY_RE = re.compile(r"&(#[xX][0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+)(;?)")
SPECIAL_RE = re.compile(r"[<&]")
NAME_TOKEN_RE = re.compile(r"[A-Za-z0-9.\-]*")


class HtmlParseError(ValueError):
    """Why Telegram rejects an HTML text, without the "can't parse entities: " prefix."""


def parse_html(source: str) -> tuple[str, list[Json]]:
    """Visible text and MessageEntity dicts of a text written in Telegram's HTML subset."""
    return _HtmlParser(source).parse()


def _decode_entity(body: str) -> str | None:
    """The character an entity body (``lt``, ``#60``, ``#x3C``) stands for, if valid."""
    if not body.startswith("#"):
        return NAMED_ENTITIES.get(body)

    digits = body[1:]
    code = int(digits[1:], 16) if digits[0] in "xX" else int(digits)
    if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int  # UTF-16 offset of the first visible character inside the tag


class _HtmlParser:
    """A single-pass parser that mirrors how Telegram walks HTML and words its errors."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[Json] = []

    def parse(self) -> tuple[str, list[Json]]:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "<":
                self._tag()
            elif char == "&":
                self._emit(self._entity())
            else:
                self._text_run()

        if self.stack:
            name = self.stack[-1].name
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{name}"')

        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.parts), self.entities

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def _text_run(self) -> None:
        match = SPECIAL_RE.search(self.src, self.pos)
        end = match.start() if match else len(self.src)
        self._emit(self.src[self.pos : end])
        self.pos = end

    def _byte(self, pos: int) -> int:
        """Telegram reports positions as UTF-8 byte offsets."""
        return len(self.src[:pos].encode("utf-8", "surrogatepass"))

    def _peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def _skip_spaces(self) -> None:
        while self._peek().isspace():
            self.pos += 1

    def _scan_name(self, start: int) -> str:
        """Read a tag name: everything up to whitespace or ``>``."""
        self.pos = start
        while self.pos < len(self.src) and not (self._peek().isspace() or self._peek() == ">"):
            self.pos += 1
        return self.src[start : self.pos].lower()

    def _entity(self) -> str:
        """Decode the entity at ``pos``; a bare ampersand stays literal, as Telegram allows."""
        match = ENTITY_RE.match(self.src, self.pos)
        char = _decode_entity(match.group(1)) if match else None
        if match and char is None and match.group(2) and not match.group(1).startswith("#"):
            where = self._byte(self.pos)
            raise HtmlParseError(
                f'Unsupported HTML entity "{match.group(0)}" at byte offset {where}'
            )

        if match is None or char is None:
            self.pos += 1
            return "&"
        self.pos = match.end()
        return char

    def _tag(self) -> None:
        if self.src.startswith("</", self.pos):
            self._end_tag()
            return

        begin = self.pos
        name = self._scan_name(begin + 1)
        if self.pos >= len(self.src):
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
        if name not in HTML_TAGS:
            where = self._byte(begin)
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {where}')

        attrs = self._attributes(name, begin)
        self.pos += 1  # the closing ">"
        self._check_tag(name, attrs, begin)
        self.stack.append(_OpenTag(name, attrs, self.length))

    def _unclosed(self, name: str, begin: int) -> HtmlParseError:
        return HtmlParseError(f'Unclosed start tag "{name}" at byte offset {self._byte(begin)}')

    def _attributes(self, name: str, begin: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while True:
            self._skip_spaces()
            if self.pos >= len(self.src):
                raise self._unclosed(name, begin)
            if self._peek() == ">":
                return attrs

            start = self.pos
            while self._peek() and not (self._peek().isspace() or self._peek() in "=>"):
                self.pos += 1
            attr = self.src[start : self.pos].lower()
            if not attr:
                where = self._byte(begin)
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {where}'
                )
            attrs[attr] = self._attribute_value(name, attr, begin)

    def _attribute_value(self, name: str, attr: str, begin: int) -> str:
        self._skip_spaces()
        if self._peek() != "=":
            if name == "blockquote" and attr == "expandable":
                return ""  # Telegram accepts the bare flag
            where = self._byte(begin)
            raise HtmlParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{name}" at byte offset {where}'
            )

        self.pos += 1
        self._skip_spaces()
        quote = self._peek()
        if not quote:
            raise self._unclosed(name, begin)
        if quote in "\"'":
            return self._quoted_value(quote, name, begin)
        return self._name_token()

    def _quoted_value(self, quote: str, name: str, begin: int) -> str:
        self.pos += 1
        parts: list[str] = []
        while self.pos < len(self.src) and self._peek() != quote:
            if self._peek() == "&":
                parts.append(self._entity())
            else:
                parts.append(self._peek())
                self.pos += 1

        if self.pos >= len(self.src):
            raise self._unclosed(name, begin)
        self.pos += 1
        return "".join(parts)

    def _name_token(self) -> str:
        """An unquoted attribute value: letters, digits, periods and hyphens."""
        match = NAME_TOKEN_RE.match(self.src, self.pos)
        assert match is not None  # the pattern also matches the empty string
        self.pos = match.end()
        following = self._peek()
        if following and not (following.isspace() or following == ">"):
            where = self._byte(match.start())
            raise HtmlParseError(f"Unexpected end of name token at byte offset {where}")
        return match.group(0).lower()

    def _check_tag(self, name: str, attrs: dict[str, str], begin: int) -> None:
        where = self._byte(begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise HtmlParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {where}'
            )

    def _end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self._byte(begin)}")

        end_name = self._scan_name(begin + 2)
        self._skip_spaces()
        if self._peek() != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self._byte(begin)}")
        self.pos += 1

        tag = self.stack.pop()
        if end_name and end_name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self._byte(begin)}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        self._close(tag)

    def _close(self, tag: _OpenTag) -> None:
        css_class = tag.attrs.get("class", "")
        in_pre = bool(self.stack) and self.stack[-1].name == "pre"
        if tag.name == "code" and in_pre and css_class.startswith("language-"):
            # Telegram folds <pre><code class="language-x"> into one pre entity.
            self.stack[-1].attrs["language"] = css_class.removeprefix("language-")
            return

        length = self.length - tag.offset
        if length == 0 or (tag.name == "a" and not tag.attrs.get("href")):
            return
        entity: Json = {"type": HTML_TAGS[tag.name], "offset": tag.offset, "length": length}
        entity.update(_entity_extras(tag))
        self.entities.append(entity)


def _entity_extras(tag: _OpenTag) -> Json:
    """Entity fields that come from tag attributes."""
    if tag.name == "a":
        return {"url": tag.attrs["href"]}
    if tag.name == "tg-emoji":
        return {"custom_emoji_id": tag.attrs["emoji-id"]}
    if tag.name == "pre" and tag.attrs.get("language"):
        return {"language": tag.attrs["language"]}
    if tag.name == "blockquote" and "expandable" in tag.attrs:
        return {"type": "expandable_blockquote"}
    return {}


# --------------------------------------------------------------------------------------------
# Parameter coercion and validation
# --------------------------------------------------------------------------------------------


def _as_json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(f"can't parse {name} JSON object") from None


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise bad_request(f"invalid {name} specified")


def _as_chat_id(name: str, value: Any) -> int | str:
    if isinstance(value, str) and value.startswith("@"):
        return value
    if value in ("", None):
        raise bad_request(f"{name} is empty")
    try:
        return _as_int(name, value)
    except ApiError:
        raise bad_request("chat not found") from None


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise bad_request(f"invalid {name} specified")


def coerce_params(raw: Params) -> Params:
    """Turn form strings into the types the Bot API declares for each field."""
    params: Params = {}
    for name, value in raw.items():
        if name in JSON_FIELDS:
            params[name] = _as_json(name, value)
        elif name in INT_FIELDS:
            params[name] = _as_int(name, value)
        elif name in CHAT_ID_FIELDS:
            params[name] = _as_chat_id(name, value)
        elif name in BOOL_FIELDS:
            params[name] = _as_bool(name, value)
        else:
            params[name] = value
    return params


async def read_params(request: web.Request) -> tuple[Params, Files]:
    """Merge the query string with a JSON, urlencoded or multipart body."""
    params: Params = dict(request.query)
    files: Files = {}
    if not request.can_read_body:
        return params, files

    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        params.update(body)
        return params, files

    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = Upload(value.filename, value.file.read(), value.content_type)
        else:
            params[key] = value
    return params, files


class Formatted(NamedTuple):
    """A text or caption after entity parsing."""

    raw: str
    visible: str
    entities: list[Json]
    parse_mode: str | None


def _explicit_entities(value: Any) -> list[Json]:
    if value is None:
        return []
    valid = isinstance(value, list) and all(
        isinstance(item, dict)
        and isinstance(item.get("type"), str)
        and isinstance(item.get("offset"), int)
        and isinstance(item.get("length"), int)
        for item in value
    )
    if not valid:
        raise bad_request("can't parse entities JSON object")
    return [dict(item) for item in value]


def _render(raw: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Json]]:
    if parse_mode is None:
        return raw, _explicit_entities(entities)

    mode = parse_mode.lower()
    if mode == "html":
        try:
            return parse_html(raw)
        except HtmlParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    if mode in ("markdown", "markdownv2"):
        # Loud on purpose: silently showing raw Markdown would hide real formatting bugs.
        raise bad_request("the fake Telegram server implements only parse_mode HTML")
    raise bad_request("unsupported parse_mode")


def _trim(text: str, entities: list[Json]) -> tuple[str, list[Json]]:
    """Strip outer whitespace like Telegram does, shifting entity offsets along."""
    left_stripped = text.lstrip()
    shift = utf16_len(text) - utf16_len(left_stripped)
    stripped = left_stripped.rstrip()
    total = utf16_len(stripped)

    kept: list[Json] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_text(
    params: Params, text_field: str, entities_field: str, *, caption: bool
) -> Formatted:
    """Parse and length-check a message text or caption the way Telegram does."""
    value = params.get(text_field)
    raw = "" if value is None else str(value)
    if not raw and not caption:
        raise bad_request("message text is empty")

    parse_mode = params.get("parse_mode") or None
    visible, entities = _render(raw, parse_mode, params.get(entities_field))
    visible, entities = _trim(visible, entities)

    size = utf16_len(visible)
    if caption and size > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    if not caption and not visible:
        raise bad_request("message must be non-empty")
    if not caption and size > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return Formatted(raw, visible, entities, parse_mode)


def _button_rows(rows: Any, field_name: str, owner: str) -> list[Any]:
    """Flatten a keyboard after checking it is an array of arrays."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field_name}" of the {owner} must be an Array of Arrays')
    return [button for row in rows for button in row]


def _check_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Can\'t find field "text"')
    if not button["text"].strip():
        raise bad_request(prefix + "Text must be non-empty")

    actions = [name for name in INLINE_ACTIONS if button.get(name) not in (None, False)]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(prefix + "exactly one of the optional fields must be used")

    data = button.get("callback_data")
    data_size = len(data.encode("utf-8")) if isinstance(data, str) else 0
    if "callback_data" in button and not 1 <= data_size <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not BUTTON_URL_RE.fullmatch(str(button["url"])):
        raise bad_request("BUTTON_URL_INVALID")


def _check_reply_button(button: Any) -> None:
    text = button if isinstance(button, str) else None
    if isinstance(button, dict):
        text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("keyboard button text must be non-empty")


def check_reply_markup(markup: Any, *, inline_only: bool = False) -> Json | None:
    """Validate any reply_markup kind; edits accept only inline keyboards."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")

    if "inline_keyboard" in markup:
        buttons = _button_rows(
            markup["inline_keyboard"], "inline_keyboard", "InlineKeyboardMarkup"
        )
        if len(buttons) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        for button in buttons:
            _check_inline_button(button)
        return markup

    if inline_only:
        raise bad_request("can't parse inline keyboard markup JSON object")
    if "keyboard" in markup:
        for button in _button_rows(markup["keyboard"], "keyboard", "ReplyKeyboardMarkup"):
            _check_reply_button(button)
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _inline_markup(markup: Json | None) -> Json | None:
    """The part of a reply_markup that Telegram echoes back on a Message."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def _command_entities(text: str) -> list[Json]:
    match = COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


# --------------------------------------------------------------------------------------------
# State seen by tests
# --------------------------------------------------------------------------------------------


@dataclass
class FakeUser:
    """A Telegram user the test acts as."""

    id: int
    first_name: str = "Test"
    language_code: str | None = "ru"
    last_name: str | None = None
    username: str | None = None

    def to_json(self) -> Json:
        data: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data


@dataclass
class FakeFile:
    """A file the fake stores; ``file_size`` may be declared larger than ``content``."""

    kind: str
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_size: int
    file_name: str | None = None
    mime_type: str | None = None

    def to_file_json(self) -> Json:
        """The File object getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def base_json(self) -> Json:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }


@dataclass
class DocumentSpec:
    """One document of an album sent with ``FakeTelegram.send_album``."""

    file_name: str
    mime_type: str = "application/pdf"
    file_size: int | None = None
    content: bytes = b"%PDF-1.4\n% fake document\n"
    caption: str | None = None


@dataclass
class FakeMessage:
    """A message as stored by the fake; the same object is updated on edit and delete.

    ``text``/``raw_text`` hold the caption for media messages. ``text`` is what the user sees
    (tags stripped, entities decoded); ``raw_text`` is exactly what was sent.
    """

    chat_id: int
    from_bot: bool
    kind: str = "text"  # text, document, photo, sticker, voice or contact
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[Json] = field(default_factory=list)
    reply_markup: Json | None = None
    media: Any = None  # the Telegram object of a non-text message (Document, [PhotoSize], ...)
    file: FakeFile | None = None
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    sender: FakeUser | None = None
    extra: Json = field(default_factory=dict)
    message_id: int = 0
    date: int = 0
    seq: int = 0  # global event counter of the last creation or edit
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False

    @property
    def inline_buttons(self) -> list[Json]:
        """Inline keyboard buttons in reading order."""
        markup = _inline_markup(self.reply_markup)
        if markup is None:
            return []
        return [button for row in markup["inline_keyboard"] for button in row]

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons."""
        return [button["text"] for button in self.inline_buttons]

    @property
    def keyboard(self) -> list[str]:
        """Texts of a reply keyboard sent with this message."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [b if isinstance(b, str) else b["text"] for row in rows for b in row]

    @property
    def document(self) -> Json | None:
        return self.media if self.kind == "document" else None

    @property
    def photo(self) -> list[Json] | None:
        return self.media if self.kind == "photo" else None

    def button(self, text: str) -> Json:
        """The inline button with exactly this text; AssertionError lists the existing ones."""
        for button in self.inline_buttons:
            if button["text"] == text:
                return button
        raise AssertionError(
            f"no inline button {text!r} on message #{self.message_id}; buttons: {self.buttons}"
        )

    def summary(self) -> str:
        """One transcript line for failure messages."""
        who = "bot" if self.from_bot else "user"
        flags = "".join(
            flag for flag, on in ((" edited", self.edited), (" deleted", self.deleted)) if on
        )
        body = repr(self.text) if self.kind == "text" else f"[{self.kind}] {self.text!r}"
        buttons = f" buttons={self.buttons}" if self.buttons else ""
        return f"#{self.message_id} {who}{flags}: {body}{buttons}"


@dataclass
class FakeChat:
    """A private chat (id == user id) or a group."""

    id: int
    type: str
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    title: str | None = None
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: Json | None = None  # the reply keyboard the user currently sees

    def to_json(self) -> Json:
        data: Json = {"id": self.id, "type": self.type}
        optional = {
            "title": self.title,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data


@dataclass
class _Update:
    update_id: int
    kind: str
    payload: Json

    def to_json(self) -> Json:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class _CallbackQuery:
    id: str
    user: FakeUser
    message: FakeMessage
    data: str
    answered: bool = False


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    remaining: int


DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """The fake Bot API server plus the controls a test uses to play Telegram users."""

    def __init__(self, token: str) -> None:
        match = TOKEN_RE.fullmatch(token)
        if match is None:
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.bot_id = int(match.group("bot_id"))
        self.bot_user: Json = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

        self.requests: list[FakeRequest] = []
        self.errors: list[FakeError] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: dict[str, Json] = {}
        self.webhook: Json | None = None
        self.menu_buttons: dict[int | None, Json] = {}
        self.commands: dict[tuple[str, str], list[Json]] = {}

        self._chats: dict[int, FakeChat] = {}
        self._users: dict[int, FakeUser] = {}
        self._files: dict[str, FakeFile] = {}
        self._files_by_path: dict[str, FakeFile] = {}
        self._queries: dict[str, _CallbackQuery] = {}
        self._updates: list[_Update] = []
        self._next_update_id = 700_000_001
        self._allowed_updates: frozenset[str] | None = None
        self._blocked: set[int] = set()
        self._failures: dict[str, list[_Failure]] = {}
        self._ids = itertools.count(1)
        self._seq = 0
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._methods = self._method_table()

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a random free port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # Cancelling handlers of dropped connections ends long polls of a stopped bot at once.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()

        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._url = f"http://{HOST}:{port}"
        self._closing = False

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:43211``."""
        if self._url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._url

    def make_session(self) -> AiohttpSession:
        """An aiogram session pointed at this fake."""
        return AiohttpSession(api=TelegramAPIServer.from_base(self.url))

    # ---- users and chats -------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "ru",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """Register a user and their private chat (chat id == user id); idempotent."""
        if user_id in self._users:
            return self._users[user_id]

        user = FakeUser(user_id, first_name, language_code, last_name, username)
        self._users[user_id] = user
        self._chats[user_id] = FakeChat(
            user_id, "private", first_name=first_name, last_name=last_name, username=username
        )
        return user

    def group(self, chat_id: int, title: str = "Test group") -> FakeChat:
        """Register a group chat; pass its id as ``chat_id=`` to the ``send_*`` methods."""
        chat = self._chats.setdefault(chat_id, FakeChat(chat_id, "group", title=title))
        return chat

    def chat(self, chat_id: int) -> FakeChat:
        if chat_id not in self._chats:
            raise AssertionError(f"unknown chat {chat_id}; create it with user() or group()")
        return self._chats[chat_id]

    def block_bot(self, user_id: int) -> None:
        """From now on sends to this chat fail with 403 "bot was blocked by the user"."""
        self._blocked.add(user_id)

    def unblock_bot(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    # ---- acting as a user ------------------------------------------------------------------

    def send_text(self, user: FakeUser, text: str, *, chat_id: int | None = None) -> FakeMessage:
        """The user sends a text message; returns the stored message."""
        draft = FakeMessage(0, False, text=text, raw_text=text, entities=_command_entities(text))
        return self._from_user(user, draft, chat_id)

    def send_command(
        self, user: FakeUser, command: str = "/start", *, chat_id: int | None = None
    ) -> FakeMessage:
        return self.send_text(user, command, chat_id=chat_id)

    def forward_text(
        self,
        user: FakeUser,
        text: str,
        *,
        origin_name: str = "Original Sender",
        chat_id: int | None = None,
    ) -> FakeMessage:
        """The user forwards someone else's text message (it carries ``forward_origin``)."""
        origin_user = {"id": 5_550_000_001, "is_bot": False, "first_name": origin_name}
        origin = {"type": "user", "date": int(time.time()) - 3600, "sender_user": origin_user}
        draft = FakeMessage(0, False, text=text, raw_text=text, extra={"forward_origin": origin})
        return self._from_user(user, draft, chat_id)

    def send_sticker(
        self, user: FakeUser, emoji: str = "🙂", *, chat_id: int | None = None
    ) -> FakeMessage:
        file = self._register_file("sticker", b"RIFF-fake-webp", file_name="sticker.webp")
        sticker = file.base_json() | {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        draft = FakeMessage(0, False, kind="sticker", media=sticker, file=file)
        return self._from_user(user, draft, chat_id)

    def send_voice(
        self, user: FakeUser, duration: int = 3, *, chat_id: int | None = None
    ) -> FakeMessage:
        file = self._register_file("voice", b"OggS-fake-voice", mime_type="audio/ogg")
        voice = file.base_json() | {"duration": duration, "mime_type": "audio/ogg"}
        draft = FakeMessage(0, False, kind="voice", media=voice, file=file)
        return self._from_user(user, draft, chat_id)

    def send_contact(
        self,
        user: FakeUser,
        phone: str,
        *,
        own: bool = True,
        first_name: str | None = None,
        chat_id: int | None = None,
    ) -> FakeMessage:
        """Share a contact; ``own=True`` is what a request_contact button sends."""
        contact: Json = {"phone_number": phone, "first_name": first_name or user.first_name}
        if own:
            contact["user_id"] = user.id
        draft = FakeMessage(0, False, kind="contact", media=contact)
        return self._from_user(user, draft, chat_id)

    def send_photo(
        self,
        user: FakeUser,
        caption: str | None = None,
        file_size: int | None = None,
        media_group_id: str | None = None,
        *,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        chat_id: int | None = None,
    ) -> FakeMessage:
        """The user sends a photo; ``file_size`` may be declared bigger than ``content``."""
        file = self._register_file("photo", content, file_size=file_size)
        draft = FakeMessage(
            0,
            False,
            kind="photo",
            media=self._photo_sizes(file),
            file=file,
            media_group_id=media_group_id,
        )
        draft.text = draft.raw_text = caption
        return self._from_user(user, draft, chat_id)

    def send_document(
        self,
        user: FakeUser,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        file_size: int | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        content: bytes = b"%PDF-1.4\n% fake document\n",
        *,
        chat_id: int | None = None,
    ) -> FakeMessage:
        """The user sends a document; getFile and the download URL serve ``content``."""
        file = self._register_file(
            "document", content, file_name=file_name, mime_type=mime_type, file_size=file_size
        )
        document = file.base_json() | {"file_name": file_name, "mime_type": mime_type}
        draft = FakeMessage(
            0, False, kind="document", media=document, file=file, media_group_id=media_group_id
        )
        draft.text = draft.raw_text = caption
        return self._from_user(user, draft, chat_id)

    def send_album(
        self,
        user: FakeUser,
        documents: Sequence[DocumentSpec | str],
        *,
        chat_id: int | None = None,
    ) -> list[FakeMessage]:
        """Several documents sharing one media_group_id, queued in a single burst."""
        group_id = str(13_000_000_000_000_000 + next(self._ids))
        specs = [DocumentSpec(d) if isinstance(d, str) else d for d in documents]
        return [
            self.send_document(
                user,
                spec.file_name,
                spec.mime_type,
                spec.file_size,
                spec.caption,
                group_id,
                spec.content,
                chat_id=chat_id,
            )
            for spec in specs
        ]

    def press(self, user: FakeUser, message: FakeMessage, button_text: str) -> str:
        """Press the inline button with this exact text; returns the callback query id."""
        if message.deleted:
            raise AssertionError(f"message #{message.message_id} is deleted: {message.summary()}")

        button = message.button(button_text)
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(f"button {button_text!r} has no callback_data: {button}")
        return self.press_data(user, message, data)

    def press_data(self, user: FakeUser, message: FakeMessage, data: str) -> str:
        """Send a callback query with arbitrary (possibly forged) data; returns its id."""
        query_id = str(4_000_000_000_000_000_000 + next(self._ids))
        self._queries[query_id] = _CallbackQuery(query_id, user, message, data)
        payload = {
            "id": query_id,
            "from": user.to_json(),
            "message": self._message_json(message),
            "chat_instance": str(-8_000_000_000_000 - message.chat_id),
            "data": data,
        }
        self._enqueue("callback_query", payload)
        return query_id

    # ---- reading what users see ------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The global event counter: pass it as ``after=`` to wait only for newer messages."""
        return self._seq

    def transcript(self, chat_id: int) -> list[FakeMessage]:
        """Every message of the chat in order, deleted ones included (flagged)."""
        return list(self.chat(chat_id).messages.values())

    def visible(self, chat_id: int) -> list[FakeMessage]:
        return [message for message in self.transcript(chat_id) if not message.deleted]

    def bot_messages(self, chat_id: int) -> list[FakeMessage]:
        return [message for message in self.visible(chat_id) if message.from_bot]

    def last_bot_message(self, chat_id: int) -> FakeMessage:
        """The newest visible bot message; AssertionError when there is none."""
        messages = self.bot_messages(chat_id)
        if not messages:
            raise AssertionError(
                f"no bot message in chat {chat_id}\n{self.format_transcript(chat_id)}"
            )
        return messages[-1]

    def format_transcript(self, chat_id: int, last: int = 10) -> str:
        """The last transcript lines, for assertion messages."""
        lines = [message.summary() for message in self.transcript(chat_id)[-last:]]
        return "\n".join(lines) or "(empty chat)"

    def calls(self, method: str) -> list[Params]:
        """Parameters of every call of a method (case-insensitive name)."""
        return [req.params for req in self.requests if req.method.lower() == method.lower()]

    def get_commands(self, scope: Json | None = None, language_code: str = "") -> list[Json]:
        """Commands stored by setMyCommands for a scope (default scope when None)."""
        return self.commands.get((_scope_key(scope), language_code), [])

    async def wait_until(
        self, condition: Callable[[], T], timeout: float = 10.0, *, what: str = "condition"
    ) -> T:
        """Wait for ``condition()`` to become truthy and return its value."""
        holder: list[T] = []

        def check() -> bool:
            value = condition()
            holder[:] = [value]
            return bool(value)

        if not await self._wait_for(check, timeout):
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        return holder[0]

    async def wait_for_bot_message(
        self,
        chat_id: int,
        *,
        contains: str | None = None,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 10.0,
        after: int | None = None,
    ) -> FakeMessage:
        """The earliest (by ``seq``) visible bot message, new or edited, that matches."""

        def find() -> FakeMessage | None:
            matches = [
                message
                for message in self.bot_messages(chat_id)
                if (after is None or message.seq > after)
                and (contains is None or contains in (message.text or ""))
                and (predicate is None or predicate(message))
            ]
            return min(matches, key=lambda message: message.seq) if matches else None

        if await self._wait_for(lambda: find() is not None, timeout):
            found = find()
            assert found is not None
            return found
        raise AssertionError(
            f"no bot message in chat {chat_id} (contains={contains!r}, after={after}) "
            f"within {timeout}s; last messages:\n{self.format_transcript(chat_id)}"
        )

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 10.0) -> Json:
        """The answerCallbackQuery parameters (text, show_alert, url, cache_time)."""
        return await self.wait_until(
            lambda: self.callback_answers.get(query_id),
            timeout,
            what=f"an answer to callback query {query_id}",
        )

    # ---- failure injection -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error."""
        if description is None and error_code == 429:
            description = f"Too Many Requests: retry after {retry_after or 1}"
        if description is None:
            description = DEFAULT_DESCRIPTIONS.get(error_code, "Error")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        failure = _Failure(error_code, description, retry_after, times)
        self._failures.setdefault(method.lower(), []).append(failure)

    def _raise_injected(self, method: str) -> None:
        queue = self._failures.get(method.lower())
        if not queue:
            return

        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        raise ApiError(failure.error_code, failure.description, failure.retry_after)

    # ---- internals: events, storage --------------------------------------------------------

    def _notify(self) -> None:
        """Wake every waiter; each re-checks its own condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _store(self, chat: FakeChat, message: FakeMessage) -> FakeMessage:
        """Give a drafted message its id, date and place in the chat."""
        message.chat_id = chat.id
        message.message_id = chat.next_message_id
        chat.next_message_id += 1
        message.date = int(time.time())
        message.seq = self._next_seq()
        chat.messages[message.message_id] = message
        self._notify()
        return message

    def _from_user(self, user: FakeUser, draft: FakeMessage, chat_id: int | None) -> FakeMessage:
        if user.id not in self._users:
            self.user(user.id, user.first_name, user.language_code)
        chat = self.chat(user.id if chat_id is None else chat_id)

        draft.sender = user
        message = self._store(chat, draft)
        self._enqueue("message", self._message_json(message))
        return message

    def _enqueue(self, kind: str, payload: Json) -> None:
        self._updates.append(_Update(self._next_update_id, kind, payload))
        self._next_update_id += 1
        self._notify()

    def _register_file(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_size: int | None = None,
    ) -> FakeFile:
        number = next(self._ids)
        prefix, folder, default_ext = FILE_KINDS[kind]
        suffix = re.search(r"\.[A-Za-z0-9]{1,8}$", file_name or "")
        extension = suffix.group(0).lower() if suffix else default_ext
        file = FakeFile(
            kind=kind,
            file_id=f"{prefix}{number:08d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}{extension}",
            content=content,
            file_size=len(content) if file_size is None else file_size,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[file.file_id] = file
        self._files_by_path[file.file_path] = file
        return file

    def _photo_sizes(self, full: FakeFile) -> list[Json]:
        """A thumbnail plus the full size, like the PhotoSize array Telegram returns."""
        thumb = self._register_file("photo", full.content, file_size=min(full.file_size, 1024))
        return [
            thumb.base_json() | {"width": 90, "height": 67},
            full.base_json() | {"width": 1280, "height": 960},
        ]

    def _message_json(self, message: FakeMessage, *, with_reply: bool = True) -> Json:
        chat = self._chats[message.chat_id]
        sender = self.bot_user if message.from_bot else (message.sender or FakeUser(0)).to_json()
        data: Json = {
            "message_id": message.message_id,
            "from": sender,
            "chat": chat.to_json(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        data.update(self._content_json(message))
        if message.media_group_id is not None:
            data["media_group_id"] = message.media_group_id
        if (markup := _inline_markup(message.reply_markup)) is not None:
            data["reply_markup"] = markup

        replied = chat.messages.get(message.reply_to_message_id or 0)
        if with_reply and replied is not None:
            data["reply_to_message"] = self._message_json(replied, with_reply=False)
        data.update(message.extra)
        return data

    @staticmethod
    def _content_json(message: FakeMessage) -> Json:
        if message.kind == "text":
            data: Json = {"text": message.text or ""}
            if message.entities:
                data["entities"] = message.entities
            return data

        data = {message.kind: message.media}
        if message.text:
            data["caption"] = message.text
            if message.entities:
                data["caption_entities"] = message.entities
        return data

    # ---- internals: HTTP -------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if match := FILE_PATH_RE.fullmatch(request.path):
            return self._download(match.group("token"), match.group("path"))

        match = API_PATH_RE.fullmatch(request.path)
        if match is None:
            return self._fail(request.path, ApiError(404, "Not Found"))
        if match.group("token") != self.token:
            return self._fail(match.group("method"), ApiError(401, "Unauthorized"))

        try:
            raw, files = await read_params(request)
        except ApiError as error:
            return self._fail(match.group("method"), error)
        return await self._call(match.group("method"), raw, files)

    async def _call(self, sent_name: str, raw: Params, files: Files) -> web.Response:
        entry = self._methods.get(sent_name.lower())
        name = entry[0] if entry else sent_name
        try:
            params = coerce_params(raw)
        except ApiError as error:
            self.requests.append(FakeRequest(name, raw))
            return self._fail(name, error)

        self.requests.append(FakeRequest(name, params))
        try:
            if entry is None:
                raise ApiError(404, "Not Found")
            self._raise_injected(name)
            result = entry[1](params, files)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            return self._fail(name, error)
        except Exception as crash:
            # A bug in the fake must fail the test visibly, not look like a network error.
            return self._fail(
                name, ApiError(500, f"Internal Server Error: fake crashed: {crash!r}")
            )
        return web.json_response({"ok": True, "result": result})

    def _fail(self, method: str, error: ApiError) -> web.Response:
        self.errors.append(FakeError(method, error.code, error.description))
        return web.json_response(error.to_json(), status=error.code)

    def _download(self, token: str, path: str) -> web.Response:
        if token != self.token:
            return self._fail("downloadFile", ApiError(401, "Unauthorized"))

        self.requests.append(FakeRequest("downloadFile", {"file_path": path}))
        file = self._files_by_path.get(path)
        if file is None:
            return self._fail("downloadFile", ApiError(404, "Not Found"))
        content_type = file.mime_type or "application/octet-stream"
        return web.Response(body=file.content, content_type=content_type)

    def _method_table(self) -> dict[str, tuple[str, Callable[[Params, Files], Any]]]:
        handlers: dict[str, Callable[[Params, Files], Any]] = {
            "getUpdates": self._get_updates,
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ---- internals: lookups shared by methods ----------------------------------------------

    def _resolve_chat(self, chat_id: Any) -> FakeChat:
        if chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@").lower()
            for chat in self._chats.values():
                if chat.username and chat.username.lower() == username:
                    return chat
            raise bad_request("chat not found")

        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, params: Params) -> FakeChat:
        """The target chat of a send or edit, refusing chats that blocked the bot."""
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.id in self._blocked:
            raise ApiError(403, BLOCKED)
        return chat

    def _reply_target(self, chat: FakeChat, params: Params) -> int | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id"):
            reply = {"message_id": params["reply_to_message_id"]}
        if not reply:
            return None
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")

        target = chat.messages.get(reply.get("message_id", 0))
        if target is not None and not target.deleted:
            return target.message_id
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")

    def _editable(self, params: Params) -> FakeMessage:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake Telegram server")

        chat = self._writable_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _input_file(self, params: Params, files: Files, field_name: str) -> FakeFile:
        """Resolve an upload (attach://, direct part) or a known file_id."""
        value = params.get(field_name)
        upload = files.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"there is no {field_name} in the request")
        if upload is not None:
            return self._stored_upload(field_name, upload)

        if value in (None, ""):
            raise bad_request(f"there is no {field_name} in the request")
        if str(value).startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        known = self._files.get(str(value))
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if known.kind != field_name:
            raise bad_request(f"can't use file of type {known.kind} as {field_name}")
        return known

    def _stored_upload(self, kind: str, upload: Upload) -> FakeFile:
        if not upload.content:
            raise bad_request("file must be non-empty")

        guessed = mimetypes.guess_type(upload.filename or "")[0]
        return self._register_file(
            kind,
            upload.content,
            file_name=upload.filename if kind == "document" else None,
            mime_type=guessed or "application/octet-stream",
        )

    # ---- Bot API methods: updates and bot settings -----------------------------------------

    async def _get_updates(self, params: Params, files: Files) -> list[Json]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._set_allowed_updates(params.get("allowed_updates"))
        self._confirm_updates(params.get("offset"))
        limit = min(max(params.get("limit") or 100, 1), 100)
        timeout = max(params.get("timeout") or 0, 0)

        # A newer poll ends an older one, as Telegram does with two running bot instances.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        await self._wait_for(
            lambda: self._closing or generation != self._poll_generation or bool(self._pending()),
            timeout,
        )

        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return [update.to_json() for update in self._pending()[:limit]]

    def _set_allowed_updates(self, value: Any) -> None:
        if value is None:
            return  # Telegram keeps the previous setting
        if not isinstance(value, list) or not all(isinstance(kind, str) for kind in value):
            raise bad_request("can't parse allowed_updates JSON object")
        self._allowed_updates = frozenset(value) if value else None

    def _confirm_updates(self, offset: int | None) -> None:
        if not offset:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
            return
        self._updates = [update for update in self._updates if update.update_id >= offset]

    def _pending(self) -> list[_Update]:
        # Telegram never creates updates of types the bot has not subscribed to.
        allowed = self._allowed_updates
        self._updates = [
            update
            for update in self._updates
            if (
                update.kind in allowed
                if allowed is not None
                else update.kind not in OPT_IN_UPDATES
            )
        ]
        return self._updates

    def _get_me(self, params: Params, files: Files) -> Json:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _true(self, params: Params, files: Files) -> bool:
        return True

    def _set_webhook(self, params: Params, files: Files) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")

        if params.get("drop_pending_updates"):
            self._updates.clear()
        keys = ("url", "allowed_updates", "max_connections", "secret_token", "ip_address")
        self.webhook = {key: params[key] for key in keys if key in params}
        return True

    def _delete_webhook(self, params: Params, files: Files) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: Params, files: Files) -> Json:
        webhook = self.webhook or {}
        info: Json = {
            "url": webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        info.update(
            {k: v for k, v in webhook.items() if k in ("allowed_updates", "max_connections")}
        )
        return info

    def _set_my_commands(self, params: Params, files: Files) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            if not BOT_COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("command description is empty or too long")

        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands[key] = [dict(command) for command in commands]
        return True

    def _get_my_commands(self, params: Params, files: Files) -> list[Json]:
        return self.get_commands(params.get("scope"), str(params.get("language_code") or ""))

    def _delete_my_commands(self, params: Params, files: Files) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return True

    def _set_chat_menu_button(self, params: Params, files: Files) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            chat_id = self._resolve_chat(chat_id).id
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        self.menu_buttons[chat_id] = button
        return True

    def _get_chat_menu_button(self, params: Params, files: Files) -> Json:
        chat_id = params.get("chat_id")
        return self.menu_buttons.get(chat_id, self.menu_buttons.get(None, {"type": "commands"}))

    # ---- Bot API methods: messages ---------------------------------------------------------

    def _send_message(self, params: Params, files: Files) -> Json:
        formatted = format_text(params, "text", "entities", caption=False)
        markup = check_reply_markup(params.get("reply_markup"))
        chat = self._writable_chat(params)
        reply_to = self._reply_target(chat, params)

        draft = FakeMessage(0, True, reply_markup=markup, reply_to_message_id=reply_to)
        _apply_text(draft, formatted)
        return self._message_json(self._store_from_bot(chat, draft))

    def _send_document(self, params: Params, files: Files) -> Json:
        return self._send_media(params, files, "document")

    def _send_photo(self, params: Params, files: Files) -> Json:
        return self._send_media(params, files, "photo")

    def _send_media(self, params: Params, files: Files, kind: str) -> Json:
        caption = format_text(params, "caption", "caption_entities", caption=True)
        markup = check_reply_markup(params.get("reply_markup"))
        chat = self._writable_chat(params)
        file = self._input_file(params, files, kind)
        reply_to = self._reply_target(chat, params)

        if kind == "photo":
            media: Any = self._photo_sizes(file)
        else:
            media = file.base_json() | {"file_name": file.file_name, "mime_type": file.mime_type}
        draft = FakeMessage(0, True, kind=kind, media=media, file=file, reply_markup=markup)
        draft.reply_to_message_id = reply_to
        _apply_text(draft, caption)
        return self._message_json(self._store_from_bot(chat, draft))

    def _store_from_bot(self, chat: FakeChat, draft: FakeMessage) -> FakeMessage:
        markup = draft.reply_markup or {}
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        return self._store(chat, draft)

    def _send_chat_action(self, params: Params, files: Files) -> bool:
        chat = self._writable_chat(params)
        action = params.get("action")
        if not action:
            raise bad_request("action is empty")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, str(action)))
        return True

    def _edit_message_text(self, params: Params, files: Files) -> Json:
        message = self._editable(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        formatted = format_text(params, "text", "entities", caption=False)
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)

        self._apply_edit(message, formatted, markup)
        return self._message_json(message)

    def _edit_message_caption(self, params: Params, files: Files) -> Json:
        message = self._editable(params)
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        formatted = format_text(params, "caption", "caption_entities", caption=True)
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)

        self._apply_edit(message, formatted, markup)
        return self._message_json(message)

    def _edit_message_reply_markup(self, params: Params, files: Files) -> Json:
        message = self._editable(params)
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        if markup == _inline_markup(message.reply_markup):
            raise bad_request(NOT_MODIFIED)

        message.reply_markup = markup
        self._touch(message)
        return self._message_json(message)

    def _apply_edit(self, message: FakeMessage, formatted: Formatted, markup: Json | None) -> None:
        before = (message.text or "", message.entities, _inline_markup(message.reply_markup))
        if (formatted.visible, formatted.entities, markup) == before:
            raise bad_request(NOT_MODIFIED)

        _apply_text(message, formatted)
        message.reply_markup = markup
        self._touch(message)

    def _touch(self, message: FakeMessage) -> None:
        """Record an edit so waiters see the message as new."""
        message.edited = True
        message.edit_date = int(time.time())
        message.seq = self._next_seq()
        self._notify()

    def _delete_message(self, params: Params, files: Files) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        message = chat.messages.get(params.get("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        self._notify()
        return True

    def _delete_messages(self, params: Params, files: Files) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids is empty or too long")

        # Telegram skips messages it cannot find instead of failing the call.
        for message_id in ids:
            message = chat.messages.get(message_id) if isinstance(message_id, int) else None
            if message is not None:
                message.deleted = True
        self._notify()
        return True

    def _answer_callback_query(self, params: Params, files: Files) -> bool:
        query = self._queries.get(str(params.get("callback_query_id") or ""))
        if query is None or query.answered:
            raise bad_request(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")

        query.answered = True
        self.callback_answers[query.id] = {
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        self._notify()
        return True

    def _get_file(self, params: Params, files: Files) -> Json:
        file = self._files.get(str(params.get("file_id") or ""))
        if file is None:
            raise bad_request("invalid file_id")
        if file.file_size > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return file.to_file_json()


def _apply_text(message: FakeMessage, formatted: Formatted) -> None:
    message.text = formatted.visible or None
    message.raw_text = formatted.raw or None
    message.parse_mode = formatted.parse_mode
    message.entities = formatted.entities


def _scope_key(scope: Any) -> str:
    if not scope:
        return "default"
    return json.dumps(scope, sort_keys=True)
