"""Writing to the audit log: one row per access to content and per administrative change.

The row is added to the caller's session, so it is committed together with the change it
describes, or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AuditAction, AuditEntry
from dashboard.access import Viewer


def record(
    session: AsyncSession,
    now: datetime,
    viewer: Viewer,
    action: AuditAction,
    *,
    organisation_id: int | None = None,
    conversation_id: int | None = None,
    sleutelpersoon_id: int | None = None,
    request_id: int | None = None,
    subject_coordinator_id: int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Log the change in the organisation it concerns (the viewer's own unless given); an
    admin's change in another organisation is logged in the admin's own as well, so each
    organisation sees what its own people did."""
    concerned = organisation_id or viewer.organisation_id
    for organisation in dict.fromkeys((concerned, viewer.organisation_id)):
        entry = AuditEntry(
            at=now,
            organisation_id=organisation,
            coordinator_id=viewer.coordinator_id,
            action=action,
            conversation_id=conversation_id,
            sleutelpersoon_id=sleutelpersoon_id,
            request_id=request_id,
            subject_coordinator_id=subject_coordinator_id,
            reason=reason,
            details=details or {},
        )
        session.add(entry)


# Profile fields whose old and new values say who someone is; dropped when they are erased.
PERSONAL_FIELDS = frozenset({"display_name", "gender", "circle"})


async def forget_personal_details(session: AsyncSession, sleutelpersoon_id: int) -> None:
    """After erasing a sleutelpersoon, their entries keep who did what and when, but no longer
    the name, gender or community the profile had."""
    entries = await session.scalars(
        select(AuditEntry).where(AuditEntry.sleutelpersoon_id == sleutelpersoon_id)
    )
    for entry in entries:
        if PERSONAL_FIELDS & entry.details.keys():
            entry.details = {
                key: value for key, value in entry.details.items() if key not in PERSONAL_FIELDS
            }
