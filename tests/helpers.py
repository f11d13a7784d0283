"""Builders shared by the tests: a valid issue request and an issued citizen."""

import re
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services import one_window
from services.identifier import parse
from services.sms import RecordingSms
from services.texts import Translator

PASSWORD_IN_SMS = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{12})(?![A-Za-z0-9])")


def issue_request(
    personal_number: str = "3270287A012PB2", phone: str = "+375291234567", **changes: object
) -> one_window.IssueApplication:
    parsed = parse(personal_number)
    request = one_window.IssueApplication(
        personal_number=personal_number,
        full_name="Иванов Иван Иванович",
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        phone=phone,
        attested=True,
        document=one_window.IdentityDocument(
            kind="passport",
            number="MP1234567",
            issued_on=date.today() - timedelta(days=365),
            expires_on=date.today() + timedelta(days=3650),
            issuing_body="Московское РУВД г. Минска",
        ),
    )
    return replace(request, **changes)  # type: ignore[arg-type]


async def issue_citizen(
    db: AsyncSession,
    translator: Translator,
    personal_number: str = "3270287A012PB2",
    phone: str = "+375291234567",
) -> tuple[one_window.IssueOutcome, str]:
    """Issue an identifier; returns the outcome and the temporary password read from the SMS."""
    sms = RecordingSms()
    outcome = await one_window.issue_identifier(
        db,
        issue_request(personal_number, phone),
        clerk="Clerk A",
        sms=sms,
        translator=translator,
        password_ttl=timedelta(hours=72),
    )
    return outcome, temporary_password_from(sms.sent[-1][1])


def temporary_password_from(sms_text: str) -> str:
    match = PASSWORD_IN_SMS.search(sms_text)
    assert match, f"no password in SMS: {sms_text!r}"
    return match.group(1)
