"""How procedures, questions, answers and applications look in the chat."""

from datetime import date
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.numbers import format_decimal

from handlers.common import escape
from services.applications import OPEN_STATUSES, is_overdue
from services.catalog import localised
from services.texts import N_
from storage.models import Application, Procedure

STATUS_NAMES = {
    "draft": N_("Draft"),
    "submitted": N_("Registered"),
    "in_review": N_("Under consideration"),
    "approved": N_("Decision taken: approved"),
    "refused": N_("Decision taken: refused"),
    "withdrawn": N_("Withdrawn"),
}

OUTCOME_NAMES = {
    "approved": N_("Approved"),
    "refused": N_("Refused"),
    "refused_to_accept": N_("Refused to accept the application"),
}


# A push names the event only; the content is shown to a signed-in citizen.
NOTIFICATION_TEXTS = {
    "decision": N_(
        "An administrative decision has been taken on your application No. "
        "{registration_number}. Sign in and open it to read the decision."
    ),
    "identifier_blocked": N_(
        "Your unique identifier is blocked: electronic access is closed and you are signed "
        "out. To unblock it, apply in writing at any one-window service."
    ),
    "identifier_unblocked": N_(
        "Your unique identifier is unblocked. A new temporary password has been sent to "
        "you by SMS."
    ),
    "signed_in_elsewhere": N_(
        "Someone signed in to the portal with your identifier in another chat, so this "
        "session has ended. If it was not you, change your password or ask the one-window "
        "service to block the identifier."
    ),
    "phone_changed": N_(
        "The phone number of your unique identifier was changed at the one window. If it "
        "was not you, contact the one-window service."
    ),
}


def notification_text(kind: str, params: dict[str, Any]) -> str:
    """What a notification says; the parameters are ours (numbers), never user input."""
    template = NOTIFICATION_TEXTS.get(kind)
    if template is None:
        return kind
    return _(template).format(**params)


def status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


def short_day(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "—"


def procedure_button(procedure: Procedure, locale: str) -> str:
    title = localised(procedure.content.get("short_title"), locale) or ""
    return f"{procedure.code} · {title}"


def fee_text(procedure: Procedure, locale: str) -> str:
    units = procedure.fee_base_units
    if not units:
        return _("free of charge")
    shown = format_decimal(units, locale=locale)
    if float(units).is_integer():
        return ngettext("{units} base unit", "{units} base units", int(units)).format(units=shown)
    # A fraction takes the genitive singular in Russian and Belarusian: 0,5 базовой величины.
    return _("{units} of a base unit").format(units=shown)


def procedure_card(procedure: Procedure, locale: str) -> str:
    content = procedure.content
    documents = localised(content.get("documents"), locale) or []
    lines = [
        f"<b>{escape(procedure.code)}. {escape(localised(content.get('title'), locale))}</b>",
        "",
        _("<b>Body:</b> {body}").format(body=escape(localised(content.get("body"), locale))),
        _("<b>Maximum term:</b> {term}").format(
            term=escape(localised(content.get("term_text"), locale))
        ),
        _("<b>Fee:</b> {fee}").format(fee=fee_text(procedure, locale)),
    ]
    if documents:
        lines += ["", _("<b>Documents:</b>")]
        lines += [f"• {escape(document)}" for document in documents]
    return "\n".join(lines)


def question_text(field: dict[str, Any], index: int, total: int, locale: str) -> str:
    lines = [
        _("Step {step} of {total}").format(step=index + 1, total=total),
        f"<b>{escape(localised(field['label'], locale))}</b>",
    ]
    hint = localised(field.get("hint"), locale)
    if hint:
        lines.append(f"<i>{escape(hint)}</i>")
    if not field.get("required", True):
        lines.append(_("Optional: you may skip it."))
    return "\n".join(lines)


def answer_text(field: dict[str, Any], value: Any, locale: str) -> str:
    if value is None or value == "" or value == []:
        return _("(skipped)")
    kind = field["type"]
    if kind == "yes_no":
        return _("Yes") if value else _("No")
    if kind == "choice":
        for option in field.get("options", []):
            if option["value"] == value:
                return escape(localised(option["label"], locale))
    if kind == "date":
        return escape(date.fromisoformat(value).strftime("%d.%m.%Y"))
    if kind == "attachment":
        names = [escape(item.get("file_name") or _("photo")) for item in value]
        return ", ".join(names)
    return escape(value)


def answers_text(fields: list[dict[str, Any]], answers: dict[str, Any], locale: str) -> str:
    blocks = []
    for field in fields:
        label = escape(localised(field["label"], locale))
        blocks.append(f"<b>{label}</b>\n{answer_text(field, answers.get(field['name']), locale)}")
    return "\n\n".join(blocks)


def application_line(application: Application, locale: str, *, today: date) -> str:
    line = f"{application.registration_number} · {status_name(application.status)}"
    if application.status in OPEN_STATUSES and application.deadline is not None:
        line += " · " + _("by {day}").format(day=short_day(application.deadline))
    return line + (" ⚠" if is_overdue(application, today=today) else "")


def application_card(application: Application, locale: str, *, today: date) -> str:
    procedure = application.procedure
    title = localised(procedure.content.get("title"), locale)
    lines = [
        _("<b>Application No. {number}</b>").format(number=application.registration_number),
        f"{escape(procedure.code)}. {escape(title)}",
        _("<b>Status:</b> {status}").format(status=status_name(application.status)),
        _("<b>Submitted:</b> {day}").format(
            day=short_day(application.submitted_at.date() if application.submitted_at else None)
        ),
        _("<b>Deadline:</b> {day}").format(day=short_day(application.deadline)),
    ]
    if is_overdue(application, today=today):
        lines.append(_("⚠ The term has passed and no decision has been taken yet."))
    if application.decision is not None:
        decision = application.decision
        lines += [
            "",
            _("<b>Decision of {day}:</b> {outcome}").format(
                day=short_day(decision.decided_at.date()),
                outcome=_(OUTCOME_NAMES.get(decision.outcome, decision.outcome)),
            ),
            escape(decision.text),
        ]
    lines += ["", answers_text(procedure.fields, application.answers, locale), ""]
    lines.append(_("<b>History:</b>"))
    lines += [
        f"{short_day(event.at.date())} — {status_name(event.status)}"
        for event in application.history
    ]
    return "\n".join(lines)
