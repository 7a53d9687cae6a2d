"""The audit log: every transcript access with its reason, and every administrative change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import aliased
from starlette.responses import Response
from starlette.routing import Route

from bot.models import AuditAction, AuditEntry, Conversation, Coordinator, Sleutelpersoon
from dashboard import access
from dashboard.bounds import filter_day, row_id
from dashboard.i18n import N_
from dashboard.labels import AUDIT_ACTIONS, label
from dashboard.periods import start_of_day, wall_date
from dashboard.tables import Column, Kind, Table
from dashboard.web import Ctx, Pages

LIST_LIMIT = 500


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    async def listing(ctx: Ctx) -> Response:
        query = ctx.request.query_params
        translator = ctx.translator
        actor = aliased(Coordinator)
        subject = aliased(Coordinator)
        statement = (
            access.audit_entries(ctx.signed_in)
            .add_columns(
                actor.display_name,
                Sleutelpersoon.display_name,
                Conversation.label,
                subject.display_name,
            )
            .outerjoin(actor, actor.id == AuditEntry.coordinator_id)
            .outerjoin(subject, subject.id == AuditEntry.subject_coordinator_id)
            .outerjoin(Sleutelpersoon, Sleutelpersoon.id == AuditEntry.sleutelpersoon_id)
            .outerjoin(Conversation, Conversation.id == AuditEntry.conversation_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
        filters: dict[str, str] = {}
        if (action := query.get("action", "")) in AUDIT_ACTIONS:
            statement = statement.where(AuditEntry.action == action)
            filters["action"] = action
        if (conversation := row_id(query.get("conversation"))) is not None:
            statement = statement.where(AuditEntry.conversation_id == conversation)
            filters["conversation"] = str(conversation)
        today = wall_date(config.clock.now())
        if (first := filter_day(query.get("from"), today)) is not None:
            statement = statement.where(AuditEntry.at >= start_of_day(first))
            filters["from"] = first.isoformat()
        if (last := filter_day(query.get("to"), today)) is not None:
            statement = statement.where(AuditEntry.at < start_of_day(last + timedelta(days=1)))
            filters["to"] = last.isoformat()
        csv = query.get("format") == "csv"
        async with config.sessions() as session:
            rows = (await session.execute(statement if csv else statement.limit(LIST_LIMIT))).all()
        table = Table(
            "audit",
            N_("Audit log"),
            [
                Column(N_("When"), Kind.DATETIME),
                Column(N_("Who")),
                Column(N_("What")),
                Column(N_("Sleutelpersoon")),
                Column(N_("Conversation")),
                Column(N_("Request")),
                Column(N_("Coordinator account")),
                Column(N_("Reason")),
                Column(N_("Details")),
            ],
            empty=N_("Nothing recorded yet."),
        )
        for entry, actor_name, person_name, conversation_label, subject_name in rows:
            table.rows.append(
                [
                    entry.at,
                    actor_name or translator.gettext("command line / system"),
                    label(translator, AUDIT_ACTIONS, entry.action),
                    person_name,
                    conversation_label,
                    f"#{entry.request_id}" if entry.request_id else None,
                    subject_name,
                    entry.reason,
                    _details(entry.details),
                ]
            )
        return pages.csv_or(
            ctx,
            [table],
            lambda: pages.render(
                ctx,
                "audit.html",
                nav="audit",
                table=table,
                filters=filters,
                actions=list(AUDIT_ACTIONS.items()),
                transcript_action=AuditAction.TRANSCRIPT_OPENED,
            ),
        )

    return [Route("/audit", pages.page(listing), methods=["GET"])]


def _details(details: dict[str, Any]) -> str | None:
    """`field: old → new` for changes, `key: value` otherwise; never message content."""
    parts = []
    for key, value in details.items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{key}: {_plain(value[0])} → {_plain(value[1])}")
        else:
            parts.append(f"{key}: {_plain(value)}")
    return "; ".join(parts) or None


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "–"
    return "–" if value is None else str(value)
