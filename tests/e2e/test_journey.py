"""The main job over the real Bot API protocol: issue, sign in, apply, decide, withdraw."""

import pytest

from services import decisions
from services.errors import DomainError
from storage.models import DecisionOutcome
from tests.e2e.conftest import Citizen, RunningBot
from tests.fakes.telegram import FakeTelegram

ANNA = "3270287A012PB2"
BORIS = "3041088A042PB2"
OWN_PASSWORD = "Minsk2026spring"


async def decide(running_bot: RunningBot, number: str, outcome: DecisionOutcome, text: str):
    assert running_bot.portal is not None
    async with running_bot.portal.session_factory() as db:
        await decisions.decide(db, number, outcome, text, official="Official B")


async def test_citizen_signs_in_applies_and_is_told_of_the_decision(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA)
    anna: Citizen = citizens(1001)
    await anna.choose_english()

    await anna.first_sign_in("3270287а012-рв2", temporary, OWN_PASSWORD)
    number = await anna.apply_for_residence_certificate()
    await anna.press("🗂 My applications")
    listing = await anna.expect("Your applications")
    await decide(running_bot, number, DecisionOutcome.APPROVED, "The certificate is ready.")
    push = await anna.expect("decision has been taken")
    await anna.press("Open the application", push)
    card = await anna.expect("Decision of")

    assert f"{number} · Registered · by " in " ".join(listing.buttons)
    assert number in push.text and "certificate is ready" not in push.text
    assert "Approved" in card.text and "The certificate is ready." in card.text
    visible = anna.visible_text()
    assert temporary not in visible and OWN_PASSWORD not in visible
    deleted = [m for m in fake.transcript(anna.chat_id) if m.deleted]
    assert [m.text for m in deleted] == [temporary, OWN_PASSWORD, OWN_PASSWORD]
    assert fake.errors == []


async def test_citizen_withdraws_an_application_before_the_decision(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(BORIS, "+375331234567")
    boris: Citizen = citizens(1002)
    await boris.choose_english()
    await boris.first_sign_in(BORIS, temporary, OWN_PASSWORD)
    number = await boris.apply_for_residence_certificate()

    await boris.press("🗂 My applications")
    mine = await boris.expect("Your applications")
    await boris.press(
        next(t for t in mine.buttons if t.startswith(f"{number} · Registered")), mine
    )
    await boris.expect(f"Application No. {number}")
    await boris.press("Withdraw the application")
    await boris.expect("Please confirm")
    await boris.press("Yes, withdraw")
    done = await boris.expect("is withdrawn")
    await boris.press("🗂 My applications", done)
    listing = await boris.expect("Your applications")

    assert f"{number} · Withdrawn" in listing.buttons
    with pytest.raises(DomainError, match="application_already_withdrawn"):
        await decide(running_bot, number, DecisionOutcome.APPROVED, "Too late.")
    assert fake.errors == []
