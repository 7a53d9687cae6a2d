"""Database models (SQLAlchemy 2.0, typed). The schema itself comes only from Alembic migrations.

Privacy rule kept here: no table holds the text of a newcomer's message. The bot relays
messages with Telegram's copyMessage, so it only needs the message's id in the sender's chat.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Instants stored in UTC and always read back timezone-aware.

    SQLite has no time zones and returns naive values; without this, comparing them with an
    aware "now" would fail, and storing local times would make comparisons in SQL wrong.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
    }


class Newcomer(Base):
    """A person who asks for help. Only what the bot needs to answer them is kept."""

    __tablename__ = "newcomers"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    consented_at: Mapped[datetime | None]
    preferred_gender: Mapped[str | None] = mapped_column(String(16))
    # The newcomer's own town or community: sleutelpersonen from it are avoided when set.
    avoid_circle: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Sleutelpersoon(Base):
    """A key person's profile: what they cover, when they can be reached, how much they take."""

    __tablename__ = "sleutelpersonen"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    locale: Mapped[str] = mapped_column(String(8), default="nl")
    languages: Mapped[list[str]] = mapped_column(JSON)
    domains: Mapped[list[str]] = mapped_column(JSON)
    roles: Mapped[list[str]] = mapped_column(JSON)
    gender: Mapped[str | None] = mapped_column(String(16))
    circle: Mapped[str | None] = mapped_column(String(80))
    organisation: Mapped[str | None] = mapped_column(String(120))
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    works_on_public_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    max_open_conversations: Mapped[int] = mapped_column(Integer, default=3)
    max_new_per_week: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away_until: Mapped[date | None] = mapped_column(Date)
    # The conversation a plain (non-reply) message of theirs goes to.
    selected_conversation_id: Mapped[int | None] = mapped_column(Integer)
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    windows: Mapped[list[OfficeWindow]] = relationship(
        back_populates="sleutelpersoon", cascade="all, delete-orphan", lazy="selectin"
    )
    leaves: Mapped[list[Leave]] = relationship(
        back_populates="sleutelpersoon", cascade="all, delete-orphan", lazy="selectin"
    )


class OfficeWindow(Base):
    """One weekly stretch of office hours, wall-clock time in the sleutelpersoon's time zone."""

    __tablename__ = "office_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    sleutelpersoon_id: Mapped[int] = mapped_column(ForeignKey("sleutelpersonen.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)

    sleutelpersoon: Mapped[Sleutelpersoon] = relationship(back_populates="windows")


class Leave(Base):
    """Days (inclusive) on which a sleutelpersoon is away."""

    __tablename__ = "leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    sleutelpersoon_id: Mapped[int] = mapped_column(ForeignKey("sleutelpersonen.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)

    sleutelpersoon: Mapped[Sleutelpersoon] = relationship(back_populates="leaves")


class RequestStatus(StrEnum):
    CHOOSING = "choosing"  # waiting for the newcomer to tap a domain button
    WAITING = "waiting"  # nobody fitting within hours yet; matched again at `next_match_at`
    OFFERED = "offered"  # at least one offer is out
    QUEUED = "queued"  # nobody accepted: in the coordinators' queue
    EMERGENCY = "emergency"  # sent to professional help; for the coordinators, never a volunteer
    ACCEPTED = "accepted"
    CLOSED = "closed"


class HelpRequest(Base):
    """A newcomer's question, from the first message until a sleutelpersoon accepts it."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    newcomer_id: Mapped[int] = mapped_column(ForeignKey("newcomers.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    domain: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    intent: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None]
    institutions: Mapped[list[str]] = mapped_column(JSON, default=list)
    handback_note: Mapped[str | None] = mapped_column(String(500))
    next_match_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RequestMessage(Base):
    """A message of the newcomer that belongs to a request: only where it is, never its text."""

    __tablename__ = "request_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id"), index=True)
    telegram_message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class OfferStatus(StrEnum):
    PENDING = "pending"  # can be accepted (also after its timeout passed it on)
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TAKEN = "taken"  # someone else accepted first
    WITHDRAWN = "withdrawn"  # the request ended otherwise


class Offer(Base):
    """A request offered to one sleutelpersoon."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("request_id", "sleutelpersoon_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id"), index=True)
    sleutelpersoon_id: Mapped[int] = mapped_column(ForeignKey("sleutelpersonen.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # When the offer passes on to the next candidate (office time); None once it has.
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)


class Conversation(Base):
    """A newcomer and a sleutelpersoon talking through the bot. One per accepted request."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: the database itself guarantees that two simultaneous accepts make one conversation.
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id"), unique=True)
    newcomer_id: Mapped[int] = mapped_column(ForeignKey("newcomers.id"), index=True)
    sleutelpersoon_id: Mapped[int] = mapped_column(ForeignKey("sleutelpersonen.id"), index=True)
    label: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The sleutelpersoon-side message that heads this conversation; copies reply to it.
    header_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # When the newcomer was last told the sleutelpersoon is outside their hours.
    away_notice_until: Mapped[datetime | None]
    feedback: Mapped[str | None] = mapped_column(String(8))
    feedback_comment: Mapped[str | None] = mapped_column(String(1000))
    feedback_pending: Mapped[bool] = mapped_column(Boolean, default=False)


class RelayedMessage(Base):
    """Which copy belongs to which conversation, so a reply finds its way back."""

    __tablename__ = "relayed_messages"
    __table_args__ = (UniqueConstraint("chat_id", "telegram_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    telegram_message_id: Mapped[int] = mapped_column(BigInteger)


class OutboxMessage(Base):
    """A Bot API call to make after the transaction that caused it has committed.

    Rows addressed to a sleutelpersoon are only sent within their office hours; rows to one
    chat are sent in the order they were written.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    sleutelpersoon_id: Mapped[int | None] = mapped_column(ForeignKey("sleutelpersonen.id"))
    method: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What to record once sent: "offer:<id>", "header:<conversation id>", "relay:<conversation id>".
    purpose: Mapped[str | None] = mapped_column(String(40))
    not_before: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
