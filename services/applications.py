"""Applications: submission, the citizen's list and card, withdrawal (DESIGN §4)."""

import calendar
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services import audit
from services.errors import DomainError
from services.forms import missing_required
from storage.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Identifier,
    IdentifierStatus,
    Procedure,
)

log = logging.getLogger(__name__)

OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW)


async def submit(
    db: AsyncSession,
    identifier_id: int,
    procedure_id: int,
    answers: dict[str, Any],
    *,
    submit_token: str,
    now: datetime | None = None,
) -> Application:
    """Register the application; the same token submitted twice gives the same application."""
    now = now or datetime.now(UTC)
    earlier = await find_submitted(db, identifier_id, submit_token)
    if earlier is not None:
        return earlier

    await require_active(db, identifier_id)
    procedure = await db.get(Procedure, procedure_id)
    if procedure is None:
        raise DomainError("procedure_not_found")
    if not procedure.is_current:
        raise DomainError("procedure_revised")
    if missing_required(procedure.fields, answers):
        raise DomainError("answers_incomplete")

    application = Application(
        identifier_id=identifier_id,
        procedure_id=procedure_id,
        status=ApplicationStatus.SUBMITTED,
        answers=answers,
        submit_token=submit_token,
        created_at=now,
        submitted_at=now,
        deadline=deadline_for(procedure, now.date()),
    )
    application.history.append(
        ApplicationEvent(status=ApplicationStatus.SUBMITTED, actor="citizen", at=now)
    )
    db.add(application)
    try:
        await db.flush()
    except IntegrityError:
        # The same submit arrived twice at once; the other one won.
        await db.rollback()
        winner = await find_submitted(db, identifier_id, submit_token)
        if winner is None:
            raise
        return winner

    application.registration_number = f"EP-{now:%Y}-{application.id:06d}"
    audit.record(
        db,
        actor=f"identifier:{identifier_id}",
        action="application.submitted",
        subject=f"application:{application.registration_number}",
        procedure=procedure.code,
    )
    await db.commit()
    log.info(
        "application submitted", extra={"registration_number": application.registration_number}
    )
    return application


async def list_applications(
    db: AsyncSession, identifier_id: int, *, offset: int = 0, limit: int = 10
) -> tuple[list[Application], int]:
    """A page of the citizen's applications, newest first, and the total count."""
    mine = Application.identifier_id == identifier_id
    total = await db.scalar(select(func.count()).select_from(Application).where(mine)) or 0
    rows = await db.scalars(
        select(Application)
        .where(mine)
        .options(selectinload(Application.procedure))
        .order_by(Application.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


async def get_application(
    db: AsyncSession, identifier_id: int, application_id: int
) -> Application:
    """The citizen's own application; another citizen's is as unknown as a missing one."""
    application = await db.scalar(
        select(Application)
        .where(Application.id == application_id, Application.identifier_id == identifier_id)
        .options(
            selectinload(Application.procedure),
            selectinload(Application.history),
            selectinload(Application.decision),
        )
    )
    if application is None:
        raise DomainError("application_not_found")
    return application


async def withdraw(
    db: AsyncSession, identifier_id: int, application_id: int, *, now: datetime | None = None
) -> Application:
    now = now or datetime.now(UTC)
    await require_active(db, identifier_id)
    application = await get_application(db, identifier_id, application_id)
    check_withdrawable(application)

    application.status = ApplicationStatus.WITHDRAWN
    application.history.append(
        ApplicationEvent(status=ApplicationStatus.WITHDRAWN, actor="citizen", at=now)
    )
    audit.record(
        db,
        actor=f"identifier:{identifier_id}",
        action="application.withdrawn",
        subject=f"application:{application.registration_number}",
    )
    await db.commit()
    log.info(
        "application withdrawn", extra={"registration_number": application.registration_number}
    )
    return application


def check_withdrawable(application: Application) -> None:
    """A citizen may withdraw until a decision exists (DESIGN §4)."""
    if application.status == ApplicationStatus.WITHDRAWN:
        raise DomainError("application_already_withdrawn")
    if application.status not in OPEN_STATUSES:
        raise DomainError("application_decided")


async def require_active(db: AsyncSession, identifier_id: int) -> None:
    status = await db.scalar(select(Identifier.status).where(Identifier.id == identifier_id))
    if status != IdentifierStatus.ACTIVE:
        raise DomainError("identifier_blocked")


def deadline_for(procedure: Procedure, submitted_on: date) -> date:
    """The last day of the procedure's maximum term, counted from the day of submission."""
    if procedure.term_months:
        return add_months(submitted_on, procedure.term_months)
    return submitted_on + timedelta(days=procedure.term_days or 0)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_overdue(application: Application, *, today: date) -> bool:
    return (
        application.status in OPEN_STATUSES
        and application.deadline is not None
        and application.deadline < today
    )


async def find_submitted(
    db: AsyncSession, identifier_id: int, submit_token: str
) -> Application | None:
    """The citizen's application submitted from the draft with this token, if any."""
    return await db.scalar(
        select(Application)
        .where(Application.submit_token == submit_token)
        .where(Application.identifier_id == identifier_id)
    )
