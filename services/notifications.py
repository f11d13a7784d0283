"""Notifications: stored first, then delivered by a job with retries (DESIGN §5)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Identifier,
    IdentifierStatus,
    Notification,
    NotificationState,
    TelegramUser,
)

MAX_BACKOFF = timedelta(minutes=30)
MAX_ATTEMPTS = 20
# A blocked identifier gets no pushes, except the news of the block itself.
DELIVERED_WHEN_BLOCKED = ("identifier_blocked",)


def notify(db: AsyncSession, identifier_id: int, kind: str, **params: Any) -> Notification:
    """Add a notification to the caller's transaction."""
    notification = Notification(identifier_id=identifier_id, kind=kind, params=params)
    db.add(notification)
    return notification


async def due_notifications(
    db: AsyncSession, *, limit: int, now: datetime | None = None
) -> list[Notification]:
    """Pending notifications whose time has come, oldest first."""
    now = now or datetime.now(UTC)
    rows = await db.scalars(
        select(Notification)
        .join(Identifier, Identifier.id == Notification.identifier_id)
        .where(
            Notification.state == NotificationState.PENDING,
            Notification.next_attempt_at <= now,
            or_(
                Identifier.status == IdentifierStatus.ACTIVE,
                Notification.kind.in_(DELIVERED_WHEN_BLOCKED),
            ),
            Identifier.push_chat_id.is_not(None),
        )
        .options(selectinload(Notification.identifier))
        .order_by(Notification.id)
        .limit(limit)
    )
    return list(rows)


async def chat_locale(db: AsyncSession, chat_id: int) -> str | None:
    """The language the person in a private chat chose (chat id equals user id there)."""
    return await db.scalar(select(TelegramUser.locale).where(TelegramUser.id == chat_id))


def mark_sent(notification: Notification, *, now: datetime | None = None) -> None:
    notification.state = NotificationState.SENT
    notification.sent_at = now or datetime.now(UTC)
    notification.attempts += 1
    notification.last_error = None


def mark_retry(
    notification: Notification,
    error: str,
    *,
    after: timedelta | None = None,
    now: datetime | None = None,
) -> None:
    """Try again later: after `after` if Telegram said so, else with exponential back-off."""
    now = now or datetime.now(UTC)
    notification.attempts += 1
    notification.last_error = error[:200]
    if notification.attempts >= MAX_ATTEMPTS:
        notification.state = NotificationState.UNDELIVERABLE
        return
    backoff = min(timedelta(seconds=2**notification.attempts), MAX_BACKOFF)
    notification.next_attempt_at = now + (after if after is not None else backoff)


def mark_undeliverable(notification: Notification, error: str) -> None:
    """The chat is gone or blocked the bot; the notification stays readable in the cabinet."""
    notification.state = NotificationState.UNDELIVERABLE
    notification.attempts += 1
    notification.last_error = error[:200]
