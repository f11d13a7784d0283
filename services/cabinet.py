"""The personal cabinet: profile, password change and blocking one's own identifier."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services import access, one_window
from services.access import AccessPolicy
from services.errors import DomainError
from services.identifier import mask
from services.phones import mask_phone
from storage.models import Identifier, IdentifierStatus, Notification

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Profile:
    full_name: str
    personal_number: str  # masked
    phone: str  # masked
    issued_at: datetime
    active: bool


async def profile(db: AsyncSession, identifier_id: int) -> Profile:
    identifier = await db.scalar(
        select(Identifier)
        .where(Identifier.id == identifier_id)
        .options(selectinload(Identifier.citizen))
    )
    if identifier is None:
        raise DomainError("identifier_not_found")
    return Profile(
        full_name=identifier.citizen.full_name,
        personal_number=mask(identifier.value),
        phone=mask_phone(identifier.phone),
        issued_at=identifier.issued_at,
        active=identifier.status == IdentifierStatus.ACTIVE,
    )


async def confirm_password(
    db: AsyncSession, identifier_id: int, password: str, *, policy: AccessPolicy
) -> str:
    """A sensitive action asks for the password again; failures count toward the lock.

    Returns the identifier, which the password policy needs.
    """
    value = await db.scalar(select(Identifier.value).where(Identifier.id == identifier_id))
    if value is None:
        raise DomainError("identifier_not_found")
    await access.verify_credentials(db, value, password, policy=policy)
    return value


async def block_own_identifier(
    db: AsyncSession,
    identifier_id: int,
    password: str,
    *,
    policy: AccessPolicy,
    now: datetime | None = None,
) -> None:
    """Self-block: the password once more, then blocked at once with every session ended."""
    now = now or datetime.now(UTC)
    await confirm_password(db, identifier_id, password, policy=policy)
    identifier = await db.get(Identifier, identifier_id)
    assert identifier is not None  # confirm_password found it
    await one_window.block(
        db,
        identifier,
        actor=f"identifier:{identifier_id}",
        reason="self",
        now=now,
        tell_chat=False,
    )
    await db.commit()
    log.info("identifier blocked by its holder", extra={"identifier_id": identifier_id})


async def recent_notifications(
    db: AsyncSession, identifier_id: int, *, limit: int = 10
) -> list[Notification]:
    rows = await db.scalars(
        select(Notification)
        .where(Notification.identifier_id == identifier_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(rows)
