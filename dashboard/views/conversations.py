"""Conversations for audits: a filtered list of metadata, and transcripts only with a reason.

Opening a transcript is a POST with a reason. In one transaction the access record is written
(who, when, which conversation, why) and the transcript is read; only after that transaction
has committed is anything of the content sent to the browser. Without a reason nothing is
written and nothing is shown.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from starlette.responses import Response
from starlette.routing import Route

from bot.models import (
    AuditAction,
    AuditEntry,
    Conversation,
    ConversationMessage,
    Coordinator,
    HelpRequest,
    Signal,
    Sleutelpersoon,
)
from bot.transcripts import read_transcript
from dashboard import access
from dashboard.audit import record
from dashboard.bounds import filter_day, row_id
from dashboard.i18n import N_
from dashboard.labels import CONVERSATION_STATUSES, DOMAINS, label, language_name
from dashboard.periods import start_of_day, wall_date
from dashboard.tables import Column, Kind, Table
from dashboard.web import Ctx, Pages

MIN_REASON = 10
MAX_REASON = 500
LIST_LIMIT = 200
NO_REASON = N_(
    "Give the reason why you need to read this conversation (at least 10 characters). "
    "Nothing was opened and nothing was recorded."
)


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    async def listing(ctx: Ctx) -> Response:
        query = ctx.request.query_params
        translator = ctx.translator
        viewer = ctx.signed_in
        statement = (
            access.conversations(viewer)
            .add_columns(HelpRequest.language, HelpRequest.domain, Sleutelpersoon.display_name)
            .join(HelpRequest, HelpRequest.id == Conversation.request_id)
            .join(Sleutelpersoon, Sleutelpersoon.id == Conversation.sleutelpersoon_id)
            .order_by(Conversation.opened_at.desc())
        )
        filters: dict[str, str] = {}
        if language := query.get("language", "").strip():
            statement = statement.where(HelpRequest.language == language)
            filters["language"] = language
        if domain := query.get("domain", "").strip():
            statement = statement.where(HelpRequest.domain == domain)
            filters["domain"] = domain
        if status := query.get("status", "").strip():
            statement = statement.where(Conversation.status == status)
            filters["status"] = status
        if (person := row_id(query.get("sleutelpersoon", "").strip())) is not None:
            statement = statement.where(Conversation.sleutelpersoon_id == person)
            filters["sleutelpersoon"] = str(person)
        today = wall_date(config.clock.now())
        if (first := filter_day(query.get("from"), today)) is not None:
            statement = statement.where(Conversation.opened_at >= start_of_day(first))
            filters["from"] = first.isoformat()
        if (last := filter_day(query.get("to"), today)) is not None:
            statement = statement.where(
                Conversation.opened_at < start_of_day(last + timedelta(days=1))
            )
            filters["to"] = last.isoformat()
        csv = query.get("format") == "csv"
        async with config.sessions() as session:
            rows = (await session.execute(statement if csv else statement.limit(LIST_LIMIT))).all()
            ids = [conversation.id for conversation, *_rest in rows]
            signals = await _counts(session, Signal.conversation_id, ids)
            messages = await _counts(session, ConversationMessage.conversation_id, ids)
            opened = dict(
                (
                    await session.execute(
                        select(AuditEntry.conversation_id, func.count())
                        .where(
                            AuditEntry.conversation_id.in_(ids),
                            AuditEntry.action == AuditAction.TRANSCRIPT_OPENED,
                        )
                        .group_by(AuditEntry.conversation_id)
                    )
                ).all()
            )
            people = (await session.scalars(access.sleutelpersonen(viewer))).all()
            languages = sorted(
                set(
                    (
                        await session.scalars(
                            select(HelpRequest.language)
                            .select_from(Conversation)
                            .join(HelpRequest, HelpRequest.id == Conversation.request_id)
                            .where(access.own_conversations(viewer))
                            .distinct()
                        )
                    ).all()
                )
            )
        table = Table(
            "conversations",
            N_("Conversations"),
            [
                Column(N_("Conversation")),
                Column(N_("Sleutelpersoon")),
                Column(N_("Language")),
                Column(N_("Topic")),
                Column(N_("Status")),
                Column(N_("Opened"), Kind.DATETIME),
                Column(N_("Closed"), Kind.DATETIME),
                Column(N_("Messages"), Kind.NUMBER),
                Column(N_("Feedback")),
                Column(N_("Signals"), Kind.NUMBER),
                Column(N_("Transcript opened"), Kind.NUMBER),
            ],
            empty=N_("No conversations match these filters."),
        )
        for index, (conversation, request_language, domain, name) in enumerate(rows):
            table.rows.append(
                [
                    conversation.label,
                    name,
                    language_name(translator, request_language),
                    label(translator, DOMAINS, domain),
                    label(translator, CONVERSATION_STATUSES, conversation.status),
                    conversation.opened_at,
                    conversation.closed_at,
                    messages.get(conversation.id, 0),
                    {"up": "👍", "down": "👎"}.get(conversation.feedback or ""),
                    signals.get(conversation.id, 0),
                    opened.get(conversation.id, 0),
                ]
            )
            table.links[index] = f"/conversations/{conversation.id}"
        return pages.csv_or(
            ctx,
            [table],
            lambda: pages.render(
                ctx,
                "conversations.html",
                nav="conversations",
                table=table,
                filters=filters,
                people=people,
                languages=[(code, language_name(translator, code)) for code in languages],
                domains=list(DOMAINS.items()),
                statuses=list(CONVERSATION_STATUSES.items()),
                truncated=len(rows) >= LIST_LIMIT and not csv,
            ),
        )

    async def metadata(ctx: Ctx, conversation_id: int) -> dict[str, Any]:
        """What may be shown without a reason: who, when, what about; never what was said."""
        async with config.sessions() as session:
            conversation = await access.conversation(session, ctx.signed_in, conversation_id)
            request = await session.get_one(HelpRequest, conversation.request_id)
            person = await session.get_one(Sleutelpersoon, conversation.sleutelpersoon_id)
            accesses = (
                await session.execute(
                    select(AuditEntry, Coordinator.display_name)
                    .outerjoin(Coordinator, Coordinator.id == AuditEntry.coordinator_id)
                    .where(
                        AuditEntry.conversation_id == conversation.id,
                        AuditEntry.action == AuditAction.TRANSCRIPT_OPENED,
                    )
                    .order_by(AuditEntry.at.desc())
                )
            ).all()
            sealed_signals = (
                await session.scalars(
                    select(Signal.text_encrypted)
                    .where(Signal.conversation_id == conversation.id)
                    .order_by(Signal.created_at)
                )
            ).all()
            signals = [config.cipher.decrypt(sealed) for sealed in sealed_signals if sealed]
        return {
            "conversation": conversation,
            "help_request": request,
            "person": person,
            "accesses": accesses,
            "signals": signals,
            "language": language_name(ctx.translator, request.language),
            "domain": label(ctx.translator, DOMAINS, request.domain),
            "conversation_status": label(
                ctx.translator, CONVERSATION_STATUSES, conversation.status
            ),
        }

    async def show(ctx: Ctx, status: int = 200, error: str = "", reason: str = "") -> Response:
        conversation_id = int(ctx.request.path_params["conversation_id"])
        facts = await metadata(ctx, conversation_id)
        accesses = Table(
            "accesses",
            N_("Who opened it before"),
            [Column(N_("When"), Kind.DATETIME), Column(N_("Who")), Column(N_("Reason"))],
            [[entry.at, name, entry.reason] for entry, name in facts["accesses"]],
            empty=N_("Nobody has opened this transcript."),
        )
        return pages.csv_or(
            ctx,
            [accesses],
            lambda: pages.render(
                ctx,
                "conversation.html",
                status,
                nav="conversations",
                error=error,
                reason=reason,
                accesses_table=accesses,
                **facts,
            ),
        )

    async def transcript(ctx: Ctx) -> Response:
        conversation_id = int(ctx.request.path_params["conversation_id"])
        reason = " ".join(ctx.field("reason").split())
        if not MIN_REASON <= len(reason) <= MAX_REASON:
            # Resolved first, so that another organisation's conversation is still a 404.
            async with config.sessions() as session:
                await access.conversation(session, ctx.signed_in, conversation_id)
            return await show(ctx, 400, NO_REASON, reason[:MAX_REASON])
        now = config.clock.now()
        async with config.sessions.begin() as session:
            conversation = await access.conversation(session, ctx.signed_in, conversation_id)
            record(
                session,
                now,
                ctx.signed_in,
                AuditAction.TRANSCRIPT_OPENED,
                conversation_id=conversation.id,
                sleutelpersoon_id=conversation.sleutelpersoon_id,
                reason=reason,
            )
            # Written before anything is read: if recording fails, nothing is read either.
            await session.flush()
            entries = await read_transcript(session, conversation.id, config.cipher)
        # Only now, with the record committed, does content leave the server.
        return pages.render(
            ctx,
            "transcript.html",
            nav="conversations",
            entries=entries,
            reason=reason,
            opened_at=now,
            **await metadata(ctx, conversation_id),
        )

    return [
        Route("/conversations", pages.page(listing), methods=["GET"]),
        Route("/conversations/{conversation_id:int}", pages.page(show), methods=["GET"]),
        Route(
            "/conversations/{conversation_id:int}/transcript",
            pages.page(transcript),
            methods=["POST"],
        ),
    ]


async def _counts(session: Any, column: Any, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(column, func.count()).where(column.in_(ids)).group_by(column)
    )
    return {key: count for key, count in rows.all()}
