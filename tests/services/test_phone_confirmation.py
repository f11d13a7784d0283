from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import phone_confirmation
from services.errors import DomainError
from services.sms import RecordingSms
from services.texts import Translator
from storage.models import PhoneConfirmation
from tests.helpers import code_from, sent_sms

PHONE = "+375291234567"


async def send(db: AsyncSession, translator: Translator, now: datetime | None = None):
    sms = RecordingSms()
    confirmation = await phone_confirmation.send_code(
        db, PHONE, clerk="Clerk A", translator=translator, now=now
    )
    return confirmation, code_from((await sent_sms(db, sms))[-1][1])


async def code_error(db: AsyncSession, confirmation_id: int, code: str, **kw) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await phone_confirmation.confirm_code(db, confirmation_id, code, **kw)
    return refused.value


async def test_code_read_out_with_spaces_or_other_digits_confirms(
    db: AsyncSession, translator: Translator
) -> None:
    confirmation, code = await send(db, translator)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    confirmed = await phone_confirmation.confirm_code(
        db, confirmation.id, f" {full_width[:3]} {full_width[3:]} "
    )

    assert confirmed.confirmed_at is not None
    assert code not in confirmed.code_hash


async def test_three_wrong_codes_void_it(db: AsyncSession, translator: Translator) -> None:
    confirmation, code = await send(db, translator)
    wrong = "000000" if code != "000000" else "111111"

    first = await code_error(db, confirmation.id, wrong)
    second = await code_error(db, confirmation.id, wrong)
    third = await code_error(db, confirmation.id, wrong)
    after = await code_error(db, confirmation.id, code)

    assert (first.code, first.params) == ("code_wrong", {"attempts_left": 2})
    assert second.params == {"attempts_left": 1}
    assert third.code == after.code == "code_voided"


async def test_code_expires_after_ten_minutes(db: AsyncSession, translator: Translator) -> None:
    confirmation, code = await send(db, translator)

    error = await code_error(
        db, confirmation.id, code, now=datetime.now(UTC) + timedelta(minutes=10, seconds=1)
    )

    assert error.code == "code_expired"


async def test_resending_is_rate_limited(db: AsyncSession, translator: Translator) -> None:
    start = datetime.now(UTC)
    await send(db, translator, now=start)

    with pytest.raises(DomainError) as too_soon:
        await send(db, translator, now=start + timedelta(seconds=30))
    for minute in range(1, 5):
        await send(db, translator, now=start + timedelta(minutes=minute))
    with pytest.raises(DomainError) as limit:
        await send(db, translator, now=start + timedelta(minutes=6))

    assert too_soon.value.code == "code_resend_too_soon"
    assert too_soon.value.params["seconds"] == 31
    assert limit.value.code == "code_limit_reached"
    assert len(list(await db.scalars(select(PhoneConfirmation)))) == 5


async def test_something_that_is_not_a_code_costs_no_attempt(
    db: AsyncSession, translator: Translator
) -> None:
    confirmation, code = await send(db, translator)

    malformed = await code_error(db, confirmation.id, "hello")
    confirmed = await phone_confirmation.confirm_code(db, confirmation.id, code)

    assert malformed.code == "code_malformed"
    assert confirmed.failed_attempts == 0


async def test_no_one_window_code_goes_to_a_number_in_use(
    db: AsyncSession, translator: Translator
) -> None:
    from tests.helpers import issue_citizen

    await issue_citizen(db, translator)

    with pytest.raises(DomainError, match="phone_in_use"):
        await phone_confirmation.send_code(db, PHONE, clerk="Clerk A", translator=translator)
