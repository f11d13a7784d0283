"""`eportal`: the bot and the back-office commands (DESIGN §8)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings, get_settings
from services import catalog, decisions, one_window
from services.errors import DomainError
from services.identifier import mask
from services.messages import ERROR_TEXTS
from services.phones import mask_phone
from storage.db import create_engine, create_session_factory
from storage.models import DecisionOutcome

app = typer.Typer(
    help="eportal-bot: the Telegram door to the portal of e-services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
catalog_app = typer.Typer(help="The procedure catalog.", no_args_is_help=True)
one_window_app = typer.Typer(help="One-window requests about identifiers.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(one_window_app, name="one-window")

T = TypeVar("T")


def fail(reason: str) -> typer.Exit:
    typer.echo(f"error: {reason}", err=True)
    return typer.Exit(code=1)


def explain(error: DomainError, settings: Settings) -> str:
    from bot.app import translator_for

    template = ERROR_TEXTS.get(error.code)
    if template is None:
        return error.code
    text = translator_for(settings).gettext(template, locale="en").format(**error.params)
    return f"{error.code}: {text}"


def with_database(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one database session on a migrated database; domain errors exit 1."""
    from bot.app import prepare_database

    settings = get_settings()

    async def main() -> T:
        engine = await prepare_database(settings)
        try:
            async with create_session_factory(engine)() as db:
                return await work(db, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as error:
        raise fail(explain(error, settings)) from None


@app.command()
def run() -> None:
    """Run the bot: long polling against TELEGRAM_API_URL."""
    from bot.app import main
    from bot.logs import configure_logging

    configure_logging()
    try:
        main(get_settings())
    except ValueError as error:
        raise fail(str(error)) from None
    except KeyboardInterrupt:
        pass


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    from storage import migrate

    async def main() -> None:
        engine = create_engine(get_settings().database_url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(main())
    typer.echo("database is up to date")


@catalog_app.command("load")
def catalog_load(
    file: Annotated[
        Path | None, typer.Argument(help="Catalog JSON; the shipped one if omitted.")
    ] = None,
) -> None:
    """Load or update the procedure catalog."""

    async def work(db: AsyncSession, settings: Settings) -> catalog.LoadReport:
        return await catalog.load_catalog(db, file or settings.catalog_file, actor="cli")

    report = with_database(work)
    typer.echo(
        f"catalog loaded: {report.added} added, {report.revised} revised, "
        f"{report.unchanged} unchanged, {report.retired} retired"
    )


def parse_day(value: str) -> date:
    for day_format in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, day_format).date()
        except ValueError:
            continue
    raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")


Day = Annotated[date, typer.Option(parser=parse_day, metavar="DATE")]


@one_window_app.command("issue")
def one_window_issue(
    personal_number: Annotated[str, typer.Option(help="14 characters, from the document.")],
    full_name: Annotated[str, typer.Option()],
    birth_date: Day,
    sex: Annotated[str, typer.Option(help="M or F, as in the document.")],
    document_number: Annotated[str, typer.Option()],
    document_issued: Day,
    document_expires: Day,
    issuing_body: Annotated[str, typer.Option()],
    phone: Annotated[str, typer.Option(help="Mobile number, e.g. +375291234567.")],
    clerk: Annotated[str, typer.Option(help="Who registers the request.")],
    document_kind: Annotated[str, typer.Option()] = "passport",
    attested: Annotated[
        bool, typer.Option("--attested/--not-attested", help="The data matches the document.")
    ] = False,
) -> None:
    """Register a written request to issue an identifier; the password goes by SMS."""
    from bot.app import sms_gateway, translator_for

    application = one_window.IssueApplication(
        personal_number=personal_number,
        full_name=full_name,
        birth_date=birth_date,
        sex=sex.strip().upper()[:1],
        phone=phone,
        attested=attested,
        document=one_window.IdentityDocument(
            kind=document_kind,
            number=document_number,
            issued_on=document_issued,
            expires_on=document_expires,
            issuing_body=issuing_body,
        ),
    )

    async def work(db: AsyncSession, settings: Settings) -> one_window.IssueOutcome:
        return await one_window.issue_identifier(
            db,
            application,
            clerk=clerk,
            sms=sms_gateway(settings),
            translator=translator_for(settings),
            password_ttl=settings.temporary_password_ttl,
        )

    outcome = with_database(work)
    typer.echo(f"issued: request {outcome.request_number}, identifier {mask(outcome.identifier)}")
    if outcome.sms_sent:
        typer.echo(f"temporary password sent by SMS to {mask_phone(one_window_phone(phone))}")
    else:
        raise fail("the SMS with the temporary password was not sent; see the log")


def one_window_phone(phone: str) -> str:
    from services.phones import normalise_phone

    return normalise_phone(phone)


@app.command()
def decide(
    registration_number: Annotated[str, typer.Argument(help="e.g. EP-2026-000001")],
    outcome: Annotated[
        DecisionOutcome, typer.Argument(help="approved, refused or refused_to_accept")
    ],
    text: Annotated[str, typer.Option(help="The decision's text.")],
    official: Annotated[str, typer.Option(help="Who takes the decision.")] = "back office",
) -> None:
    """Record an administrative decision; the citizen is notified."""

    async def work(db: AsyncSession, settings: Settings) -> None:
        await decisions.decide(db, registration_number, outcome, text, official=official)

    with_database(work)
    typer.echo(f"decision recorded: {registration_number.strip().upper()} {outcome.value}")
