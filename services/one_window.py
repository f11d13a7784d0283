"""The one-window service: written requests about unique identifiers (DESIGN §2)."""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.errors import DomainError
from services.identifier import mask, parse
from services.passwords import generate_temporary_password, hash_password
from services.phones import normalise_phone
from services.sms import SmsGateway
from services.texts import Translator
from storage.models import (
    Citizen,
    Credential,
    Identifier,
    OneWindowRequest,
    RequestKind,
    RequestOutcome,
)

log = logging.getLogger(__name__)

DOCUMENT_KINDS = ("passport", "id_card", "residence_permit")
# Series of two letters and seven digits, as on Belarusian passports and residence permits.
# TODO: the ID card's own number format is not confirmed; it is checked like a passport's.
DOCUMENT_NUMBER = re.compile(r"[A-Z]{2}\d{7}")


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    kind: str
    number: str
    issued_on: date
    expires_on: date
    issuing_body: str


@dataclass(frozen=True, slots=True)
class IssueApplication:
    """What the citizen wrote in the request and the clerk read from the document."""

    personal_number: str
    full_name: str
    birth_date: date
    sex: str
    document: IdentityDocument
    phone: str
    attested: bool


@dataclass(frozen=True, slots=True)
class IssueOutcome:
    request_number: str
    identifier: str
    temporary_password_expires_at: datetime
    sms_sent: bool


async def issue_identifier(
    db: AsyncSession,
    application: IssueApplication,
    *,
    clerk: str,
    sms: SmsGateway,
    translator: Translator,
    password_ttl: timedelta,
    now: datetime | None = None,
) -> IssueOutcome:
    """Issue an identifier if every condition holds; a refusal is recorded, then raised."""
    now = now or datetime.now(UTC)
    request = _new_request(application, clerk=clerk, now=now)
    try:
        phone = _check_issue_conditions(application, today=now.date())
        conflict = await _assignment_conflict(db, request.personal_number, phone)
        if conflict:
            raise DomainError(conflict)
    except DomainError as refusal:
        await _record_refusal(db, request, refusal.code)
        raise

    password = generate_temporary_password()
    expires_at = now + password_ttl
    try:
        identifier = await _create_identifier(db, application, request, phone, now=now)
        identifier.credential = Credential(
            password_hash=await hash_password(password), is_temporary=True, expires_at=expires_at
        )
        await db.flush()
    except IntegrityError:
        # Another clerk issued for the same person or phone a moment ago.
        await db.rollback()
        request = _new_request(application, clerk=clerk, now=now)
        conflict = await _assignment_conflict(db, request.personal_number, phone)
        reason = conflict or "identifier_already_assigned"
        await _record_refusal(db, request, reason)
        raise DomainError(reason) from None

    request.outcome = RequestOutcome.GRANTED
    request.identifier_id = identifier.id
    request.number = _request_number(request, now)
    audit.record(
        db,
        actor=f"clerk:{clerk}",
        action="identifier.issued",
        subject=f"identifier:{identifier.id}",
        request=request.number,
        personal_number=mask(identifier.value),
    )
    audit.record(
        db,
        actor="system",
        action="temporary_password.issued",
        subject=f"identifier:{identifier.id}",
        expires_at=expires_at.isoformat(),
    )
    await db.commit()
    log.info("identifier issued", extra={"request": request.number, "clerk": clerk})

    text = translator.gettext(
        "Portal: your unique identifier is issued. Temporary password: {password} "
        "(valid until {expires}). Change it at first sign-in.",
        locale=translator.default_locale,
    ).format(password=password, expires=translator.format_datetime(expires_at))
    sms_sent = await _send_quietly(sms, phone, text, request=request.number)
    return IssueOutcome(request.number, identifier.value, expires_at, sms_sent)


def _new_request(application: IssueApplication, *, clerk: str, now: datetime) -> OneWindowRequest:
    document = application.document
    return OneWindowRequest(
        kind=RequestKind.ISSUE,
        clerk=clerk,
        personal_number=application.personal_number.strip().upper()[:14],
        full_name=application.full_name.strip()[:200],
        birth_date=application.birth_date,
        sex=application.sex,
        document_kind=document.kind,
        document_number=document.number.strip().upper()[:32],
        document_issued_on=document.issued_on,
        document_expires_on=document.expires_on,
        issuing_body=document.issuing_body.strip()[:200],
        phone=application.phone.strip()[:16],
        attested=application.attested,
        outcome=RequestOutcome.REFUSED,
        created_at=now,
    )


def _check_issue_conditions(application: IssueApplication, *, today: date) -> str:
    """Conditions 1 and 5 of DESIGN §2 and a well-formed phone; returns the phone in E.164."""
    _check_document(application.document, today=today)

    personal_number = parse(application.personal_number)
    if personal_number.birth_date != application.birth_date:
        raise DomainError("birth_date_mismatch")
    if personal_number.sex != application.sex:
        raise DomainError("sex_mismatch")
    if not application.attested:
        raise DomainError("not_attested")
    if not application.full_name.strip():
        raise DomainError("full_name_missing")

    return normalise_phone(application.phone)


def _check_document(document: IdentityDocument, *, today: date) -> None:
    if document.kind not in DOCUMENT_KINDS:
        raise DomainError("document_kind_unknown")
    if not DOCUMENT_NUMBER.fullmatch(document.number.strip().upper()):
        raise DomainError("document_number_malformed")
    if document.issued_on > today or document.issued_on >= document.expires_on:
        raise DomainError("document_dates_invalid")
    if document.expires_on < today:
        raise DomainError("document_expired")
    if not document.issuing_body.strip():
        raise DomainError("document_issuing_body_missing")


async def _assignment_conflict(db: AsyncSession, personal_number: str, phone: str) -> str | None:
    """Conditions 2 and 4: no identifier for this person before, the phone not in use."""
    value = parse(personal_number).value
    if await db.scalar(select(Identifier.id).where(Identifier.value == value)):
        return "identifier_already_assigned"
    if await db.scalar(select(Identifier.id).where(Identifier.phone == phone)):
        return "phone_in_use"
    return None


async def _create_identifier(
    db: AsyncSession,
    application: IssueApplication,
    request: OneWindowRequest,
    phone: str,
    *,
    now: datetime,
) -> Identifier:
    value = parse(application.personal_number).value
    citizen = await db.scalar(select(Citizen).where(Citizen.personal_number == value))
    if citizen is None:
        citizen = Citizen(
            personal_number=value,
            full_name=request.full_name,
            birth_date=application.birth_date,
            sex=application.sex,
        )
        db.add(citizen)
    identifier = Identifier(citizen=citizen, value=value, phone=phone, issued_at=now)
    db.add_all([identifier, request])
    return identifier


async def _record_refusal(db: AsyncSession, request: OneWindowRequest, reason: str) -> None:
    request.outcome = RequestOutcome.REFUSED
    request.reason = reason
    db.add(request)
    await db.flush()
    request.number = _request_number(request, request.created_at)
    audit.record(
        db,
        actor=f"clerk:{request.clerk}",
        action=f"request.{request.kind}.refused",
        subject=f"request:{request.number}",
        reason=reason,
        personal_number=mask(request.personal_number),
    )
    await db.commit()
    log.info("one-window request refused", extra={"request": request.number, "reason": reason})


def _request_number(request: OneWindowRequest, now: datetime) -> str:
    return f"OW-{now:%Y}-{request.id:06d}"


async def _send_quietly(sms: SmsGateway, phone: str, text: str, *, request: str) -> bool:
    # TODO: an SMS outbox with retries; until then a failure is reported to the clerk.
    try:
        await sms.send(phone, text)
    except DomainError:
        log.error("temporary password sms not sent", extra={"request": request})
        return False
    return True
