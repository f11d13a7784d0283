from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import access
from services.access import AccessPolicy
from services.errors import DomainError
from services.texts import Translator
from storage.models import Identifier, IdentifierStatus, Session, SignInGuard
from tests.helpers import issue_citizen

POLICY = AccessPolicy(
    max_attempts=3,
    first_lock=timedelta(minutes=15),
    idle_timeout=timedelta(minutes=15),
    max_age=timedelta(hours=8),
)
NUMBER = "3270287A012PB2"


async def refusal_code(db: AsyncSession, password: str, number: str = NUMBER, **kw) -> str:
    with pytest.raises(DomainError) as refused:
        await access.verify_credentials(db, number, password, policy=POLICY, **kw)
    return refused.value.code


async def test_temporary_password_signs_in_and_must_be_changed(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)

    verified = await access.verify_credentials(db, NUMBER, password, policy=POLICY)

    assert verified.must_change_password


async def test_unknown_identifier_and_wrong_password_get_the_same_answer(
    db: AsyncSession, translator: Translator
) -> None:
    await issue_citizen(db, translator)

    assert await refusal_code(db, "wrong-password1") == "credentials_invalid"
    assert await refusal_code(db, "wrong-password1", "3041088A042PB2") == "credentials_invalid"


async def test_failures_lock_sign_in_and_each_lock_lasts_longer(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)
    now = datetime.now(UTC)

    codes = [await refusal_code(db, "bad1bad1", now=now) for _ in range(3)]
    first_until = (await db.get(SignInGuard, NUMBER)).locked_until
    locked_code = await refusal_code(db, password, now=now)
    later = first_until + timedelta(seconds=1)
    for _ in range(3):
        await refusal_code(db, "bad1bad1", now=later)
    db.expire_all()
    second_until = (await db.get(SignInGuard, NUMBER)).locked_until

    assert codes == ["credentials_invalid", "credentials_invalid", "sign_in_locked"]
    assert locked_code == "sign_in_locked"
    assert first_until - now == timedelta(minutes=15)
    assert second_until - later == timedelta(minutes=30)


async def test_unknown_identifier_locks_exactly_like_a_real_one(
    db: AsyncSession, translator: Translator
) -> None:
    await issue_citizen(db, translator)
    now = datetime.now(UTC)

    real = [await refusal_code(db, "bad1bad1", now=now) for _ in range(4)]
    unknown = [await refusal_code(db, "bad1bad1", "3041088A042PB2", now=now) for _ in range(4)]

    assert real == unknown == ["credentials_invalid"] * 2 + ["sign_in_locked"] * 2


async def test_right_password_clears_the_failures(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)
    for _ in range(2):
        await refusal_code(db, "bad1bad1")

    await access.verify_credentials(db, NUMBER, password, policy=POLICY)

    assert await db.get(SignInGuard, NUMBER) is None


async def test_blocked_identifier_is_told_only_after_the_right_password(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)
    await db.execute(update(Identifier).values(status=IdentifierStatus.BLOCKED))
    await db.commit()

    assert await refusal_code(db, "bad1bad1") == "credentials_invalid"
    assert await refusal_code(db, password) == "identifier_blocked"


async def test_expired_temporary_password_is_refused(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)

    code = await refusal_code(db, password, now=datetime.now(UTC) + timedelta(hours=73))

    assert code == "temporary_password_expired"


async def test_own_password_replaces_the_temporary_one(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)
    verified = await access.verify_credentials(db, NUMBER, password, policy=POLICY)

    await access.set_own_password(db, verified.identifier_id, "Minsk2026spring")

    assert await refusal_code(db, password) == "credentials_invalid"
    again = await access.verify_credentials(db, NUMBER, "Minsk2026spring", policy=POLICY)
    assert not again.must_change_password


async def test_one_session_per_citizen_and_idle_sessions_end(
    db: AsyncSession, translator: Translator
) -> None:
    await issue_citizen(db, translator)
    identifier_id = await db.scalar(select(Identifier.id))
    now = datetime.now(UTC)

    await access.start_session(db, identifier_id, telegram_user_id=1, chat_id=1, now=now)
    await access.start_session(db, identifier_id, telegram_user_id=2, chat_id=2, now=now)

    assert await access.current_session(db, 1, policy=POLICY, now=now) is None
    assert await access.current_session(db, 2, policy=POLICY, now=now) is not None
    with pytest.raises(DomainError):
        await access.current_session(db, 2, policy=POLICY, now=now + timedelta(minutes=16))
    ended = await db.scalar(select(Session).where(Session.telegram_user_id == 2))
    assert ended.end_reason == "idle"


async def test_the_new_password_must_differ_from_the_current_one(
    db: AsyncSession, translator: Translator
) -> None:
    _, password = await issue_citizen(db, translator)
    verified = await access.verify_credentials(db, NUMBER, password, policy=POLICY)
    await access.set_own_password(db, verified.identifier_id, "Minsk2026spring")

    with pytest.raises(DomainError, match="password_unchanged"):
        await access.set_own_password(db, verified.identifier_id, "Minsk2026spring")


async def test_signing_in_again_at_once_reuses_the_code_on_its_way(
    db: AsyncSession, translator: Translator
) -> None:
    await issue_citizen(db, translator)
    identifier_id = await db.scalar(select(Identifier.id))

    first, _ = await access.send_sign_in_code(db, identifier_id, translator=translator)
    again, _ = await access.send_sign_in_code(db, identifier_id, translator=translator)

    assert again == first
