"""The eportal command: its help, the clerk's issue and the official's decision."""

import re
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: object) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SMS_PROVIDER", "console")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def issue_arguments(**changes: str) -> list[str]:
    options = {
        "--personal-number": "3270287A012PB2",
        "--full-name": "Ivanov Ivan",
        "--birth-date": "27.02.1987",
        "--sex": "M",
        "--document-number": "MP1234567",
        "--document-issued": (date.today() - timedelta(days=100)).isoformat(),
        "--document-expires": (date.today() + timedelta(days=1000)).isoformat(),
        "--issuing-body": "Minsk police department",
        "--phone": "+375 (29) 123-45-67",
        "--clerk": "Clerk A",
        **changes,
    }
    return [
        "one-window",
        "issue",
        *[part for pair in options.items() for part in pair],
        "--attested",
    ]


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("run", "one-window", "decide", "catalog", "db"):
        assert command in result.output


def test_issue_prints_the_request_and_sends_the_password_by_console_sms() -> None:
    result = runner.invoke(app, issue_arguments())

    assert result.exit_code == 0, result.output
    assert re.search(r"issued: request OW-\d{4}-\d{6}, identifier 32\*+B2", result.output)
    assert "[console SMS to +375291234567]" in result.output
    assert "+375 29 ***-**-67" in result.output


def test_refused_issue_exits_non_zero_with_one_line_reason() -> None:
    expired = (date.today() - timedelta(days=1)).isoformat()

    result = runner.invoke(app, issue_arguments(**{"--document-expires": expired}))

    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "error: document_expired: The identity document has expired."
    )


def test_bad_date_is_refused_by_the_command_line() -> None:
    result = runner.invoke(app, issue_arguments(**{"--birth-date": "31.02.1987"}))

    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_decide_unknown_application_exits_non_zero() -> None:
    result = runner.invoke(app, ["decide", "EP-2026-999999", "approved", "--text", "Ok"])

    assert result.exit_code == 1
    assert "application_not_found" in result.output


def test_catalog_load_is_idempotent() -> None:
    first = runner.invoke(app, ["catalog", "load"])
    second = runner.invoke(app, ["catalog", "load"])

    assert first.exit_code == second.exit_code == 0
    assert re.search(r"0 added, 0 revised, \d+ unchanged", second.output)
