"""The one-window clerk's wizard in the chat: issue, block, unblock, change phone."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from services import one_window, staff
from storage.models import (
    Identifier,
    IdentifierStatus,
    OneWindowRequest,
    RequestKind,
    RequestOutcome,
    Session,
    StaffRole,
)
from tests.e2e.conftest import Citizen, RunningBot
from tests.fakes.telegram import FakeTelegram
from tests.helpers import applicant, code_from, temporary_password_from

IVAN = "3270287A012PB2"  # male, born 27.02.1987
PHONE = "+375291234567"
NEW_PHONE = "+375337654321"
OWN_PASSWORD = "Minsk2026spring"
CLERK_NAME = "Petrova A."
SEND_CODE = "✅ The data matches the document — send code to the phone"
REGISTER = "✅ The data matches the document — register the request"
STALE = "This button is out of date. Please use the latest message."
NOT_UNDERSTOOD = "I did not understand that"


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).strftime("%d.%m.%Y")


@dataclass
class Document:
    """What the clerk reads from the identity document the citizen brings."""

    personal_number: str = IVAN
    full_name: str = "Ivanov Ivan Ivanovich"
    birth_date: str = "27.02.1987"
    sex: str = "Male (M)"
    kind: str = "Passport"
    number: str = "MP1234567"
    issued: str = field(default_factory=lambda: day(-365))
    expires: str = field(default_factory=lambda: day(3650))
    issuing_body: str = "Moscow district police of Minsk"


async def operator(running_bot: RunningBot, citizens, user_id: int) -> Citizen:
    assert running_bot.portal is not None
    async with running_bot.portal.session_factory() as db:
        await staff.add_staff(db, user_id, StaffRole.OPERATOR, CLERK_NAME, actor="test")
    clerk: Citizen = citizens(user_id)
    await clerk.choose_english()
    return clerk


async def signed_in_citizen(running_bot: RunningBot, citizens, user_id: int) -> Citizen:
    temporary = await running_bot.issue(IVAN, PHONE)
    citizen: Citizen = citizens(user_id)
    await citizen.choose_english()
    await citizen.first_sign_in(IVAN, temporary, OWN_PASSWORD)
    return citizen


async def fill_in(clerk: Citizen, command: str | None, document: Document) -> None:
    """Start a request by its command (None: started) and answer the nine questions."""
    if command is not None:
        await clerk.say(command)
        await clerk.expect("step 1 of")
    for step, answer in (
        (2, document.personal_number),
        (3, document.full_name),
        (4, document.birth_date),
    ):
        await clerk.say(answer)
        await clerk.expect(f"step {step} of")
    await clerk.press(document.sex)
    await clerk.expect("step 5 of")
    await clerk.press(document.kind)
    await clerk.expect("step 6 of")
    for step, answer in (
        (7, document.number),
        (8, document.issued),
        (9, document.expires),
    ):
        await clerk.say(answer)
        await clerk.expect(f"step {step} of")
    await clerk.say(document.issuing_body)


async def next_sms(fake: FakeTelegram, running_bot: RunningBot, phone: str, after: int) -> str:
    """The newest SMS the bot's outbox job delivered to the phone after `after` SMS in all."""
    texts = await fake.wait_until(
        lambda: [text for to, text in running_bot.sms.sent[after:] if to == phone],
        what=f"an SMS to {phone}",
    )
    return texts[-1]


async def confirm_phone(
    fake: FakeTelegram, running_bot: RunningBot, clerk: Citizen, phone: str
) -> str:
    """Press the review's attestation, read the code from the SMS; returns the code."""
    before = len(running_bot.sms.sent)
    await clerk.press(SEND_CODE)
    await clerk.expect(f"Code sent to +375 {phone[4:6]} ***-**-{phone[-2:]}.")
    return code_from(await next_sms(fake, running_bot, phone, before))


async def requests(running_bot: RunningBot) -> list[OneWindowRequest]:
    assert running_bot.portal is not None
    async with running_bot.portal.session_factory() as db:
        return list(await db.scalars(select(OneWindowRequest).order_by(OneWindowRequest.id)))


async def identifier(running_bot: RunningBot) -> Identifier | None:
    assert running_bot.portal is not None
    async with running_bot.portal.session_factory() as db:
        return await db.scalar(select(Identifier).where(Identifier.value == IVAN))


def bot_texts(fake: FakeTelegram, chat_id: int) -> str:
    return "\n".join(message.text or "" for message in fake.bot_messages(chat_id))


async def test_operator_issues_an_identifier_and_the_citizen_signs_in_with_the_sms_password(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    clerk = await operator(running_bot, citizens, 5001)
    await clerk.say("/one_window")
    menu = await clerk.expect("One window")
    await clerk.press("Issue", menu)
    await clerk.expect("Issue of an identifier · step 1 of 10")
    await fill_in(clerk, None, Document())
    await clerk.expect("step 10 of 10")
    await clerk.say("8 (029) 123-45-67")
    review = await clerk.expect("Check the request: Issue of an identifier")
    review_buttons = review.buttons
    code = await confirm_phone(fake, running_bot, clerk, PHONE)
    before = len(running_bot.sms.sent)
    await clerk.say(code)
    outcome = await clerk.expect("Identifier issued")
    temporary = temporary_password_from(await next_sms(fake, running_bot, PHONE, before))

    citizen: Citizen = citizens(5101)
    await citizen.choose_english()
    await citizen.first_sign_in(IVAN, temporary, OWN_PASSWORD)

    assert menu.buttons == ["Issue", "Block", "Unblock", "Change phone"]
    assert "Personal number: 3270287A012PB2" in review.text
    assert "Phone: +375291234567" in review.text
    assert review_buttons == [SEND_CODE, "Cancel"]
    assert "request OW-" in outcome.text and "identifier 32**********B2" in outcome.text
    assert "temporary password goes to the citizen by SMS" in outcome.text
    said_by_bot = bot_texts(fake, clerk.chat_id)
    assert code not in said_by_bot and temporary not in said_by_bot and IVAN not in outcome.text
    [request] = await requests(running_bot)
    assert request.kind == RequestKind.ISSUE and request.outcome == RequestOutcome.GRANTED
    assert request.number in outcome.text
    assert request.clerk == CLERK_NAME and request.attested is True
    assert request.document_kind == "passport" and request.phone == PHONE
    issued = await identifier(running_bot)
    assert issued is not None and issued.phone == PHONE
    assert fake.errors == []


async def test_operator_blocks_and_the_citizen_is_signed_out_and_cannot_sign_in(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    citizen = await signed_in_citizen(running_bot, citizens, 5102)
    menu = fake.last_bot_message(citizen.chat_id)
    clerk = await operator(running_bot, citizens, 5002)

    await fill_in(clerk, "/block", Document())
    review = await clerk.expect("Check the request: Blocking of an identifier")
    review_buttons = review.buttons
    await clerk.press(REGISTER, review)
    outcome = await clerk.expect("Identifier blocked")
    push = await citizen.expect("Your unique identifier is blocked")
    await citizen.press("🗂 My applications", menu)
    asked = await citizen.expect("sign in")
    await citizen.sign_in(IVAN, OWN_PASSWORD)
    refused = await citizen.expect("is blocked, so electronic access is closed")

    assert review_buttons == [REGISTER, "Cancel"] and "Phone" not in review.text
    assert review.buttons == []
    assert "identifier 32**********B2" in outcome.text
    assert "signed out" in push.text
    assert "Please sign in first." in asked.text
    assert "one-window service" in refused.text
    request = (await requests(running_bot))[-1]
    assert request.kind == RequestKind.BLOCK and request.outcome == RequestOutcome.GRANTED
    assert request.number in outcome.text
    blocked = await identifier(running_bot)
    assert blocked is not None and blocked.status == IdentifierStatus.BLOCKED
    async with running_bot.portal.session_factory() as db:
        session = await db.scalar(select(Session))
    assert session is not None and session.end_reason == "blocked"
    assert fake.errors == []


async def test_operator_unblocks_and_a_new_temporary_password_works(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    citizen = await signed_in_citizen(running_bot, citizens, 5103)
    async with running_bot.portal.session_factory() as db:
        clerk_a = one_window.Clerk("Clerk A", running_bot.portal.translator)
        await one_window.block_identifier(db, applicant(IVAN), clerk_a)
    await citizen.expect("Your unique identifier is blocked")
    clerk = await operator(running_bot, citizens, 5003)

    await fill_in(clerk, "/unblock", Document())
    review = await clerk.expect("Check the request: Unblocking of an identifier")
    before = len(running_bot.sms.sent)
    await clerk.press(REGISTER, review)
    outcome = await clerk.expect("Identifier unblocked")
    temporary = temporary_password_from(await next_sms(fake, running_bot, PHONE, before))
    push = await citizen.expect("Your unique identifier is unblocked")
    await citizen.first_sign_in(IVAN, temporary, "Brest2026autumn")

    assert "new temporary password goes to the citizen by SMS" in outcome.text
    assert temporary not in bot_texts(fake, clerk.chat_id)
    assert "temporary password has been sent to you by SMS" in push.text
    kinds = [(r.kind, r.outcome) for r in await requests(running_bot)]
    assert kinds[-1] == (RequestKind.UNBLOCK, RequestOutcome.GRANTED)
    unblocked = await identifier(running_bot)
    assert unblocked is not None and unblocked.status == IdentifierStatus.ACTIVE
    assert fake.errors == []


async def test_operator_changes_the_phone_after_the_new_number_is_confirmed(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    citizen = await signed_in_citizen(running_bot, citizens, 5104)
    clerk = await operator(running_bot, citizens, 5004)

    await fill_in(clerk, "/change_phone", Document())
    await clerk.expect("The new mobile phone number")
    await clerk.say("+375 33 765-43-21")
    review = await clerk.expect("Check the request: Change of the phone number")
    code = await confirm_phone(fake, running_bot, clerk, NEW_PHONE)
    before = len(running_bot.sms.sent)
    await clerk.say(code)
    outcome = await clerk.expect("Phone number changed")
    told = await next_sms(fake, running_bot, PHONE, before)
    push = await citizen.expect("phone number of your unique identifier was changed")

    assert "New phone: +375337654321" in review.text
    assert "new number +375 33 ***-**-21" in outcome.text
    translator = running_bot.portal.translator
    assert told == translator.gettext(one_window.PHONE_CHANGED_SMS)
    assert "one window" in push.text
    changed = await identifier(running_bot)
    assert changed is not None and changed.phone == NEW_PHONE
    request = (await requests(running_bot))[-1]
    assert request.kind == RequestKind.CHANGE_PHONE
    assert request.outcome == RequestOutcome.GRANTED and request.previous_phone == PHONE
    assert request.number in outcome.text
    assert fake.errors == []


async def test_wrong_input_is_explained_and_a_wrong_code_can_be_entered_again(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    clerk = await operator(running_bot, citizens, 5005)
    await clerk.say("/issue")
    await clerk.expect("step 1 of 10")

    await clerk.say("3270287A012PB3")
    typo = await clerk.expect("typo")
    await clerk.say(IVAN)
    await clerk.expect("step 2 of 10")
    clerk.mark()
    fake.send_sticker(clerk.user)
    sticker = await clerk.expect("Please send text.")
    await clerk.say("/whatever")
    command = await clerk.expect(NOT_UNDERSTOOD)
    await clerk.say("<b>Ivanov</b> & Ivan")
    await clerk.expect("step 3 of 10")
    await clerk.say("31.02.1987")
    impossible = await clerk.expect("real date")
    await clerk.say("27.02.1987")
    await clerk.expect("step 4 of 10")
    await clerk.say("M")
    typed_sex = await clerk.expect("Please choose one of the buttons")
    await clerk.press("Male (M)", typed_sex)
    await clerk.expect("step 5 of 10")
    await clerk.press("Passport")
    await clerk.expect("step 6 of 10")
    for step, answer in ((7, "MP 1234567"), (8, day(-3650)), (9, day(1))):
        await clerk.say(answer)
        await clerk.expect(f"step {step} of 10")
    await clerk.say("Minsk police")
    await clerk.expect("step 10 of 10")
    await clerk.say("+7 916 123-45-67")
    foreign = await clerk.expect("Only Belarusian numbers")
    await clerk.say("+375 29 123-45-67")
    review = await clerk.expect("Check the request")
    code = await confirm_phone(fake, running_bot, clerk, PHONE)
    await clerk.say("111111" if code != "111111" else "222222")
    wrong = await clerk.expect("Wrong code")
    too_soon = await clerk.alert(await clerk.press("Send a new code", wrong))
    await clerk.say(code)
    issued = await clerk.expect("Identifier issued")

    assert "step 1 of 10" in typo.text
    assert "Issue of an identifier · step 2 of 10" in sticker.text
    assert command.text.startswith(NOT_UNDERSTOOD)
    assert "step 3 of 10" in impossible.text
    assert "step 4 of 10" in typed_sex.text
    assert "step 10 of 10" in foreign.text
    assert "Full name: <b>Ivanov</b> & Ivan" in review.text
    assert "Document number: MP1234567" in review.text
    assert "Attempts left: 2" in wrong.text and "Enter the code again." in wrong.text
    assert too_soon.startswith("A code was sent a moment ago")
    assert "32**********B2" in issued.text
    [request] = await requests(running_bot)
    assert request.outcome == RequestOutcome.GRANTED
    assert request.full_name == "<b>Ivanov</b> & Ivan" and request.attested is True
    assert fake.errors == []


async def test_an_expired_document_is_refused_before_any_code_is_sent(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    clerk = await operator(running_bot, citizens, 5011)
    sent_before = len(running_bot.sms.sent)

    await fill_in(clerk, "/issue", Document(expires=day(-1)))
    await clerk.expect("step 10 of 10")
    await clerk.say(PHONE)
    await clerk.press(SEND_CODE, await clerk.expect("Check the request"))
    refused = await clerk.expect("The request is refused")

    assert "The identity document has expired." in refused.text
    [request] = await requests(running_bot)
    assert request.outcome == RequestOutcome.REFUSED and request.reason == "document_expired"
    assert request.number in refused.text
    assert running_bot.sms.sent[sent_before:] == []
    assert await identifier(running_bot) is None
    assert fake.errors == []


async def test_blocking_an_identifier_never_issued_is_refused_and_recorded(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    clerk = await operator(running_bot, citizens, 5006)

    await fill_in(clerk, "/block", Document())
    await clerk.press(REGISTER, await clerk.expect("Check the request"))
    refused = await clerk.expect("The request is refused")

    assert "No identifier was issued for this personal number." in refused.text
    [request] = await requests(running_bot)
    assert f"Request {request.number} is recorded with this reason." in refused.text
    assert request.kind == RequestKind.BLOCK and request.reason == "identifier_not_found"
    assert fake.errors == []


async def test_citizens_and_other_staff_never_see_the_one_window(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    citizen: Citizen = citizens(5107)
    await citizen.choose_english()
    async with running_bot.portal.session_factory() as db:
        await staff.add_staff(db, 5207, StaffRole.OFFICIAL, "Sidorov B.", actor="test")
    official: Citizen = citizens(5207)
    await official.choose_english()

    answers = []
    for person in (citizen, official):
        for command in ("/issue", "/one_window", "/change_phone"):
            await person.say(command)
            answers.append((await person.expect(NOT_UNDERSTOOD)).text)
    greeting = fake.last_bot_message(citizen.chat_id)
    forged = [
        await citizen.alert(fake.press_data(citizen.user, greeting, data))
        for data in ("ow:issue", "owa:AAAAAAAAAAAA:attest:", "owa:AAAAAAAAAAAA:option:M")
    ]

    assert len(answers) == 6
    assert forged == [STALE, STALE, STALE]
    for person in (citizen, official):
        assert "step 1 of" not in bot_texts(fake, person.chat_id)
    assert await requests(running_bot) == []
    assert fake.errors == []


async def test_a_revoked_role_stops_the_wizard_at_the_next_message(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    clerk = await operator(running_bot, citizens, 5008)
    await clerk.say("/block")
    question = await clerk.expect("step 1 of 9")

    async with running_bot.portal.session_factory() as db:
        await staff.remove_staff(db, clerk.user.id, actor="test")
    await clerk.say(IVAN)
    ignored = await clerk.expect(NOT_UNDERSTOOD)
    cancel = await clerk.alert(await clerk.press("Cancel", question))

    assert "step 2 of" not in bot_texts(fake, clerk.chat_id)
    assert ignored.text.startswith(NOT_UNDERSTOOD)
    assert cancel == STALE
    assert fake.errors == []


async def test_buttons_of_a_cancelled_or_finished_request_are_out_of_date(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    await running_bot.issue(IVAN, PHONE)
    clerk = await operator(running_bot, citizens, 5009)
    await clerk.say("/block")
    first_question = await clerk.expect("step 1 of 9")
    await clerk.say(IVAN)
    await clerk.expect("step 2 of 9")
    await clerk.say("Ivanov Ivan")
    await clerk.expect("step 3 of 9")
    await clerk.say("27.02.1987")
    sex_question = await clerk.expect_button("Male (M)")

    await clerk.press("Cancel", first_question)
    await clerk.expect("The request is cancelled")
    after_cancel = await clerk.alert(await clerk.press("Male (M)", sex_question))
    await fill_in(clerk, "/block", Document())
    review = await clerk.expect("Check the request")
    register_data = review.button(REGISTER)["callback_data"]
    await clerk.press(REGISTER, review)
    await clerk.expect("Identifier blocked")
    twice = await clerk.alert(fake.press_data(clerk.user, review, register_data))
    await clerk.say("/issue")
    await clerk.expect("step 1 of 10")
    await clerk.say("/cancel")
    cancelled = await clerk.expect("The request is cancelled")
    await clerk.say(IVAN)
    after_command = await clerk.expect(NOT_UNDERSTOOD)

    assert after_cancel == STALE and twice == STALE
    assert "nothing was registered" in cancelled.text
    assert after_command.text.startswith(NOT_UNDERSTOOD)
    registered = [(r.kind, r.outcome) for r in await requests(running_bot)]
    assert registered == [
        (RequestKind.ISSUE, RequestOutcome.GRANTED),
        (RequestKind.BLOCK, RequestOutcome.GRANTED),
    ]
    assert fake.errors == []


async def test_a_request_survives_a_restart_but_not_a_newer_request(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    clerk = await operator(running_bot, citizens, 5010)
    await clerk.say("/issue")
    await clerk.expect("step 1 of 10")
    await clerk.say(IVAN)
    await clerk.expect("step 2 of 10")
    await clerk.say("Ivanov Ivan")
    await clerk.expect("step 3 of 10")
    await clerk.say("27.02.1987")
    sex_question = await clerk.expect_button("Male (M)")

    await running_bot.restart()
    await clerk.press("Male (M)", sex_question)
    kind_question = await clerk.expect_button("Passport")
    await clerk.say("/unblock")
    await clerk.expect("Unblocking of an identifier · step 1 of 9")
    stale = await clerk.alert(await clerk.press("Passport", kind_question))
    await clerk.say(IVAN)
    goes_on = await clerk.expect("step 2 of 9")

    assert "Issue of an identifier · step 5 of 10" in kind_question.text
    assert stale == STALE
    assert "Unblocking of an identifier" in goes_on.text
    assert fake.errors == []
