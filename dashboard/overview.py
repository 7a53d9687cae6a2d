"""The "Now" page: what is waiting, what is open, what is stuck, and who carries how much.

Load and "within hours" are computed exactly as matching computes them
(`bot.directory.candidate_pool` counts and `schedule_of`), so the page shows what the next
offer will see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import FAIRNESS_PERIOD, OPEN, local_today, schedule_of
from bot.models import (
    Conversation,
    ConversationMessage,
    DangerCheck,
    HelpRequest,
    Offer,
    OfferStatus,
    OutboxMessage,
    OutboxOutcome,
    RequestStatus,
    Sleutelpersoon,
)
from bot.outbox import CONVERSATION_PURPOSE_KINDS, conversation_of_purpose
from dashboard import access
from dashboard.access import Viewer
from dashboard.i18n import N_, Translator
from dashboard.labels import (
    CONVERSATION_STATUSES,
    DOMAINS,
    REQUEST_STATUSES,
    connection,
    label,
)
from dashboard.labels import language_name as language
from dashboard.tables import Column, Kind, Table
from matching.office_hours import is_within, next_opening

WAITING = (RequestStatus.CHOOSING, RequestStatus.WAITING, RequestStatus.OFFERED)
URGENT_LIMIT = 50


@dataclass(frozen=True)
class Assignable:
    """A queued request with the sleutelpersonen of this organisation it can go to."""

    request: HelpRequest
    waiting: timedelta
    choices: list[Sleutelpersoon]


@dataclass(frozen=True)
class Overview:
    urgent: Table
    danger_unanswered: Table
    tables: list[Table]
    queue: list[Assignable]


async def build_overview(
    session: AsyncSession, viewer: Viewer, now: datetime, translator: Translator
) -> Overview:
    _ = translator.gettext
    visible = await access.visible_requests(session, viewer)
    people = (await session.scalars(access.sleutelpersonen(viewer))).all()
    own = {person.id: person for person in people}

    waiting = Table(
        "waiting",
        N_("Requests waiting"),
        [
            Column(N_("Request")),
            Column(N_("Language")),
            Column(N_("Topic")),
            Column(N_("Status")),
            Column(N_("Asked"), Kind.DATETIME),
            Column(N_("Waiting for"), Kind.DURATION),
            Column(N_("Will be offered at"), Kind.DATETIME),
            Column(N_("Offered to")),
        ],
        empty=N_("No request is waiting."),
    )
    pending = (
        await session.scalars(
            select(HelpRequest)
            .where(visible, HelpRequest.status.in_(WAITING))
            .order_by(HelpRequest.created_at)
        )
    ).all()
    pending_offers = (
        await session.execute(
            select(Offer.request_id, Offer.sleutelpersoon_id).where(
                Offer.request_id.in_([r.id for r in pending]),
                Offer.status == OfferStatus.PENDING,
            )
        )
    ).all()
    held_until = await _offers_held_until(session, now, [r.id for r in pending])
    offered_to: dict[int, list[str]] = {}
    for request_id, person_id in pending_offers:
        # Names of other organisations' sleutelpersonen are not this viewer's to see.
        name = own[person_id].display_name if person_id in own else _("another organisation")
        offered_to.setdefault(request_id, []).append(name)
    for r in pending:
        waiting.rows.append(
            [
                f"#{r.id}",
                language(translator, r.language),
                label(translator, DOMAINS, r.domain),
                label(translator, REQUEST_STATUSES, r.status),
                r.created_at,
                now - r.created_at,
                r.next_match_at if r.status == RequestStatus.WAITING else held_until.get(r.id),
                ", ".join(offered_to.get(r.id, [])) or None,
            ]
        )

    open_table = Table(
        "open_conversations",
        N_("Open conversations"),
        [
            Column(N_("Conversation")),
            Column(N_("Sleutelpersoon")),
            Column(N_("Language")),
            Column(N_("Topic")),
            Column(N_("Opened"), Kind.DATETIME),
            Column(N_("Last message"), Kind.DATETIME),
            Column(N_("Status")),
        ],
        empty=N_("No conversation is open."),
    )
    rows = (
        await session.execute(
            access.conversations(viewer)
            .where(Conversation.status == OPEN)
            .add_columns(HelpRequest.language, HelpRequest.domain)
            .join(HelpRequest, HelpRequest.id == Conversation.request_id)
            .order_by(Conversation.opened_at)
        )
    ).all()
    last_messages = dict(
        (
            await session.execute(
                select(
                    ConversationMessage.conversation_id, func.max(ConversationMessage.created_at)
                )
                .where(ConversationMessage.conversation_id.in_([c.id for c, _l, _d in rows]))
                .group_by(ConversationMessage.conversation_id)
            )
        ).all()
    )
    for index, (conversation, request_language, domain) in enumerate(rows):
        open_table.rows.append(
            [
                conversation.label,
                own[conversation.sleutelpersoon_id].display_name,
                language(translator, request_language),
                label(translator, DOMAINS, domain),
                conversation.opened_at,
                last_messages.get(conversation.id),
                label(translator, CONVERSATION_STATUSES, conversation.status),
            ]
        )
        open_table.links[index] = f"/conversations/{conversation.id}"

    load = Table(
        "load",
        N_("Load per sleutelpersoon"),
        [
            Column(N_("Sleutelpersoon")),
            Column(N_("Open conversations")),
            Column(N_("New in the last 7 days")),
            Column(N_("Within office hours now")),
            Column(N_("Next office hours"), Kind.DATETIME),
            Column(N_("Away until"), Kind.DATE),
            Column(N_("Telegram")),
        ],
        empty=N_("No sleutelpersonen yet."),
    )
    open_counts = dict(
        (
            await session.execute(
                select(Conversation.sleutelpersoon_id, func.count())
                .where(access.own_conversations(viewer), Conversation.status == OPEN)
                .group_by(Conversation.sleutelpersoon_id)
            )
        ).all()
    )
    recent_counts = dict(
        (
            await session.execute(
                select(Conversation.sleutelpersoon_id, func.count())
                .where(
                    access.own_conversations(viewer),
                    Conversation.opened_at > now - FAIRNESS_PERIOD,
                )
                .group_by(Conversation.sleutelpersoon_id)
            )
        ).all()
    )
    for index, person in enumerate(p for p in people if p.active):
        schedule = schedule_of(person, local_today(person, now))
        within = is_within(schedule, now)
        load.rows.append(
            [
                person.display_name,
                f"{open_counts.get(person.id, 0)} / {person.max_open_conversations}",
                f"{recent_counts.get(person.id, 0)} / {person.max_new_per_week}",
                _("yes") if within else _("no"),
                None if within else next_opening(schedule, now),
                person.away_until,
                connection(translator, person, now),
            ]
        )
        load.links[index] = f"/sleutelpersonen/{person.id}"

    queued = (
        await session.scalars(
            select(HelpRequest)
            .where(visible, HelpRequest.status == RequestStatus.QUEUED)
            .order_by(HelpRequest.created_at)
        )
    ).all()
    queue = [
        Assignable(
            request=r,
            waiting=now - r.created_at,
            choices=[
                p
                for p in people
                if p.active and p.telegram_user_id is not None and r.language in p.languages
            ],
        )
        for r in queued
    ]
    urgent, danger_unanswered = await _flagged(session, viewer, visible, own, translator)
    queue_table = Table(
        "queue",
        N_("Queue: nobody accepted"),
        [
            Column(N_("Request")),
            Column(N_("Language")),
            Column(N_("Topic")),
            Column(N_("Asked"), Kind.DATETIME),
            Column(N_("Waiting for"), Kind.DURATION),
        ],
        empty=N_("The queue is empty."),
    )
    for item in queue:
        queue_table.rows.append(
            [
                f"#{item.request.id}",
                language(translator, item.request.language),
                label(translator, DOMAINS, item.request.domain),
                item.request.created_at,
                item.waiting,
            ]
        )
    uncertain = await _uncertain_deliveries(session, viewer, own, translator)
    return Overview(
        urgent, danger_unanswered, [waiting, queue_table, open_table, load, uncertain], queue
    )


async def _offers_held_until(
    session: AsyncSession, now: datetime, request_ids: list[int]
) -> dict[int, datetime]:
    """When the offers of these requests that the outbox holds (their sleutelpersoon is outside
    office hours, e.g. after a manual assignment) will be sent: the row's `not_before`, or the
    recipient's next opening when the outbox has not looked at the row yet."""
    held = (
        await session.execute(
            select(Offer.request_id, Offer.sleutelpersoon_id, OutboxMessage.not_before)
            .join(OutboxMessage, OutboxMessage.sleutelpersoon_id == Offer.sleutelpersoon_id)
            .where(
                Offer.request_id.in_(request_ids),
                Offer.status == OfferStatus.PENDING,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.purpose == literal("offer:") + cast(Offer.id, String),
            )
        )
    ).all()
    found: dict[int, datetime] = {}
    for request_id, person_id, not_before in held:
        person = await session.get_one(Sleutelpersoon, person_id)
        schedule = schedule_of(person, local_today(person, now))
        opening = None if is_within(schedule, now) else next_opening(schedule, now)
        at = max(not_before, opening) if opening is not None else not_before
        found[request_id] = min(at, found.get(request_id, at))
    return found


async def _uncertain_deliveries(
    session: AsyncSession, viewer: Viewer, own: dict[int, Sleutelpersoon], translator: Translator
) -> Table:
    """Messages of this organisation's conversations that the bot may not have delivered: its
    sender stopped during the Bot API call, and the outbox never sends a message twice."""
    _ = translator.gettext
    table = Table(
        "uncertain",
        N_("Messages that may not have arrived"),
        [
            Column(N_("Conversation")),
            Column(N_("Recipient")),
            Column(N_("Written"), Kind.DATETIME),
        ],
        empty=N_("Every message of your conversations was delivered or is still on its way."),
    )
    rows = (
        await session.execute(
            select(OutboxMessage.purpose, OutboxMessage.sleutelpersoon_id, OutboxMessage.created_at)
            .where(
                OutboxMessage.outcome == OutboxOutcome.UNCERTAIN,
                or_(
                    *(
                        OutboxMessage.purpose.startswith(f"{kind}:")
                        for kind in CONVERSATION_PURPOSE_KINDS
                    )
                ),
            )
            .order_by(OutboxMessage.created_at)
        )
    ).all()
    conversation_ids = {conversation_of_purpose(purpose) for purpose, _p, _c in rows}
    visible = {
        conversation.id: conversation
        for conversation in await session.scalars(
            access.conversations(viewer).where(Conversation.id.in_(conversation_ids))
        )
    }
    for purpose, person_id, created_at in rows:
        conversation_id = conversation_of_purpose(purpose)
        conversation = visible.get(conversation_id) if conversation_id is not None else None
        if conversation is None:  # another organisation's conversation
            continue
        recipient = (
            own[person_id].display_name
            if person_id is not None and person_id in own
            else _("the newcomer")
        )
        table.links[len(table.rows)] = f"/conversations/{conversation.id}"
        table.rows.append([conversation.label, recipient, created_at])
    return table


async def _flagged(
    session: AsyncSession,
    viewer: Viewer,
    visible: ColumnElement[bool],
    own: dict[int, Sleutelpersoon],
    translator: Translator,
) -> tuple[Table, Table]:
    """Requests that are not closed in which an emergency was detected (shown first), and those
    whose newcomer was asked "are you in danger right now?" and has not answered: they went
    on as ordinary questions, and a coordinator may want to look."""
    urgent = _flagged_table("urgent", N_("Urgent: emergency words detected"), N_("Nothing urgent."))
    unanswered = _flagged_table(
        "danger_unanswered",
        N_("Asked about danger, no answer"),
        N_("Every question about danger was answered."),
    )
    for table, flag in (
        (urgent, HelpRequest.urgent.is_(True)),
        (unanswered, HelpRequest.danger_check == DangerCheck.ASKED),
    ):
        await _fill_flagged(session, viewer, visible, own, translator, table, flag)
    return urgent, unanswered


def _flagged_table(name: str, title: str, empty: str) -> Table:
    return Table(
        name,
        title,
        [
            Column(N_("Request")),
            Column(N_("Language")),
            Column(N_("Topic")),
            Column(N_("Status")),
            Column(N_("Asked"), Kind.DATETIME),
            Column(N_("Conversation")),
            Column(N_("Sleutelpersoon")),
        ],
        empty=empty,
    )


async def _fill_flagged(
    session: AsyncSession,
    viewer: Viewer,
    visible: ColumnElement[bool],
    own: dict[int, Sleutelpersoon],
    translator: Translator,
    table: Table,
    flag: ColumnElement[bool],
) -> None:
    """The rows of the flagged requests that are not closed, the latest first."""
    rows = (
        await session.execute(
            select(HelpRequest, Conversation)
            .outerjoin(
                Conversation,
                (Conversation.request_id == HelpRequest.id) & access.own_conversations(viewer),
            )
            .where(visible, flag, HelpRequest.status != RequestStatus.CLOSED)
            .order_by(HelpRequest.updated_at.desc())
            .limit(URGENT_LIMIT)
        )
    ).all()
    for index, (request, conversation) in enumerate(rows):
        table.rows.append(
            [
                f"#{request.id}",
                language(translator, request.language),
                label(translator, DOMAINS, request.domain),
                label(translator, REQUEST_STATUSES, request.status),
                request.created_at,
                conversation.label if conversation else None,
                own[conversation.sleutelpersoon_id].display_name if conversation else None,
            ]
        )
        if conversation is not None:
            table.links[index] = f"/conversations/{conversation.id}"
