"""Database models (SQLAlchemy 2.0, typed). The schema itself comes only from Alembic migrations.

Privacy rule kept here: what people write (message texts and captions, feedback comments,
handback notes, signals) is stored only encrypted (bot/crypto.py), for audits; relaying never
needs it, since the bot copies messages by their id.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.crypto import MessageCipher
from bot.text import one_line

# What a BIGINT column holds (Telegram's user, chat and update ids) on PostgreSQL, and any
# integer on SQLite: a value outside it cannot be stored or even compared, so input from
# outside is checked against it before it reaches a query.
BIGINT_RANGE = range(-(2**63), 2**63)


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
    """A person who asks for help. Only what the bot needs to answer them is kept, and only
    once they agreed to the consent text: the row is made by that agreement."""

    __tablename__ = "newcomers"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    consented_at: Mapped[datetime]
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
    # The organisation whose coordinators manage this profile (the dashboard).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
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
    # Set when a coordinator erased them: the row stays as a nameless tombstone that
    # conversations and statistics point at (bot/erasure.py), and is no longer managed.
    erased_at: Mapped[datetime | None]

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


class DangerCheck(StrEnum):
    ASKED = "asked"  # "are you in danger right now?" sent, no answer yet
    YES = "yes"
    NO = "no"


class HelpRequest(Base):
    """A newcomer's question, from the first message until a sleutelpersoon accepts it.

    After erasure or the retention period `newcomer_id` is None: what remains is anonymous.
    """

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    newcomer_id: Mapped[int | None] = mapped_column(ForeignKey("newcomers.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    domain: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    intent: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None]
    institutions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set (encrypted, bot/crypto.py) when the request was handed back: the note for the next
    # sleutelpersoon, or "" when there was none or it was removed (erasure, retention), so a
    # handed-back request stays recognisable without its words.
    handback_note_encrypted: Mapped[str | None] = mapped_column(Text)
    # Set when an emergency was detected: coordinators see these first.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Set when the newcomer was asked whether they are in danger (nlu/danger.py, CHECK):
    # DangerCheck.ASKED until they answer, then YES (the request became urgent) or NO.
    danger_check: Mapped[str | None] = mapped_column(String(8))
    next_match_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RequestMessage(Base):
    """A message of the newcomer that belongs to a request; its text only encrypted."""

    __tablename__ = "request_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id"), index=True)
    telegram_message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    body_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ConversationMessage(Base):
    """What was said in a conversation, for audits: author, kind, time, text encrypted."""

    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    body_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ErasureEvent(Base):
    """That a person's data was erased, and why; nothing about who they were."""

    __tablename__ = "erasure_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    # "newcomer_request", "sleutelpersoon_by_coordinator" or "retention".
    reason: Mapped[str] = mapped_column(String(40))


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
    newcomer_id: Mapped[int | None] = mapped_column(ForeignKey("newcomers.id"), index=True)
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
    # The newcomer's words after their 👍/👎, encrypted (bot/crypto.py).
    feedback_comment_encrypted: Mapped[str | None] = mapped_column(Text)
    feedback_pending: Mapped[bool] = mapped_column(Boolean, default=False)


class RelayedMessage(Base):
    """Which copy belongs to which conversation, so a reply finds its way back."""

    __tablename__ = "relayed_messages"
    __table_args__ = (UniqueConstraint("chat_id", "telegram_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    telegram_message_id: Mapped[int] = mapped_column(BigInteger)


class OutboxOutcome(StrEnum):
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # blocked by the user or refused by Telegram: never retried
    # The call may or may not have reached the user; never retried, so never twice.
    UNCERTAIN = "uncertain"


class OutboxMessage(Base):
    """A Bot API call to make after the transaction that caused it has committed.

    Rows addressed to a sleutelpersoon are only sent within their office hours; rows to one
    chat are sent in the order they were written. `bot/outbox.py` states how several
    processes share the sending without sending a row twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    sleutelpersoon_id: Mapped[int | None] = mapped_column(ForeignKey("sleutelpersonen.id"))
    method: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What to record once sent: "offer:<id>", "header:<conversation id>", "relay:<conversation id>";
    # "notice:<what>" marks a bulk notice that yields to replies under the rate limit.
    purpose: Mapped[str | None] = mapped_column(String(40))
    not_before: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set with `sent_at` when the row is finished; NULL while it is still to be sent.
    outcome: Mapped[str | None] = mapped_column(String(16))
    # The process sending this row and until when it may (a lease, so a dead process does
    # not hold a chat for ever).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    # Committed just before the Bot API call, cleared once Telegram's answer is known: still
    # set when the lease ran out means the sender died not knowing whether it was delivered.
    attempt_started_at: Mapped[datetime | None]


# --- dashboard: organisations, coordinators, audit ---

SIGNAL_MAX_LENGTH = 80


class Organisation(Base):
    """A municipality or welfare organisation. Its coordinators see only its own data."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime]


class CoordinatorRole(StrEnum):
    COORDINATOR = "coordinator"
    # Also manages their own organisation's coordinator accounts; reads no more than a
    # coordinator.
    ADMIN = "admin"
    # Manages every organisation and its accounts (dashboard/access.py), reading no other
    # organisation's conversations, profiles or statistics. Granted only on the command line.
    PLATFORM_ADMIN = "platform_admin"


class Coordinator(Base):
    """A person at a desk who signs in to the dashboard."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Stored lower-case: the sign-in name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    # argon2id, with its parameters and salt in the string.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=CoordinatorRole.COORDINATOR)
    locale: Mapped[str] = mapped_column(String(8), default="nl")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # The digest of the client address of the last sign-in (dashboard/throttle.py): guesses
    # from everywhere together cannot shut the owner out from there.
    last_sign_in_from: Mapped[str | None] = mapped_column(String(64))
    # On call for urgent requests: alerted in Telegram within these weekly hours
    # (`mon-fri 17:00-24:00; sat-sun 00:00-24:00`, Europe/Amsterdam).
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    on_call_hours: Mapped[str | None] = mapped_column(String(300))


class DashboardSession(Base):
    """A signed-in browser. The cookie holds a random token and only its SHA-256 is stored, so
    a database leak leaks no usable session, and signing out really ends it."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("coordinators.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SignInThrottle(Base):
    """Password guesses counted in one bucket of dashboard/throttle.py: a client address and
    the account typed together, a client address, or an account. Keys are SHA-256 digests, of
    fixed length whatever was typed; a row is of no use once `resets_at` has passed."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(24))
    # The digest of the account typed, so that unlocking an account clears its buckets.
    account_key: Mapped[str | None] = mapped_column(String(64), index=True)
    guesses: Mapped[int] = mapped_column(Integer)
    # Guesses count until then, then the bucket starts again; a full bucket is closed until then.
    resets_at: Mapped[datetime] = mapped_column(index=True)


class AuditAction(StrEnum):
    TRANSCRIPT_OPENED = "transcript_opened"
    SLEUTELPERSOON_INVITED = "sleutelpersoon_invited"
    INVITE_RENEWED = "invite_renewed"
    PROFILE_CHANGED = "profile_changed"
    HOURS_CHANGED = "hours_changed"
    LEAVE_ADDED = "leave_added"
    LEAVE_REMOVED = "leave_removed"
    SLEUTELPERSOON_DEACTIVATED = "sleutelpersoon_deactivated"
    SLEUTELPERSOON_REACTIVATED = "sleutelpersoon_reactivated"
    SLEUTELPERSOON_ERASED = "sleutelpersoon_erased"
    SLEUTELPERSOON_MOVED = "sleutelpersoon_moved"
    REQUEST_ASSIGNED = "request_assigned"
    ORGANISATION_CREATED = "organisation_created"
    COORDINATOR_CREATED = "coordinator_created"
    COORDINATOR_DEACTIVATED = "coordinator_deactivated"
    COORDINATOR_REACTIVATED = "coordinator_reactivated"
    COORDINATOR_UNLOCKED = "coordinator_unlocked"
    COORDINATOR_PASSWORD_RESET = "coordinator_password_reset"  # noqa: S105 - not a secret
    SIGN_IN_LOCKED = "sign_in_locked"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an audit action, not a secret
    PLATFORM_ADMIN_GRANTED = "platform_admin_granted"
    PLATFORM_ADMIN_REVOKED = "platform_admin_revoked"


class AuditEntry(Base):
    """Who read which conversation and why, and every administrative change.

    Rows are only ever added. Reading a transcript without a reason cannot be recorded: the
    database refuses it, and the dashboard shows no content without this row.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(
            "action <> 'transcript_opened' OR (conversation_id IS NOT NULL AND reason IS NOT NULL)",
            name="ck_audit_log_transcript_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # The organisation whose coordinators see the entry.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # None when the change came from the command line.
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"))
    action: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    sleutelpersoon_id: Mapped[int | None] = mapped_column(ForeignKey("sleutelpersonen.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("help_requests.id"))
    subject_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    # What changed (field names, old and new settings); never message content.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Signal(Base):
    """A short tag a sleutelpersoon puts on a conversation ("many CJIB fines"), counted per
    period so the organisation can act on what sleutelpersonen see."""

    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    sleutelpersoon_id: Mapped[int] = mapped_column(ForeignKey("sleutelpersonen.id"), index=True)
    # The words, encrypted (bot/crypto.py); None once the retention period or an erasure
    # removed them, while the row still counts.
    text_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)

    @staticmethod
    def key_of(text: str) -> str:
        """The text folded for counting: "Many  CJIB fines" and "many cjib fines" are one."""
        return " ".join(text.casefold().split())[:SIGNAL_MAX_LENGTH]

    @classmethod
    def tag(
        cls,
        conversation_id: int,
        sleutelpersoon_id: int,
        text: str,
        now: datetime,
        cipher: MessageCipher,
    ) -> Signal:
        """A signal from free text; raises ValueError when it is empty after trimming."""
        cleaned = one_line(text)[:SIGNAL_MAX_LENGTH]
        if not cleaned:
            raise ValueError("a signal needs a few words")
        return cls(
            conversation_id=conversation_id,
            sleutelpersoon_id=sleutelpersoon_id,
            text_encrypted=cipher.encrypt(cleaned),
            created_at=now,
        )


class InboxUpdate(Base):
    """A Telegram update as it arrived, stored before Telegram is told it was received.

    The raw update is kept only encrypted (it holds what newcomers write) and only until it is
    handled; the row itself stays a little longer so a late redelivery is recognised. The
    rules of claiming and handling are in bot/inbox.py.
    """

    __tablename__ = "inbox_updates"
    __table_args__ = (Index("ix_inbox_updates_chat_pending", "chat_id", "handled_at", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The chat whose updates must be handled one after another, in update_id order.
    chat_id: Mapped[int] = mapped_column(BigInteger)
    payload_encrypted: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(index=True)
    # The worker handling it now, until `claim_expires_at` (renewed while it works).
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claim_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    handled_at: Mapped[datetime | None] = mapped_column(index=True)


class RedisErasure(Base):
    """A chat erased in the database whose traces in Redis (inbox stream entries, flood-limit
    keys) are still to be removed; deleted once they are (bot/erasure.py)."""

    __tablename__ = "redis_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
