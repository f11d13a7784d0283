"""`eportal run` as a separate process serves the journey against any Bot API server."""

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from bot.settings import PROJECT_ROOT
from tests.conftest import TOKEN
from tests.e2e.conftest import Citizen
from tests.fakes.telegram import FakeTelegram
from tests.helpers import code_from, temporary_password_from

OWN_PASSWORD = "Minsk2026spring"


@pytest.fixture
def process_env(fake: FakeTelegram, database_url: str, engine: object) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMS_")}
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=fake.url,
        DATABASE_URL=database_url,
        DEFAULT_LOCALE="en",
        SMS_PROVIDER="console",
        OTP_ENABLED="false",
    )
    return env


async def eportal(env: dict[str, str], *arguments: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *arguments,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.fixture
async def bot_process(process_env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=PROJECT_ROOT,
        env=process_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    yield process
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=20)


async def test_bot_process_serves_sign_in_application_and_decision(
    fake: FakeTelegram, process_env: dict[str, str], bot_process, citizens
) -> None:
    sent = await eportal(
        process_env, "one-window", "send-code", "--phone", "80291234567", "--clerk", "Clerk A"
    )
    confirmation = re.search(r"confirmation (\d+):", sent).group(1)
    issued = await eportal(
        process_env,
        "one-window",
        "issue",
        "--personal-number",
        "3270287A012PB2",
        "--full-name",
        "Ivanov Ivan",
        "--birth-date",
        "1987-02-27",
        "--sex",
        "M",
        "--document-number",
        "MP1234567",
        "--document-issued",
        "2020-01-10",
        "--document-expires",
        "2030-01-10",
        "--issuing-body",
        "Minsk police",
        "--phone",
        "80291234567",
        "--clerk",
        "Clerk A",
        "--attested",
        "--confirmation",
        confirmation,
        "--code",
        code_from(sent),
    )
    temporary = temporary_password_from(issued.split("[console SMS to +375291234567]")[1])
    anna: Citizen = citizens(2001)

    await anna.choose_english()
    await anna.first_sign_in("3270287A012PB2", temporary, OWN_PASSWORD)
    number = await anna.apply_for_residence_certificate()
    await eportal(process_env, "decide", number, "refused", "--text", "Wrong address.")
    push = await anna.expect("decision has been taken", timeout=20)

    assert number in push.text
    assert fake.errors == []
    bot_process.send_signal(signal.SIGINT)
    output, _ = await asyncio.wait_for(bot_process.communicate(), timeout=20)
    log = output.decode()
    assert bot_process.returncode == 0, log
    assert "bot starting" in log and "application submitted" in log
    assert temporary not in log and OWN_PASSWORD not in log and "3270287A012PB2" not in log
