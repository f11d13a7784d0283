"""The job that pushes stored notifications to citizens' chats (DESIGN §5)."""

import asyncio
import logging
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.callbacks import ApplicationAction
from handlers.render import notification_text
from services import notifications
from storage.models import Notification

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        i18n: I18n,
        *,
        send_rate: int,
    ) -> None:
        self._bot = bot
        self._session_factory = session_factory
        self._i18n = i18n
        self._interval = 1 / send_rate
        self._send_rate = send_rate
        self._running = asyncio.Lock()

    async def deliver_due(self) -> int:
        """Send what is due now, at most one second's worth of the rate; returns how many."""
        if self._running.locked():
            return 0
        async with self._running, self._session_factory() as db:
            due = await notifications.due_notifications(db, limit=self._send_rate)
            sent = 0
            for notification in due:
                outcome = await self._deliver(db, notification)
                await db.commit()
                if outcome == "paused":
                    break
                sent += outcome == "sent"
                await asyncio.sleep(self._interval)
            return sent

    async def wait_idle(self) -> None:
        """Wait for a delivery round in progress to finish, so shutting down loses nothing."""
        async with self._running:
            pass

    async def _deliver(self, db: AsyncSession, notification: Notification) -> str:
        # Most go to the chat of the latest session; some name an earlier chat themselves.
        chat_id = notification.params.get("chat_id") or notification.identifier.push_chat_id
        assert chat_id is not None  # due_notifications selects only chats we can reach
        locale = await notifications.chat_locale(db, chat_id) or self._i18n.default_locale
        text, markup = self._render(notification, locale)
        try:
            await self._bot.send_message(chat_id, text, reply_markup=markup)
        except TelegramRetryAfter as error:
            notifications.mark_retry(
                notification, "retry after", after=timedelta(seconds=error.retry_after)
            )
            log.warning("push paused by telegram", extra={"retry_after": error.retry_after})
            return "paused"
        except (TelegramForbiddenError, TelegramBadRequest) as error:
            notifications.mark_undeliverable(notification, error.message)
            log.info("push undeliverable", extra={"notification_id": notification.id})
            return "undeliverable"
        except (TelegramNetworkError, TelegramServerError) as error:
            notifications.mark_retry(notification, type(error).__name__)
            log.warning("push failed, will retry", extra={"notification_id": notification.id})
            return "retry"
        notifications.mark_sent(notification)
        log.info("push sent", extra={"notification_id": notification.id})
        return "sent"

    def _render(
        self, notification: Notification, locale: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        with self._i18n.context(), self._i18n.use_locale(locale):
            text = notification_text(notification.kind, notification.params)
            application_id = notification.params.get("application_id")
            if application_id is None:
                return text, None
            builder = InlineKeyboardBuilder()
            builder.button(
                text=_("Open the application"),
                callback_data=ApplicationAction(action="open", application_id=application_id),
            )
            return text, builder.as_markup()
