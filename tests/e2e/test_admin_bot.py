"""Admins grant and take away staff roles in the bot; nobody else can."""

import pytest
from sqlalchemy import select

from storage.models import StaffMember, StaffRole
from tests.e2e.conftest import Citizen, RunningBot
from tests.fakes.telegram import FakeTelegram

ADMIN = 4001


@pytest.fixture
async def admin_bot(running_bot: RunningBot) -> RunningBot:
    """The bot restarted with ADMIN_IDS naming the admin."""
    running_bot.settings = running_bot.settings.model_copy(update={"admin_ids": [ADMIN]})
    await running_bot.restart()
    return running_bot


async def test_admin_grants_lists_and_takes_away_a_role(
    fake: FakeTelegram, admin_bot: RunningBot, citizens
) -> None:
    admin: Citizen = citizens(ADMIN)

    await admin.say("/staff_add 4002 operator Petrova <Anna>")
    granted = await admin.expect("now has the role")
    await admin.say("/staff_list")
    listed = await admin.expect("Staff")
    await admin.say("/staff_remove 4002")
    removed = await admin.expect("taken away")
    await admin.say("/staff_add 12 janitor Somebody")
    usage = await admin.expect("Usage")

    assert "Petrova <Anna> (4002) now has the role operator." in granted.text
    assert "4002 · operator · Petrova <Anna>" in listed.text
    assert "4002" in removed.text
    assert "operator, official or admin" in usage.text
    async with admin_bot.portal.session_factory() as db:
        member = await db.scalar(select(StaffMember).where(StaffMember.telegram_user_id == 4002))
    assert member.active is False and member.role == StaffRole.OPERATOR
    assert fake.errors == []


async def test_a_citizen_cannot_use_admin_commands(
    fake: FakeTelegram, admin_bot: RunningBot, citizens
) -> None:
    citizen: Citizen = citizens(4003)

    await citizen.say("/staff_add 4003 admin Me Myself")
    answer = await citizen.expect("did not understand")

    assert answer.text.startswith("I did not understand")
    async with admin_bot.portal.session_factory() as db:
        assert await db.scalar(select(StaffMember)) is None
    assert fake.errors == []


async def test_a_staff_account_cannot_sign_in_as_a_citizen_or_change_its_own_role(
    fake: FakeTelegram, admin_bot: RunningBot, citizens
) -> None:
    await admin_bot.issue("3270287A012PB2", "+375291234567")
    admin: Citizen = citizens(ADMIN)

    await admin.say("/login")
    refused = await admin.expect("staff account")
    await admin.say(f"/staff_add {ADMIN} operator Myself")
    own = await admin.expect("own role")

    assert "cannot sign in as a citizen" in refused.text
    assert own.text == "You cannot change your own role."
    assert fake.errors == []
