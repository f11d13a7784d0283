from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import migrate
from storage.models import AuditEntry, Base, Citizen, Identifier


async def test_migrations_create_every_model_table(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))

    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_upgrading_twice_changes_nothing(engine: AsyncEngine) -> None:
    from alembic.script import ScriptDirectory

    await migrate.upgrade(engine)

    async with engine.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")

    async with engine.connect() as connection:
        journal = await connection.scalar(text("PRAGMA journal_mode"))
        foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))

    assert (journal, foreign_keys) == ("wal", 1)


async def test_foreign_keys_are_enforced(db: AsyncSession) -> None:
    db.add(Identifier(citizen_id=999, value="3270287A012PB2", phone="+375291234567"))

    with pytest.raises(IntegrityError):
        await db.commit()


async def test_times_come_back_as_aware_utc(db: AsyncSession) -> None:
    minsk = timezone(timedelta(hours=3))
    db.add(AuditEntry(actor="test", action="x", at=datetime(2026, 1, 1, 12, 0, tzinfo=minsk)))
    await db.commit()
    db.expire_all()

    stored = await db.scalar(select(AuditEntry.at))

    assert stored == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert stored.tzinfo is not None


async def test_naive_times_are_refused(db: AsyncSession) -> None:
    db.add(
        Citizen(
            personal_number="3270287A012PB2",
            full_name="A",
            birth_date=date(1987, 2, 27),
            sex="M",
            created_at=datetime(2026, 1, 1),
        )
    )

    with pytest.raises(Exception, match="naive datetime"):
        await db.commit()


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def differences(connection) -> list:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
