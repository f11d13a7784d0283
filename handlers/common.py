"""What every feature's handlers share: menus, error texts and safe long messages."""

import html
from datetime import datetime
from typing import Any

from aiogram import F
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import MenuAction
from services.errors import DomainError
from services.messages import ERROR_TEXTS

MESSAGE_LIMIT = 4096

# A command is never an answer to a question: "/logout" at the password step signs out.
IS_COMMAND = F.text.startswith("/")
NOT_COMMAND = F.text & ~IS_COMMAND


def error_text(error: DomainError, *, when: Any = None) -> str:
    """The citizen's words for a refused action; parameters are ours, never user input."""
    template = ERROR_TEXTS.get(error.code)
    if template is None:
        return _("Something went wrong. Please try again.")
    params = {
        key: when(value) if when and isinstance(value, datetime) else value
        for key, value in error.params.items()
    }
    return _(template).format(**params)


def escape(text: object) -> str:
    return html.escape(str(text), quote=False)


def main_menu(*, signed_in: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if signed_in:
        builder.button(text=_("📝 Apply"), callback_data=MenuAction(action="apply"))
        builder.button(
            text=_("🗂 My applications"), callback_data=MenuAction(action="applications")
        )
        builder.button(text=_("👤 Cabinet"), callback_data=MenuAction(action="cabinet"))
        builder.button(text=_("🚪 Sign out"), callback_data=MenuAction(action="sign_out"))
    else:
        builder.button(text=_("🔑 Sign in"), callback_data=MenuAction(action="sign_in"))
    builder.button(text=_("❓ Help"), callback_data=MenuAction(action="help"))
    builder.button(text=_("🌐 Language"), callback_data=MenuAction(action="language"))
    builder.adjust(2)
    return builder.as_markup()


def menu_keyboard_for(data: dict[str, Any]) -> InlineKeyboardMarkup:
    return main_menu(signed_in=data.get("citizen_session") is not None)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji counts as two."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut HTML text into messages under the limit, at line ends where possible.

    A line that alone is too long is cut outside tags and character references, so each
    piece still parses; our long lines are escaped user text without tags. Lengths are
    counted on the HTML, which is never shorter than the text Telegram counts.
    """
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while telegram_length(line) > limit:
            cut = _safe_cut(line, limit)
            pieces, current = _flush(pieces, current), ""
            pieces.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if telegram_length(candidate) > limit:
            pieces, current = _flush(pieces, current), line
        else:
            current = candidate
    return [piece for piece in _flush(pieces, current) if piece.strip()]


def _flush(pieces: list[str], current: str) -> list[str]:
    return [*pieces, current] if current else pieces


def _safe_cut(line: str, limit: int) -> int:
    cut = min(limit, len(line))
    while telegram_length(line[:cut]) > limit:
        cut -= 1
    start = cut
    while cut > 0:
        before = line[:cut]
        inside_tag = before.rfind("<") > before.rfind(">")
        inside_reference = before.rfind("&") > before.rfind(";")
        if not inside_tag and not inside_reference:
            return cut
        cut -= 1
    return start


async def answer_long(message: Message, text: str, **options: Any) -> Message:
    """Send text that may exceed one message; the keyboard goes with the last piece."""
    markup = options.pop("reply_markup", None)
    pieces = split_html(text)
    for piece in pieces[:-1]:
        await message.answer(piece, **options)
    return await message.answer(pieces[-1], reply_markup=markup, **options)


async def tell(event: TelegramObject, text: str, **options: Any) -> None:
    """Answer a message, or a button press with a new message and the press acknowledged."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await answer_long(event.message, text, **options)
    elif isinstance(event, Message):
        await answer_long(event, text, **options)
