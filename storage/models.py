"""Database models: people, access, the catalog, applications and their trail."""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        date: Date,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class IdentifierStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"
    REFUSED_TO_ACCEPT = "refused_to_accept"


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"


class RequestKind(StrEnum):
    ISSUE = "issue"
    BLOCK = "block"
    UNBLOCK = "unblock"
    CHANGE_PHONE = "change_phone"


class RequestOutcome(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class StaffRole(StrEnum):
    OPERATOR = "operator"
    OFFICIAL = "official"
    ADMIN = "admin"


class SmsState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class TelegramUser(Base):
    """A Telegram account that has talked to the bot, and the language it chose."""

    __tablename__ = "telegram_users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    locale: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Citizen(Base):
    """A person as attested at the one window."""

    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    personal_number: Mapped[str] = mapped_column(String(14), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identifier: Mapped["Identifier | None"] = relationship(back_populates="citizen")


class Identifier(Base):
    """The unique identifier that gives a citizen electronic access to the portal."""

    __tablename__ = "identifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), unique=True)
    value: Mapped[str] = mapped_column(String(14), unique=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[IdentifierStatus] = mapped_column(String(16), default=IdentifierStatus.ACTIVE)
    push_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_at: Mapped[datetime | None]

    citizen: Mapped[Citizen] = relationship(back_populates="identifier")
    credential: Mapped["Credential"] = relationship(back_populates="identifier")


class Credential(Base):
    """The password of an identifier, kept only as an argon2 hash."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("identifiers.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_temporary: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    identifier: Mapped[Identifier] = relationship(back_populates="credential")


class SignInGuard(Base):
    """Failed sign-ins and the lock they earn, kept per identifier typed, known or not.

    Keyed by the value rather than the identifier row, so that an unknown identifier locks
    exactly like a real one and the lock reveals nothing about which exists.
    """

    __tablename__ = "sign_in_guards"

    value: Mapped[str] = mapped_column(String(14), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    lock_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Session(Base):
    """A signed-in citizen bound to one Telegram user in one chat."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_telegram_user_open", "telegram_user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("identifiers.id"), index=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))


class Procedure(Base):
    """One revision of an administrative procedure from the catalog."""

    __tablename__ = "procedures"
    __table_args__ = (UniqueConstraint("code", "revision", name="uq_procedures_code_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    term_days: Mapped[int | None] = mapped_column(Integer)
    term_months: Mapped[int | None] = mapped_column(Integer)
    fee_base_units: Mapped[float] = mapped_column(Numeric(8, 2, asdecimal=False), default=0)
    content: Mapped[dict[str, Any]]
    fields: Mapped[list[Any]]
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Application(Base):
    """An application for an administrative procedure."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str | None] = mapped_column(String(24), unique=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("identifiers.id"), index=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"))
    status: Mapped[ApplicationStatus] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]]
    submit_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    deadline: Mapped[date | None]

    procedure: Mapped[Procedure] = relationship()
    history: Mapped[list["ApplicationEvent"]] = relationship(
        order_by="ApplicationEvent.id", back_populates="application"
    )
    decision: Mapped["Decision | None"] = relationship(back_populates="application")


class ApplicationEvent(Base):
    """One step of an application's status history."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship(back_populates="history")


class Decision(Base):
    """An administrative decision taken on an application."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    official: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="decision")


class Notification(Base):
    """An event for a citizen: stored first, then pushed to the chat by a job."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("identifiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]]
    state: Mapped[NotificationState] = mapped_column(String(16), default=NotificationState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))

    identifier: Mapped[Identifier] = relationship()


class OneWindowRequest(Base):
    """A written request registered at the one window; never deleted."""

    __tablename__ = "one_window_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    kind: Mapped[RequestKind] = mapped_column(String(16))
    clerk: Mapped[str] = mapped_column(String(200))
    personal_number: Mapped[str] = mapped_column(String(14), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    document_kind: Mapped[str | None] = mapped_column(String(32))
    document_number: Mapped[str | None] = mapped_column(String(32))
    document_issued_on: Mapped[date | None]
    document_expires_on: Mapped[date | None]
    issuing_body: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16))
    previous_phone: Mapped[str | None] = mapped_column(String(16))
    confirmation_id: Mapped[int | None] = mapped_column(ForeignKey("phone_confirmations.id"))
    attested: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[RequestOutcome] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    identifier_id: Mapped[int | None] = mapped_column(ForeignKey("identifiers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhoneConfirmation(Base):
    """A one-time code sent to a phone that the citizen reads out to the clerk."""

    __tablename__ = "phone_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    purpose: Mapped[str] = mapped_column(
        String(16), default="one_window", server_default="one_window"
    )
    code_hash: Mapped[str] = mapped_column(String(200))
    clerk: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]


class SmsMessage(Base):
    """An SMS in the outbox: stored first, sent by a job; a secret's text is erased once sent."""

    __tablename__ = "sms_outbox"
    __table_args__ = (Index("ix_sms_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32))
    carries_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[SmsState] = mapped_column(String(16), default=SmsState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


class StaffMember(Base):
    """A Telegram account given a staff role by an admin; never a citizen session."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """An append-only record of a state change: who, what, when, on what; no secrets."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class FsmRecord(Base):
    """A chat's conversation state and draft, so that both survive a restart."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
