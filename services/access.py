"""Signing in and sessions (DESIGN §3)."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services import audit, phone_confirmation
from services.errors import DomainError
from services.identifier import mask, parse
from services.notifications import notify
from services.passwords import check_policy, hash_password, verify_password
from services.texts import Translator
from storage.models import Credential, Identifier, IdentifierStatus, Session, SignInGuard

log = logging.getLogger(__name__)

# Verified when the identifier is unknown, so that a wrong identifier costs the same time
# as a wrong password and the answer's timing reveals nothing.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c+YcUFFaa3C8+yH8mR+vnA$"
    "dPvP50UasdAVEaQX3D5zNaXgYxD8Geh8q+YZtFYTWp0"
)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    max_attempts: int
    first_lock: timedelta
    idle_timeout: timedelta
    max_age: timedelta


@dataclass(frozen=True, slots=True)
class Verified:
    identifier_id: int
    must_change_password: bool


async def verify_credentials(
    db: AsyncSession,
    raw_identifier: str,
    password: str,
    *,
    policy: AccessPolicy,
    now: datetime | None = None,
) -> Verified:
    """Check identifier and password; raise credentials_invalid, sign_in_locked, … .

    Until the password is right, an unknown, a blocked and an active identifier get the
    same answers, lock alike and take the same time.
    """
    now = now or datetime.now(UTC)
    value = parse(raw_identifier).value
    guard = await db.get(SignInGuard, value)
    if guard is not None and guard.locked_until and guard.locked_until > now:
        raise DomainError("sign_in_locked", until=guard.locked_until)

    identifier = await db.scalar(
        select(Identifier)
        .where(Identifier.value == value)
        .options(selectinload(Identifier.credential))
    )
    password_hash = identifier.credential.password_hash if identifier else _DUMMY_HASH
    if not await verify_password(password_hash, password) or identifier is None:
        await _count_failure(db, guard or SignInGuard(value=value), policy=policy, now=now)

    if guard is not None:
        await db.delete(guard)
        await db.commit()

    credential = identifier.credential
    if identifier.status == IdentifierStatus.BLOCKED:
        raise DomainError("identifier_blocked")
    if credential.is_temporary and credential.expires_at and credential.expires_at <= now:
        raise DomainError("temporary_password_expired")
    return Verified(identifier.id, must_change_password=credential.is_temporary)


async def _count_failure(
    db: AsyncSession, guard: SignInGuard, *, policy: AccessPolicy, now: datetime
) -> None:
    db.add(guard)
    guard.failed_attempts = (guard.failed_attempts or 0) + 1
    if guard.failed_attempts < policy.max_attempts:
        await db.commit()
        raise DomainError("credentials_invalid")

    # Each lock in a row lasts twice as long as the one before.
    lock_count = guard.lock_count or 0
    guard.locked_until = now + policy.first_lock * (2**lock_count)
    guard.lock_count = lock_count + 1
    guard.failed_attempts = 0
    audit.record(
        db,
        actor="system",
        action="sign_in.locked",
        subject=f"identifier:{mask(guard.value)}",
        until=guard.locked_until.isoformat(),
    )
    await db.commit()
    log.warning("sign-in locked", extra={"identifier": mask(guard.value)})
    raise DomainError("sign_in_locked", until=guard.locked_until)


async def lift_lock(db: AsyncSession, value: str) -> None:
    """Forget failed sign-ins of an identifier (the one window unblocks it), in the caller's
    transaction."""
    guard = await db.get(SignInGuard, value)
    if guard is not None:
        await db.delete(guard)


async def send_sign_in_code(
    db: AsyncSession, identifier_id: int, *, translator: Translator, now: datetime | None = None
) -> tuple[int, str]:
    """The second factor: a code by SMS to the identifier's phone; returns its id and phone."""
    now = now or datetime.now(UTC)
    identifier = await db.get(Identifier, identifier_id)
    if identifier is None or identifier.status != IdentifierStatus.ACTIVE:
        raise DomainError("identifier_blocked")
    recent = await phone_confirmation.live_code(db, identifier.phone, "sign_in", now=now)
    if recent is not None:
        # Signing in again a moment later: the code already on its way still works.
        return recent.id, identifier.phone
    confirmation = await phone_confirmation.send_code(
        db, identifier.phone, clerk="sign-in", translator=translator, purpose="sign_in", now=now
    )
    return confirmation.id, identifier.phone


async def check_sign_in_code(
    db: AsyncSession,
    identifier_id: int,
    confirmation_id: int,
    code: str,
    *,
    now: datetime | None = None,
) -> None:
    """The code must be the one sent for this sign-in to this identifier's phone."""
    identifier = await db.get(Identifier, identifier_id)
    confirmation = await phone_confirmation.confirm_code(
        db, confirmation_id, code, purpose="sign_in", now=now
    )
    if identifier is None or confirmation.phone != identifier.phone:
        raise DomainError("code_unknown")
    if confirmation.used_at is not None:
        raise DomainError("code_unknown")
    confirmation.used_at = now or datetime.now(UTC)
    await db.commit()


async def set_own_password(
    db: AsyncSession, identifier_id: int, password: str, *, now: datetime | None = None
) -> None:
    """Replace the password with the citizen's own; every open session ends."""
    now = now or datetime.now(UTC)
    identifier = await db.get(
        Identifier, identifier_id, options=[selectinload(Identifier.credential)]
    )
    if identifier is None or identifier.status == IdentifierStatus.BLOCKED:
        raise DomainError("identifier_blocked")
    check_policy(password, identifier=identifier.value)

    credential: Credential = identifier.credential
    if not credential.is_temporary and await verify_password(credential.password_hash, password):
        raise DomainError("password_unchanged")
    credential.password_hash = await hash_password(password)
    credential.is_temporary = False
    credential.expires_at = None
    credential.changed_at = now
    await _end_sessions(
        db, Session.identifier_id == identifier_id, reason="password_changed", now=now
    )
    audit.record(
        db,
        actor=f"identifier:{identifier_id}",
        action="password.changed",
        subject=f"identifier:{identifier_id}",
    )
    await db.commit()


async def start_session(
    db: AsyncSession,
    identifier_id: int,
    *,
    telegram_user_id: int,
    chat_id: int,
    now: datetime | None = None,
) -> Session:
    """One citizen, one Telegram user, one chat: earlier sessions of either end here.

    A session of the same citizen in another chat is told that someone signed in elsewhere.
    """
    now = now or datetime.now(UTC)
    elsewhere = await db.scalars(
        select(Session.chat_id).where(
            Session.identifier_id == identifier_id,
            Session.ended_at.is_(None),
            Session.chat_id != chat_id,
        )
    )
    for earlier_chat in set(elsewhere):
        notify(db, identifier_id, "signed_in_elsewhere", chat_id=earlier_chat)
    await _end_sessions(
        db,
        (Session.identifier_id == identifier_id) | (Session.telegram_user_id == telegram_user_id),
        reason="replaced",
        now=now,
    )
    session = Session(
        identifier_id=identifier_id,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        started_at=now,
        last_seen_at=now,
    )
    db.add(session)
    await db.execute(
        update(Identifier).where(Identifier.id == identifier_id).values(push_chat_id=chat_id)
    )
    audit.record(
        db,
        actor=f"identifier:{identifier_id}",
        action="session.started",
        subject=f"identifier:{identifier_id}",
    )
    await db.commit()
    log.info("session started", extra={"identifier_id": identifier_id})
    return session


async def current_session(
    db: AsyncSession,
    telegram_user_id: int,
    *,
    policy: AccessPolicy,
    now: datetime | None = None,
) -> Session | None:
    """The open session of this Telegram user, touched; an expired one ends and None is given."""
    now = now or datetime.now(UTC)
    session = await db.scalar(
        select(Session).where(
            Session.telegram_user_id == telegram_user_id, Session.ended_at.is_(None)
        )
    )
    if session is None:
        return None

    if now - session.last_seen_at > policy.idle_timeout:
        reason = "idle"
    elif now - session.started_at > policy.max_age:
        reason = "max_age"
    else:
        session.last_seen_at = now
        await db.commit()
        return session

    session.ended_at, session.end_reason = now, reason
    await db.commit()
    raise DomainError("session_expired")


async def end_session(db: AsyncSession, session: Session, *, reason: str = "sign_out") -> None:
    session.ended_at = datetime.now(UTC)
    session.end_reason = reason
    audit.record(
        db,
        actor=f"identifier:{session.identifier_id}",
        action="session.ended",
        subject=f"identifier:{session.identifier_id}",
        reason=reason,
    )
    await db.commit()


async def _end_sessions(
    db: AsyncSession, condition: object, *, reason: str, now: datetime
) -> None:
    await db.execute(
        update(Session)
        .where(condition, Session.ended_at.is_(None))  # type: ignore[arg-type]
        .values(ended_at=now, end_reason=reason)
    )
