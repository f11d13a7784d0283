"""aiogram FSM storage in our database, so that forms and drafts survive a restart."""

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRecord


class DatabaseStorage(BaseStorage):
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session_factory() as db:
            record = await self._record(db, key)
            record.state = value
            await db.commit()

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session_factory() as db:
            record = await db.get(FsmRecord, self._key_builder.build(key))
            return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session_factory() as db:
            record = await self._record(db, key)
            record.data = dict(data)
            await db.commit()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session_factory() as db:
            record = await db.get(FsmRecord, self._key_builder.build(key))
            return dict(record.data) if record else {}

    async def close(self) -> None:
        """The engine belongs to the application; nothing to close here."""

    async def _record(self, db: AsyncSession, key: StorageKey) -> FsmRecord:
        built = self._key_builder.build(key)
        record = await db.get(FsmRecord, built)
        if record is None:
            record = FsmRecord(key=built, state=None, data={})
            db.add(record)
        return record
