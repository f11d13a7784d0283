"""The one-window service: written requests about unique identifiers (DESIGN §2).

Four kinds of request: issue, block, unblock and change phone. Each is registered with a
number, the clerk and the applicant's data; a refused one stays on record with its reason.
"""

import logging
import re
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services import audit
from services.access import lift_lock
from services.errors import DomainError
from services.identifier import mask, normalise, parse
from services.notifications import notify
from services.passwords import generate_temporary_password, hash_password
from services.phone_confirmation import use_confirmation
from services.phones import normalise_phone
from services.sms_outbox import queue_sms
from services.texts import N_, Translator
from storage.models import (
    Citizen,
    Credential,
    Identifier,
    IdentifierStatus,
    OneWindowRequest,
    RequestKind,
    RequestOutcome,
    Session,
)

log = logging.getLogger(__name__)

DOCUMENT_KINDS = ("passport", "id_card", "residence_permit")
# Series of two letters and seven digits, as on Belarusian passports and residence permits.
# TODO: the ID card's own number format is not confirmed; it is checked like a passport's.
DOCUMENT_NUMBER = re.compile(r"[A-Z]{2}\d{7}")

TEMPORARY_PASSWORD_SMS = N_(
    "Portal: your unique identifier is issued. Temporary password: {password} "
    "(valid until {expires}). Change it at first sign-in."
)
UNBLOCKED_SMS = N_(
    "Portal: your identifier is unblocked. New temporary password: {password} "
    "(valid until {expires})."
)
PHONE_CHANGED_SMS = N_(
    "Portal: the phone number of your identifier was changed at the one window. "
    "If it was not you, contact the one-window service."
)


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    kind: str
    number: str
    issued_on: date
    expires_on: date
    issuing_body: str


@dataclass(frozen=True, slots=True)
class Applicant:
    """Who wrote the request, as the clerk read it from the identity document."""

    personal_number: str
    full_name: str
    birth_date: date
    sex: str
    document: IdentityDocument
    attested: bool


@dataclass(frozen=True, slots=True)
class IssueApplication(Applicant):
    phone: str
    confirmation_id: int | None = None

    @classmethod
    def of(
        cls, applicant: Applicant, *, phone: str, confirmation_id: int | None
    ) -> "IssueApplication":
        values = {field.name: getattr(applicant, field.name) for field in fields(Applicant)}
        return cls(**values, phone=phone, confirmation_id=confirmation_id)


@dataclass(frozen=True, slots=True)
class RequestResult:
    request_number: str
    identifier: str


@dataclass(frozen=True, slots=True)
class Clerk:
    """The clerk registering a request, and what the request's SMS are written with."""

    name: str
    translator: Translator
    password_ttl: timedelta = timedelta(hours=72)


async def issue_identifier(
    db: AsyncSession,
    application: IssueApplication,
    clerk: Clerk,
    *,
    now: datetime | None = None,
) -> RequestResult:
    """Issue an identifier if all five conditions hold; a refusal is recorded, then raised."""
    now = now or datetime.now(UTC)
    request = _new_request(RequestKind.ISSUE, application, clerk, now=now)
    value, phone = await _issue_checks(db, request, application, now=now)
    try:
        confirmation = await use_confirmation(db, application.confirmation_id, phone, now=now)
    except DomainError as refusal:
        await _refuse(db, request, refusal)
        raise

    request.confirmation_id = confirmation.id
    try:
        identifier = await _create_identifier(db, application, value, phone, now=now)
        request.identifier_id = identifier.id
        await _grant(db, request, now=now)
    except IntegrityError:
        # Another clerk issued for the same person or phone a moment ago.
        await db.rollback()
        request = _new_request(RequestKind.ISSUE, application, clerk, now=now)
        reason = await _assignment_conflict(db, value, phone) or "identifier_already_assigned"
        refusal = DomainError(reason)
        await _refuse(db, request, refusal)
        raise refusal from None

    await _give_temporary_password(db, identifier, clerk, TEMPORARY_PASSWORD_SMS, now=now)
    await db.commit()
    log.info("identifier issued", extra={"request": request.number, "clerk": clerk.name})
    return RequestResult(request.number, identifier.value)


async def check_issue(
    db: AsyncSession, application: IssueApplication, clerk: Clerk, *, now: datetime | None = None
) -> None:
    """Before a code goes to the phone: refuse, and record, what no code would change."""
    now = now or datetime.now(UTC)
    request = _new_request(RequestKind.ISSUE, application, clerk, now=now)
    await _issue_checks(db, request, application, now=now)


async def _issue_checks(
    db: AsyncSession, request: OneWindowRequest, application: IssueApplication, *, now: datetime
) -> tuple[str, str]:
    """Conditions 1, 2, 4 and 5; returns the personal number and the phone, normalised."""
    try:
        value = _check_applicant(application, today=now.date())
        phone = normalise_phone(application.phone)
        request.phone = phone
        conflict = await _assignment_conflict(db, value, phone)
        if conflict:
            raise DomainError(conflict)
    except DomainError as refusal:
        await _refuse(db, request, refusal)
        raise
    return value, phone


async def block_identifier(
    db: AsyncSession, applicant: Applicant, clerk: Clerk, *, now: datetime | None = None
) -> RequestResult:
    """Block at once on the written request: every session ends and the chat is told."""
    now = now or datetime.now(UTC)
    request = _new_request(RequestKind.BLOCK, applicant, clerk, now=now)
    identifier = await _requested_identifier(db, request, applicant, now=now)
    if identifier.status == IdentifierStatus.BLOCKED:
        refusal = DomainError("identifier_already_blocked")
        await _refuse(db, request, refusal)
        raise refusal

    await block(db, identifier, actor=f"clerk:{clerk.name}", reason="one_window", now=now)
    await _grant(db, request, now=now)
    await db.commit()
    log.info("identifier blocked", extra={"request": request.number, "clerk": clerk.name})
    return RequestResult(request.number, identifier.value)


async def block(
    db: AsyncSession,
    identifier: Identifier,
    *,
    actor: str,
    reason: str,
    now: datetime,
    tell_chat: bool = True,
) -> None:
    """Block an identifier in the caller's transaction; also used for the self-block."""
    identifier.status = IdentifierStatus.BLOCKED
    identifier.blocked_at = now
    await db.execute(
        update(Session)
        .where(Session.identifier_id == identifier.id, Session.ended_at.is_(None))
        .values(ended_at=now, end_reason="blocked")
    )
    if tell_chat:
        notify(db, identifier.id, "identifier_blocked")
    audit.record(
        db,
        actor=actor,
        action="identifier.blocked",
        subject=f"identifier:{identifier.id}",
        reason=reason,
    )


async def unblock_identifier(
    db: AsyncSession, applicant: Applicant, clerk: Clerk, *, now: datetime | None = None
) -> RequestResult:
    """Unblock and send a new temporary password by SMS."""
    now = now or datetime.now(UTC)
    request = _new_request(RequestKind.UNBLOCK, applicant, clerk, now=now)
    identifier = await _requested_identifier(db, request, applicant, now=now)
    if identifier.status != IdentifierStatus.BLOCKED:
        refusal = DomainError("identifier_not_blocked")
        await _refuse(db, request, refusal)
        raise refusal

    identifier.status = IdentifierStatus.ACTIVE
    identifier.blocked_at = None
    await _grant(db, request, now=now)
    audit.record(
        db,
        actor=f"clerk:{clerk.name}",
        action="identifier.unblocked",
        subject=f"identifier:{identifier.id}",
        request=request.number,
    )
    await _give_temporary_password(db, identifier, clerk, UNBLOCKED_SMS, now=now)
    notify(db, identifier.id, "identifier_unblocked")
    await db.commit()
    log.info("identifier unblocked", extra={"request": request.number, "clerk": clerk.name})
    return RequestResult(request.number, identifier.value)


async def change_phone(
    db: AsyncSession,
    applicant: Applicant,
    new_phone: str,
    confirmation_id: int | None,
    clerk: Clerk,
    *,
    now: datetime | None = None,
) -> RequestResult:
    """Move the identifier to a new, confirmed and unused number; the old one is told."""
    now = now or datetime.now(UTC)
    request = _new_request(RequestKind.CHANGE_PHONE, applicant, clerk, now=now)
    identifier = await _requested_identifier(db, request, applicant, now=now)
    phone = await _new_phone_checks(db, request, identifier, new_phone)
    try:
        confirmation = await use_confirmation(db, confirmation_id, phone, now=now)
    except DomainError as refusal:
        await _refuse(db, request, refusal)
        raise

    old_phone = identifier.phone
    identifier.phone = phone
    request.confirmation_id = confirmation.id
    try:
        await _grant(db, request, now=now)
    except IntegrityError:
        await db.rollback()
        request = _new_request(RequestKind.CHANGE_PHONE, applicant, clerk, now=now)
        refusal = DomainError("phone_in_use")
        await _refuse(db, request, refusal)
        raise refusal from None

    text = clerk.translator.gettext(PHONE_CHANGED_SMS, locale=clerk.translator.default_locale)
    queue_sms(db, old_phone, text, purpose="phone_changed")
    notify(db, identifier.id, "phone_changed")
    audit.record(
        db,
        actor=f"clerk:{clerk.name}",
        action="identifier.phone_changed",
        subject=f"identifier:{identifier.id}",
        request=request.number,
    )
    await db.commit()
    log.info("phone changed", extra={"request": request.number, "clerk": clerk.name})
    return RequestResult(request.number, identifier.value)


async def check_phone_change(
    db: AsyncSession,
    applicant: Applicant,
    new_phone: str,
    clerk: Clerk,
    *,
    now: datetime | None = None,
) -> None:
    """Before a code goes to the new number: no code is sent to a number already in use."""
    now = now or datetime.now(UTC)
    request = _new_request(RequestKind.CHANGE_PHONE, applicant, clerk, now=now)
    identifier = await _requested_identifier(db, request, applicant, now=now)
    await _new_phone_checks(db, request, identifier, new_phone)


async def _new_phone_checks(
    db: AsyncSession, request: OneWindowRequest, identifier: Identifier, new_phone: str
) -> str:
    """The new number is well formed, different and unused; returns it in E.164."""
    try:
        phone = normalise_phone(new_phone)
        request.phone, request.previous_phone = phone, identifier.phone
        if phone == identifier.phone:
            raise DomainError("phone_unchanged")
        if await db.scalar(select(Identifier.id).where(Identifier.phone == phone)):
            raise DomainError("phone_in_use")
    except DomainError as refusal:
        await _refuse(db, request, refusal)
        raise
    return phone


def _new_request(
    kind: RequestKind, applicant: Applicant, clerk: Clerk, *, now: datetime
) -> OneWindowRequest:
    document = applicant.document
    return OneWindowRequest(
        kind=kind,
        clerk=clerk.name,
        personal_number=normalise(applicant.personal_number)[:14],
        full_name=applicant.full_name.strip()[:200],
        birth_date=applicant.birth_date,
        sex=applicant.sex,
        document_kind=document.kind,
        document_number=document.number.strip().upper()[:32],
        document_issued_on=document.issued_on,
        document_expires_on=document.expires_on,
        issuing_body=document.issuing_body.strip()[:200],
        attested=applicant.attested,
        outcome=RequestOutcome.REFUSED,
        created_at=now,
    )


def _check_applicant(applicant: Applicant, *, today: date) -> str:
    """Conditions 1 and 5 of DESIGN §2; returns the personal number, normalised."""
    _check_document(applicant.document, today=today)

    personal_number = parse(applicant.personal_number)
    if personal_number.birth_date != applicant.birth_date:
        raise DomainError("birth_date_mismatch")
    if personal_number.sex != applicant.sex:
        raise DomainError("sex_mismatch")
    if not applicant.full_name.strip():
        raise DomainError("full_name_missing")
    if not applicant.attested:
        raise DomainError("not_attested")
    return personal_number.value


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


async def _requested_identifier(
    db: AsyncSession, request: OneWindowRequest, applicant: Applicant, *, now: datetime
) -> Identifier:
    """The applicant's identifier, after their document and data are checked."""
    try:
        value = _check_applicant(applicant, today=now.date())
        identifier = await db.scalar(
            select(Identifier)
            .where(Identifier.value == value)
            .options(selectinload(Identifier.credential))
        )
        if identifier is None:
            raise DomainError("identifier_not_found")
    except DomainError as refusal:
        await _refuse(db, request, refusal)
        raise
    request.identifier_id = identifier.id
    return identifier


async def _assignment_conflict(db: AsyncSession, value: str, phone: str) -> str | None:
    """Conditions 2 and 4: no identifier for this person before, the phone not in use."""
    if await db.scalar(select(Identifier.id).where(Identifier.value == value)):
        return "identifier_already_assigned"
    if await db.scalar(select(Identifier.id).where(Identifier.phone == phone)):
        return "phone_in_use"
    return None


async def _create_identifier(
    db: AsyncSession, applicant: Applicant, value: str, phone: str, *, now: datetime
) -> Identifier:
    citizen = await db.scalar(select(Citizen).where(Citizen.personal_number == value))
    if citizen is None:
        citizen = Citizen(
            personal_number=value,
            full_name=applicant.full_name.strip()[:200],
            birth_date=applicant.birth_date,
            sex=applicant.sex,
        )
        db.add(citizen)
    identifier = Identifier(citizen=citizen, value=value, phone=phone, issued_at=now)
    db.add(identifier)
    await db.flush()
    return identifier


async def _give_temporary_password(
    db: AsyncSession, identifier: Identifier, clerk: Clerk, template: str, *, now: datetime
) -> None:
    """A new temporary password, stored as a hash and queued for SMS; any sign-in lock lifts."""
    password = generate_temporary_password()
    expires_at = now + clerk.password_ttl
    password_hash = await hash_password(password)
    credential = await db.scalar(
        select(Credential).where(Credential.identifier_id == identifier.id)
    )
    if credential is None:
        credential = Credential(identifier_id=identifier.id)
        db.add(credential)
    credential.password_hash = password_hash
    credential.is_temporary, credential.expires_at, credential.changed_at = True, expires_at, now
    await lift_lock(db, identifier.value)

    translator = clerk.translator
    text = translator.gettext(template, locale=translator.default_locale).format(
        password=password, expires=translator.format_datetime(expires_at)
    )
    queue_sms(db, identifier.phone, text, purpose="temporary_password", secret=True)
    audit.record(
        db,
        actor="system",
        action="temporary_password.issued",
        subject=f"identifier:{identifier.id}",
        expires_at=expires_at.isoformat(),
    )


async def _grant(db: AsyncSession, request: OneWindowRequest, *, now: datetime) -> None:
    request.outcome = RequestOutcome.GRANTED
    db.add(request)
    await db.flush()
    request.number = _request_number(request, now)
    audit.record(
        db,
        actor=f"clerk:{request.clerk}",
        action=f"request.{request.kind}.granted",
        subject=f"request:{request.number}",
        personal_number=mask(request.personal_number),
    )


async def _refuse(db: AsyncSession, request: OneWindowRequest, refusal: DomainError) -> None:
    """Record the refusal with its reason; the error then names the request for the clerk."""
    reason = refusal.code
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
    refusal.params["request_number"] = request.number
    log.info("one-window request refused", extra={"request": request.number, "reason": reason})


def _request_number(request: OneWindowRequest, now: datetime) -> str:
    return f"OW-{now:%Y}-{request.id:06d}"
