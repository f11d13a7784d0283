"""Signing in: identifier, password, a password of one's own; signing out (DESIGN §3)."""

import logging
import time
from contextlib import suppress
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import apply
from handlers.callbacks import MenuAction
from handlers.common import IS_COMMAND, NOT_COMMAND, error_text, main_menu, tell
from services import access, staff
from services.access import AccessPolicy
from services.errors import DomainError
from services.identifier import parse
from services.passwords import check_policy, hash_password, verify_password
from services.phones import mask_phone
from services.texts import Translator
from services.throttle import AttemptThrottle
from storage.models import Session, StaffMember

log = logging.getLogger(__name__)

# How long a checked password allows setting one's own without checking again.
VERIFIED_FOR_SECONDS = 600


class SignIn(StatesGroup):
    identifier = State()
    password = State()
    code = State()
    new_password = State()
    repeat_password = State()


SECRET_STATES = (SignIn.password, SignIn.code, SignIn.new_password, SignIn.repeat_password)


async def sign_in_button(
    query: CallbackQuery,
    state: FSMContext,
    citizen_session: Session | None,
    staff_member: StaffMember | None,
) -> None:
    if citizen_session is not None:
        await tell(query, _("You are already signed in."), reply_markup=main_menu(signed_in=True))
        return
    await ask_identifier(query, state, staff_member)


async def sign_in_command(
    message: Message,
    state: FSMContext,
    citizen_session: Session | None,
    staff_member: StaffMember | None,
) -> None:
    if citizen_session is not None:
        await message.answer(
            _("You are already signed in."), reply_markup=main_menu(signed_in=True)
        )
        return
    await ask_identifier(message, state, staff_member)


async def ask_identifier(
    event: Message | CallbackQuery, state: FSMContext, staff_member: StaffMember | None = None
) -> None:
    if staff_member is not None:
        await tell(
            event,
            _(
                "This Telegram account is a staff account and cannot sign in as a citizen. "
                "Use your personal account for that."
            ),
        )
        return
    await state.set_state(SignIn.identifier)
    await state.update_data(sign_in={})
    await tell(
        event,
        _(
            "Send your unique identifier: the personal number from your passport or ID card, "
            "14 characters, for example 3270287A012PB2."
        ),
    )


async def identifier_received(message: Message, state: FSMContext) -> None:
    try:
        personal_number = parse(message.text or "")
    except DomainError as error:
        # After a refusal people often send the password again at this step: whatever is
        # not an identifier may be one, so it does not stay in the chat.
        await forget_message(message)
        await message.answer(error_text(error) + "\n" + _("Send the identifier again."))
        return

    await state.update_data(sign_in={"identifier": personal_number.value})
    await state.set_state(SignIn.password)
    await message.answer(
        _("Now send your password. The message with it will be deleted from the chat at once.")
    )


async def password_received(
    message: Message,
    state: FSMContext,
    db: AsyncSession,
    policy: AccessPolicy,
    translator: Translator,
    sign_in_throttle: AttemptThrottle,
    otp_enabled: bool,
) -> None:
    await forget_message(message)
    identifier = (await state.get_data()).get("sign_in", {}).get("identifier")
    if not identifier:
        await ask_identifier(message, state)
        return

    try:
        sign_in_throttle.hit(message.chat.id)
        verified = await access.verify_credentials(
            db, identifier, message.text or "", policy=policy
        )
    except DomainError as error:
        await refuse_sign_in(message, state, error, translator)
        return

    progress = {
        "identifier": identifier,
        "identifier_id": verified.identifier_id,
        "must_change": verified.must_change_password,
        "verified_at": time.time(),
    }
    if otp_enabled:
        await ask_code(message, state, db, translator, progress)
        return
    await after_second_factor(message, state, db, progress)


async def ask_code(
    message: Message,
    state: FSMContext,
    db: AsyncSession,
    translator: Translator,
    progress: dict[str, Any],
) -> None:
    try:
        confirmation_id, phone = await access.send_sign_in_code(
            db, progress["identifier_id"], translator=translator
        )
    except DomainError as error:
        await refuse_sign_in(message, state, error, translator)
        return

    await state.update_data(sign_in={**progress, "confirmation_id": confirmation_id})
    await state.set_state(SignIn.code)
    await message.answer(
        _(
            "We have sent a one-time code by SMS to {phone}. Send it here; the message "
            "will be deleted."
        ).format(phone=mask_phone(phone))
    )


async def code_received(
    message: Message, state: FSMContext, db: AsyncSession, translator: Translator
) -> None:
    await forget_message(message)
    sign_in = await verified_sign_in(message, state)
    if sign_in is None:
        return

    try:
        await access.check_sign_in_code(
            db, sign_in["identifier_id"], sign_in["confirmation_id"], message.text or ""
        )
    except DomainError as error:
        if error.code in ("code_wrong", "code_malformed"):
            await message.answer(error_text(error))
            return
        await refuse_sign_in(message, state, error, translator)
        return
    await after_second_factor(message, state, db, sign_in)


async def after_second_factor(
    message: Message, state: FSMContext, db: AsyncSession, progress: dict[str, Any]
) -> None:
    if not progress["must_change"]:
        await finish_sign_in(message, state, db, progress["identifier_id"])
        return

    await state.update_data(sign_in=progress)
    await state.set_state(SignIn.new_password)
    await message.answer(
        _(
            "Your password is temporary. Come up with your own: at least 8 characters, "
            "letters and digits, not your identifier. Send it now; the message will be "
            "deleted."
        )
    )


async def refuse_sign_in(
    message: Message, state: FSMContext, error: DomainError, translator: Translator
) -> None:
    # The flow stays at the identifier step even after a lock or a block, so that a password
    # sent next is still recognised as one and deleted.
    await state.set_state(SignIn.identifier)
    await state.update_data(sign_in={})
    if error.code in ("code_voided", "code_expired", "code_unknown"):
        await message.answer(
            _(
                "This code no longer works. To sign in again, send your identifier; a new code "
                "will come by SMS."
            )
        )
        return
    if error.code == "credentials_invalid":
        await message.answer(error_text(error) + "\n" + _("Send your identifier again."))
        return
    text = error_text(error, when=translator.format_datetime)
    await message.answer(text, reply_markup=main_menu(signed_in=False))


async def new_password_received(message: Message, state: FSMContext) -> None:
    await forget_message(message)
    sign_in = await verified_sign_in(message, state)
    if sign_in is None:
        return

    password = message.text or ""
    try:
        check_policy(password, identifier=sign_in["identifier"])
    except DomainError as error:
        await message.answer(error_text(error) + "\n" + _("Send another password."))
        return

    # Only a hash waits in the conversation state, which is kept in the database.
    await state.update_data(sign_in={**sign_in, "new_hash": await hash_password(password)})
    await state.set_state(SignIn.repeat_password)
    await message.answer(_("Send the same password once more to confirm it."))


async def password_repeated(message: Message, state: FSMContext, db: AsyncSession) -> None:
    await forget_message(message)
    sign_in = await verified_sign_in(message, state)
    if sign_in is None:
        return

    password = message.text or ""
    if not await verify_password(sign_in.get("new_hash", ""), password):
        await state.set_state(SignIn.new_password)
        await message.answer(_("The passwords differ. Send a new password again."))
        return

    try:
        await access.set_own_password(db, sign_in["identifier_id"], password)
    except DomainError as error:
        await state.set_state(None)
        await message.answer(error_text(error), reply_markup=main_menu(signed_in=False))
        return
    await message.answer(_("Your password is changed. Keep it secret."))
    await finish_sign_in(message, state, db, sign_in["identifier_id"])


async def secret_not_text(message: Message, state: FSMContext) -> None:
    # A caption or a forwarded message may carry the secret too: it goes all the same.
    await forget_message(message)
    if await state.get_state() == SignIn.code.state:
        await message.answer(_("Please send the code from the SMS as a plain text message."))
        return
    await message.answer(_("Please send the password as a plain text message."))


async def identifier_not_text(message: Message) -> None:
    await message.answer(_("Please send the identifier as text."))


async def verified_sign_in(message: Message, state: FSMContext) -> dict[str, Any] | None:
    sign_in = (await state.get_data()).get("sign_in", {})
    verified_at = sign_in.get("verified_at", 0)
    if sign_in.get("identifier_id") and time.time() - verified_at < VERIFIED_FOR_SECONDS:
        return dict(sign_in)

    await state.set_state(None)
    await state.update_data(sign_in={})
    await message.answer(
        _("This step has timed out. Please sign in again."),
        reply_markup=main_menu(signed_in=False),
    )
    return None


async def finish_sign_in(
    message: Message, state: FSMContext, db: AsyncSession, identifier_id: int
) -> None:
    user_id = message.from_user.id if message.from_user else message.chat.id
    member = await staff.staff_member(db, user_id)
    if member is not None:
        # The role may have been granted while this sign-in was under way.
        await state.set_state(None)
        await state.update_data(sign_in={})
        await ask_identifier(message, state, member)
        return
    await access.start_session(
        db, identifier_id, telegram_user_id=user_id, chat_id=message.chat.id
    )
    await state.set_state(None)
    await state.update_data(sign_in={})
    if await apply.resume_draft(message, state, db, identifier_id):
        return
    await message.answer(
        _("You are signed in. What would you like to do?"),
        reply_markup=main_menu(signed_in=True),
    )


async def forget_message(message: Message) -> None:
    """Delete a message that carries a secret; if Telegram refuses, say so."""
    try:
        await message.delete()
    except TelegramBadRequest:
        log.warning("secret message not deleted", extra={"chat_id": message.chat.id})
        with suppress(TelegramBadRequest):
            await message.answer(_("Please delete your message with the password yourself."))


async def sign_out_command(
    message: Message, state: FSMContext, db: AsyncSession, citizen_session: Session | None
) -> None:
    await sign_out(message, state, db, citizen_session)


async def sign_out_button(
    query: CallbackQuery, state: FSMContext, db: AsyncSession, citizen_session: Session | None
) -> None:
    await sign_out(query, state, db, citizen_session)


async def sign_out(
    event: Message | CallbackQuery,
    state: FSMContext,
    db: AsyncSession,
    citizen_session: Session | None,
) -> None:
    # The step ends, the drafts stay: they go on after the citizen signs in again.
    await state.set_state(None)
    await state.update_data(sign_in={})
    if citizen_session is None:
        await tell(event, _("You are not signed in."), reply_markup=main_menu(signed_in=False))
        return
    await access.end_session(db, citizen_session)
    await tell(event, _("You are signed out."), reply_markup=main_menu(signed_in=False))


def create_router() -> Router:
    router = Router(name="sign_in")
    router.message.register(sign_out_command, Command("logout"))
    router.callback_query.register(sign_out_button, MenuAction.filter(F.action == "sign_out"))
    router.callback_query.register(sign_in_button, MenuAction.filter(F.action == "sign_in"))
    router.message.register(sign_in_command, Command("login", "signin"))
    router.message.register(identifier_received, SignIn.identifier, NOT_COMMAND)
    router.message.register(password_received, SignIn.password, NOT_COMMAND)
    router.message.register(code_received, SignIn.code, NOT_COMMAND)
    router.message.register(new_password_received, SignIn.new_password, NOT_COMMAND)
    router.message.register(password_repeated, SignIn.repeat_password, NOT_COMMAND)
    # Other commands pass on to their own routers, whatever the step.
    router.message.register(secret_not_text, StateFilter(*SECRET_STATES), ~IS_COMMAND)
    router.message.register(identifier_not_text, SignIn.identifier, ~IS_COMMAND)
    return router
