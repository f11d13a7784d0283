"""Pushing notifications over the Bot API: delivered, paused on 429, retried, given up on 403."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.app import Portal, build_portal
from bot.settings import Settings
from services import notifications
from services.sms import RecordingSms
from storage.models import Identifier, Notification, NotificationState, TelegramUser
from tests.fakes.telegram import FakeTelegram
from tests.helpers import issue_citizen

CHAT = 3001


@pytest.fixture
async def portal(fake: FakeTelegram, settings: Settings, engine: object) -> AsyncIterator[Portal]:
    """The bot's parts without polling: the job is run by the test, step by step."""
    settings.telegram_api_url = fake.url
    portal = await build_portal(settings, sms=RecordingSms())
    fake.user(CHAT, language_code="be")
    async with portal.session_factory() as db:
        await issue_citizen(db, portal.translator)
        await db.execute(update(Identifier).values(push_chat_id=CHAT))
        db.add(TelegramUser(id=CHAT, locale="en"))
        identifier_id = await db.scalar(select(Identifier.id))
        notifications.notify(
            db, identifier_id, "decision", registration_number="EP-2026-000007", application_id=7
        )
        await db.commit()
    yield portal
    await portal.close()


async def stored(portal: Portal) -> Notification:
    async with portal.session_factory() as db:
        return await db.scalar(select(Notification))


async def make_due(portal: Portal) -> None:
    async with portal.session_factory() as db:
        await db.execute(update(Notification).values(next_attempt_at=datetime.now(UTC)))
        await db.commit()


async def test_notification_is_pushed_once_in_the_chosen_language(
    fake: FakeTelegram, portal: Portal
) -> None:
    assert await portal.notifier.deliver_due() == 1
    assert await portal.notifier.deliver_due() == 0

    pushed = fake.bot_messages(CHAT)
    assert len(pushed) == 1
    assert "application No. EP-2026-000007" in pushed[0].text
    assert pushed[0].buttons == ["Open the application"]
    assert (await stored(portal)).state == NotificationState.SENT


async def test_too_many_requests_pauses_until_retry_after(
    fake: FakeTelegram, portal: Portal
) -> None:
    fake.fail_next("sendMessage", error_code=429, retry_after=30)

    assert await portal.notifier.deliver_due() == 0

    notification = await stored(portal)
    wait = notification.next_attempt_at - datetime.now(UTC)
    assert notification.state == NotificationState.PENDING
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    assert fake.bot_messages(CHAT) == []


async def test_server_error_is_retried_with_back_off(fake: FakeTelegram, portal: Portal) -> None:
    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway")

    first = await portal.notifier.deliver_due()
    await make_due(portal)
    second = await portal.notifier.deliver_due()

    assert (first, second) == (0, 1)
    assert (await stored(portal)).attempts == 2
    assert len(fake.bot_messages(CHAT)) == 1


async def test_chat_that_blocked_the_bot_is_not_retried(
    fake: FakeTelegram, portal: Portal
) -> None:
    fake.block_bot(CHAT)

    await portal.notifier.deliver_due()
    await make_due(portal)
    await portal.notifier.deliver_due()

    notification = await stored(portal)
    assert notification.state == NotificationState.UNDELIVERABLE
    assert "blocked" in notification.last_error
    assert len([e for e in fake.errors if e.code == 403]) == 1


async def test_the_running_bot_sends_queued_sms_by_itself(
    fake: FakeTelegram, running_bot, engine: object
) -> None:
    from services.sms_outbox import queue_sms

    async with running_bot.portal.session_factory() as db:
        queue_sms(db, "+375291234567", "hello from the outbox", purpose="test")
        await db.commit()

    delivered = await fake.wait_until(
        lambda: ("+375291234567", "hello from the outbox") in running_bot.sms.sent,
        what="the outbox job to send the SMS",
    )

    assert delivered
