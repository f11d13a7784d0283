"""The guard in front of everything that needs a signed-in citizen."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject
from aiogram.utils.i18n import gettext as _

from handlers.common import main_menu, tell

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RequireSessionMiddleware(BaseMiddleware):
    """Handlers behind it serve signed-in citizens only; others are asked to sign in."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if data.get("citizen_session") is not None:
            return await handler(event, data)

        if data.get("session_expired"):
            text = _("Your session has ended. Please sign in again.")
        else:
            text = _("Please sign in first.")
        state: FSMContext | None = data.get("state")
        if state is not None and await state.get_state() is not None:
            # Leave the form's step; the draft itself stays in the state's data.
            await state.set_state(None)

        await tell(event, text, reply_markup=main_menu(signed_in=False))
        return None
