"""Telegram accounts that talk to the bot, and the language each one chose."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.texts import LOCALES
from storage.models import TelegramUser


async def chosen_locale(db: AsyncSession, telegram_user_id: int) -> str | None:
    """The language this person chose; the account is remembered on first contact."""
    person = await db.get(TelegramUser, telegram_user_id)
    if person is None:
        db.add(TelegramUser(id=telegram_user_id))
        await db.commit()
        return None
    return person.locale


async def choose_locale(db: AsyncSession, telegram_user_id: int, locale: str) -> None:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    person = await db.get(TelegramUser, telegram_user_id)
    if person is None:
        person = TelegramUser(id=telegram_user_id)
        db.add(person)
    person.locale = locale
    await db.commit()
