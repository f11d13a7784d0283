"""Behaviour of the fake Telegram server, driven by a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.fakes.telegram import DocumentSpec, FakeError, FakeTelegram

TOKEN = "123456:TEST-fake-token"
USER_ID = 1001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    session = fake.make_session()
    yield Bot(TOKEN, session=session)

    # Closing the aiohttp client directly skips aiogram's 250 ms TLS grace sleep.
    client = await session.create_session()
    await client.close()


@contextlib.asynccontextmanager
async def polling(fake: FakeTelegram, dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """Run the dispatcher against the fake for the duration of the block."""
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        await fake.wait_until(lambda: fake.calls("getUpdates"), 5, what="the bot to poll")
        yield
    finally:
        if fake.calls("getUpdates"):
            await dp.stop_polling()
        else:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def one_button(data: str, text: str = "Go") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)]]
    )


# ---- polling and updates -------------------------------------------------------------------


async def test_user_text_reaches_handler_and_reply_shows_in_transcript(
    fake: FakeTelegram, bot: Bot
) -> None:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    user = fake.user(USER_ID)

    async with polling(fake, dp, bot):
        sent = fake.send_text(user, "hello")
        reply = await fake.wait_for_bot_message(USER_ID, contains="echo", timeout=5)

    assert reply.text == "echo: hello"
    assert reply.message_id > sent.message_id
    assert [message.from_bot for message in fake.transcript(USER_ID)] == [False, True]
    assert fake.errors == []


async def test_get_updates_keeps_updates_until_offset_confirms_them(
    fake: FakeTelegram, bot: Bot
) -> None:
    user = fake.user(USER_ID)
    fake.send_text(user, "one")
    fake.send_text(user, "two")

    first = await bot.get_updates()
    again = await bot.get_updates()
    confirmed = await bot.get_updates(offset=first[0].update_id + 1)
    later = await bot.get_updates()

    assert [update.message.text for update in first if update.message] == ["one", "two"]
    assert first[1].update_id > first[0].update_id
    assert [update.update_id for update in again] == [update.update_id for update in first]
    assert [update.message.text for update in confirmed if update.message] == ["two"]
    assert [update.update_id for update in later] == [first[1].update_id]


async def test_get_updates_limit_returns_the_oldest_updates(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(USER_ID)
    for text in ("a", "b", "c"):
        fake.send_text(user, text)

    updates = await bot.get_updates(limit=2)

    assert [update.message.text for update in updates if update.message] == ["a", "b"]


async def test_long_poll_waits_and_returns_as_soon_as_an_update_arrives(
    fake: FakeTelegram, bot: Bot
) -> None:
    user = fake.user(USER_ID)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: fake.calls("getUpdates"), 2)
    await asyncio.sleep(0.05)
    waited = not poll.done()

    fake.send_text(user, "wake up")
    updates = await asyncio.wait_for(poll, timeout=2)

    assert waited
    assert [update.message.text for update in updates if update.message] == ["wake up"]


async def test_album_documents_arrive_in_one_burst_with_one_media_group(
    fake: FakeTelegram, bot: Bot
) -> None:
    user = fake.user(USER_ID)

    sent = fake.send_album(user, ["a.pdf", DocumentSpec("b.png", mime_type="image/png")])
    updates = await bot.get_updates()

    messages = [update.message for update in updates if update.message]
    assert [m.document.file_name for m in messages if m.document] == ["a.pdf", "b.png"]
    assert {m.media_group_id for m in messages} == {sent[0].media_group_id}
    assert sent[0].media_group_id is not None


# ---- text formatting and limits ------------------------------------------------------------


async def test_supported_html_is_accepted_and_stored_as_visible_text(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(USER_ID)

    sent = await bot.send_message(USER_ID, "<b>x</b> &lt; &amp;", parse_mode="HTML")

    stored = fake.last_bot_message(USER_ID)
    assert sent.text == "x < &"
    assert (stored.text, stored.raw_text) == ("x < &", "<b>x</b> &lt; &amp;")
    assert stored.entities == [{"type": "bold", "offset": 0, "length": 1}]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<foo>bar</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("1 &bogus; 2", 'Unsupported HTML entity "&bogus;" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("привет <foo>", 'Unsupported start tag "foo" at byte offset 13'),
    ],
)
async def test_malformed_html_is_rejected_with_cant_parse_entities(
    fake: FakeTelegram, bot: Bot, html: str, reason: str
) -> None:
    fake.user(USER_ID)

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(USER_ID, html, parse_mode="HTML")

    assert caught.value.message == f"Bad Request: can't parse entities: {reason}"
    assert fake.transcript(USER_ID) == []


async def test_bare_ampersand_in_html_is_kept_literally(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)

    sent = await bot.send_message(USER_ID, "Tom & Jerry &co", parse_mode="HTML")

    assert sent.text == "Tom & Jerry &co"


async def test_text_without_parse_mode_is_taken_literally(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)

    sent = await bot.send_message(USER_ID, "<foo> &bogus;")

    assert sent.text == "<foo> &bogus;"


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("a" * 4096, True),
        ("a" * 4097, False),
        ("<b>" + "a" * 4094 + "</b>&amp;b", True),
        ("<b>" + "a" * 4095 + "</b>&amp;b", False),
        ("😀" * 2048, True),
        ("😀" * 2048 + "a", False),
    ],
    ids=["4096", "4097", "4096-with-tags", "4097-with-tags", "2048-emoji", "4097-utf16"],
)
async def test_text_limit_counts_visible_utf16_units(
    fake: FakeTelegram, bot: Bot, text: str, accepted: bool
) -> None:
    fake.user(USER_ID)

    try:
        await bot.send_message(USER_ID, text, parse_mode="HTML")
        outcome = "sent"
    except TelegramBadRequest as error:
        outcome = error.message

    assert outcome == ("sent" if accepted else "Bad Request: message is too long")


@pytest.mark.parametrize(
    ("text", "description"),
    [("", "message text is empty"), ("  \n ", "message must be non-empty")],
)
async def test_empty_text_is_rejected(
    fake: FakeTelegram, bot: Bot, text: str, description: str
) -> None:
    fake.user(USER_ID)

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(USER_ID, text)

    assert caught.value.message == f"Bad Request: {description}"


async def test_caption_over_1024_characters_is_rejected(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)
    upload = BufferedInputFile(b"data", filename="a.txt")

    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(USER_ID, upload, caption="c" * 1025)

    assert fake.transcript(USER_ID) == []


# ---- keyboards and callback queries --------------------------------------------------------


async def test_callback_data_of_64_bytes_is_accepted(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)

    await bot.send_message(USER_ID, "pick", reply_markup=one_button("x" * 64))

    assert fake.last_bot_message(USER_ID).button("Go")["callback_data"] == "x" * 64


async def test_callback_data_of_65_bytes_is_rejected(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)
    data = "я" * 32 + "x"  # 33 characters, 65 UTF-8 bytes

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(USER_ID, "pick", reply_markup=one_button(data))

    assert caught.value.message == "Bad Request: BUTTON_DATA_INVALID"


async def test_inline_button_without_action_is_rejected(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Plain")]])

    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(USER_ID, "pick", reply_markup=markup)


async def test_pressed_button_is_answered_once_and_second_answer_is_too_old(
    fake: FakeTelegram, bot: Bot
) -> None:
    dp = Dispatcher()

    @dp.message()
    async def menu(message: Message) -> None:
        await message.answer("Menu", reply_markup=one_button("open:1"))

    @dp.callback_query(F.data == "open:1")
    async def on_open(callback: CallbackQuery) -> None:
        await callback.answer("Opened", show_alert=True)

    user = fake.user(USER_ID)

    async with polling(fake, dp, bot):
        fake.send_command(user)
        shown = await fake.wait_for_bot_message(USER_ID, contains="Menu", timeout=5)
        query_id = fake.press(user, shown, "Go")
        answer = await fake.wait_for_callback_answer(query_id, timeout=5)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)

    assert (answer["text"], answer["show_alert"]) == ("Opened", True)


async def test_press_of_a_missing_button_lists_the_buttons_that_exist(
    fake: FakeTelegram, bot: Bot
) -> None:
    user = fake.user(USER_ID)
    await bot.send_message(USER_ID, "pick", reply_markup=one_button("a", text="Yes"))
    shown = fake.last_bot_message(USER_ID)

    with pytest.raises(AssertionError, match=r"no inline button 'No'.*\['Yes'\]"):
        fake.press(user, shown, "No")


async def test_forged_callback_data_reaches_the_bot_verbatim(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(USER_ID)
    await bot.send_message(USER_ID, "pick", reply_markup=one_button("open:1"))

    fake.press_data(user, fake.last_bot_message(USER_ID), "open:999")
    updates = await bot.get_updates()

    queries = [update.callback_query for update in updates if update.callback_query]
    assert [query.data for query in queries] == ["open:999"]


# ---- edits and deletions -------------------------------------------------------------------


async def test_edit_and_delete_are_reflected_in_transcript(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)
    first = await bot.send_message(USER_ID, "draft", reply_markup=one_button("a"))
    second = await bot.send_message(USER_ID, "temporary")

    await bot.edit_message_text("final", chat_id=USER_ID, message_id=first.message_id)
    await bot.delete_message(USER_ID, second.message_id)

    edited, deleted = fake.transcript(USER_ID)
    assert (edited.text, edited.edited, edited.buttons) == ("final", True, [])
    assert deleted.deleted
    assert [message.text for message in fake.visible(USER_ID)] == ["final"]


async def test_edit_with_identical_content_is_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)
    sent = await bot.send_message(USER_ID, "same", reply_markup=one_button("a"))

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "same", chat_id=USER_ID, message_id=sent.message_id, reply_markup=one_button("a")
        )


async def test_edit_and_delete_of_unknown_messages_fail(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)

    with pytest.raises(TelegramBadRequest) as edit_error:
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=42)
    with pytest.raises(TelegramBadRequest) as delete_error:
        await bot.delete_message(USER_ID, 42)

    assert edit_error.value.message == "Bad Request: message to edit not found"
    assert delete_error.value.message == "Bad Request: message to delete not found"


async def test_wait_after_a_sequence_mark_sees_only_later_changes(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(USER_ID)
    sent = await bot.send_message(USER_ID, "step 1")
    mark = fake.seq

    await bot.edit_message_text("step 2", chat_id=USER_ID, message_id=sent.message_id)
    changed = await fake.wait_for_bot_message(USER_ID, after=mark, timeout=1)

    assert changed.text == "step 2"


async def test_wait_for_bot_message_timeout_shows_the_transcript(fake: FakeTelegram) -> None:
    user = fake.user(USER_ID)
    fake.send_text(user, "anyone there?")

    with pytest.raises(AssertionError, match="anyone there"):
        await fake.wait_for_bot_message(USER_ID, timeout=0.05)


# ---- files ---------------------------------------------------------------------------------


async def test_uploaded_document_round_trips_through_get_file_and_download(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(USER_ID)
    upload = BufferedInputFile(b"report body", filename="report.pdf")

    sent = await bot.send_document(USER_ID, upload, caption="<b>Report</b>", parse_mode="HTML")
    assert sent.document is not None
    file = await bot.get_file(sent.document.file_id)
    downloaded = await bot.download(file)

    stored = fake.last_bot_message(USER_ID)
    assert downloaded is not None and downloaded.getvalue() == b"report body"
    assert stored.document is not None and stored.document["file_name"] == "report.pdf"
    assert (stored.text, stored.raw_text) == ("Report", "<b>Report</b>")


async def test_user_document_is_downloadable_by_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(USER_ID)
    sent = fake.send_document(user, "scan.pdf", content=b"%PDF scan")
    assert sent.document is not None

    file = await bot.get_file(sent.document["file_id"])
    downloaded = await bot.download(file)

    assert downloaded is not None and downloaded.getvalue() == b"%PDF scan"


async def test_get_file_refuses_files_over_20_megabytes(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(USER_ID)
    sent = fake.send_document(user, "huge.pdf", file_size=21 * 1024 * 1024)
    assert sent.document is not None

    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(sent.document["file_id"])


# ---- errors, failure injection and raw protocol --------------------------------------------


async def test_injected_429_surfaces_as_retry_after_then_clears(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user(USER_ID)
    fake.fail_next("sendMessage", error_code=429, retry_after=7)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER_ID, "hi")
    retried = await bot.send_message(USER_ID, "hi")

    assert caught.value.retry_after == 7
    assert retried.text == "hi"
    assert fake.errors == [FakeError("sendMessage", 429, "Too Many Requests: retry after 7")]


async def test_blocked_user_surfaces_as_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(USER_ID)
    fake.block_bot(USER_ID)

    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(USER_ID, "hi")

    assert caught.value.message == "Forbidden: bot was blocked by the user"
    assert fake.transcript(USER_ID) == []


async def test_unknown_chat_is_not_found(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(777, "hi")

    assert caught.value.message == "Bad Request: chat not found"


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    session = fake.make_session()
    stranger = Bot("999:WRONG-token", session=session)

    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()

    await (await session.create_session()).close()
    assert fake.errors == [FakeError("getMe", 401, "Unauthorized")]


async def test_get_me_describes_the_test_bot(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456, True, "eportal_test_bot")


async def test_commands_round_trip_and_invalid_names_are_rejected(
    fake: FakeTelegram, bot: Bot
) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Begin")])

    stored = await bot.get_my_commands()
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="Begin")])

    assert [command.command for command in stored] == ["start"]
    assert fake.get_commands() == [{"command": "start", "description": "Begin"}]


async def test_raw_http_accepts_any_method_case_and_body_encoding(fake: FakeTelegram) -> None:
    fake.user(USER_ID)
    base = f"{fake.url}/bot{TOKEN}"

    async with aiohttp.ClientSession() as http:
        form = {"chat_id": str(USER_ID), "text": "form"}
        async with http.post(f"{base}/SENDMESSAGE", data=form) as response:
            by_form = await response.json()
        async with http.post(f"{base}/sendmessage", json={"chat_id": USER_ID, "text": "json"}):
            pass
        query = {"chat_id": str(USER_ID), "text": "query"}
        async with http.get(f"{base}/sendMessage", params=query):
            pass
        async with http.get(f"{base}/noSuchMethod") as response:
            unknown = (response.status, await response.json())

    assert by_form["ok"] is True and by_form["result"]["text"] == "form"
    assert [message.text for message in fake.transcript(USER_ID)] == ["form", "json", "query"]
    assert unknown == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
