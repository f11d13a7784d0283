from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import DomainError
from services.sms import RecordingSms
from services.sms_outbox import MAX_ATTEMPTS, deliver_due_sms, queue_sms
from storage.models import SmsMessage, SmsState


class FlakySms(RecordingSms):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def send(self, phone: str, text: str) -> None:
        if self.failures:
            self.failures -= 1
            raise DomainError("sms_failed")
        await super().send(phone, text)


async def test_provider_failure_keeps_the_message_and_retries_with_back_off(
    db: AsyncSession,
) -> None:
    queue_sms(db, "+375291234567", "password abc", purpose="temporary_password", secret=True)
    await db.commit()
    provider = FlakySms(failures=2)
    now = datetime.now(UTC)

    first = await deliver_due_sms(db, provider, now=now)
    too_early = await deliver_due_sms(db, provider, now=now + timedelta(seconds=1))
    second = await deliver_due_sms(db, provider, now=now + timedelta(seconds=3))
    third = await deliver_due_sms(db, provider, now=now + timedelta(seconds=10))

    message = await db.scalar(select(SmsMessage))
    assert (first, too_early, second, third) == (0, 0, 0, 1)
    assert provider.sent == [("+375291234567", "password abc")]
    assert (message.state, message.attempts, message.text) == (SmsState.SENT, 3, None)


async def test_plain_sms_keeps_its_text_and_a_hopeless_one_is_marked_failed(
    db: AsyncSession,
) -> None:
    queue_sms(db, "+375331234567", "code 123456", purpose="phone_code", secret=True)
    await db.commit()
    later = datetime.now(UTC)

    for _ in range(MAX_ATTEMPTS):
        later += timedelta(hours=1)
        await deliver_due_sms(db, FlakySms(failures=1), now=later)
    queue_sms(db, "+375291234567", "your phone changed", purpose="phone_changed")
    await db.commit()
    await deliver_due_sms(db, RecordingSms(), now=later + timedelta(hours=1))

    secret, plain = list(await db.scalars(select(SmsMessage).order_by(SmsMessage.id)))
    assert (secret.state, secret.attempts, secret.text) == (SmsState.FAILED, MAX_ATTEMPTS, None)
    assert (plain.state, plain.text) == (SmsState.SENT, "your phone changed")
