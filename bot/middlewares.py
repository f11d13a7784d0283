"""Middlewares: one chat at a time, a database session, the person and their session."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import people, staff
from services.access import AccessPolicy, current_session
from services.errors import DomainError

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PrivateChatsOnlyMiddleware(BaseMiddleware):
    """Messages and buttons from groups and channels never reach the handlers."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat: Chat | None = data.get("event_chat")
        joined = isinstance(event, Update) and event.my_chat_member is not None
        if chat is not None and chat.type != "private" and not joined:
            return None
        return await handler(event, data)


class DatabaseMiddleware(BaseMiddleware):
    """One database session per update, closed when the update is handled."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._session_factory() as db:
            data["db"] = db
            return await handler(event, data)


class PersonMiddleware(BaseMiddleware):
    """Remembers each Telegram user, their language, staff role and open session, if any."""

    def __init__(self, policy: AccessPolicy, *, admin_ids: frozenset[int]) -> None:
        self._policy = policy
        self._admin_ids = admin_ids

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        db: AsyncSession = data["db"]
        data["citizen_session"] = None
        data["session_expired"] = False
        data["staff_member"] = None
        if user is None or user.is_bot or (chat is not None and chat.type != "private"):
            return await handler(event, data)

        data["chosen_locale"] = await people.chosen_locale(db, user.id)
        # The role is read afresh on every update, so a revoked role stops at once; a staff
        # account never carries a citizen session.
        member = await staff.staff_member(db, user.id, admin_ids=self._admin_ids)
        if member is not None:
            data["staff_member"] = member
            return await handler(event, data)

        try:
            data["citizen_session"] = await current_session(db, user.id, policy=self._policy)
        except DomainError:
            data["session_expired"] = True
        return await handler(event, data)
