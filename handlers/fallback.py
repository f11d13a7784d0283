"""The last word: messages nothing else took and buttons that no longer mean anything."""

from typing import Any

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common import menu_keyboard_for


async def not_understood(message: Message, **data: Any) -> None:
    await message.answer(
        _("I did not understand that. Please choose an action from the menu."),
        reply_markup=menu_keyboard_for(data),
    )


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is out of date. Please use the latest message."), show_alert=True
    )


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(not_understood)
    router.callback_query.register(stale_button)
    return router
