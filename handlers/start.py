"""Greeting, language, help and the main menu; the bot's word to a group it joins."""

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.filters.chat_member_updated import JOIN_TRANSITION, ChatMemberUpdatedFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ChatMemberUpdated, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import LanguageChoice, MenuAction
from handlers.common import menu_keyboard_for, tell
from services import people

LANGUAGE_NAMES = {"ru": "Русский", "be": "Беларуская", "en": "English"}


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageChoice(locale=locale))
    return builder.as_markup()


def help_text() -> str:
    return _(
        "<b>What is the unique identifier?</b>\n"
        "It is your personal number from your passport or ID card (14 characters, for "
        "example 3270287A012PB2). Together with a password it opens the portal's "
        "electronic services for you: applications for administrative procedures, "
        "decisions and notifications.\n\n"
        "<b>How to get it.</b> Apply in writing at any one-window service and bring your "
        "identity document and mobile phone. The clerk issues the identifier, and a "
        "temporary password comes to you by SMS. At first sign-in you replace it with "
        "your own.\n\n"
        "<b>How to refuse it.</b> Apply in writing at the one-window service to block the "
        "identifier. While it is blocked there is no electronic access; unblocking is "
        "also done at the one window.\n\n"
        "Commands: /menu, /language, /logout, /help."
    )


async def start(message: Message, state: FSMContext, **data: Any) -> None:
    await state.set_state(None)
    if data.get("chosen_locale") is None:
        await message.answer(
            "Выберыце мову · Выберите язык · Choose your language",
            reply_markup=language_keyboard(),
        )
        return
    await show_menu(message, data)


async def menu_command(message: Message, state: FSMContext, **data: Any) -> None:
    await state.set_state(None)
    await show_menu(message, data)


async def menu_button(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    await state.set_state(None)
    await show_menu(query, data)


async def show_menu(event: Message | CallbackQuery, data: dict[str, Any]) -> None:
    if data.get("citizen_session") is not None:
        text = _("Main menu. What would you like to do?")
    else:
        text = _(
            "Welcome to the unified portal of electronic services. Sign in with your "
            "unique identifier and password to apply for administrative procedures."
        )
    await tell(event, text, reply_markup=menu_keyboard_for(data))


async def help_command(message: Message, **data: Any) -> None:
    await message.answer(help_text(), reply_markup=menu_keyboard_for(data))


async def help_button(query: CallbackQuery, **data: Any) -> None:
    await tell(query, help_text(), reply_markup=menu_keyboard_for(data))


async def language_command(message: Message) -> None:
    await message.answer(_("Choose your language"), reply_markup=language_keyboard())


async def language_button(query: CallbackQuery) -> None:
    await tell(query, _("Choose your language"), reply_markup=language_keyboard())


async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    db: AsyncSession,
    i18n: I18n,
    **data: Any,
) -> None:
    await people.choose_locale(db, query.from_user.id, callback_data.locale)
    data["chosen_locale"] = callback_data.locale
    with i18n.use_locale(callback_data.locale):
        await query.answer(_("Language saved: English."))
        await show_menu(query.message if isinstance(query.message, Message) else query, data)


async def added_to_group(event: ChatMemberUpdated) -> None:
    if event.chat.type == "private":
        return
    await event.bot.send_message(  # type: ignore[union-attr]
        event.chat.id, _("I work only in private chats. Please write to me directly.")
    )


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(menu_command, Command("menu"))
    router.callback_query.register(menu_button, MenuAction.filter(F.action == "menu"))
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, MenuAction.filter(F.action == "help"))
    router.message.register(language_command, Command("language"))
    router.callback_query.register(language_button, MenuAction.filter(F.action == "language"))
    router.callback_query.register(
        language_chosen, LanguageChoice.filter(F.locale.in_(LANGUAGE_NAMES))
    )
    router.my_chat_member.register(
        added_to_group, ChatMemberUpdatedFilter(member_status_changed=JOIN_TRANSITION)
    )
    return router
