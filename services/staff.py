"""Staff accounts: Telegram users with a role given by an admin (DESIGN §1)."""

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.errors import DomainError
from storage.models import StaffMember, StaffRole

log = logging.getLogger(__name__)


async def add_staff(
    db: AsyncSession, telegram_user_id: int, role: StaffRole, full_name: str, *, actor: str
) -> StaffMember:
    """Give a Telegram account a role, or change the role it has."""
    full_name = full_name.strip()
    if not full_name:
        raise DomainError("full_name_missing")
    member = await db.scalar(
        select(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)
    )
    if member is None:
        member = StaffMember(telegram_user_id=telegram_user_id, added_by=actor)
        db.add(member)
    member.role, member.full_name, member.active = role, full_name[:200], True
    audit.record(
        db,
        actor=actor,
        action="staff.granted",
        subject=f"telegram:{telegram_user_id}",
        role=str(role),
    )
    await db.commit()
    log.info("staff role granted", extra={"telegram_user_id": telegram_user_id, "role": role})
    return member


async def remove_staff(db: AsyncSession, telegram_user_id: int, *, actor: str) -> None:
    member = await db.scalar(
        select(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)
    )
    if member is None or not member.active:
        raise DomainError("staff_not_found")
    member.active = False
    audit.record(db, actor=actor, action="staff.revoked", subject=f"telegram:{telegram_user_id}")
    await db.commit()


async def staff_member(
    db: AsyncSession, telegram_user_id: int, *, admin_ids: frozenset[int] = frozenset()
) -> StaffMember | None:
    """The active staff account of this Telegram user; ADMIN_IDS are admins without a row."""
    member = await db.scalar(
        select(StaffMember).where(
            StaffMember.telegram_user_id == telegram_user_id, StaffMember.active.is_(True)
        )
    )
    if member is None and telegram_user_id in admin_ids:
        return StaffMember(
            telegram_user_id=telegram_user_id,
            full_name=f"admin {telegram_user_id}",
            role=StaffRole.ADMIN,
            active=True,
            added_by="ADMIN_IDS",
        )
    return member


async def list_staff(db: AsyncSession) -> list[StaffMember]:
    rows = await db.scalars(
        select(StaffMember).where(StaffMember.active.is_(True)).order_by(StaffMember.id)
    )
    return list(rows)


def can_serve_one_window(member: StaffMember | None) -> bool:
    return member is not None and member.role == StaffRole.OPERATOR
