"""When a handler fails: the operator gets the log line, the person a plain apology."""

import logging
from contextlib import suppress

from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    log.error(
        "update failed",
        exc_info=event.exception,
        extra={"update_id": update.update_id, "error": type(event.exception).__name__},
    )
    text = _("Something went wrong on our side. Please try again a little later.")
    with suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    return True
