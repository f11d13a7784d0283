"""Throttling: at most so many attempts per key within a sliding window."""

from collections import deque
from datetime import UTC, datetime, timedelta

from services.errors import DomainError


class AttemptThrottle:
    """Counts attempts in this process's memory.

    TODO: keep the counters in Redis when REDIS_URL is set, so that several bot processes
    share them; one process is what the bot runs today.
    """

    def __init__(self, *, limit: int, window: timedelta) -> None:
        self._limit = limit
        self._window = window
        self._attempts: dict[int, deque[datetime]] = {}

    def hit(self, key: int, *, now: datetime | None = None) -> None:
        """Count an attempt, or raise too_many_attempts with the seconds to wait."""
        now = now or datetime.now(UTC)
        attempts = self._attempts.setdefault(key, deque())
        while attempts and now - attempts[0] >= self._window:
            attempts.popleft()
        if len(attempts) >= self._limit:
            wait = self._window - (now - attempts[0])
            raise DomainError("too_many_attempts", seconds=int(wait.total_seconds()) + 1)
        attempts.append(now)
