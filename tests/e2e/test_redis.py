"""With REDIS_URL set, conversation state lives in Redis and survives a restart there."""

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.e2e.conftest import Citizen, RunningBot
from tests.fakes.telegram import FakeTelegram

# Database 15 of the local Redis is this suite's own; the test empties it first.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def redis_bot(running_bot: RunningBot) -> AsyncIterator[RunningBot]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    await client.flushdb()
    running_bot.settings = running_bot.settings.model_copy(update={"redis_url": REDIS_URL})
    await running_bot.restart()
    yield running_bot
    await client.flushdb()
    await client.aclose()


async def test_a_form_in_progress_survives_a_restart_with_state_in_redis(
    fake: FakeTelegram, redis_bot: RunningBot, citizens
) -> None:
    temporary = await redis_bot.issue("3270287A012PB2", "+375291234567")
    anna: Citizen = citizens(8001)
    await anna.choose_english()
    await anna.first_sign_in("3270287A012PB2", temporary, "Minsk2026spring")
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")

    await redis_bot.restart()
    await anna.say("For the bank")
    second = await anna.expect("Step 2 of 3")

    client = Redis.from_url(REDIS_URL)
    keys = await client.keys("eportal:*")
    await client.aclose()
    assert second is not None
    assert any(b"8001" in key for key in keys)
    assert fake.errors == []
