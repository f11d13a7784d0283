"""The append-only audit log. Callers pass no secrets and no full personal numbers."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


def record(
    db: AsyncSession, *, actor: str, action: str, subject: str | None = None, **details: Any
) -> AuditEntry:
    """Add an entry to the caller's transaction; it is written with the change it describes."""
    entry = AuditEntry(actor=actor, action=action, subject=subject, details=details)
    db.add(entry)
    return entry
