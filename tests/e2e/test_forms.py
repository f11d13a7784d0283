"""Forms with attachments, and long lists of applications."""

from datetime import date, timedelta

from sqlalchemy import select

from services import applications
from storage.models import Identifier, Procedure
from tests.e2e.conftest import RunningBot, signed_in_citizen
from tests.fakes.telegram import DocumentSpec, FakeTelegram

ANNA = "3270287A012PB2"


async def test_an_album_fills_one_attachment_step_and_it_advances_once(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 7001)
    await anna.open_procedure("13.2")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of")
    await anna.say("Minsk, Nezavisimosti 1-1")
    await anna.expect("Step 2 of")
    await anna.say((date.today() + timedelta(days=30)).strftime("%d.%m.%Y"))
    choice = await anna.expect("Step 3 of")
    await anna.press(choice.buttons[0], choice)
    await anna.expect("Step 4 of")

    anna.mark()
    fake.send_album(anna.user, ["consent.pdf", "deed.pdf", DocumentSpec("photo.png", "image/png")])
    third = await anna.expect("File received (3)")
    fake.send_document(anna.user, "virus.exe", "application/x-msdownload", 1000)
    refused = await anna.expect("not accepted")
    await running_bot.restart()  # mid-form: the draft and its files are in the database
    await anna.press("Done", third)
    after_files = await anna.expect("Step 5 of")
    steps = [m.text.split("\n")[0] for m in fake.bot_messages(anna.chat_id) if m.seq > anna.seen]
    await anna.press("Yes", after_files)
    phone = await anna.expect("Step 6 of")
    await anna.press("Skip", phone)
    review = await anna.expect("Check your application")
    await anna.press("Submit", review)
    await anna.expect("is registered")
    await anna.press("🗂 My applications")
    listing = await anna.expect("Your applications")
    await anna.press(next(t for t in listing.buttons if " · " in t), listing)
    await anna.expect("Application No.")

    sent_back = [m.document["file_name"] for m in fake.bot_messages(anna.chat_id) if m.document]
    assert [s for s in steps if s.startswith("Step")] == [after_files.text.split("\n")[0]]
    assert "PDF, JPEG or PNG" in refused.text
    assert "consent.pdf, deed.pdf, photo.png" in review.text
    assert sent_back == ["consent.pdf", "deed.pdf", "photo.png"]
    assert fake.errors == []


async def test_sixty_applications_page_newest_first(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 7002)
    async with running_bot.portal.session_factory() as db:
        identifier_id = await db.scalar(select(Identifier.id))
        procedure_id = await db.scalar(select(Procedure.id).where(Procedure.code == "1.3.4"))
        answers = {"purpose": "bank", "copies": 1, "delivery": "in_person"}
        numbers = [
            (
                await applications.submit(
                    db, identifier_id, procedure_id, answers, submit_token=f"t{n}"
                )
            ).registration_number
            for n in range(60)
        ]

    await anna.press("🗂 My applications")
    page = await anna.expect("page 1 of 6, 60 in all")
    first_page = [t.split(" · ")[0] for t in page.buttons if " · " in t]
    for expected in range(2, 7):
        await anna.press("▶", page)
        page = await anna.expect(f"page {expected} of 6")
    last_page = [t.split(" · ")[0] for t in page.buttons if " · " in t]

    assert first_page == numbers[::-1][:10]
    assert last_page == numbers[::-1][50:]
    assert "▶" not in page.buttons
    assert fake.errors == []


async def test_back_returns_to_the_previous_question_and_review_edits_one_answer(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 7003)
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")
    await anna.say("For the bank")
    await anna.expect("Step 2 of 3")

    await anna.press("◀ Back")
    again = await anna.expect("Step 1 of 3")
    await anna.say("For the embassy")
    await anna.expect("Step 2 of 3")
    await anna.say("2")
    choice = await anna.expect("Step 3 of 3")
    await anna.press(choice.buttons[0], choice)
    await anna.expect("Check your application")
    await anna.press("✏️ Change an answer")
    menu = await anna.expect("Which answer")
    await anna.press(menu.buttons[1], menu)
    await anna.expect("Step 2 of 3")
    await anna.say("4")
    review = await anna.expect("Check your application")

    assert "◀ Back" not in again.buttons
    assert "For the embassy" in review.text and "For the bank" not in review.text
    assert "\n4\n" in review.text
    assert fake.errors == []


async def test_a_draft_moves_to_the_new_revision_when_the_catalog_changes(
    fake: FakeTelegram, running_bot: RunningBot, citizens, tmp_path
) -> None:
    import json

    from services import catalog

    anna = await signed_in_citizen(running_bot, citizens, 7004)
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")
    await anna.say("For the bank")
    await anna.expect("Step 2 of 3")
    await anna.say("2")
    choice = await anna.expect("Step 3 of 3")
    await anna.press(choice.buttons[0], choice)
    review = await anna.expect("Check your application")
    revised = json.loads(running_bot.settings.catalog_file.read_text(encoding="utf-8"))
    item = next(p for p in revised["procedures"] if p["code"] == "1.3.4")
    item["revision"] += 1
    item["fields"].append(
        {
            "name": "email",
            "type": "email",
            "required": True,
            "label": {"ru": "Эл. почта", "be": "Эл. пошта", "en": "Your e-mail"},
        }
    )
    revised_file = tmp_path / "revised.json"
    revised_file.write_text(json.dumps(revised, ensure_ascii=False), encoding="utf-8")
    async with running_bot.portal.session_factory() as db:
        await catalog.load_catalog(db, revised_file)

    await anna.press("Submit", review)
    changed = await anna.expect("has changed")
    question = await anna.expect("Your e-mail")
    await anna.say("anna@example.by")
    new_review = await anna.expect("Check your application")
    await anna.press("Submit", new_review)
    await anna.expect("is registered")

    assert "answers that still apply are kept" in changed.text
    assert "Step 4 of 4" in question.text
    assert "For the bank" in new_review.text and "anna@example.by" in new_review.text
    assert fake.errors == []


async def test_a_citizen_keeps_several_drafts_and_resumes_one(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 7005)
    menu = fake.last_bot_message(anna.chat_id)
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")
    await anna.say("For the bank")
    await anna.expect("Step 2 of 3")
    await anna.open_procedure("2.2")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 4")
    await anna.say("Minsk Tractor Works")
    await anna.expect("Step 2 of 4")

    await anna.press("📝 Apply", menu)
    front = await anna.expect("Choose a category")
    drafts = [text for text in front.buttons if text.startswith("📄")]
    await anna.press(next(t for t in drafts if "1.3.4" in t), front)
    resumed = await anna.expect("Step 2 of 3")
    await anna.say("1")
    choice = await anna.expect("Step 3 of 3")
    await anna.press(choice.buttons[0], choice)
    await anna.press("Submit", await anna.expect("Check your application"))
    await anna.expect("is registered")
    await anna.press("📝 Apply", menu)
    after = await anna.expect("Choose a category")

    assert sorted(drafts) == [
        "📄 Continue: 1.3.4 · Residence certificate (1/3)",
        "📄 Continue: 2.2 · Employment certificate (1/4)",
    ]
    assert "How many copies" in resumed.text
    assert [t for t in after.buttons if t.startswith("📄")] == [
        "📄 Continue: 2.2 · Employment certificate (1/4)"
    ]
    assert fake.errors == []


async def test_drafts_survive_signing_out_and_in_again(
    fake: FakeTelegram, running_bot: RunningBot, citizens
) -> None:
    anna = await signed_in_citizen(running_bot, citizens, 7006)
    await anna.open_procedure("1.3.4")
    await anna.press("Fill in the application")
    await anna.expect("Step 1 of 3")
    await anna.say("For the bank")
    await anna.expect("Step 2 of 3")

    await anna.say("/logout")
    await anna.expect("signed out")
    await anna.sign_in("3270287A012PB2", "Minsk2026spring")
    resumed = await anna.expect("unfinished application")
    question = await anna.expect("Step 2 of 3")

    assert resumed is not None and question is not None
    assert fake.errors == []
