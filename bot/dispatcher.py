"""A dispatcher that handles the updates of one chat one after another, in order."""

import asyncio
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Update


class SerialChatDispatcher(Dispatcher):
    """Polling hands updates over as concurrent tasks; within one chat they must not race.

    Three quick messages in one form step have to advance the form three times in order,
    and the conversation state must be read only after the previous update has written it;
    aiogram reads that state in a middleware of its own, so the lock is taken before any.
    Different chats still run concurrently.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._chat_waiting: dict[int, int] = {}

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        context = UserContextMiddleware.resolve_event_context(update)
        key = context.chat.id if context.chat else (context.user.id if context.user else None)
        if key is None:
            return await super().feed_update(bot, update, **kwargs)

        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        self._chat_waiting[key] = self._chat_waiting.get(key, 0) + 1
        try:
            async with lock:
                return await super().feed_update(bot, update, **kwargs)
        finally:
            self._chat_waiting[key] -= 1
            if not self._chat_waiting[key]:
                del self._chat_waiting[key], self._chat_locks[key]
