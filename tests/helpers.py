"""Builders shared by the tests: applicants, confirmed phones and issued citizens."""

import re
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services import one_window, phone_confirmation
from services.identifier import parse
from services.phones import normalise_phone
from services.sms import RecordingSms
from services.sms_outbox import deliver_due_sms
from services.texts import Translator

PASSWORD_IN_SMS = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{12})(?![A-Za-z0-9])")
CODE_IN_SMS = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def applicant(personal_number: str = "3270287A012PB2", **changes: object) -> one_window.Applicant:
    parsed = parse(personal_number)
    document = one_window.IdentityDocument(
        kind="passport",
        number="MP1234567",
        issued_on=date.today() - timedelta(days=365),
        expires_on=date.today() + timedelta(days=3650),
        issuing_body="Московское РУВД г. Минска",
    )
    built = one_window.Applicant(
        personal_number=personal_number,
        full_name="Иванов Иван Иванович",
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        document=document,
        attested=True,
    )
    return replace(built, **changes)  # type: ignore[arg-type]


def issue_request(
    personal_number: str = "3270287A012PB2",
    phone: str = "+375291234567",
    confirmation_id: int | None = None,
    **changes: object,
) -> one_window.IssueApplication:
    request = one_window.IssueApplication.of(
        applicant(personal_number), phone=phone, confirmation_id=confirmation_id
    )
    return replace(request, **changes)  # type: ignore[arg-type]


def clerk(translator: Translator, name: str = "Clerk A") -> one_window.Clerk:
    return one_window.Clerk(name=name, translator=translator)


async def sent_sms(db: AsyncSession, sms: RecordingSms) -> list[tuple[str, str]]:
    """Deliver the outbox through `sms`; returns what was handed over this time."""
    before = len(sms.sent)
    await deliver_due_sms(db, sms)
    return sms.sent[before:]


async def last_sms_to(db: AsyncSession, sms: RecordingSms, phone: str) -> str:
    """The newest SMS to the phone, after delivering the outbox (a bot's job may have, too)."""
    await deliver_due_sms(db, sms)
    texts = [text for to, text in sms.sent if to == phone]
    assert texts, f"no SMS to {phone}: {sms.sent!r}"
    return texts[-1]


async def confirmed_phone(
    db: AsyncSession,
    translator: Translator,
    phone: str = "+375291234567",
    sms: RecordingSms | None = None,
) -> int:
    """Send a code to the phone and enter it, as the clerk does; returns the confirmation id."""
    sms = sms or RecordingSms()
    confirmation = await phone_confirmation.send_code(
        db, phone, clerk="Clerk A", translator=translator
    )
    code = code_from(await last_sms_to(db, sms, confirmation.phone))
    await phone_confirmation.confirm_code(db, confirmation.id, code)
    return confirmation.id


async def issue_citizen(
    db: AsyncSession,
    translator: Translator,
    personal_number: str = "3270287A012PB2",
    phone: str = "+375291234567",
    sms: RecordingSms | None = None,
) -> tuple[one_window.RequestResult, str]:
    """Issue an identifier; returns the result and the temporary password read from the SMS."""
    sms = sms or RecordingSms()
    confirmation_id = await confirmed_phone(db, translator, phone, sms)
    result = await one_window.issue_identifier(
        db, issue_request(personal_number, phone, confirmation_id), clerk(translator)
    )
    password_sms = await last_sms_to(db, sms, normalise_phone(phone))
    return result, temporary_password_from(password_sms)


def temporary_password_from(sms_text: str) -> str:
    match = PASSWORD_IN_SMS.search(sms_text)
    assert match, f"no password in SMS: {sms_text!r}"
    return match.group(1)


def code_from(sms_text: str) -> str:
    match = CODE_IN_SMS.search(sms_text)
    assert match, f"no code in SMS: {sms_text!r}"
    return match.group(1)
