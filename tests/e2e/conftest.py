"""The real bot, polling a fake Bot API on 127.0.0.1, and citizens who talk to it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.app import Portal, build_portal
from bot.settings import Settings
from services.sms import RecordingSms
from tests.conftest import TOKEN
from tests.fakes.telegram import FakeMessage, FakeTelegram, FakeUser
from tests.helpers import issue_citizen


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


@dataclass
class RunningBot:
    """Starts, stops and restarts the real bot as `eportal run` would, SMS kept in memory."""

    settings: Settings
    sms: RecordingSms = field(default_factory=RecordingSms)
    portal: Portal | None = None
    task: asyncio.Task[None] | None = None

    async def start(self) -> Portal:
        self.portal = await build_portal(self.settings, sms=self.sms)
        self.task = asyncio.create_task(self.portal.run_polling())
        return self.portal

    async def stop(self) -> None:
        if self.portal is None or self.task is None:
            return
        try:
            await self.portal.dispatcher.stop_polling()
        except RuntimeError:
            # Stopped before polling began: nothing to wind down gracefully.
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=10)
        await self.portal.close()
        self.portal = self.task = None

    async def restart(self) -> Portal:
        await self.stop()
        return await self.start()

    async def issue(
        self, personal_number: str = "3270287A012PB2", phone: str = "+375291234567"
    ) -> str:
        """The one window issues an identifier; returns the temporary password from the SMS."""
        assert self.portal is not None
        async with self.portal.session_factory() as db:
            _, password = await issue_citizen(
                db, self.portal.translator, personal_number, phone, sms=self.sms
            )
        return password


@pytest.fixture
async def running_bot(
    fake: FakeTelegram, settings: Settings, engine: object
) -> AsyncIterator[RunningBot]:
    # `engine` prepares an empty, migrated database (PostgreSQL is reset by it).
    settings.telegram_api_url = fake.url
    settings.notification_poll_interval = settings.notification_poll_interval / 4
    running = RunningBot(settings)
    await running.start()
    yield running
    await running.stop()


@dataclass
class Citizen:
    """A person in a private chat with the bot: says things, presses buttons, reads replies."""

    fake: FakeTelegram
    user: FakeUser
    seen: int = 0

    @property
    def chat_id(self) -> int:
        return self.user.id

    def mark(self) -> None:
        self.seen = self.fake.seq

    async def say(self, text: str) -> FakeMessage:
        self.mark()
        return self.fake.send_text(self.user, text)

    async def press(self, button: str, message: FakeMessage | None = None) -> str:
        message = message or self.last_with_button(button)
        self.mark()
        return self.fake.press(self.user, message, button)

    def last_with_button(self, button: str) -> FakeMessage:
        for message in reversed(self.fake.bot_messages(self.chat_id)):
            if button in message.buttons:
                return message
        raise AssertionError(f"no button {button!r}\n{self.fake.format_transcript(self.chat_id)}")

    async def expect(self, contains: str, *, timeout: float = 10.0) -> FakeMessage:
        """The first bot message since the last action that contains the text."""
        return await self.fake.wait_for_bot_message(
            self.chat_id, contains=contains, after=self.seen, timeout=timeout
        )

    async def expect_button(self, button: str, *, timeout: float = 10.0) -> FakeMessage:
        return await self.fake.wait_for_bot_message(
            self.chat_id,
            predicate=lambda m: button in m.buttons,
            after=self.seen,
            timeout=timeout,
        )

    async def alert(self, query_id: str) -> str:
        answer = await self.fake.wait_for_callback_answer(query_id)
        return str(answer.get("text", ""))

    def visible_text(self) -> str:
        """Everything still in the chat, as the person could scroll back and read it."""
        return "\n".join(m.raw_text or "" for m in self.fake.visible(self.chat_id))

    async def open_procedure(self, code: str) -> None:
        await self.press("📝 Apply")
        await self.expect("Choose a category")
        await self.press("All procedures")
        listing = await self.expect("Choose a procedure")
        while True:
            for text in listing.buttons:
                if text.startswith(f"{code} · "):
                    await self.press(text, listing)
                    await self.expect_button("Fill in the application")
                    return
            await self.press("▶", listing)
            listing = await self.expect("Choose a procedure")

    async def apply_for_residence_certificate(self, purpose: str = "For the bank") -> str:
        """Procedure 1.3.4: purpose, copies, delivery; returns the registration number."""
        await self.open_procedure("1.3.4")
        await self.press("Fill in the application")
        await self.expect("Step 1 of 3")
        await self.say(purpose)
        await self.expect("Step 2 of 3")
        await self.say("2")
        await self.expect("Step 3 of 3")
        await self.press(self.last_bot_buttons()[0])
        await self.expect("Check your application")
        await self.press("Submit")
        registered = await self.expect("is registered")
        return registered.text.split("No. ")[1].split(" ")[0]

    def last_bot_buttons(self) -> list[str]:
        return self.fake.last_bot_message(self.chat_id).buttons

    async def choose_english(self) -> None:
        await self.say("/start")
        await self.expect("Choose your language")
        await self.press("English")
        await self.expect("Sign in")

    async def sign_in(self, identifier: str, password: str) -> None:
        await self.press("🔑 Sign in")
        await self.expect("unique identifier")
        await self.say(identifier)
        await self.expect("password")
        await self.say(password)

    async def first_sign_in(self, identifier: str, temporary: str, own: str) -> None:
        await self.sign_in(identifier, temporary)
        await self.expect("Your password is temporary")
        await self.say(own)
        await self.expect("once more")
        await self.say(own)
        await self.expect("You are signed in")


async def signed_in_citizen(
    running_bot: RunningBot,
    citizens,
    user_id: int,
    number: str = "3270287A012PB2",
    phone: str = "+375291234567",
) -> Citizen:
    """A citizen whose identifier was just issued, signed in with an own password, in English."""
    temporary = await running_bot.issue(number, phone)
    citizen: Citizen = citizens(user_id)
    await citizen.choose_english()
    await citizen.first_sign_in(number, temporary, "Minsk2026spring")
    return citizen


@pytest.fixture
def citizens(fake: FakeTelegram):
    def make(user_id: int, language_code: str = "en") -> Citizen:
        return Citizen(
            fake, fake.user(user_id, first_name=f"Citizen{user_id}", language_code=language_code)
        )

    return make
