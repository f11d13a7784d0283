"""Admins in the bot: grant, take away and list staff roles."""

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import error_text, escape
from services import staff
from services.errors import DomainError
from storage.models import StaffMember, StaffRole

ROLE_NAMES = {role.value for role in StaffRole}


class IsAdmin(Filter):
    """Only admins pass; anyone else falls through to the ordinary answers."""

    async def __call__(self, message: Message, **data: Any) -> bool:
        member: StaffMember | None = data.get("staff_member")
        return member is not None and member.role == StaffRole.ADMIN


def actor(member: StaffMember) -> str:
    return f"admin:{member.telegram_user_id}"


async def grant_role(
    message: Message, command: CommandObject, db: AsyncSession, staff_member: StaffMember
) -> None:
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 3 or not parts[0].isdigit() or parts[1] not in ROLE_NAMES:
        await message.answer(
            _(
                "Usage: /staff_add TELEGRAM_ID ROLE FULL NAME, where ROLE is operator, "
                "official or admin."
            )
        )
        return

    telegram_id, role, full_name = int(parts[0]), StaffRole(parts[1]), parts[2]
    if telegram_id == staff_member.telegram_user_id:
        await message.answer(_("You cannot change your own role."))
        return
    try:
        await staff.add_staff(db, telegram_id, role, full_name, actor=actor(staff_member))
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await message.answer(
        _("{name} ({telegram_id}) now has the role {role}.").format(
            name=escape(full_name), telegram_id=telegram_id, role=role.value
        )
    )


async def revoke_role(
    message: Message, command: CommandObject, db: AsyncSession, staff_member: StaffMember
) -> None:
    argument = (command.args or "").strip()
    if not argument.isdigit():
        await message.answer(_("Usage: /staff_remove TELEGRAM_ID"))
        return
    if int(argument) == staff_member.telegram_user_id:
        await message.answer(_("You cannot take away your own role."))
        return

    try:
        await staff.remove_staff(db, int(argument), actor=actor(staff_member))
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await message.answer(
        _("The staff role of {telegram_id} is taken away.").format(telegram_id=int(argument))
    )


async def list_roles(message: Message, db: AsyncSession) -> None:
    members = await staff.list_staff(db)
    if not members:
        await message.answer(_("There are no staff accounts yet."))
        return
    lines = [
        f"{member.telegram_user_id} · {member.role} · {escape(member.full_name)}"
        for member in members
    ]
    await message.answer(_("<b>Staff</b>") + "\n" + "\n".join(lines))


def create_router() -> Router:
    router = Router(name="admin")
    router.message.register(grant_role, Command("staff_add"), IsAdmin())
    router.message.register(revoke_role, Command("staff_remove"), IsAdmin())
    router.message.register(list_roles, Command("staff_list"), IsAdmin())
    return router
