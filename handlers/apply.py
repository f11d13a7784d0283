"""Applying: choose a procedure, answer its form step by step, review, submit."""

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import FormAction, MenuAction, ProcedureAction, ProcedurePage
from handlers.common import IS_COMMAND, NOT_COMMAND, answer_long, error_text, main_menu, tell
from handlers.render import answers_text, procedure_button, procedure_card, question_text
from services import applications, catalog
from services.catalog import localised
from services.errors import DomainError
from services.forms import check_answer, check_attachment, check_choice
from storage.models import Procedure, Session

log = logging.getLogger(__name__)

PROCEDURES_PER_PAGE = 8
MAX_DRAFTS = 5

# What a button answers when it belongs to another field than the one being asked.
_NOT_THIS_FIELD = object()


class Form(StatesGroup):
    answering = State()
    review = State()


class Catalog(StatesGroup):
    search = State()


def locale() -> str:
    return get_i18n().current_locale


async def apply_button(
    query: CallbackQuery, db: AsyncSession, state: FSMContext, citizen_session: Session
) -> None:
    """The catalog's front page: drafts to go on with, categories, and a search."""
    builder = InlineKeyboardBuilder()
    for draft in await drafts_of(state, citizen_session.identifier_id):
        try:
            procedure = await catalog.get_procedure(db, draft["procedure_id"])
        except DomainError:
            continue
        builder.button(
            text=_("📄 Continue: {procedure} ({done}/{total})").format(
                procedure=procedure_button(procedure, locale()),
                done=len(draft["answers"]),
                total=len(procedure.fields),
            ),
            callback_data=FormAction(token=draft["token"], action="resume"),
        )
    for category in await catalog.categories(db):
        title = localised(category.title, locale())
        builder.button(
            text=f"{title} ({category.size})",
            callback_data=ProcedurePage(category=category.id, page=0),
        )
    builder.button(text=_("All procedures"), callback_data=ProcedurePage(page=0))
    builder.button(text=_("Main menu"), callback_data=MenuAction(action="menu"))
    builder.adjust(1)
    if await state.get_state() is None:
        await state.set_state(Catalog.search)
    await tell(
        query,
        _(
            "Choose a category, or send words from the name of a procedure or its item "
            "number (for example 13.2) to search."
        ),
        reply_markup=builder.as_markup(),
    )


async def procedures_page(query: CallbackQuery, callback_data: ProcedurePage, db: AsyncSession):
    procedures = await catalog.current_procedures(db)
    if callback_data.category:
        procedures = [p for p in procedures if p.category == callback_data.category]
    await show_procedures(
        query, procedures, page=callback_data.page, category=callback_data.category
    )


async def search_sent(message: Message, db: AsyncSession) -> None:
    found = await catalog.search_procedures(db, message.text or "")
    if not found:
        await message.answer(
            _("Nothing found. Try other words or an item number, or choose a category."),
        )
        return
    await show_procedures(message, found, page=0, category="", searched=True)


async def show_procedures(
    event: Message | CallbackQuery,
    procedures: list[Procedure],
    *,
    page: int,
    category: str,
    searched: bool = False,
) -> None:
    pages = max(1, -(-len(procedures) // PROCEDURES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = procedures[page * PROCEDURES_PER_PAGE : (page + 1) * PROCEDURES_PER_PAGE]

    builder = InlineKeyboardBuilder()
    for procedure in shown:
        builder.button(
            text=procedure_button(procedure, locale()),
            callback_data=ProcedureAction(action="card", procedure_id=procedure.id),
        )
    builder.adjust(1)
    navigation = InlineKeyboardBuilder()
    if page > 0:
        navigation.button(text="◀", callback_data=ProcedurePage(page=page - 1, category=category))
    if page < pages - 1:
        navigation.button(text="▶", callback_data=ProcedurePage(page=page + 1, category=category))
    navigation.button(text=_("Main menu"), callback_data=MenuAction(action="menu"))
    builder.attach(navigation)

    if searched:
        text = _("Found ({count}):").format(count=len(procedures))
    else:
        text = _("Choose a procedure (page {page} of {pages}):").format(page=page + 1, pages=pages)
    await tell(event, text, reply_markup=builder.as_markup())


async def procedure_chosen(
    query: CallbackQuery, callback_data: ProcedureAction, db: AsyncSession
) -> None:
    try:
        procedure = await catalog.get_procedure(db, callback_data.procedure_id)
    except DomainError as error:
        await query.answer(error_text(error), show_alert=True)
        return

    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Fill in the application"),
        callback_data=ProcedureAction(action="fill", procedure_id=procedure.id),
    )
    builder.button(
        text=_("Back to the list"),
        callback_data=ProcedurePage(page=0, category=procedure.category),
    )
    builder.adjust(1)
    await tell(query, procedure_card(procedure, locale()), reply_markup=builder.as_markup())


async def start_form(
    query: CallbackQuery,
    callback_data: ProcedureAction,
    state: FSMContext,
    db: AsyncSession,
    citizen_session: Session,
) -> None:
    try:
        procedure = await catalog.get_procedure(db, callback_data.procedure_id)
    except DomainError as error:
        await query.answer(error_text(error), show_alert=True)
        return
    if not procedure.is_current:
        await query.answer(error_text(DomainError("procedure_not_found")), show_alert=True)
        return

    draft = {
        "token": secrets.token_urlsafe(9),
        "identifier_id": citizen_session.identifier_id,
        "procedure_id": procedure.id,
        "index": 0,
        "answers": {},
    }
    await park_current_draft(state)
    await state.update_data(draft=draft)
    await state.set_state(Form.answering)
    await query.answer()
    await ask_field(query.message, draft, procedure.fields)  # type: ignore[arg-type]
    log.info("form started", extra={"procedure": procedure.code})


async def park_current_draft(state: FSMContext) -> None:
    """Keep the form in progress aside, so that a citizen may have several drafts."""
    data = await state.get_data()
    current, parked = data.get("draft"), dict(data.get("drafts") or {})
    if current and (current["answers"] or current["index"]):
        parked[current["token"]] = current
        # The oldest go first beyond the limit; a draft is cheap to start again.
        for token in list(parked)[:-MAX_DRAFTS]:
            del parked[token]
    await state.update_data(draft=None, drafts=parked)


async def drafts_of(state: FSMContext, identifier_id: int) -> list[dict[str, Any]]:
    """The citizen's drafts, the one in progress first."""
    data = await state.get_data()
    found = [data["draft"]] if data.get("draft") else []
    found += list((data.get("drafts") or {}).values())[::-1]
    return [draft for draft in found if draft.get("identifier_id") == identifier_id]


async def resume_pressed(
    query: CallbackQuery,
    callback_data: FormAction,
    state: FSMContext,
    db: AsyncSession,
    citizen_session: Session,
) -> None:
    data = await state.get_data()
    parked = dict(data.get("drafts") or {})
    current = data.get("draft")
    if current and current["token"] == callback_data.token:
        chosen = current
    else:
        chosen = parked.pop(callback_data.token, None)
        if chosen is None or chosen.get("identifier_id") != citizen_session.identifier_id:
            await stale_button(query)
            return
        await state.update_data(drafts=parked)
        await park_current_draft(state)
        await state.update_data(draft=chosen)
    await query.answer()
    if isinstance(query.message, Message):
        await continue_draft(query.message, state, db, chosen)


async def continue_draft(
    message: Message, state: FSMContext, db: AsyncSession, draft: dict[str, Any]
) -> None:
    procedure = await draft_procedure(message, state, db, draft)
    if procedure is None:
        return
    if draft["index"] < len(procedure.fields):
        await state.set_state(Form.answering)
        await ask_field(message, draft, procedure.fields)
    else:
        await state.set_state(Form.review)
        await show_review(message, draft, procedure.fields)


async def ask_field(message: Message, draft: dict[str, Any], fields: list[dict[str, Any]]):
    index = draft["index"]
    field = fields[index]
    await message.answer(
        question_text(field, index, len(fields), locale()),
        reply_markup=field_keyboard(field, draft),
    )


async def resume_draft(
    message: Message, state: FSMContext, db: AsyncSession, identifier_id: int
) -> bool:
    """Go on with the citizen's unfinished form after signing in again; False if none."""
    draft = await current_draft(state)
    if not draft or draft.get("identifier_id") != identifier_id:
        return False
    procedure = await draft_procedure(message, state, db, draft)
    if procedure is None:
        return True

    await message.answer(_("You have an unfinished application. Let us go on with it."))
    await continue_draft(message, state, db, draft)
    return True


def field_keyboard(field: dict[str, Any], draft: dict[str, Any]) -> InlineKeyboardMarkup:
    token = draft["token"]
    builder = InlineKeyboardBuilder()
    if field["type"] == "choice":
        for index, option in enumerate(field["options"]):
            builder.button(
                text=localised(option["label"], locale()),
                callback_data=FormAction(token=token, action="option", index=index),
            )
    elif field["type"] == "yes_no":
        builder.button(text=_("Yes"), callback_data=FormAction(token=token, action="yes"))
        builder.button(text=_("No"), callback_data=FormAction(token=token, action="no"))
    elif field["type"] == "attachment" and draft["answers"].get(field["name"]):
        builder.button(text=_("Done"), callback_data=FormAction(token=token, action="done"))
    if not field.get("required", True):
        builder.button(text=_("Skip"), callback_data=FormAction(token=token, action="skip"))
    if draft["index"] > 0 and not draft.get("editing"):
        builder.button(text=_("◀ Back"), callback_data=FormAction(token=token, action="back"))
    builder.button(text=_("Cancel"), callback_data=FormAction(token=token, action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


async def current_draft(state: FSMContext) -> dict[str, Any] | None:
    return (await state.get_data()).get("draft")


async def text_answer(message: Message, state: FSMContext, db: AsyncSession) -> None:
    draft = await current_draft(state)
    procedure = await draft_procedure(message, state, db, draft)
    if draft is None or procedure is None:
        return

    field = procedure.fields[draft["index"]]
    try:
        value = check_answer(field, message.text or "", today=datetime.now(UTC).date())
    except DomainError as error:
        await message.answer(error_text(error), reply_markup=field_keyboard(field, draft))
        return
    await accept_answer(message, state, draft, procedure.fields, value)


async def file_answer(message: Message, state: FSMContext, db: AsyncSession) -> None:
    draft = await current_draft(state)
    procedure = await draft_procedure(message, state, db, draft)
    if draft is None or procedure is None:
        return

    field = procedure.fields[draft["index"]]
    if field["type"] != "attachment":
        await message.answer(
            _("Please answer with text."), reply_markup=field_keyboard(field, draft)
        )
        return
    attached = list(draft["answers"].get(field["name"], []))
    item = attachment_of(message)
    try:
        check_attachment(item["mime_type"], item["file_size"], len(attached))
    except DomainError as error:
        await message.answer(error_text(error), reply_markup=field_keyboard(field, draft))
        return

    draft["answers"][field["name"]] = [*attached, item]
    await state.update_data(draft=draft)
    await message.answer(
        _("File received ({count}). Send more or press Done.").format(count=len(attached) + 1),
        reply_markup=field_keyboard(field, draft),
    )


def attachment_of(message: Message) -> dict[str, Any]:
    if message.document is not None:
        document = message.document
        return {
            "kind": "document",
            "file_id": document.file_id,
            "file_name": document.file_name,
            "mime_type": document.mime_type,
            "file_size": document.file_size,
        }
    photo = message.photo[-1]  # type: ignore[index]
    return {
        "kind": "photo",
        "file_id": photo.file_id,
        "file_name": None,
        "mime_type": "image/jpeg",
        "file_size": photo.file_size,
    }


async def unexpected_answer(message: Message, state: FSMContext, db: AsyncSession) -> None:
    draft = await current_draft(state)
    procedure = await draft_procedure(message, state, db, draft)
    if draft is None or procedure is None:
        return
    field = procedure.fields[draft["index"]]
    text = (
        _("Please send a document (PDF) or a photo.")
        if field["type"] == "attachment"
        else _("Please answer with text.")
    )
    await message.answer(text, reply_markup=field_keyboard(field, draft))


async def draft_procedure(
    message: Message, state: FSMContext, db: AsyncSession, draft: dict[str, Any] | None
):
    """The draft's procedure; a draft that cannot go on is dropped with an explanation."""
    if draft is not None:
        try:
            return await catalog.get_procedure(db, draft["procedure_id"])
        except DomainError:
            pass
    await state.set_state(None)
    await state.update_data(draft=None)
    await message.answer(
        _("This form can no longer be continued. Please start the application again."),
        reply_markup=main_menu(signed_in=True),
    )
    return None


async def accept_answer(
    message: Message,
    state: FSMContext,
    draft: dict[str, Any],
    fields: list[dict[str, Any]],
    value: Any,
) -> None:
    draft["answers"][fields[draft["index"]]["name"]] = value
    # An answer changed from the review goes straight back to the review.
    draft["index"] = len(fields) if draft.pop("editing", False) else draft["index"] + 1
    await state.update_data(draft=draft)
    if draft["index"] < len(fields):
        await ask_field(message, draft, fields)
        return
    await state.set_state(Form.review)
    await show_review(message, draft, fields)


async def show_review(message: Message, draft: dict[str, Any], fields: list[dict[str, Any]]):
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Submit"), callback_data=FormAction(token=draft["token"], action="submit")
    )
    builder.button(
        text=_("✏️ Change an answer"),
        callback_data=FormAction(token=draft["token"], action="edit_menu"),
    )
    builder.button(
        text=_("Cancel"), callback_data=FormAction(token=draft["token"], action="cancel")
    )
    builder.adjust(1)
    text = (
        _("<b>Check your application</b>")
        + "\n\n"
        + answers_text(fields, draft["answers"], locale())
    )
    await answer_long(message, text, reply_markup=builder.as_markup())


async def back_pressed(
    query: CallbackQuery, callback_data: FormAction, state: FSMContext, db: AsyncSession
) -> None:
    draft = await live_draft(query, callback_data, state, Form.answering)
    if draft is None or draft["index"] == 0:
        await stale_button(query)
        return
    procedure = await catalog.get_procedure(db, draft["procedure_id"])
    draft["index"] -= 1
    await state.update_data(draft=draft)
    await query.answer()
    await drop_keyboard(query)
    await ask_field(query.message, draft, procedure.fields)  # type: ignore[arg-type]


async def edit_menu_pressed(
    query: CallbackQuery, callback_data: FormAction, state: FSMContext, db: AsyncSession
) -> None:
    draft = await live_draft(query, callback_data, state, Form.review)
    if draft is None:
        await stale_button(query)
        return
    procedure = await catalog.get_procedure(db, draft["procedure_id"])
    builder = InlineKeyboardBuilder()
    for index, field in enumerate(procedure.fields):
        label = localised(field["label"], locale())
        builder.button(
            text=label if len(label) <= 60 else label[:59] + "…",
            callback_data=FormAction(token=draft["token"], action="edit", index=index),
        )
    builder.adjust(1)
    await tell(query, _("Which answer do you want to change?"), reply_markup=builder.as_markup())


async def edit_pressed(
    query: CallbackQuery, callback_data: FormAction, state: FSMContext, db: AsyncSession
) -> None:
    draft = await live_draft(query, callback_data, state, Form.review)
    procedure = await catalog.get_procedure(db, draft["procedure_id"]) if draft else None
    if draft is None or procedure is None or not 0 <= callback_data.index < len(procedure.fields):
        await stale_button(query)
        return
    draft["index"], draft["editing"] = callback_data.index, True
    await state.update_data(draft=draft)
    await state.set_state(Form.answering)
    await query.answer()
    await drop_keyboard(query)
    await ask_field(query.message, draft, procedure.fields)  # type: ignore[arg-type]


async def live_draft(
    query: CallbackQuery, callback_data: FormAction, state: FSMContext, expected: State
) -> dict[str, Any] | None:
    """The draft a button belongs to, if it is the current one at the expected step."""
    draft = await current_draft(state)
    if draft is None or draft["token"] != callback_data.token:
        return None
    if await state.get_state() != expected.state:
        return None
    return draft


async def submit_pressed(
    query: CallbackQuery,
    callback_data: FormAction,
    state: FSMContext,
    db: AsyncSession,
    citizen_session: Session,
) -> None:
    draft = await current_draft(state)
    if draft is None or draft["token"] != callback_data.token:
        await already_submitted_or_stale(query, db, citizen_session, callback_data.token)
        return

    try:
        application = await applications.submit(
            db,
            citizen_session.identifier_id,
            draft["procedure_id"],
            draft["answers"],
            submit_token=draft["token"],
        )
    except DomainError as error:
        if error.code == "procedure_revised" and isinstance(query.message, Message):
            await query.answer()
            await drop_keyboard(query)
            await move_to_current_revision(query.message, state, db, draft)
            return
        await query.answer(error_text(error), show_alert=True)
        return

    await state.set_state(None)
    await state.update_data(draft=None)
    await query.answer()
    await drop_keyboard(query)
    await tell(query.message, submitted_text(application), reply_markup=main_menu(signed_in=True))


async def move_to_current_revision(
    message: Message, state: FSMContext, db: AsyncSession, draft: dict[str, Any]
) -> None:
    """The catalog changed under the draft: keep the answers that fit, ask what is new."""
    old = await catalog.get_procedure(db, draft["procedure_id"])
    new = await catalog.current_revision(db, old.code)
    if new is None:
        await state.set_state(None)
        await state.update_data(draft=None)
        await message.answer(
            error_text(DomainError("procedure_not_found")), reply_markup=main_menu(signed_in=True)
        )
        return

    draft["answers"], draft["index"] = catalog.carry_answers(draft["answers"], old, new)
    draft["procedure_id"] = new.id
    await state.update_data(draft=draft)
    await message.answer(
        error_text(DomainError("procedure_revised"))
        + " "
        + _("Your answers that still apply are kept; please check the form again.")
    )
    if draft["index"] < len(new.fields):
        await state.set_state(Form.answering)
        await ask_field(message, draft, new.fields)
    else:
        await state.set_state(Form.review)
        await show_review(message, draft, new.fields)


def submitted_text(application: Any) -> str:
    return _(
        "Your application No. {number} is registered. The decision is due by {deadline}. "
        "You will be notified here."
    ).format(
        number=application.registration_number,
        deadline=application.deadline.strftime("%d.%m.%Y") if application.deadline else "—",
    )


async def already_submitted_or_stale(
    query: CallbackQuery, db: AsyncSession, citizen_session: Session, token: str
) -> None:
    application = await applications.find_submitted(db, citizen_session.identifier_id, token)
    if application is None:
        await stale_button(query)
        return
    await query.answer(
        _("Already submitted: application No. {number}.").format(
            number=application.registration_number
        ),
        show_alert=True,
    )


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is out of date. Please use the latest message."), show_alert=True
    )


async def drop_keyboard(query: CallbackQuery) -> None:
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


async def cancel_pressed(query: CallbackQuery, callback_data: FormAction, state: FSMContext):
    draft = await current_draft(state)
    if draft is None or draft["token"] != callback_data.token:
        await stale_button(query)
        return
    await state.set_state(None)
    await state.update_data(draft=None)
    await query.answer()
    await drop_keyboard(query)
    await tell(
        query.message, _("The application is cancelled."), reply_markup=main_menu(signed_in=True)
    )


async def form_button(
    query: CallbackQuery, callback_data: FormAction, state: FSMContext, db: AsyncSession
) -> None:
    draft = await live_draft(query, callback_data, state, Form.answering)
    if draft is None:
        await stale_button(query)
        return
    procedure = await catalog.get_procedure(db, draft["procedure_id"])
    field = procedure.fields[draft["index"]]

    value = button_value(field, callback_data, draft["answers"].get(field["name"]))
    if value is _NOT_THIS_FIELD:
        await stale_button(query)
        return
    await query.answer()
    await drop_keyboard(query)
    await accept_answer(query.message, state, draft, procedure.fields, value)  # type: ignore[arg-type]


def button_value(field: dict[str, Any], callback_data: FormAction, attached: Any) -> Any:
    """The answer a button gives to the current field, or _NOT_THIS_FIELD if it is foreign."""
    action, kind = callback_data.action, field["type"]
    if (
        action == "option"
        and kind == "choice"
        and 0 <= callback_data.index < len(field["options"])
    ):
        return check_choice(field, field["options"][callback_data.index]["value"])
    if action in ("yes", "no") and kind == "yes_no":
        return action == "yes"
    if action == "skip" and not field.get("required", True):
        return None
    if action == "done" and kind == "attachment" and attached:
        return attached
    return _NOT_THIS_FIELD


def create_router() -> Router:
    router = Router(name="apply")
    router.callback_query.register(apply_button, MenuAction.filter(F.action == "apply"))
    router.callback_query.register(procedures_page, ProcedurePage.filter())
    router.message.register(search_sent, Catalog.search, NOT_COMMAND)
    router.callback_query.register(procedure_chosen, ProcedureAction.filter(F.action == "card"))
    router.callback_query.register(start_form, ProcedureAction.filter(F.action == "fill"))
    router.message.register(text_answer, Form.answering, NOT_COMMAND)
    router.message.register(file_answer, Form.answering, F.document | F.photo)
    router.message.register(unexpected_answer, Form.answering, ~IS_COMMAND)
    router.callback_query.register(submit_pressed, FormAction.filter(F.action == "submit"))
    router.callback_query.register(cancel_pressed, FormAction.filter(F.action == "cancel"))
    router.callback_query.register(resume_pressed, FormAction.filter(F.action == "resume"))
    router.callback_query.register(back_pressed, FormAction.filter(F.action == "back"))
    router.callback_query.register(edit_menu_pressed, FormAction.filter(F.action == "edit_menu"))
    router.callback_query.register(edit_pressed, FormAction.filter(F.action == "edit"))
    router.callback_query.register(form_button, FormAction.filter())
    return router
