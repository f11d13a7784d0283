from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services import access, one_window
from services.access import AccessPolicy
from services.errors import DomainError
from services.sms import RecordingSms
from services.texts import Translator
from storage.db import create_session_factory
from storage.models import (
    AuditEntry,
    Credential,
    Identifier,
    IdentifierStatus,
    Notification,
    OneWindowRequest,
    RequestOutcome,
    Session,
    SmsMessage,
)
from tests.helpers import (
    applicant,
    clerk,
    confirmed_phone,
    issue_citizen,
    issue_request,
    sent_sms,
    temporary_password_from,
)

POLICY = AccessPolicy(
    max_attempts=5,
    first_lock=timedelta(minutes=15),
    idle_timeout=timedelta(minutes=15),
    max_age=timedelta(hours=8),
)


async def refused(db: AsyncSession, coroutine) -> tuple[str, OneWindowRequest]:
    with pytest.raises(DomainError) as refusal:
        await coroutine
    request = await db.scalar(select(OneWindowRequest).order_by(OneWindowRequest.id.desc()))
    return refusal.value.code, request


async def test_issue_creates_identifier_and_queues_temporary_password(
    db: AsyncSession, translator: Translator
) -> None:
    sms = RecordingSms()

    result, password = await issue_citizen(db, translator, phone="80291234567", sms=sms)

    identifier = await db.scalar(select(Identifier))
    credential = await db.scalar(select(Credential))
    assert result.identifier == identifier.value == "3270287A012PB2"
    assert identifier.phone == "+375291234567"
    assert credential.is_temporary and credential.expires_at is not None
    assert sms.sent[-1][0] == "+375291234567" and password in sms.sent[-1][1]
    assert result.request_number.startswith("OW-")


async def test_no_secret_is_left_in_clear_in_the_database_or_audit(
    db: AsyncSession, translator: Translator
) -> None:
    sms = RecordingSms()
    _, password = await issue_citizen(db, translator, sms=sms)
    code = sms.sent[0][1]

    texts = [m.text for m in await db.scalars(select(SmsMessage))]
    audit_text = " ".join(
        str(e.details) + str(e.subject) for e in await db.scalars(select(AuditEntry))
    )
    credential = await db.scalar(select(Credential))
    assert texts == [None, None]
    assert password not in credential.password_hash
    assert password not in audit_text and code[-6:] not in audit_text
    assert "3270287A012PB2" not in audit_text and "+375291234567" not in audit_text


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"birth_date": date(1987, 2, 28)}, "birth_date_mismatch"),
        ({"sex": "F"}, "sex_mismatch"),
        ({"attested": False}, "not_attested"),
        ({"phone": "+7 916 123 45 67"}, "phone_not_belarusian"),
        ({"personal_number": "3270287A012PB3"}, "identifier_check_digit"),
        ({"confirmation_id": None}, "phone_not_confirmed"),
    ],
)
async def test_each_failed_condition_is_refused_and_recorded(
    db: AsyncSession, translator: Translator, changes: dict, code: str
) -> None:
    confirmation_id = await confirmed_phone(db, translator)
    request = replace(issue_request(confirmation_id=confirmation_id), **changes)

    reason, recorded = await refused(
        db, one_window.issue_identifier(db, request, clerk(translator))
    )

    assert reason == code
    assert (recorded.outcome, recorded.reason) == (RequestOutcome.REFUSED, code)
    assert await db.scalar(select(Identifier)) is None


@pytest.mark.parametrize(
    ("document_changes", "code"),
    [
        ({"expires_on": date.today() - timedelta(days=1)}, "document_expired"),
        ({"expires_on": date.today()}, None),
        ({"issued_on": date.today() + timedelta(days=1)}, "document_dates_invalid"),
        ({"number": "12345"}, "document_number_malformed"),
        ({"kind": "library_card"}, "document_kind_unknown"),
    ],
)
async def test_document_must_be_valid_today_and_well_formed(
    db: AsyncSession, translator: Translator, document_changes: dict, code: str | None
) -> None:
    confirmation_id = await confirmed_phone(db, translator)
    request = issue_request(confirmation_id=confirmation_id)
    request = replace(request, document=replace(request.document, **document_changes))
    issuing = one_window.issue_identifier(db, request, clerk(translator))

    if code is None:
        await issuing
        return
    assert (await refused(db, issuing))[0] == code


async def test_second_identifier_for_the_person_or_the_phone_is_refused(
    db: AsyncSession, translator: Translator
) -> None:
    await issue_citizen(db, translator)
    other_phone = await confirmed_phone(db, translator, "+375331112233")

    same_person, _ = await refused(
        db,
        one_window.issue_identifier(
            db,
            issue_request(phone="+375331112233", confirmation_id=other_phone),
            clerk(translator),
        ),
    )
    same_phone, _ = await refused(
        db, one_window.issue_identifier(db, issue_request("3041088A042PB2"), clerk(translator))
    )

    assert same_person == "identifier_already_assigned"
    assert same_phone == "phone_in_use"


async def test_two_clerks_issuing_at_once_one_wins(
    engine: AsyncEngine, db: AsyncSession, translator: Translator
) -> None:
    import asyncio

    first = await confirmed_phone(db, translator, "+375291234567")
    factory = create_session_factory(engine)

    async def issue(confirmation_id: int, name: str) -> str:
        async with factory() as session:
            try:
                await one_window.issue_identifier(
                    session,
                    issue_request(confirmation_id=confirmation_id),
                    clerk(translator, name),
                )
            except DomainError as refusal:
                return refusal.code
            return "issued"

    outcomes = await asyncio.gather(issue(first, "Clerk A"), issue(first, "Clerk B"))

    assert sorted(outcomes)[-1] == "issued"
    assert sorted(outcomes)[0] in ("identifier_already_assigned", "phone_not_confirmed")
    assert len(list(await db.scalars(select(Identifier)))) == 1


async def test_block_ends_sessions_and_tells_the_chat_then_unblock_sends_new_password(
    db: AsyncSession, translator: Translator
) -> None:
    sms = RecordingSms()
    _, first_password = await issue_citizen(db, translator, sms=sms)
    identifier = await db.scalar(select(Identifier))
    await access.start_session(db, identifier.id, telegram_user_id=5, chat_id=5)

    await one_window.block_identifier(db, applicant(), clerk(translator))
    session = await db.scalar(select(Session))
    again, _ = await refused(db, one_window.block_identifier(db, applicant(), clerk(translator)))
    await one_window.unblock_identifier(db, applicant(), clerk(translator))
    new_password = temporary_password_from((await sent_sms(db, sms))[-1][1])

    kinds = [n.kind for n in await db.scalars(select(Notification).order_by(Notification.id))]
    assert session.end_reason == "blocked"
    assert again == "identifier_already_blocked"
    assert kinds == ["identifier_blocked", "identifier_unblocked"]
    assert new_password != first_password
    verified = await access.verify_credentials(db, "3270287A012PB2", new_password, policy=POLICY)
    assert verified.must_change_password


async def test_unblock_of_an_active_or_unknown_identifier_is_refused(
    db: AsyncSession, translator: Translator
) -> None:
    await issue_citizen(db, translator)

    active, _ = await refused(
        db, one_window.unblock_identifier(db, applicant(), clerk(translator))
    )
    unknown, record = await refused(
        db, one_window.block_identifier(db, applicant("3041088A042PB2"), clerk(translator))
    )

    assert active == "identifier_not_blocked"
    assert unknown == "identifier_not_found" and record.outcome == RequestOutcome.REFUSED


async def test_change_phone_needs_a_confirmed_unused_number_and_tells_the_old_one(
    db: AsyncSession, translator: Translator
) -> None:
    sms = RecordingSms()
    await issue_citizen(db, translator, sms=sms)
    await issue_citizen(db, translator, "3041088A042PB2", "+375331234567", sms=sms)

    unconfirmed, _ = await refused(
        db, one_window.change_phone(db, applicant(), "+375447654321", None, clerk(translator))
    )
    taken, _ = await refused(
        db, one_window.change_phone(db, applicant(), "+375331234567", None, clerk(translator))
    )
    confirmation_id = await confirmed_phone(db, translator, "+375447654321", sms)
    result = await one_window.change_phone(
        db, applicant(), "8 044 765-43-21", confirmation_id, clerk(translator)
    )
    told = await sent_sms(db, sms)

    identifier = await db.scalar(select(Identifier).where(Identifier.value == result.identifier))
    request = await db.scalar(select(OneWindowRequest).order_by(OneWindowRequest.id.desc()))
    assert (unconfirmed, taken) == ("phone_not_confirmed", "phone_in_use")
    assert identifier.phone == "+375447654321"
    assert (request.previous_phone, request.phone) == ("+375291234567", "+375447654321")
    assert [phone for phone, _ in told] == ["+375291234567"]


async def test_blocked_identifier_cannot_sign_in_after_block(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)
    await one_window.block_identifier(db, applicant(), clerk(translator))

    with pytest.raises(DomainError, match="identifier_blocked"):
        await access.verify_credentials(db, "3270287A012PB2", password, policy=POLICY)
    assert (await db.scalar(select(Identifier))).status == IdentifierStatus.BLOCKED


async def test_confirmation_serves_one_request_only(
    db: AsyncSession, translator: Translator
) -> None:
    confirmation_id = await confirmed_phone(db, translator)
    await one_window.issue_identifier(
        db, issue_request(confirmation_id=confirmation_id), clerk(translator)
    )

    reason, _ = await refused(
        db,
        one_window.issue_identifier(
            db,
            issue_request("3041088A042PB2", "+375291234567", confirmation_id),
            clerk(translator),
        ),
    )

    assert reason == "phone_in_use"
    later = datetime.now(UTC)
    assert later > (await db.scalar(select(Identifier))).issued_at
