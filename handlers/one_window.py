"""The one-window clerk's wizard: written requests to issue, block, unblock, change phone.

Only staff with the operator role see any of it: for everyone else the router's filter
fails and the update goes on to the other routers, as if these commands did not exist.
"""

import logging
import secrets
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import OneWindowAction, OneWindowStart
from handlers.common import IS_COMMAND, NOT_COMMAND, error_text, escape, tell
from services import one_window, phone_confirmation
from services.errors import DomainError
from services.forms import check_answer
from services.identifier import mask
from services.phones import mask_phone
from services.staff import can_serve_one_window
from services.texts import N_, Translator
from storage.models import StaffMember

log = logging.getLogger(__name__)

# The whole request being filled in lives under this one key of the conversation data.
WIZARD_KEY = "one_window"

# Each kind of request is also a command: /issue, /block, /unblock, /change_phone.
KINDS = ("issue", "block", "unblock", "change_phone")
# Requests that need a phone confirmed by a code the citizen reads out.
PHONE_KINDS = frozenset({"issue", "change_phone"})

APPLICANT_STEPS = (
    "personal_number",
    "full_name",
    "birth_date",
    "sex",
    "document_kind",
    "document_number",
    "issued_on",
    "expires_on",
    "issuing_body",
)
# Typed answers, checked as form fields; the rules themselves are the service's to apply.
TEXT_FIELDS: dict[str, dict[str, Any]] = {
    "personal_number": {"type": "personal_number"},
    "full_name": {"type": "text", "max_length": 200},
    "birth_date": {"type": "date", "past_only": True},
    "document_number": {"type": "text", "max_length": 32},
    "issued_on": {"type": "date"},
    "expires_on": {"type": "date"},
    "issuing_body": {"type": "text", "max_length": 200},
    "phone": {"type": "phone"},
}
DATE_STEPS = frozenset({"birth_date", "issued_on", "expires_on"})
BUTTON_STEPS: dict[str, tuple[str, ...]] = {
    "sex": ("M", "F"),
    "document_kind": one_window.DOCUMENT_KINDS,
}

TITLES = {
    "issue": N_("Issue of an identifier"),
    "block": N_("Blocking of an identifier"),
    "unblock": N_("Unblocking of an identifier"),
    "change_phone": N_("Change of the phone number"),
}
MENU_BUTTONS = {
    "issue": N_("Issue"),
    "block": N_("Block"),
    "unblock": N_("Unblock"),
    "change_phone": N_("Change phone"),
}
QUESTIONS = {
    "personal_number": N_(
        "The personal number from the identity document (14 characters, for example "
        "3270287A012PB2):"
    ),
    "full_name": N_("Full name, as in the document:"),
    "birth_date": N_("Date of birth (DD.MM.YYYY):"),
    "sex": N_("Sex, as in the document:"),
    "document_kind": N_("Kind of identity document:"),
    "document_number": N_("Document number (for example MP1234567):"),
    "issued_on": N_("Date of issue of the document (DD.MM.YYYY):"),
    "expires_on": N_("Date of expiry of the document (DD.MM.YYYY):"),
    "issuing_body": N_("The body that issued the document:"),
}
PHONE_QUESTIONS = {
    "issue": N_(
        "The citizen's mobile phone number (+375 …). The code and the temporary password go there:"
    ),
    "change_phone": N_("The new mobile phone number (+375 …). A code goes there:"),
}
LABELS = {
    "personal_number": N_("Personal number"),
    "full_name": N_("Full name"),
    "birth_date": N_("Date of birth"),
    "sex": N_("Sex"),
    "document_kind": N_("Document"),
    "document_number": N_("Document number"),
    "issued_on": N_("Date of issue"),
    "expires_on": N_("Date of expiry"),
    "issuing_body": N_("Issued by"),
}
PHONE_LABELS = {"issue": N_("Phone"), "change_phone": N_("New phone")}
OPTION_NAMES = {
    "M": N_("Male (M)"),
    "F": N_("Female (F)"),
    "passport": N_("Passport"),
    "id_card": N_("ID card"),
    "residence_permit": N_("Residence permit"),
}
ATTEST_BUTTONS = {
    "issue": N_("✅ The data matches the document — send code to the phone"),
    "change_phone": N_("✅ The data matches the document — send code to the phone"),
    "block": N_("✅ The data matches the document — register the request"),
    "unblock": N_("✅ The data matches the document — register the request"),
}
OUTCOMES = {
    "issue": N_(
        "Identifier issued: request {number}, identifier {identifier}. The temporary "
        "password goes to the citizen by SMS."
    ),
    "block": N_(
        "Identifier blocked: request {number}, identifier {identifier}. Its sessions are "
        "ended and the citizen is notified."
    ),
    "unblock": N_(
        "Identifier unblocked: request {number}, identifier {identifier}. A new temporary "
        "password goes to the citizen by SMS."
    ),
    "change_phone": N_(
        "Phone number changed: request {number}, identifier {identifier}, new number "
        "{phone}. The old number is told of the change by SMS."
    ),
}


class OneWindow(StatesGroup):
    personal_number = State()
    full_name = State()
    birth_date = State()
    sex = State()
    document_kind = State()
    document_number = State()
    issued_on = State()
    expires_on = State()
    issuing_body = State()
    phone = State()
    review = State()
    code = State()


TEXT_STATES = tuple(getattr(OneWindow, step) for step in TEXT_FIELDS)
BUTTON_STATES = tuple(getattr(OneWindow, step) for step in BUTTON_STEPS)


def serves_one_window(event: TelegramObject, staff_member: StaffMember | None = None) -> bool:
    """Checked on every update: the role is read afresh by PersonMiddleware each time."""
    return can_serve_one_window(staff_member)


def steps_of(kind: str) -> tuple[str, ...]:
    return (*APPLICANT_STEPS, "phone") if kind in PHONE_KINDS else APPLICANT_STEPS


def step_of(raw_state: str | None) -> str | None:
    group, _separator, name = (raw_state or "").partition(":")
    return name if group == OneWindow.__name__ and hasattr(OneWindow, name) else None


def today() -> date:
    return datetime.now(UTC).date()


# ---- the menu and the start of a request ------------------------------------------------


def menu_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind in KINDS:
        builder.button(text=_(MENU_BUTTONS[kind]), callback_data=OneWindowStart(kind=kind))
    builder.adjust(2)
    return builder.as_markup()


async def menu_command(message: Message) -> None:
    await message.answer(
        _(
            "<b>One window</b>\nChoose the written request to register. Also: /issue, "
            "/block, /unblock, /change_phone; /cancel stops a request."
        ),
        reply_markup=menu_keyboard(),
    )


async def kind_command(
    message: Message, command: CommandObject, state: FSMContext, staff_member: StaffMember
) -> None:
    await start_request(message, state, command.command, staff_member)


async def kind_button(
    query: CallbackQuery,
    callback_data: OneWindowStart,
    state: FSMContext,
    staff_member: StaffMember,
) -> None:
    await start_request(query, state, callback_data.kind, staff_member)


async def start_request(
    event: Message | CallbackQuery, state: FSMContext, kind: str, staff_member: StaffMember
) -> None:
    """A new request; one in progress is dropped and its buttons go out of date."""
    wizard = {
        "token": secrets.token_urlsafe(9),
        "kind": kind,
        "answers": {},
        "attested": False,
        "confirmation_id": None,
    }
    first = steps_of(kind)[0]
    await state.update_data({WIZARD_KEY: wizard})
    await state.set_state(getattr(OneWindow, first))
    await tell(event, question_text(wizard, first), reply_markup=step_keyboard(wizard, first))
    log.info("one-window request started", extra={"kind": kind, "clerk": staff_member.full_name})


# ---- one question at a time -------------------------------------------------------------


def question_text(wizard: dict[str, Any], step: str) -> str:
    kind, steps = wizard["kind"], steps_of(wizard["kind"])
    header = _("<b>{title}</b> · step {number} of {count}").format(
        title=_(TITLES[kind]), number=steps.index(step) + 1, count=len(steps)
    )
    question = PHONE_QUESTIONS[kind] if step == "phone" else QUESTIONS[step]
    return f"{header}\n{_(question)}"


def step_keyboard(wizard: dict[str, Any], step: str) -> InlineKeyboardMarkup:
    token = wizard["token"]
    builder = InlineKeyboardBuilder()
    for option in BUTTON_STEPS.get(step, ()):
        builder.button(
            text=_(OPTION_NAMES[option]),
            callback_data=OneWindowAction(token=token, action="option", value=option),
        )
    builder.button(text=_("Cancel"), callback_data=OneWindowAction(token=token, action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


async def current_wizard(state: FSMContext) -> dict[str, Any] | None:
    wizard = (await state.get_data()).get(WIZARD_KEY)
    if not isinstance(wizard, dict) or wizard.get("kind") not in KINDS:
        return None
    return wizard


async def text_answer(message: Message, state: FSMContext) -> None:
    wizard = await current_wizard(state)
    step = step_of(await state.get_state())
    if wizard is None or step not in steps_of(wizard["kind"]):
        await request_lost(message, state)
        return

    try:
        value = check_answer(TEXT_FIELDS[step], message.text or "", today=today())
    except DomainError as error:
        await message.answer(
            f"{error_text(error)}\n\n{question_text(wizard, step)}",
            reply_markup=step_keyboard(wizard, step),
        )
        return
    if step == "document_number":
        value = "".join(value.split()).upper()
    await accept_answer(message, state, wizard, step, value)


async def option_pressed(
    query: CallbackQuery, callback_data: OneWindowAction, state: FSMContext
) -> None:
    wizard = await live_wizard(query, callback_data, state, *BUTTON_STATES)
    step = step_of(await state.get_state())
    if wizard is None or step is None:
        return
    if callback_data.value not in BUTTON_STEPS[step]:
        await stale_button(query)
        return

    await query.answer()
    await drop_keyboard(query)
    if isinstance(query.message, Message):
        await accept_answer(query.message, state, wizard, step, callback_data.value)


async def accept_answer(
    message: Message, state: FSMContext, wizard: dict[str, Any], step: str, value: str
) -> None:
    wizard["answers"][step] = value
    await state.update_data({WIZARD_KEY: wizard})
    steps = steps_of(wizard["kind"])
    following = steps.index(step) + 1
    if following < len(steps):
        next_step = steps[following]
        await state.set_state(getattr(OneWindow, next_step))
        await message.answer(
            question_text(wizard, next_step), reply_markup=step_keyboard(wizard, next_step)
        )
        return
    await state.set_state(OneWindow.review)
    await message.answer(review_text(wizard), reply_markup=review_keyboard(wizard))


async def buttons_expected(message: Message, state: FSMContext) -> None:
    wizard = await current_wizard(state)
    step = step_of(await state.get_state())
    if wizard is None or step is None:
        await request_lost(message, state)
        return
    await message.answer(
        f"{error_text(DomainError('choice_invalid'))}\n\n{question_text(wizard, step)}",
        reply_markup=step_keyboard(wizard, step),
    )


async def text_expected(message: Message, state: FSMContext) -> None:
    wizard = await current_wizard(state)
    step = step_of(await state.get_state())
    if wizard is None or step is None:
        await request_lost(message, state)
        return
    if step == "code":
        await message.answer(_("Please send text."), reply_markup=code_keyboard(wizard))
        return
    await message.answer(
        _("Please send text.") + "\n\n" + question_text(wizard, step),
        reply_markup=step_keyboard(wizard, step),
    )


# ---- the review and the clerk's attestation ---------------------------------------------


def shown_value(step: str, value: str) -> str:
    if step in DATE_STEPS:
        return date.fromisoformat(value).strftime("%d.%m.%Y")
    if step in BUTTON_STEPS:
        return _(OPTION_NAMES[value])
    return escape(value)


def review_text(wizard: dict[str, Any]) -> str:
    kind, answers = wizard["kind"], wizard["answers"]
    lines = []
    for step in steps_of(kind):
        label = PHONE_LABELS[kind] if step == "phone" else LABELS[step]
        lines.append(f"{_(label)}: <b>{shown_value(step, answers[step])}</b>")
    return "\n".join(
        [
            _("<b>Check the request: {title}</b>").format(title=_(TITLES[kind])),
            "",
            *lines,
            "",
            _(
                "Compare every line with the identity document. By pressing ✅ you attest "
                "that the data matches the document."
            ),
        ]
    )


def review_keyboard(wizard: dict[str, Any]) -> InlineKeyboardMarkup:
    token = wizard["token"]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_(ATTEST_BUTTONS[wizard["kind"]]),
        callback_data=OneWindowAction(token=token, action="attest"),
    )
    builder.button(text=_("Cancel"), callback_data=OneWindowAction(token=token, action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


async def review_expects_buttons(message: Message, state: FSMContext) -> None:
    wizard = await current_wizard(state)
    if wizard is None:
        await request_lost(message, state)
        return
    await message.answer(
        _("Please use the buttons below the review.") + "\n\n" + review_text(wizard),
        reply_markup=review_keyboard(wizard),
    )


async def attest_pressed(
    query: CallbackQuery,
    callback_data: OneWindowAction,
    state: FSMContext,
    db: AsyncSession,
    staff_member: StaffMember,
    translator: Translator,
    password_ttl: timedelta,
) -> None:
    wizard = await live_wizard(query, callback_data, state, OneWindow.review)
    if wizard is None:
        return

    wizard["attested"] = True
    clerk = one_window.Clerk(staff_member.full_name, translator, password_ttl)
    if wizard["kind"] in PHONE_KINDS:
        try:
            # No code goes out for a request that the code could not save.
            await check_before_code(db, wizard, clerk)
        except DomainError as error:
            await query.answer()
            await drop_keyboard(query)
            await end_request(state)
            if isinstance(query.message, Message):
                await query.message.answer(refusal_text(error))
            return
        await send_code(query, state, wizard, db, staff_member, translator)
        return
    await query.answer()
    await drop_keyboard(query)
    if isinstance(query.message, Message):
        await register(query.message, state, wizard, db, clerk)


# ---- the phone's code -------------------------------------------------------------------


def code_keyboard(wizard: dict[str, Any]) -> InlineKeyboardMarkup:
    token = wizard["token"]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Send a new code"), callback_data=OneWindowAction(token=token, action="resend")
    )
    builder.button(text=_("Cancel"), callback_data=OneWindowAction(token=token, action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


async def send_code(
    query: CallbackQuery,
    state: FSMContext,
    wizard: dict[str, Any],
    db: AsyncSession,
    staff_member: StaffMember,
    translator: Translator,
) -> None:
    try:
        confirmation = await phone_confirmation.send_code(
            db, wizard["answers"]["phone"], clerk=staff_member.full_name, translator=translator
        )
    except DomainError as error:
        await query.answer(error_text(error), show_alert=True)
        return

    wizard["confirmation_id"] = confirmation.id
    await state.update_data({WIZARD_KEY: wizard})
    await state.set_state(OneWindow.code)
    await query.answer()
    await drop_keyboard(query)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Code sent to {phone}. Enter the code the citizen reads out.").format(
                phone=mask_phone(confirmation.phone)
            ),
            reply_markup=code_keyboard(wizard),
        )
    log.info("one-window code sent", extra={"confirmation_id": confirmation.id})


async def resend_pressed(
    query: CallbackQuery,
    callback_data: OneWindowAction,
    state: FSMContext,
    db: AsyncSession,
    staff_member: StaffMember,
    translator: Translator,
) -> None:
    wizard = await live_wizard(query, callback_data, state, OneWindow.code)
    if wizard is not None:
        await send_code(query, state, wizard, db, staff_member, translator)


async def code_entered(
    message: Message,
    state: FSMContext,
    db: AsyncSession,
    staff_member: StaffMember,
    translator: Translator,
    password_ttl: timedelta,
) -> None:
    wizard = await current_wizard(state)
    if wizard is None or wizard.get("confirmation_id") is None:
        await request_lost(message, state)
        return

    # The code is a secret of the citizen's: it does not stay in the clerk's chat.
    with suppress(TelegramBadRequest):
        await message.delete()
    try:
        await phone_confirmation.confirm_code(db, wizard["confirmation_id"], message.text or "")
    except DomainError as error:
        text = error_text(error)
        if error.code in ("code_wrong", "code_malformed"):
            text += "\n" + _("Enter the code again.")
        await message.answer(text, reply_markup=code_keyboard(wizard))
        return

    clerk = one_window.Clerk(staff_member.full_name, translator, password_ttl)
    await register(message, state, wizard, db, clerk)


# ---- registering the request ------------------------------------------------------------


def applicant_of(wizard: dict[str, Any]) -> one_window.Applicant:
    answers = wizard["answers"]
    document = one_window.IdentityDocument(
        kind=answers["document_kind"],
        number=answers["document_number"],
        issued_on=date.fromisoformat(answers["issued_on"]),
        expires_on=date.fromisoformat(answers["expires_on"]),
        issuing_body=answers["issuing_body"],
    )
    return one_window.Applicant(
        personal_number=answers["personal_number"],
        full_name=answers["full_name"],
        birth_date=date.fromisoformat(answers["birth_date"]),
        sex=answers["sex"],
        document=document,
        attested=wizard.get("attested") is True,
    )


async def check_before_code(
    db: AsyncSession, wizard: dict[str, Any], clerk: one_window.Clerk
) -> None:
    applicant, phone = applicant_of(wizard), wizard["answers"]["phone"]
    if wizard["kind"] == "issue":
        application = one_window.IssueApplication.of(applicant, phone=phone, confirmation_id=None)
        await one_window.check_issue(db, application, clerk)
    else:
        await one_window.check_phone_change(db, applicant, phone, clerk)


async def submit_request(
    db: AsyncSession, wizard: dict[str, Any], clerk: one_window.Clerk
) -> one_window.RequestResult:
    applicant, kind = applicant_of(wizard), wizard["kind"]
    confirmation_id = wizard.get("confirmation_id")
    if kind == "issue":
        application = one_window.IssueApplication.of(
            applicant, phone=wizard["answers"]["phone"], confirmation_id=confirmation_id
        )
        return await one_window.issue_identifier(db, application, clerk)
    if kind == "change_phone":
        return await one_window.change_phone(
            db, applicant, wizard["answers"]["phone"], confirmation_id, clerk
        )
    if kind == "block":
        return await one_window.block_identifier(db, applicant, clerk)
    return await one_window.unblock_identifier(db, applicant, clerk)


async def register(
    message: Message,
    state: FSMContext,
    wizard: dict[str, Any],
    db: AsyncSession,
    clerk: one_window.Clerk,
) -> None:
    """Register the request with the service; granted or refused, the request is over."""
    try:
        result = await submit_request(db, wizard, clerk)
    except DomainError as error:
        text = refusal_text(error)
    else:
        text = _(OUTCOMES[wizard["kind"]]).format(
            number=result.request_number,
            identifier=mask(result.identifier),
            phone=mask_phone(wizard["answers"].get("phone", "")),
        )
    await end_request(state)
    await message.answer(text + "\n\n" + _("Next request: /one_window"))


def refusal_text(error: DomainError) -> str:
    text = _("The request is refused: {reason}").format(reason=error_text(error))
    number = error.params.get("request_number")
    if number:
        recorded = _("Request {number} is recorded with this reason.").format(number=number)
    else:
        recorded = _("The refusal is recorded with its reason.")
    return f"{text}\n{recorded}"


# ---- cancelling, lost requests and out-of-date buttons ----------------------------------


async def end_request(state: FSMContext) -> None:
    await state.set_state(None)
    await state.update_data({WIZARD_KEY: None})


async def cancel_command(message: Message, state: FSMContext) -> None:
    await end_request(state)
    await message.answer(_("The request is cancelled; nothing was registered."))


async def cancel_pressed(
    query: CallbackQuery, callback_data: OneWindowAction, state: FSMContext
) -> None:
    wizard = await live_wizard(query, callback_data, state, *OneWindow.__all_states__)
    if wizard is None:
        return
    await end_request(state)
    await drop_keyboard(query)
    await tell(query, _("The request is cancelled; nothing was registered."))


async def request_lost(message: Message, state: FSMContext) -> None:
    await end_request(state)
    await message.answer(_("This request can no longer be continued. Start again: /one_window"))


async def live_wizard(
    query: CallbackQuery, callback_data: OneWindowAction, state: FSMContext, *states: State
) -> dict[str, Any] | None:
    """The request a button belongs to, if it is the current one at a step that takes it."""
    wizard = await current_wizard(state)
    raw_state = await state.get_state()
    if (
        wizard is None
        or wizard["token"] != callback_data.token
        or raw_state not in {allowed.state for allowed in states}
    ):
        await stale_button(query)
        return None
    return wizard


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is out of date. Please use the latest message."), show_alert=True
    )


async def drop_keyboard(query: CallbackQuery) -> None:
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


def create_router() -> Router:
    router = Router(name="one_window")
    router.message.filter(serves_one_window)
    router.callback_query.filter(serves_one_window)

    router.message.register(menu_command, Command("one_window"))
    router.message.register(kind_command, Command(*KINDS))
    router.message.register(cancel_command, Command("cancel"), StateFilter(OneWindow))
    router.callback_query.register(kind_button, OneWindowStart.filter(F.kind.in_(KINDS)))

    # A command in the middle of a request is not an answer: it goes on to its own handler.
    router.message.register(text_answer, StateFilter(*TEXT_STATES), NOT_COMMAND)
    router.message.register(code_entered, OneWindow.code, NOT_COMMAND)
    router.message.register(text_expected, StateFilter(*TEXT_STATES, OneWindow.code), ~IS_COMMAND)
    router.message.register(buttons_expected, StateFilter(*BUTTON_STATES), ~IS_COMMAND)
    router.message.register(review_expects_buttons, OneWindow.review, ~IS_COMMAND)

    router.callback_query.register(option_pressed, OneWindowAction.filter(F.action == "option"))
    router.callback_query.register(attest_pressed, OneWindowAction.filter(F.action == "attest"))
    router.callback_query.register(resend_pressed, OneWindowAction.filter(F.action == "resend"))
    router.callback_query.register(cancel_pressed, OneWindowAction.filter(F.action == "cancel"))
    return router
