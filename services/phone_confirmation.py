"""Confirming a phone at the one window: a code by SMS that the citizen reads out."""

import logging
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.errors import DomainError
from services.passwords import hash_password, verify_password
from services.phones import mask_phone, normalise_phone
from services.sms_outbox import queue_sms
from services.texts import N_, Translator
from storage.models import Identifier, PhoneConfirmation

log = logging.getLogger(__name__)

CODE_LENGTH = 6
MAX_WRONG_CODES = 3
# What each code is for: its life and the words of its SMS.
PURPOSES = {
    "one_window": (
        timedelta(minutes=10),
        N_("Portal: confirmation code {code}. Tell it only to the one-window clerk."),
    ),
    "sign_in": (
        timedelta(minutes=5),
        N_("Portal: sign-in code {code}. Do not tell it to anyone, clerks included."),
    ),
}
RESEND_INTERVAL = timedelta(seconds=60)
MAX_CODES_PER_HOUR = 5
# A confirmed phone serves the request being registered, not one made much later.
CONFIRMATION_VALID_FOR = timedelta(minutes=30)

# People read codes from a phone; some keyboards give Arabic-Indic or full-width digits.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩０１２３４５６７８９", "01234567890123456789")


async def send_code(
    db: AsyncSession,
    raw_phone: str,
    *,
    clerk: str,
    translator: Translator,
    purpose: str = "one_window",
    now: datetime | None = None,
) -> PhoneConfirmation:
    """Queue an SMS with a new code for the phone; raise code_resend_too_soon if asked again."""
    now = now or datetime.now(UTC)
    phone = normalise_phone(raw_phone)
    if purpose == "one_window" and await db.scalar(
        select(Identifier.id).where(Identifier.phone == phone)
    ):
        # Every one-window request that confirms a phone needs an unused one.
        raise DomainError("phone_in_use")
    await _check_rate(db, phone, purpose, now=now)

    life, template = PURPOSES[purpose]
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))
    confirmation = PhoneConfirmation(
        phone=phone,
        purpose=purpose,
        code_hash=await hash_password(code),
        clerk=clerk,
        created_at=now,
        expires_at=now + life,
    )
    db.add(confirmation)
    text = translator.gettext(template, locale=translator.default_locale).format(code=code)
    queue_sms(db, phone, text, purpose=f"{purpose}_code", secret=True)
    await db.flush()
    audit.record(
        db,
        actor=f"clerk:{clerk}",
        action="phone_code.sent",
        subject=f"confirmation:{confirmation.id}",
        phone=mask_phone(phone),
    )
    await db.commit()
    return confirmation


async def _check_rate(db: AsyncSession, phone: str, purpose: str, *, now: datetime) -> None:
    """Codes of one purpose to one phone: one a minute, five an hour."""
    same = (PhoneConfirmation.phone == phone, PhoneConfirmation.purpose == purpose)
    recent = select(PhoneConfirmation).where(
        *same, PhoneConfirmation.created_at > now - timedelta(hours=1)
    )
    count = await db.scalar(select(func.count()).select_from(recent.subquery())) or 0
    latest = await db.scalar(select(func.max(PhoneConfirmation.created_at)).where(*same))
    if latest is not None and now - latest < RESEND_INTERVAL:
        wait = int((RESEND_INTERVAL - (now - latest)).total_seconds()) + 1
        raise DomainError("code_resend_too_soon", seconds=wait)
    if count >= MAX_CODES_PER_HOUR:
        raise DomainError("code_limit_reached")


async def confirm_code(
    db: AsyncSession,
    confirmation_id: int,
    raw_code: str,
    *,
    purpose: str = "one_window",
    now: datetime | None = None,
) -> PhoneConfirmation:
    """Check the code read out; three wrong codes void it."""
    now = now or datetime.now(UTC)
    confirmation = await db.get(PhoneConfirmation, confirmation_id)
    if confirmation is None or confirmation.purpose != purpose:
        raise DomainError("code_unknown")
    if confirmation.confirmed_at is None and confirmation.voided:
        raise DomainError("code_voided")
    if confirmation.confirmed_at is None and confirmation.expires_at <= now:
        raise DomainError("code_expired")

    code = "".join(raw_code.split()).translate(_DIGITS)
    if not (len(code) == CODE_LENGTH and code.isdigit()):
        # A slip of the keyboard is not a guess: it costs no attempt.
        raise DomainError("code_malformed", length=CODE_LENGTH)
    if await verify_password(confirmation.code_hash, code):
        # Entered again after it was confirmed (a retried request): the same answer.
        if confirmation.confirmed_at is None:
            confirmation.confirmed_at = now
            audit.record(
                db,
                actor=f"clerk:{confirmation.clerk}",
                action="phone.confirmed",
                subject=f"confirmation:{confirmation.id}",
            )
            await db.commit()
        return confirmation

    confirmation.failed_attempts += 1
    attempts_left = MAX_WRONG_CODES - confirmation.failed_attempts
    if attempts_left <= 0:
        confirmation.voided = True
    await db.commit()
    if attempts_left <= 0:
        raise DomainError("code_voided")
    raise DomainError("code_wrong", attempts_left=attempts_left)


async def live_code(
    db: AsyncSession, phone: str, purpose: str, *, now: datetime
) -> PhoneConfirmation | None:
    """A code sent to the phone within the resend interval that can still be entered."""
    return await db.scalar(
        select(PhoneConfirmation)
        .where(
            PhoneConfirmation.phone == phone,
            PhoneConfirmation.purpose == purpose,
            PhoneConfirmation.created_at > now - RESEND_INTERVAL,
            PhoneConfirmation.expires_at > now,
            PhoneConfirmation.confirmed_at.is_(None),
            PhoneConfirmation.voided.is_(False),
        )
        .order_by(PhoneConfirmation.id.desc())
        .limit(1)
    )


async def use_confirmation(
    db: AsyncSession, confirmation_id: int | None, phone: str, *, now: datetime
) -> PhoneConfirmation:
    """The confirmation of this phone, recent and unused, marked used by the caller's change."""
    confirmation = await db.get(PhoneConfirmation, confirmation_id) if confirmation_id else None
    if (
        confirmation is None
        or confirmation.phone != phone
        or confirmation.confirmed_at is None
        or confirmation.used_at is not None
        or now - confirmation.confirmed_at > CONFIRMATION_VALID_FOR
    ):
        raise DomainError("phone_not_confirmed")
    confirmation.used_at = now
    return confirmation
