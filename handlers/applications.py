"""My applications: the list, one application's card, withdrawal with confirmation."""

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import ApplicationAction, ApplicationsPage, MenuAction
from handlers.common import error_text, main_menu, tell
from handlers.render import application_card, application_line
from services import applications
from services.applications import OPEN_STATUSES
from services.errors import DomainError
from storage.models import Application, Session

APPLICATIONS_PER_PAGE = 10


async def applications_button(
    query: CallbackQuery, db: AsyncSession, citizen_session: Session
) -> None:
    await show_page(query, db, citizen_session, page=0)


async def applications_command(
    message: Message, db: AsyncSession, citizen_session: Session
) -> None:
    await show_page(message, db, citizen_session, page=0)


async def applications_page(
    query: CallbackQuery,
    callback_data: ApplicationsPage,
    db: AsyncSession,
    citizen_session: Session,
) -> None:
    await show_page(query, db, citizen_session, page=callback_data.page)


async def show_page(
    event: Message | CallbackQuery, db: AsyncSession, citizen_session: Session, *, page: int
) -> None:
    items, total = await applications.list_applications(
        db,
        citizen_session.identifier_id,
        offset=max(page, 0) * APPLICATIONS_PER_PAGE,
        limit=APPLICATIONS_PER_PAGE,
    )
    last_page = max(0, -(-total // APPLICATIONS_PER_PAGE) - 1)
    if page > last_page or page < 0:
        # An old or forged page number: show the nearest page that exists.
        page = min(max(page, 0), last_page)
        items, total = await applications.list_applications(
            db,
            citizen_session.identifier_id,
            offset=page * APPLICATIONS_PER_PAGE,
            limit=APPLICATIONS_PER_PAGE,
        )
    if total == 0:
        await tell(
            event, _("You have no applications yet."), reply_markup=main_menu(signed_in=True)
        )
        return

    today = datetime.now(UTC).date()
    locale = get_i18n().current_locale
    builder = InlineKeyboardBuilder()
    for application in items:
        builder.button(
            text=application_line(application, locale, today=today),
            callback_data=ApplicationAction(
                action="open", application_id=application.id, page=page
            ),
        )
    builder.adjust(1)
    navigation = InlineKeyboardBuilder()
    pages = -(-total // APPLICATIONS_PER_PAGE)
    if page > 0:
        navigation.button(text="◀", callback_data=ApplicationsPage(page=page - 1))
    if page < pages - 1:
        navigation.button(text="▶", callback_data=ApplicationsPage(page=page + 1))
    navigation.button(text=_("Main menu"), callback_data=MenuAction(action="menu"))
    builder.attach(navigation)

    text = _("Your applications, newest first (page {page} of {pages}, {total} in all):").format(
        page=min(page + 1, pages), pages=pages, total=total
    )
    await tell(event, text, reply_markup=builder.as_markup())


async def open_application(
    query: CallbackQuery,
    callback_data: ApplicationAction,
    db: AsyncSession,
    citizen_session: Session,
) -> None:
    try:
        application = await applications.get_application(
            db, citizen_session.identifier_id, callback_data.application_id
        )
    except DomainError as error:
        await query.answer(error_text(error), show_alert=True)
        return

    builder = InlineKeyboardBuilder()
    if application.status in OPEN_STATUSES:
        builder.button(
            text=_("Withdraw the application"),
            callback_data=ApplicationAction(action="withdraw", application_id=application.id),
        )
    builder.button(
        text=_("Back to my applications"), callback_data=ApplicationsPage(page=callback_data.page)
    )
    builder.adjust(1)
    card = application_card(application, get_i18n().current_locale, today=datetime.now(UTC).date())
    if isinstance(query.message, Message):
        await send_attachments(query.message, application)
    await tell(query, card, reply_markup=builder.as_markup())


async def send_attachments(message: Message, application: Application) -> None:
    """The files attached to the application, sent back as they came (Telegram keeps them)."""
    for field in application.procedure.fields:
        if field["type"] != "attachment":
            continue
        for item in application.answers.get(field["name"]) or []:
            if item.get("kind") == "photo":
                await message.answer_photo(item["file_id"])
            else:
                await message.answer_document(item["file_id"])


async def ask_withdrawal(
    query: CallbackQuery,
    callback_data: ApplicationAction,
    db: AsyncSession,
    citizen_session: Session,
) -> None:
    try:
        application = await applications.get_application(
            db, citizen_session.identifier_id, callback_data.application_id
        )
        applications.check_withdrawable(application)
    except DomainError as error:
        await query.answer(error_text(error), show_alert=True)
        return

    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, withdraw"),
        callback_data=ApplicationAction(action="confirm", application_id=application.id),
    )
    builder.button(text=_("No, keep it"), callback_data=ApplicationsPage(page=0))
    builder.adjust(1)
    text = _("Please confirm: withdraw application No. {number}?").format(
        number=application.registration_number
    )
    await tell(query, text, reply_markup=builder.as_markup())


async def confirm_withdrawal(
    query: CallbackQuery,
    callback_data: ApplicationAction,
    db: AsyncSession,
    citizen_session: Session,
) -> None:
    try:
        application = await applications.withdraw(
            db, citizen_session.identifier_id, callback_data.application_id
        )
    except DomainError as error:
        await query.answer(error_text(error), show_alert=True)
        return

    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)
    text = _("Application No. {number} is withdrawn.").format(
        number=application.registration_number
    )
    await tell(query, text, reply_markup=main_menu(signed_in=True))


def create_router() -> Router:
    router = Router(name="applications")
    router.callback_query.register(
        applications_button, MenuAction.filter(F.action == "applications")
    )
    router.message.register(applications_command, Command("applications"))
    router.callback_query.register(applications_page, ApplicationsPage.filter())
    router.callback_query.register(open_application, ApplicationAction.filter(F.action == "open"))
    router.callback_query.register(
        ask_withdrawal, ApplicationAction.filter(F.action == "withdraw")
    )
    router.callback_query.register(
        confirm_withdrawal, ApplicationAction.filter(F.action == "confirm")
    )
    return router
