"""The SMS outbox: every SMS is stored first and sent by a job, with retries and back-off."""

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import DomainError
from services.sms import SmsGateway
from storage.models import SmsMessage, SmsState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(minutes=30)


def queue_sms(
    db: AsyncSession, phone: str, text: str, *, purpose: str, secret: bool = False
) -> SmsMessage:
    """Add an SMS to the caller's transaction: it exists exactly when the change it reports."""
    message = SmsMessage(phone=phone, text=text, purpose=purpose, carries_secret=secret)
    db.add(message)
    return message


async def deliver_due_sms(
    db: AsyncSession, gateway: SmsGateway, *, limit: int = 50, now: datetime | None = None
) -> int:
    """Hand due SMS to the provider; returns how many it accepted."""
    now = now or datetime.now(UTC)
    due = await db.scalars(
        select(SmsMessage)
        .where(SmsMessage.state == SmsState.PENDING, SmsMessage.next_attempt_at <= now)
        .order_by(SmsMessage.id)
        .limit(limit)
    )
    accepted = 0
    for message in list(due):
        accepted += await _deliver(db, gateway, message, now=now)
        await db.commit()
    return accepted


async def _deliver(
    db: AsyncSession, gateway: SmsGateway, message: SmsMessage, *, now: datetime
) -> bool:
    message.attempts += 1
    try:
        await gateway.send(message.phone, message.text or "")
    except DomainError as error:
        _retry_later(message, error.code, now=now)
        return False

    message.state = SmsState.SENT
    message.sent_at = now
    message.last_error = None
    if message.carries_secret:
        # The provider has it now; a password or code must not linger in our database.
        message.text = None
    log.info("sms sent", extra={"sms_id": message.id, "purpose": message.purpose})
    return True


def _retry_later(message: SmsMessage, error: str, *, now: datetime) -> None:
    message.last_error = error
    if message.attempts >= MAX_ATTEMPTS:
        message.state = SmsState.FAILED
        if message.carries_secret:
            message.text = None
        log.error(
            "sms given up: the citizen needs a new one from the one window",
            extra={"sms_id": message.id, "purpose": message.purpose},
        )
        return
    message.next_attempt_at = now + min(timedelta(seconds=2**message.attempts), MAX_BACKOFF)
    log.warning(
        "sms not sent, will retry", extra={"sms_id": message.id, "attempt": message.attempts}
    )
