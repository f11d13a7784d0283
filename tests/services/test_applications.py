import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services import applications, catalog, decisions, notifications
from services.errors import DomainError
from services.texts import Translator
from storage.db import create_session_factory
from storage.models import (
    Application,
    ApplicationStatus,
    DecisionOutcome,
    Identifier,
    IdentifierStatus,
    Notification,
    Procedure,
)
from tests.conftest import TEST_CATALOG
from tests.helpers import issue_citizen

ANSWERS = {"purpose": "for the bank", "delivery": "pickup"}


@pytest.fixture
async def citizen(db: AsyncSession, translator: Translator) -> int:
    await catalog.load_catalog(db, TEST_CATALOG)
    await issue_citizen(db, translator)
    return await db.scalar(select(Identifier.id))


async def procedure_id(db: AsyncSession, code: str = "18.7") -> int:
    return await db.scalar(select(Procedure.id).where(Procedure.code == code))


async def test_submit_registers_number_deadline_and_history(
    db: AsyncSession, citizen: int
) -> None:
    submitted_at = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)

    application = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="t1", now=submitted_at
    )

    card = await applications.get_application(db, citizen, application.id)
    assert card.registration_number == f"EP-2026-{application.id:06d}"
    assert card.deadline == date(2026, 2, 4)  # 18.7 takes five days
    assert [event.status for event in card.history] == [ApplicationStatus.SUBMITTED]


async def test_month_terms_end_on_the_same_day_or_the_month_end(
    db: AsyncSession, citizen: int
) -> None:
    answers = {"address": "Minsk", "until": "2026-05-01", "owner_agrees": True}

    application = await applications.submit(
        db,
        citizen,
        await procedure_id(db, "13.2"),
        answers,
        submit_token="t2",
        now=datetime(2026, 1, 31, tzinfo=UTC),
    )

    assert application.deadline == date(2026, 2, 28)


async def test_same_token_submitted_twice_makes_one_application(
    db: AsyncSession, citizen: int
) -> None:
    first = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="same"
    )
    second = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="same"
    )

    assert first.id == second.id
    assert await db.scalar(select(func.count()).select_from(Application)) == 1


async def test_concurrent_double_submit_makes_one_application(
    engine: AsyncEngine, citizen: int, db: AsyncSession
) -> None:
    factory = create_session_factory(engine)
    proc_id = await procedure_id(db)

    async def tap() -> int:
        async with factory() as session:
            application = await applications.submit(
                session, citizen, proc_id, ANSWERS, submit_token="tap"
            )
            return application.id

    ids = await asyncio.gather(tap(), tap())

    assert ids[0] == ids[1]
    assert await db.scalar(select(func.count()).select_from(Application)) == 1


async def test_missing_required_answer_is_refused(db: AsyncSession, citizen: int) -> None:
    with pytest.raises(DomainError) as refused:
        await applications.submit(
            db, citizen, await procedure_id(db), {"purpose": "x"}, submit_token="t3"
        )

    assert refused.value.code == "answers_incomplete"


async def test_another_citizens_application_is_not_found(
    db: AsyncSession, citizen: int, translator: Translator
) -> None:
    application = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="t4"
    )
    await issue_citizen(db, translator, "3041088A042PB2", "+375331234567")
    stranger = await db.scalar(select(Identifier.id).where(Identifier.id != citizen))

    for action in (applications.get_application, applications.withdraw):
        with pytest.raises(DomainError) as refused:
            await action(db, stranger, application.id)
        assert refused.value.code == "application_not_found"


async def test_withdraw_until_decided_then_refused(db: AsyncSession, citizen: int) -> None:
    kept = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="a"
    )
    decided = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="b"
    )
    await decisions.decide(
        db, decided.registration_number, DecisionOutcome.APPROVED, "Issued.", official="Official B"
    )

    withdrawn = await applications.withdraw(db, citizen, kept.id)

    assert withdrawn.status == ApplicationStatus.WITHDRAWN
    for application_id, code in [
        (kept.id, "application_already_withdrawn"),
        (decided.id, "application_decided"),
    ]:
        with pytest.raises(DomainError) as refused:
            await applications.withdraw(db, citizen, application_id)
        assert refused.value.code == code


async def test_decision_closes_application_and_stores_a_notification(
    db: AsyncSession, citizen: int
) -> None:
    application = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="d"
    )

    await decisions.decide(
        db,
        application.registration_number.lower(),
        DecisionOutcome.REFUSED,
        "Debt found.",
        official="Official B",
    )

    card = await applications.get_application(db, citizen, application.id)
    notification = await db.scalar(select(Notification))
    assert card.status == ApplicationStatus.REFUSED
    assert card.decision.text == "Debt found."
    assert notification.kind == "decision"
    assert notification.params["registration_number"] == application.registration_number
    with pytest.raises(DomainError) as again:
        await decisions.decide(
            db,
            application.registration_number,
            DecisionOutcome.APPROVED,
            "x",
            official="Official B",
        )
    assert again.value.code == "application_already_decided"


async def test_withdrawn_application_cannot_be_decided(db: AsyncSession, citizen: int) -> None:
    application = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="w"
    )
    await applications.withdraw(db, citizen, application.id)

    with pytest.raises(DomainError) as refused:
        await decisions.decide(
            db,
            application.registration_number,
            DecisionOutcome.APPROVED,
            "ok",
            official="Official B",
        )

    assert refused.value.code == "application_already_withdrawn"


async def test_list_is_newest_first_and_paged(db: AsyncSession, citizen: int) -> None:
    for token in "abc":
        await applications.submit(db, citizen, await procedure_id(db), ANSWERS, submit_token=token)

    page, total = await applications.list_applications(db, citizen, offset=1, limit=1)

    assert total == 3
    assert page[0].submit_token == "b"


async def test_catalog_reload_keeps_filed_revision(
    db: AsyncSession, citizen: int, tmp_path: Path
) -> None:
    application = await applications.submit(
        db, citizen, await procedure_id(db), ANSWERS, submit_token="r"
    )
    edited = json.loads(TEST_CATALOG.read_text(encoding="utf-8"))
    edited["procedures"][0]["revision"] = 2
    edited["procedures"][0]["term"] = {"days": 10}
    edited_file = tmp_path / "catalog.json"
    edited_file.write_text(json.dumps(edited), encoding="utf-8")

    first = await catalog.load_catalog(db, edited_file)
    second = await catalog.load_catalog(db, edited_file)

    current = {row.code: row for row in await catalog.current_procedures(db)}
    card = await applications.get_application(db, citizen, application.id)
    assert (first.revised, second.revised, second.unchanged) == (1, 0, 2)
    assert current["18.7"].term_days == 10
    assert card.procedure.revision == 1 and card.procedure.term_days == 5


async def test_due_notifications_skip_blocked_and_back_off(db: AsyncSession, citizen: int) -> None:
    identifier = await db.get(Identifier, citizen)
    identifier.push_chat_id = 42
    notification = notifications.notify(db, citizen, "decision", registration_number="X")
    await db.commit()

    due = await notifications.due_notifications(db, limit=10)
    notifications.mark_retry(due[0], "TelegramServerError")
    await db.commit()

    assert [row.id for row in due] == [notification.id]
    assert await notifications.due_notifications(db, limit=10) == []


async def test_blocked_identifier_gets_no_pushes(db: AsyncSession, citizen: int) -> None:
    identifier = await db.get(Identifier, citizen)
    identifier.push_chat_id = 42
    identifier.status = IdentifierStatus.BLOCKED
    notifications.notify(db, citizen, "decision", registration_number="X")
    await db.commit()

    assert await notifications.due_notifications(db, limit=10) == []


async def test_a_retired_revision_takes_no_new_applications(
    db: AsyncSession, citizen: int, tmp_path: Path
) -> None:
    old_id = await procedure_id(db)
    edited = json.loads(TEST_CATALOG.read_text(encoding="utf-8"))
    edited["procedures"][0]["revision"] = 2
    edited_file = tmp_path / "catalog.json"
    edited_file.write_text(json.dumps(edited), encoding="utf-8")
    await catalog.load_catalog(db, edited_file)

    with pytest.raises(DomainError, match="procedure_revised"):
        await applications.submit(db, citizen, old_id, ANSWERS, submit_token="old")
