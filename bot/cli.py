"""`eportal`: the bot and the back-office commands (DESIGN §8)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings, get_settings
from services import catalog, decisions, one_window, phone_confirmation, staff
from services.errors import DomainError
from services.identifier import mask
from services.messages import ERROR_TEXTS
from services.phones import mask_phone, normalise_phone
from services.sms_outbox import deliver_due_sms
from storage.db import create_engine, create_session_factory
from storage.models import DecisionOutcome, StaffRole

app = typer.Typer(
    help="eportal-bot: the Telegram door to the portal of e-services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
catalog_app = typer.Typer(help="The procedure catalog.", no_args_is_help=True)
one_window_app = typer.Typer(help="One-window requests about identifiers.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts and their roles.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(one_window_app, name="one-window")
app.add_typer(staff_app, name="staff")

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
    number = error.params.get("request_number")
    recorded = f" (recorded as request {number})" if number else ""
    return f"{error.code}: {text}{recorded}"


def with_database(
    work: Callable[[AsyncSession, Settings], Awaitable[T]], *, load_catalog: bool = False
) -> T:
    """Run `work` in one database session on a migrated database; domain errors exit 1."""
    from bot.app import prepare_database

    settings = get_settings()

    async def main() -> T:
        engine = await prepare_database(settings, load_catalog=load_catalog)
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
PersonalNumber = Annotated[str, typer.Option(help="14 characters, from the document.")]
FullName = Annotated[str, typer.Option()]
Sex = Annotated[str, typer.Option(help="M or F, as in the document.")]
DocumentNumber = Annotated[str, typer.Option()]
IssuingBody = Annotated[str, typer.Option()]
ClerkName = Annotated[str, typer.Option("--clerk", help="Who registers the request.")]
DocumentKind = Annotated[str, typer.Option(help="passport, id_card or residence_permit")]
Attested = Annotated[
    bool, typer.Option("--attested/--not-attested", help="The data matches the document.")
]
Confirmation = Annotated[int, typer.Option(help="The number `send-code` printed.")]
Code = Annotated[str, typer.Option(help="The code the citizen reads out.")]


def applicant_from(
    personal_number: str,
    full_name: str,
    birth_date: date,
    sex: str,
    document_kind: str,
    document_number: str,
    document_issued: date,
    document_expires: date,
    issuing_body: str,
    attested: bool,
) -> one_window.Applicant:
    return one_window.Applicant(
        personal_number=personal_number,
        full_name=full_name,
        birth_date=birth_date,
        sex=sex.strip().upper()[:1],
        attested=attested,
        document=one_window.IdentityDocument(
            kind=document_kind,
            number=document_number,
            issued_on=document_issued,
            expires_on=document_expires,
            issuing_body=issuing_body,
        ),
    )


def one_window_clerk(name: str, settings: Settings) -> one_window.Clerk:
    from bot.app import translator_for

    return one_window.Clerk(
        name=name,
        translator=translator_for(settings),
        password_ttl=settings.temporary_password_ttl,
    )


async def send_queued_sms(db: AsyncSession, settings: Settings) -> None:
    """Hand the SMS the request queued to the provider now; the bot's job retries failures."""
    from bot.app import sms_gateway

    await deliver_due_sms(db, sms_gateway(settings))


@one_window_app.command("send-code")
def one_window_send_code(
    phone: Annotated[str, typer.Option(help="The mobile number to confirm.")],
    clerk: ClerkName,
) -> None:
    """Send a confirmation code to a phone; the citizen reads it out to the clerk."""
    from bot.app import translator_for

    async def work(db: AsyncSession, settings: Settings) -> int:
        confirmation = await phone_confirmation.send_code(
            db, phone, clerk=clerk, translator=translator_for(settings)
        )
        await send_queued_sms(db, settings)
        return confirmation.id

    confirmation_id = with_database(work)
    typer.echo(
        f"confirmation {confirmation_id}: code sent to {mask_phone(normalise_phone(phone))}"
    )


async def confirm(db: AsyncSession, confirmation_id: int, code: str) -> None:
    await phone_confirmation.confirm_code(db, confirmation_id, code)


@one_window_app.command("issue")
def one_window_issue(
    personal_number: PersonalNumber,
    full_name: FullName,
    birth_date: Day,
    sex: Sex,
    document_number: DocumentNumber,
    document_issued: Day,
    document_expires: Day,
    issuing_body: IssuingBody,
    clerk: ClerkName,
    phone: Annotated[str, typer.Option(help="Mobile number, e.g. +375291234567.")],
    confirmation: Confirmation,
    code: Code,
    document_kind: DocumentKind = "passport",
    attested: Attested = False,
) -> None:
    """Register a written request to issue an identifier; the password goes by SMS."""
    applicant = applicant_from(
        personal_number,
        full_name,
        birth_date,
        sex,
        document_kind,
        document_number,
        document_issued,
        document_expires,
        issuing_body,
        attested,
    )
    application = one_window.IssueApplication(
        **{field: getattr(applicant, field) for field in one_window.Applicant.__slots__},
        phone=phone,
        confirmation_id=confirmation,
    )

    async def work(db: AsyncSession, settings: Settings) -> one_window.RequestResult:
        await confirm(db, confirmation, code)
        result = await one_window.issue_identifier(
            db, application, one_window_clerk(clerk, settings)
        )
        await send_queued_sms(db, settings)
        return result

    report(with_database(work), "issued", "temporary password queued for SMS")


@one_window_app.command("block")
def one_window_block(
    personal_number: PersonalNumber,
    full_name: FullName,
    birth_date: Day,
    sex: Sex,
    document_number: DocumentNumber,
    document_issued: Day,
    document_expires: Day,
    issuing_body: IssuingBody,
    clerk: ClerkName,
    document_kind: DocumentKind = "passport",
    attested: Attested = False,
) -> None:
    """Register a written request to block an identifier; it is blocked at once."""
    applicant = applicant_from(
        personal_number,
        full_name,
        birth_date,
        sex,
        document_kind,
        document_number,
        document_issued,
        document_expires,
        issuing_body,
        attested,
    )

    async def work(db: AsyncSession, settings: Settings) -> one_window.RequestResult:
        return await one_window.block_identifier(db, applicant, one_window_clerk(clerk, settings))

    report(with_database(work), "blocked", "every session ended; the chat will be told")


@one_window_app.command("unblock")
def one_window_unblock(
    personal_number: PersonalNumber,
    full_name: FullName,
    birth_date: Day,
    sex: Sex,
    document_number: DocumentNumber,
    document_issued: Day,
    document_expires: Day,
    issuing_body: IssuingBody,
    clerk: ClerkName,
    document_kind: DocumentKind = "passport",
    attested: Attested = False,
) -> None:
    """Register a written request to unblock; a new temporary password goes by SMS."""
    applicant = applicant_from(
        personal_number,
        full_name,
        birth_date,
        sex,
        document_kind,
        document_number,
        document_issued,
        document_expires,
        issuing_body,
        attested,
    )

    async def work(db: AsyncSession, settings: Settings) -> one_window.RequestResult:
        result = await one_window.unblock_identifier(
            db, applicant, one_window_clerk(clerk, settings)
        )
        await send_queued_sms(db, settings)
        return result

    report(with_database(work), "unblocked", "new temporary password queued for SMS")


@one_window_app.command("change-phone")
def one_window_change_phone(
    personal_number: PersonalNumber,
    full_name: FullName,
    birth_date: Day,
    sex: Sex,
    document_number: DocumentNumber,
    document_issued: Day,
    document_expires: Day,
    issuing_body: IssuingBody,
    clerk: ClerkName,
    new_phone: Annotated[str, typer.Option(help="The new mobile number.")],
    confirmation: Confirmation,
    code: Code,
    document_kind: DocumentKind = "passport",
    attested: Attested = False,
) -> None:
    """Register a written request to change the phone; the old number is told by SMS."""
    applicant = applicant_from(
        personal_number,
        full_name,
        birth_date,
        sex,
        document_kind,
        document_number,
        document_issued,
        document_expires,
        issuing_body,
        attested,
    )

    async def work(db: AsyncSession, settings: Settings) -> one_window.RequestResult:
        await confirm(db, confirmation, code)
        result = await one_window.change_phone(
            db, applicant, new_phone, confirmation, one_window_clerk(clerk, settings)
        )
        await send_queued_sms(db, settings)
        return result

    report(with_database(work), "phone changed", "the old number is told by SMS")


def report(result: one_window.RequestResult, done: str, then: str) -> None:
    typer.echo(
        f"{done}: request {result.request_number}, identifier {mask(result.identifier)}; {then}"
    )


@staff_app.command("add")
def staff_add(
    telegram_id: Annotated[int, typer.Option(help="The Telegram user id.")],
    role: Annotated[StaffRole, typer.Option(help="operator, official or admin")],
    name: Annotated[str, typer.Option(help="Full name, for the audit log.")],
) -> None:
    """Give a Telegram account a staff role (or change it)."""

    async def work(db: AsyncSession, settings: Settings) -> None:
        await staff.add_staff(db, telegram_id, role, name, actor="cli")

    with_database(work)
    typer.echo(f"staff: {telegram_id} is now {role.value}")


@staff_app.command("remove")
def staff_remove(telegram_id: Annotated[int, typer.Option(help="The Telegram user id.")]) -> None:
    """Take the staff role away from a Telegram account."""

    async def work(db: AsyncSession, settings: Settings) -> None:
        await staff.remove_staff(db, telegram_id, actor="cli")

    with_database(work)
    typer.echo(f"staff: {telegram_id} removed")


@staff_app.command("list")
def staff_list() -> None:
    """Show the active staff accounts."""

    async def work(db: AsyncSession, settings: Settings) -> list[str]:
        return [
            f"{member.telegram_user_id}\t{member.role}\t{member.full_name}"
            for member in await staff.list_staff(db)
        ]

    for line in with_database(work):
        typer.echo(line)


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
