"""Wrong input in the chat gets a clear answer, the flow goes on, and Telegram never errs."""

from sqlalchemy import func, select

from storage.models import Application, ApplicationStatus
from tests.e2e.conftest import Citizen, RunningBot, signed_in_citizen
from tests.fakes.telegram import FakeTelegram

ANNA = "3270287A012PB2"
BORIS = "3041088A042PB2"


async def test_wrong_identifier_and_password_are_explained_and_sign_in_goes_on(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA)
    anna: Citizen = citizens(1101)
    await anna.choose_english()
    await anna.press("🔑 Sign in")
    await anna.expect("unique identifier")

    await anna.say("3270287A012PB3")
    typo = await anna.expect("typo")
    await anna.say("hello")
    malformed = await anna.expect("does not look like")
    fake.send_sticker(anna.user)
    sticker = await anna.expect("as text")
    await anna.say(ANNA)
    await anna.expect("password")
    await anna.say("Wrong-password-1")
    wrong = await anna.expect("Wrong identifier or password")
    await anna.say(ANNA)
    await anna.expect("password")
    anna.mark()
    fake.send_photo(anna.user, caption=temporary)
    caption = await anna.expect("plain text")

    assert "last digit" in typo.text
    assert "14 characters" in malformed.text
    assert sticker.text == "Please send the identifier as text."
    assert "Send your identifier again" in wrong.text
    assert "plain text" in caption.text
    assert temporary not in anna.visible_text()
    assert fake.errors == []


async def test_form_answers_are_checked_escaped_and_never_break_a_message(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 1102, ANNA, "+375291234567")
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")

    fake.send_voice(anna.user)
    voice = await anna.expect("answer with text")
    await anna.say("x" * 5000)
    too_long = await anna.expect("too long")
    await anna.say("<b>Tom & Jerry</b> < 5")
    await anna.expect("Step 2 of 3")
    await anna.say("two")
    not_number = await anna.expect("number")
    await anna.say("2")
    await anna.expect("Step 3 of 3")
    await anna.say("by pigeon")
    not_choice = await anna.expect("choose one of the buttons")
    choices = anna.last_bot_buttons()
    await anna.say(choices[1])  # typing the label of a choice works as pressing it
    review = await anna.expect("Check your application")

    assert voice.text.startswith("Please answer with text")
    assert "5000 characters, at most" in too_long.text
    assert "for example 12" in not_number.text
    assert "buttons" in not_choice.text
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &lt; 5" in review.raw_text
    assert "<b>Tom & Jerry</b> < 5" in review.text
    assert choices[1] in review.text
    assert fake.errors == []


async def test_three_quick_messages_advance_the_form_once_each_in_order(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 1103, ANNA, "+375291234567")
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")

    anna.mark()
    fake.send_text(anna.user, "first answer")
    fake.send_text(anna.user, "3")
    fake.send_text(anna.user, "In person")
    await anna.expect("Check your application")

    replies = [m.text.split("\n")[0] for m in fake.bot_messages(anna.chat_id)[-3:]]
    review = fake.last_bot_message(anna.chat_id).text
    assert replies == ["Step 2 of 3", "Step 3 of 3", "Check your application"]
    assert review.index("first answer") < review.index("3") < review.index("In person")
    assert fake.errors == []


async def test_old_buttons_after_a_restart_get_a_clear_answer(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 1104, ANNA, "+375291234567")
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    question = await anna.expect("Step 1 of 3")

    await running_bot.restart()
    await anna.say("For the bank")
    second_question = await anna.expect("Step 2 of 3")
    await anna.press("Cancel", question)  # the draft survived the restart: still valid
    await anna.expect("cancelled")
    stale = await anna.press("Cancel", second_question)
    stale_answer = await anna.alert(stale)
    old_menu = fake.bot_messages(anna.chat_id)[0]
    language = await anna.press("English", old_menu)

    assert "out of date" in stale_answer
    assert await anna.alert(language) == "Language saved: English."
    assert fake.errors == []


async def test_another_citizens_application_is_refused_and_nothing_revealed(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 1105, ANNA, "+375291234567")
    number = await anna.apply_for_residence_certificate("Anna's secret purpose")
    boris = await signed_in_citizen(running_bot, citizens, 1106, BORIS, "+375331234567")
    async with running_bot.portal.session_factory() as db:
        anna_application = await db.scalar(select(Application.id))
    menu = fake.last_bot_message(boris.chat_id)

    peek = fake.press_data(boris.user, menu, f"a:open:{anna_application}:0")
    withdraw = fake.press_data(boris.user, menu, f"a:confirm:{anna_application}:0")

    assert await boris.alert(peek) == "Application not found."
    assert await boris.alert(withdraw) == "Application not found."
    assert "secret purpose" not in boris.visible_text() and number not in boris.visible_text()
    async with running_bot.portal.session_factory() as db:
        status = await db.scalar(select(Application.status))
    assert status == ApplicationStatus.SUBMITTED
    assert fake.errors == []


async def test_double_tap_on_submit_makes_one_application(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 1107, ANNA, "+375291234567")
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")
    await anna.say("For the bank")
    await anna.expect("Step 2 of 3")
    await anna.say("1")
    await anna.expect("Step 3 of 3")
    await anna.press(anna.last_bot_buttons()[0])
    review = await anna.expect("Check your application")

    first = await anna.press("Submit", review)
    second = fake.press(anna.user, review, "Submit")
    await anna.expect("is registered")
    second_answer = await anna.alert(second)

    async with running_bot.portal.session_factory() as db:
        count = await db.scalar(select(func.count()).select_from(Application))
    assert first != second
    assert count == 1
    assert second_answer.startswith("Already submitted")
    assert fake.errors == []


async def test_signed_out_citizen_pressing_an_old_menu_is_asked_to_sign_in(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 1108, ANNA, "+375291234567")
    menu = fake.last_bot_message(anna.chat_id)
    await anna.say("/logout")
    await anna.expect("signed out")

    await anna.press("🗂 My applications", menu)
    asked = await anna.expect("Please sign in first.")

    assert "🔑 Sign in" in asked.buttons
    assert fake.errors == []


async def test_group_messages_are_ignored(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna: Citizen = citizens(1109)
    group = fake.group(-100_500)
    fake.send_text(anna.user, "/start", chat_id=group.id)
    fake.send_text(anna.user, "/help", chat_id=group.id)

    await anna.say("/help")
    await anna.expect("unique identifier")

    assert [m for m in fake.transcript(group.id) if m.from_bot] == []
    assert fake.errors == []


async def test_password_sent_after_a_lock_is_still_deleted(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA)
    anna: Citizen = citizens(1110)
    await anna.choose_english()
    await anna.press("🔑 Sign in")
    await anna.expect("unique identifier")
    for _ in range(running_bot.settings.login_max_attempts):
        await anna.say(ANNA)
        await anna.expect("password")
        await anna.say("Wrong-password-1")
        answer = await anna.expect("identifier")

    await anna.say(ANNA)
    await anna.expect("password")
    await anna.say(temporary)
    throttled = await anna.expect("Too many attempts from this chat")

    assert "locked until" in answer.text
    assert "Please wait" in throttled.text
    assert temporary not in anna.visible_text()
    assert fake.errors == []


async def test_a_command_at_the_password_step_is_a_command(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    await running_bot.issue(ANNA)
    anna: Citizen = citizens(1111)
    await anna.choose_english()
    await anna.press("🔑 Sign in")
    await anna.expect("unique identifier")
    await anna.say(ANNA)
    await anna.expect("password")

    await anna.say("/logout")
    answer = await anna.expect("not signed in")

    assert answer.text == "You are not signed in."
    assert fake.errors == []


async def test_a_card_longer_than_a_message_arrives_in_parts(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    from services import decisions
    from storage.models import DecisionOutcome

    anna = await signed_in_citizen(running_bot, citizens, 1112, ANNA, "+375291234567")
    number = await anna.apply_for_residence_certificate()
    async with running_bot.portal.session_factory() as db:
        await decisions.decide(
            db, number, DecisionOutcome.APPROVED, "😀" * 3000, official="Official B"
        )
    push = await anna.expect("decision has been taken")

    await anna.press("Open the application", push)
    await anna.expect_button("Back to my applications")

    parts = [m for m in fake.bot_messages(anna.chat_id) if m.seq > push.seq]
    assert len(parts) >= 2
    assert sum(m.text.count("😀") for m in parts) == 3000
    assert fake.errors == []


async def test_a_failure_on_our_side_gets_an_apology_not_silence(
    fake: FakeTelegram, running_bot: RunningBot, citizens, monkeypatch
) -> None:
    from services import catalog

    anna = await signed_in_citizen(running_bot, citizens, 1113, ANNA, "+375291234567")

    async def broken(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(catalog, "current_procedures", broken)
    pressed = await anna.press("📝 Apply")

    assert "Something went wrong on our side" in await anna.alert(pressed)
    assert fake.errors == []


async def test_a_password_sent_again_after_a_wrong_one_is_deleted(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    temporary = await running_bot.issue(ANNA)
    anna: Citizen = citizens(1114)
    await anna.choose_english()
    await anna.sign_in(ANNA, "Wrong-password-1")
    await anna.expect("Send your identifier again")

    await anna.say(temporary)
    answer = await anna.expect("Send the identifier again")

    assert "does not look like" in answer.text
    assert temporary not in anna.visible_text()
    assert fake.errors == []
