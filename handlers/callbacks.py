"""Callback data of every button; each stays well under Telegram's 64 bytes."""

from aiogram.filters.callback_data import CallbackData


class MenuAction(CallbackData, prefix="m"):
    action: str


class LanguageChoice(CallbackData, prefix="l"):
    locale: str


class ProcedurePage(CallbackData, prefix="pp"):
    page: int
    category: str = ""  # empty: every procedure


class ProcedureAction(CallbackData, prefix="p"):
    action: str  # "card" or "fill"
    procedure_id: int


class FormAction(CallbackData, prefix="f"):
    """A button of one form; `token` names the draft so a stale button is recognised."""

    token: str
    action: str  # "option", "skip", "done", "submit", "cancel"
    index: int = 0


class ApplicationAction(CallbackData, prefix="a"):
    action: str  # "open", "withdraw", "confirm"
    application_id: int
    page: int = 0


class ApplicationsPage(CallbackData, prefix="ap"):
    page: int


class OneWindowStart(CallbackData, prefix="ow"):
    kind: str  # "issue", "block", "unblock", "change_phone"


class OneWindowAction(CallbackData, prefix="owa"):
    """A button of one clerk's request; `token` names the request so a stale one is known."""

    token: str
    action: str  # "option", "attest", "resend", "cancel"
    value: str = ""
