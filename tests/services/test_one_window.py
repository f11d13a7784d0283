from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import one_window
from services.errors import DomainError
from services.sms import RecordingSms
from services.texts import Translator
from storage.models import AuditEntry, Credential, Identifier, OneWindowRequest, RequestOutcome
from tests.helpers import issue_citizen, issue_request

TTL = timedelta(hours=72)


async def issue(db: AsyncSession, translator: Translator, request, sms=None):
    return await one_window.issue_identifier(
        db,
        request,
        clerk="Clerk A",
        sms=sms or RecordingSms(),
        translator=translator,
        password_ttl=TTL,
    )


async def test_issue_creates_identifier_and_sends_temporary_password(
    db: AsyncSession, translator: Translator
) -> None:
    sms = RecordingSms()

    outcome = await issue(db, translator, issue_request(phone="80291234567"), sms)

    identifier = await db.scalar(select(Identifier))
    credential = await db.scalar(select(Credential))
    assert outcome.identifier == identifier.value == "3270287A012PB2"
    assert identifier.phone == "+375291234567"
    assert credential.is_temporary and credential.expires_at is not None
    assert sms.sent[0][0] == "+375291234567"
    assert outcome.request_number.startswith("OW-")


async def test_password_is_never_stored_or_audited_in_clear(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)

    credential = await db.scalar(select(Credential))
    audit_text = " ".join(str(entry.details) for entry in await db.scalars(select(AuditEntry)))
    assert password not in credential.password_hash
    assert password not in audit_text
    assert "3270287A012PB2" not in audit_text


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"birth_date": date(1987, 2, 28)}, "birth_date_mismatch"),
        ({"sex": "F"}, "sex_mismatch"),
        ({"attested": False}, "not_attested"),
        ({"phone": "+7 916 123 45 67"}, "phone_not_belarusian"),
        ({"personal_number": "3270287A012PB3"}, "identifier_check_digit"),
    ],
)
async def test_each_failed_condition_is_refused_and_recorded(
    db: AsyncSession, translator: Translator, changes: dict, code: str
) -> None:
    with pytest.raises(DomainError) as refused:
        await issue(db, translator, replace(issue_request(), **changes))

    request = await db.scalar(select(OneWindowRequest))
    assert refused.value.code == code
    assert (request.outcome, request.reason) == (RequestOutcome.REFUSED, code)
    assert await db.scalar(select(Identifier)) is None


@pytest.mark.parametrize(("expires_in_days", "code"), [(-1, "document_expired"), (0, None)])
async def test_document_expiring_today_is_valid_and_yesterday_is_not(
    db: AsyncSession, translator: Translator, expires_in_days: int, code: str | None
) -> None:
    request = issue_request()
    document = replace(request.document, expires_on=date.today() + timedelta(expires_in_days))

    if code is None:
        await issue(db, translator, replace(request, document=document))
        return
    with pytest.raises(DomainError) as refused:
        await issue(db, translator, replace(request, document=document))
    assert refused.value.code == code


async def test_second_identifier_for_the_person_or_the_phone_is_refused(
    db: AsyncSession, translator: Translator
) -> None:
    await issue_citizen(db, translator)

    with pytest.raises(DomainError) as same_person:
        await issue(db, translator, issue_request(phone="+375331112233"))
    with pytest.raises(DomainError) as same_phone:
        await issue(db, translator, issue_request("3041088A042PB2"))

    assert same_person.value.code == "identifier_already_assigned"
    assert same_phone.value.code == "phone_in_use"
    outcomes = list(await db.scalars(select(OneWindowRequest.outcome)))
    assert outcomes.count(RequestOutcome.REFUSED) == 2


async def test_failed_sms_is_reported_not_hidden(db: AsyncSession, translator: Translator) -> None:
    class BrokenSms:
        async def send(self, phone: str, text: str) -> None:
            raise DomainError("sms_failed")

    outcome = await issue(db, translator, issue_request(), BrokenSms())

    assert outcome.sms_sent is False
    assert await db.scalar(select(Identifier)) is not None
