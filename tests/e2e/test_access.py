"""Signing in with two factors, lockout, sessions, the cabinet and the self-block."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services import one_window
from storage.models import Session
from tests.e2e.conftest import Citizen, RunningBot
from tests.fakes.telegram import FakeTelegram
from tests.helpers import applicant, clerk, code_from, temporary_password_from

ANNA = "3270287A012PB2"
PHONE = "+375291234567"
OWN_PASSWORD = "Minsk2026spring"


@pytest.fixture
async def otp_bot(running_bot: RunningBot) -> RunningBot:
    """The bot with the SMS code step switched on, as in production."""
    running_bot.settings = running_bot.settings.model_copy(update={"otp_enabled": True})
    await running_bot.restart()
    return running_bot


async def next_sms(fake: FakeTelegram, bot: RunningBot, phone: str, *, after: int) -> str:
    """The first SMS to the phone among those the outbox job sent after the `after`-th."""

    def found() -> str | None:
        texts = [text for to, text in bot.sms.sent[after:] if to == phone]
        return texts[0] if texts else None

    return await fake.wait_until(found, what=f"an SMS to {phone}")


async def sign_in_with_code(citizen: Citizen, fake, bot: RunningBot, password: str) -> str:
    """Identifier, password, then the SMS code typed with spaces; returns the code."""
    before = len(bot.sms.sent)
    await citizen.sign_in(ANNA, password)
    await citizen.expect("one-time code")
    code = code_from(await next_sms(fake, bot, PHONE, after=before))
    await citizen.say(f"{code[:3]} {code[3:]}")
    return code


async def test_first_sign_in_takes_password_code_and_a_new_password(
    fake: FakeTelegram, otp_bot: RunningBot, citizens
) -> None:
    temporary = await otp_bot.issue(ANNA, PHONE)
    anna: Citizen = citizens(5001)
    await anna.choose_english()

    code = await sign_in_with_code(anna, fake, otp_bot, temporary)
    await anna.expect("Your password is temporary")
    await anna.say(OWN_PASSWORD)
    await anna.expect("once more")
    await anna.say(OWN_PASSWORD)
    await anna.expect("You are signed in")

    visible = anna.visible_text()
    assert temporary not in visible and OWN_PASSWORD not in visible
    assert code not in visible and f"{code[:3]} {code[3:]}" not in visible
    assert fake.errors == []


async def test_normal_sign_in_with_a_wrong_then_right_code(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA, PHONE)
    anna: Citizen = citizens(5002)
    await anna.choose_english()
    await anna.first_sign_in(ANNA, temporary, OWN_PASSWORD)
    await anna.say("/logout")
    await anna.expect("signed out")
    running_bot.settings = running_bot.settings.model_copy(update={"otp_enabled": True})
    await running_bot.restart()
    before = len(running_bot.sms.sent)
    await anna.sign_in(ANNA, OWN_PASSWORD)
    await anna.expect("one-time code")

    await anna.say("000000")
    wrong = await anna.expect("Wrong code")
    code = code_from(await next_sms(fake, running_bot, PHONE, after=before))
    await anna.say(code)
    signed_in = await anna.expect("You are signed in")

    assert "Attempts left: 2" in wrong.text
    assert "🗂 My applications" in signed_in.buttons
    assert fake.errors == []


async def test_idle_session_ends_and_the_button_asks_to_sign_in(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA, PHONE)
    anna: Citizen = citizens(5003)
    await anna.choose_english()
    await anna.first_sign_in(ANNA, temporary, OWN_PASSWORD)
    menu = fake.last_bot_message(anna.chat_id)
    idle = datetime.now(UTC) - running_bot.settings.session_idle_timeout - timedelta(minutes=1)
    async with running_bot.portal.session_factory() as db:
        await db.execute(update(Session).values(last_seen_at=idle))
        await db.commit()

    await anna.press("🗂 My applications", menu)
    ended = await anna.expect("session has ended")

    assert "🔑 Sign in" in ended.buttons
    assert fake.errors == []


async def test_signing_in_from_a_second_chat_tells_the_first(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA, PHONE)
    first: Citizen = citizens(5004)
    second: Citizen = citizens(5005)
    await first.choose_english()
    await first.first_sign_in(ANNA, temporary, OWN_PASSWORD)
    menu = fake.last_bot_message(first.chat_id)
    await second.choose_english()

    await second.sign_in(ANNA, OWN_PASSWORD)
    await second.expect("You are signed in")
    told = await first.expect("in another chat")
    await first.press("🗂 My applications", menu)
    asked = await first.expect("sign in")

    assert "session has ended" in told.text
    assert "🔑 Sign in" in asked.buttons
    assert fake.errors == []


async def test_self_block_ends_access_until_the_one_window_unblocks(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA, PHONE)
    anna: Citizen = citizens(5006)
    await anna.choose_english()
    await anna.first_sign_in(ANNA, temporary, OWN_PASSWORD)

    await anna.press("👤 Cabinet")
    profile = await anna.expect("Personal cabinet")
    await anna.press("⛔ Block my identifier")
    await anna.expect("Block it?")
    await anna.press("Yes, block it")
    await anna.expect("send your password")
    await anna.say(OWN_PASSWORD)
    blocked = await anna.expect("is blocked")
    await anna.sign_in(ANNA, OWN_PASSWORD)
    refused = await anna.expect("blocked")
    before = len(running_bot.sms.sent)
    async with running_bot.portal.session_factory() as db:
        await one_window.unblock_identifier(db, applicant(), clerk(running_bot.portal.translator))
    new_temporary = temporary_password_from(await next_sms(fake, running_bot, PHONE, after=before))
    await anna.sign_in(ANNA, new_temporary)
    again = await anna.expect("Your password is temporary")

    assert "32**********B2" in profile.text and "+375 29 ***-**-67" in profile.text
    assert "one-window" in blocked.text
    assert "one-window" in refused.text
    assert again is not None
    assert OWN_PASSWORD not in anna.visible_text() and new_temporary not in anna.visible_text()
    assert fake.errors == []


async def test_password_change_in_the_cabinet_asks_for_the_current_one(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA, PHONE)
    anna: Citizen = citizens(5007)
    await anna.choose_english()
    await anna.first_sign_in(ANNA, temporary, OWN_PASSWORD)
    await anna.press("👤 Cabinet")
    await anna.expect("Personal cabinet")

    await anna.press("🔑 Change password")
    await anna.expect("current password")
    await anna.say("not-my-password-1")
    wrong = await anna.expect("Wrong password")
    await anna.press("🔑 Change password")
    await anna.expect("current password")
    await anna.say(OWN_PASSWORD)
    await anna.expect("new password")
    await anna.say("Brest2027autumn")
    await anna.expect("once more")
    await anna.say("Brest2027autumn")
    await anna.expect("You are signed in")
    await anna.say("/logout")
    await anna.expect("signed out")
    await anna.sign_in(ANNA, "Brest2027autumn")
    back = await anna.expect("You are signed in")

    assert wrong.text == "Wrong password."
    assert back is not None
    assert "Brest2027autumn" not in anna.visible_text()
    assert fake.errors == []


async def test_cabinet_lists_notifications(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA, PHONE)
    anna: Citizen = citizens(5008)
    await anna.choose_english()
    await anna.first_sign_in(ANNA, temporary, OWN_PASSWORD)
    number = await anna.apply_for_residence_certificate()
    from services import decisions
    from storage.models import DecisionOutcome

    async with running_bot.portal.session_factory() as db:
        await decisions.decide(db, number, DecisionOutcome.APPROVED, "Ready.", official="B")
    await anna.expect("decision has been taken")
    await anna.press("👤 Cabinet")
    await anna.expect("Personal cabinet")

    await anna.press("🔔 Notifications")
    listing = await anna.expect("Notifications, newest first")

    assert number in listing.text
    assert fake.errors == []


async def test_no_password_code_or_personal_number_reaches_the_log(
    fake: FakeTelegram, otp_bot: RunningBot, citizens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    temporary = await otp_bot.issue(ANNA, PHONE)
    anna: Citizen = citizens(5009)
    await anna.choose_english()
    code = await sign_in_with_code(anna, fake, otp_bot, temporary)
    await anna.expect("Your password is temporary")
    await anna.say(OWN_PASSWORD)
    await anna.expect("once more")
    await anna.say(OWN_PASSWORD)
    await anna.expect("You are signed in")

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert caplog.records
    for secret in (temporary, code, OWN_PASSWORD, ANNA):
        assert secret not in logged
