"""Administrative decisions recorded by officials (DESIGN §4)."""

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services import audit
from services.applications import OPEN_STATUSES
from services.errors import DomainError
from services.notifications import notify
from storage.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Decision,
    DecisionOutcome,
)

log = logging.getLogger(__name__)

MAX_DECISION_TEXT = 3000

STATUS_AFTER = {
    DecisionOutcome.APPROVED: ApplicationStatus.APPROVED,
    DecisionOutcome.REFUSED: ApplicationStatus.REFUSED,
    DecisionOutcome.REFUSED_TO_ACCEPT: ApplicationStatus.REFUSED,
}


async def decide(
    db: AsyncSession,
    registration_number: str,
    outcome: DecisionOutcome,
    text: str,
    *,
    official: str,
    now: datetime | None = None,
) -> Decision:
    """Record the decision, close the application and notify the citizen."""
    now = now or datetime.now(UTC)
    text = text.strip()
    if not text:
        raise DomainError("decision_text_missing")
    if len(text) > MAX_DECISION_TEXT:
        raise DomainError("decision_text_too_long", maximum=MAX_DECISION_TEXT)

    application = await db.scalar(
        select(Application)
        .where(Application.registration_number == registration_number.strip().upper())
        .options(selectinload(Application.history), selectinload(Application.decision))
    )
    if application is None:
        raise DomainError("application_not_found")
    if application.status == ApplicationStatus.WITHDRAWN:
        raise DomainError("application_already_withdrawn")
    if application.status not in OPEN_STATUSES or application.decision is not None:
        raise DomainError("application_already_decided")

    decision = Decision(outcome=outcome, text=text, official=official, decided_at=now)
    application.decision = decision
    application.status = STATUS_AFTER[outcome]
    application.history.append(
        ApplicationEvent(status=application.status, actor=f"official:{official}", at=now)
    )
    notify(
        db,
        application.identifier_id,
        "decision",
        registration_number=application.registration_number,
        application_id=application.id,
    )
    audit.record(
        db,
        actor=f"official:{official}",
        action=f"decision.{outcome}",
        subject=f"application:{application.registration_number}",
    )
    await db.commit()
    log.info(
        "decision recorded",
        extra={
            "registration_number": application.registration_number,
            "outcome": str(outcome),
        },
    )
    return decision
