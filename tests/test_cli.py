"""The eportal command: help, the clerk's four requests, staff roles, decisions."""

import re
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from tests.helpers import code_from, temporary_password_from

runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: object) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SMS_PROVIDER", "console")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def eportal(*arguments: str) -> str:
    result = runner.invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    return result.output


def applicant_options(**changes: str) -> list[str]:
    options = {
        "--personal-number": "3270287A012PB2",
        "--full-name": "Ivanov Ivan",
        "--birth-date": "27.02.1987",
        "--sex": "M",
        "--document-number": "MP1234567",
        "--document-issued": (date.today() - timedelta(days=100)).isoformat(),
        "--document-expires": (date.today() + timedelta(days=1000)).isoformat(),
        "--issuing-body": "Minsk police department",
        "--clerk": "Clerk A",
        **changes,
    }
    return [*[part for pair in options.items() for part in pair], "--attested"]


def confirmed(phone: str) -> list[str]:
    """Send a code to the phone; the options that hand the code back to the request."""
    sent = eportal("one-window", "send-code", "--phone", phone, "--clerk", "Clerk A")
    confirmation = re.search(r"confirmation (\d+): code sent to", sent).group(1)
    return ["--confirmation", confirmation, "--code", code_from(sent)]


def issue(**changes: str) -> str:
    phone = "+375 (29) 123-45-67"
    return eportal(
        "one-window", "issue", *applicant_options(**changes), "--phone", phone, *confirmed(phone)
    )


def test_help_lists_the_commands() -> None:
    output = eportal("--help")

    for command in ("run", "one-window", "decide", "catalog", "db", "staff"):
        assert command in output


def test_issue_prints_the_request_and_sends_the_password_by_console_sms() -> None:
    output = issue()

    assert re.search(r"issued: request OW-\d{4}-\d{6}, identifier 32\*+B2", output)
    assert "[console SMS to +375291234567]" in output
    temporary_password_from(output.split("Temporary password")[1])


def test_refused_issue_exits_non_zero_with_one_line_reason() -> None:
    expired = (date.today() - timedelta(days=1)).isoformat()
    phone = "80291234567"

    result = runner.invoke(
        app,
        [
            "one-window",
            "issue",
            *applicant_options(**{"--document-expires": expired}),
            "--phone",
            phone,
            *confirmed(phone),
        ],
    )

    assert result.exit_code == 1
    assert re.fullmatch(
        r"error: document_expired: The identity document has expired\. "
        r"\(recorded as request OW-\d{4}-\d{6}\)",
        result.output.strip().splitlines()[-1],
    )


def test_wrong_code_is_refused() -> None:
    options = confirmed("80291234567")
    options[-1] = "000000" if options[-1] != "000000" else "111111"

    result = runner.invoke(
        app, ["one-window", "issue", *applicant_options(), "--phone", "80291234567", *options]
    )

    assert result.exit_code == 1
    assert "code_wrong" in result.output


def test_block_unblock_and_change_phone_from_the_command_line() -> None:
    issue()

    blocked = eportal("one-window", "block", *applicant_options())
    unblocked = eportal("one-window", "unblock", *applicant_options())
    changed = eportal(
        "one-window",
        "change-phone",
        *applicant_options(),
        "--new-phone",
        "+375447654321",
        *confirmed("+375447654321"),
    )

    assert "blocked: request OW-" in blocked
    assert "unblocked: request OW-" in unblocked and "New temporary password" in unblocked
    assert "phone changed: request OW-" in changed
    assert "[console SMS to +375291234567]" in changed


def test_bad_date_is_refused_by_the_command_line() -> None:
    result = runner.invoke(
        app, ["one-window", "block", *applicant_options(**{"--birth-date": "31.02.1987"})]
    )

    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_staff_roles_are_granted_listed_and_removed() -> None:
    eportal("staff", "add", "--telegram-id", "777", "--role", "operator", "--name", "Petrova A.")

    listed = eportal("staff", "list")
    eportal("staff", "remove", "--telegram-id", "777")
    again = runner.invoke(app, ["staff", "remove", "--telegram-id", "777"])

    assert "777\toperator\tPetrova A." in listed
    assert again.exit_code == 1 and "staff_not_found" in again.output


def test_decide_unknown_application_exits_non_zero() -> None:
    result = runner.invoke(app, ["decide", "EP-2026-999999", "approved", "--text", "Ok"])

    assert result.exit_code == 1
    assert "application_not_found" in result.output


def test_catalog_load_is_idempotent() -> None:
    first = runner.invoke(app, ["catalog", "load"])
    second = runner.invoke(app, ["catalog", "load"])

    assert first.exit_code == second.exit_code == 0
    assert re.search(r"0 added, 0 revised, \d+ unchanged", second.output)
