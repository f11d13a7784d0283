"""The SMS gateway: `console` for development, `http` for a real provider."""

import logging
import sys
from typing import Protocol, TextIO

import aiohttp

from services.errors import DomainError

log = logging.getLogger(__name__)


class SmsGateway(Protocol):
    async def send(self, phone: str, text: str) -> None:
        """Hand one SMS to the provider; raise DomainError("sms_failed") if it refuses."""


class ConsoleSms:
    """Prints each SMS, marked as such: the one place a secret is ever shown (development)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, phone: str, text: str) -> None:
        stream = self._stream or sys.stdout
        print(f"[console SMS to {phone}] {text}", file=stream, flush=True)


class HttpSms:
    """POSTs JSON {"phone", "text"} with a bearer token; any 2xx means accepted."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 10.0) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, phone: str, text: str) -> None:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.post(
                    self._url, json={"phone": phone, "text": text}, headers=self._headers
                ) as response,
            ):
                if 200 <= response.status < 300:
                    return
                log.warning("sms provider refused", extra={"status": response.status})
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("sms provider unreachable", extra={"error": type(error).__name__})
        raise DomainError("sms_failed")


class RecordingSms:
    """Keeps every SMS in memory; for tests and dry runs."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))
