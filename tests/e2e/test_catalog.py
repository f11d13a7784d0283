"""Finding a procedure: by category, by words in any language, by item number."""

from tests.e2e.conftest import RunningBot, signed_in_citizen
from tests.fakes.telegram import FakeTelegram

ANNA = "3270287A012PB2"


async def test_a_category_lists_only_its_procedures_and_leads_back_to_itself(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 6001)
    await anna.press("📝 Apply")
    front = await anna.expect("Choose a category")
    registration = next(t for t in front.buttons if t.startswith("Residence registration"))

    await anna.press(registration, front)
    listing = await anna.expect("Choose a procedure")
    await anna.press(next(t for t in listing.buttons if t.startswith("13.2 · ")), listing)
    await anna.expect_button("Back to the list")
    await anna.press("Back to the list")
    again = await anna.expect("Choose a procedure")

    codes = [text.split(" · ")[0] for text in listing.buttons if " · " in text]
    assert registration.endswith(f"({len(codes)})")
    assert codes == ["13.1", "13.2"]
    assert again.buttons == listing.buttons
    assert fake.errors == []


async def test_search_by_words_in_russian_and_english_and_by_item_number(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 6002)
    await anna.press("📝 Apply")
    await anna.expect("Choose a category")

    await anna.say("справку о месте жительства")
    russian = await anna.expect("Found")
    await anna.say("residence certificate")
    english = await anna.expect("Found")
    await anna.say("13")
    by_number = await anna.expect("Found")
    await anna.say("<b>nothing & such</b>")
    nothing = await anna.expect("Nothing found")

    assert "1.3.4 · Residence certificate" in russian.buttons
    assert "1.3.4 · Residence certificate" in english.buttons
    assert [t.split(" · ")[0] for t in by_number.buttons if " · " in t] == ["13.1", "13.2"]
    assert nothing is not None
    assert fake.errors == []
