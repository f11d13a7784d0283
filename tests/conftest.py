"""Fixtures for every layer: a migrated database (SQLite, or TEST_DATABASE_URL) and settings."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.settings import PROJECT_ROOT, Settings
from services.texts import Translator
from storage import migrate
from storage.db import create_engine, create_session_factory

TEST_CATALOG = Path(__file__).parent / "data" / "catalog.json"
TOKEN = "123456789:TEST-token_for-the-fake-bot-api"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if make_url(database_url).get_backend_name() == "postgresql":
        await reset_postgres(database_url)
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


async def reset_postgres(database_url: str) -> None:
    """Each test starts from an empty schema, as a fresh deployment would."""
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        database_url=database_url,
        default_locale="ru",
        sms_provider="console",
        otp_enabled=False,
    )


@pytest.fixture
def translator() -> Translator:
    return Translator.from_dir(PROJECT_ROOT / "locales", default_locale="en")
