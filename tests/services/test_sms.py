"""The SMS providers: console prints, http posts JSON with a bearer token."""

import io
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from services.errors import DomainError
from services.sms import ConsoleSms, HttpSms


class Provider:
    """An SMS provider on 127.0.0.1 that records requests and answers with `status`."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, str]] = []
        self.status = 202

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), request.headers.get("Authorization", "")))
        return web.json_response({"ok": self.status < 300}, status=self.status)


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    recorder = Provider()
    app = web.Application()
    app.router.add_post("/send", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield recorder, f"http://127.0.0.1:{port}/send"
    await runner.cleanup()


async def test_http_provider_posts_phone_and_text_with_token(provider) -> None:
    recorder, url = provider

    await HttpSms(url, "s3cret").send("+375291234567", "Code 123456")

    assert recorder.received == [
        ({"phone": "+375291234567", "text": "Code 123456"}, "Bearer s3cret")
    ]


async def test_http_provider_refusal_and_silence_raise_sms_failed(provider) -> None:
    recorder, url = provider
    recorder.status = 500

    with pytest.raises(DomainError, match="sms_failed"):
        await HttpSms(url, None).send("+375291234567", "x")
    with pytest.raises(DomainError, match="sms_failed"):
        await HttpSms("http://127.0.0.1:9/send", None, timeout=2).send("+375291234567", "x")


async def test_console_provider_marks_its_output() -> None:
    stream = io.StringIO()

    await ConsoleSms(stream).send("+375291234567", "hello")

    assert stream.getvalue() == "[console SMS to +375291234567] hello\n"
