"""The personal cabinet: profile, notifications, password change, blocking one's identifier."""

import time
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import MenuAction
from handlers.common import IS_COMMAND, NOT_COMMAND, error_text, escape, main_menu, tell
from handlers.render import notification_text
from handlers.sign_in import SignIn, forget_message
from services import cabinet
from services.access import AccessPolicy
from services.errors import DomainError
from services.texts import Translator
from storage.models import Session


class CabinetAction(CallbackData, prefix="c"):
    action: str  # "notifications", "password", "block", "block_sure"


class Cabinet(StatesGroup):
    current_password = State()
    block_password = State()


def cabinet_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔔 Notifications"), callback_data=CabinetAction(action="notifications"))
    builder.button(text=_("🔑 Change password"), callback_data=CabinetAction(action="password"))
    builder.button(text=_("⛔ Block my identifier"), callback_data=CabinetAction(action="block"))
    builder.button(text=_("🌐 Language"), callback_data=MenuAction(action="language"))
    builder.button(text=_("🚪 Sign out"), callback_data=MenuAction(action="sign_out"))
    builder.button(text=_("Main menu"), callback_data=MenuAction(action="menu"))
    builder.adjust(1)
    return builder.as_markup()


async def show_cabinet(
    event: Message | CallbackQuery,
    db: AsyncSession,
    citizen_session: Session,
    translator: Translator,
) -> None:
    holder = await cabinet.profile(db, citizen_session.identifier_id)
    text = "\n".join(
        [
            _("<b>Personal cabinet</b>"),
            _("Name: {name}").format(name=escape(holder.full_name)),
            _("Unique identifier: {number}").format(number=holder.personal_number),
            _("Phone: {phone}").format(phone=holder.phone),
            _("Issued: {day}").format(day=translator.format_datetime(holder.issued_at)[:10]),
        ]
    )
    await tell(event, text, reply_markup=cabinet_keyboard())


async def show_notifications(
    query: CallbackQuery, db: AsyncSession, citizen_session: Session, translator: Translator
) -> None:
    items = await cabinet.recent_notifications(db, citizen_session.identifier_id)
    if not items:
        await tell(query, _("You have no notifications yet."), reply_markup=cabinet_keyboard())
        return
    lines = [_("<b>Notifications, newest first</b>")]
    for item in items:
        when = translator.format_datetime(item.created_at)
        lines.append(f"{when} — {notification_text(item.kind, item.params)}")
    await tell(query, "\n\n".join(lines), reply_markup=cabinet_keyboard())


async def ask_current_password(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(Cabinet.current_password)
    await tell(
        query,
        _(
            "To change the password, first send your current password. The message will be "
            "deleted."
        ),
    )


async def current_password_received(
    message: Message,
    state: FSMContext,
    db: AsyncSession,
    citizen_session: Session,
    policy: AccessPolicy,
) -> None:
    await forget_message(message)
    try:
        identifier = await cabinet.confirm_password(
            db, citizen_session.identifier_id, message.text or "", policy=policy
        )
    except DomainError as error:
        await state.set_state(None)
        await message.answer(password_error(error), reply_markup=cabinet_keyboard())
        return

    # From here the sign-in's own steps take the new password twice and sign in again,
    # since a password change ends every session.
    progress: dict[str, Any] = {
        "identifier": identifier,
        "identifier_id": citizen_session.identifier_id,
        "must_change": True,
        "verified_at": time.time(),
    }
    await state.update_data(sign_in=progress)
    await state.set_state(SignIn.new_password)
    await message.answer(
        _(
            "Now send the new password: at least 8 characters, letters and digits, not your "
            "identifier. The message will be deleted."
        )
    )


async def ask_block(query: CallbackQuery) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, block it"), callback_data=CabinetAction(action="block_sure"))
    builder.button(text=_("No"), callback_data=MenuAction(action="menu"))
    builder.adjust(1)
    await tell(
        query,
        _(
            "Blocking the identifier closes all electronic access: you will be signed out "
            "everywhere and cannot sign in, apply or receive notifications here. Only the "
            "one-window service can unblock it, on a written request. Block it?"
        ),
        reply_markup=builder.as_markup(),
    )


async def ask_block_password(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(Cabinet.block_password)
    await tell(
        query,
        _(
            "Last step: send your password to block the identifier, or /menu to keep it. "
            "The message will be deleted."
        ),
    )


async def block_password_received(
    message: Message,
    state: FSMContext,
    db: AsyncSession,
    citizen_session: Session,
    policy: AccessPolicy,
) -> None:
    await forget_message(message)
    await state.set_state(None)
    try:
        await cabinet.block_own_identifier(
            db, citizen_session.identifier_id, message.text or "", policy=policy
        )
    except DomainError as error:
        await message.answer(password_error(error), reply_markup=cabinet_keyboard())
        return
    await message.answer(
        _(
            "Your unique identifier is blocked and every session has ended. To unblock it, "
            "apply in writing at any one-window service with your identity document."
        ),
        reply_markup=main_menu(signed_in=False),
    )


def password_error(error: DomainError) -> str:
    """Here only the password was asked, so a wrong one is called just that."""
    if error.code == "credentials_invalid":
        return _("Wrong password.")
    return error_text(error)


async def secret_not_text(message: Message) -> None:
    await forget_message(message)
    await message.answer(_("Please send the password as a plain text message."))


def create_router() -> Router:
    router = Router(name="cabinet")
    router.message.register(show_cabinet, Command("cabinet"))
    router.callback_query.register(show_cabinet, MenuAction.filter(F.action == "cabinet"))
    router.callback_query.register(
        show_notifications, CabinetAction.filter(F.action == "notifications")
    )
    router.callback_query.register(
        ask_current_password, CabinetAction.filter(F.action == "password")
    )
    router.callback_query.register(ask_block, CabinetAction.filter(F.action == "block"))
    router.callback_query.register(
        ask_block_password, CabinetAction.filter(F.action == "block_sure")
    )
    router.message.register(current_password_received, Cabinet.current_password, NOT_COMMAND)
    router.message.register(block_password_received, Cabinet.block_password, NOT_COMMAND)
    router.message.register(secret_not_text, Cabinet.current_password, ~IS_COMMAND)
    router.message.register(secret_not_text, Cabinet.block_password, ~IS_COMMAND)
    return router
