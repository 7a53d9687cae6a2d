"""Manual assignment: a coordinator offers a queued request to one sleutelpersoon.

It is an offer like any other (the bot's own `Handover`): it reaches the sleutelpersoon only
within their office hours through the outbox, they still accept or decline it, and its
office-time limit passes it on again. A coordinator chooses *who*; the guarantees stay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handover import Handover
from bot.models import (
    AuditAction,
    HelpRequest,
    Offer,
    RequestStatus,
    Sleutelpersoon,
)
from dashboard.access import Viewer
from dashboard.audit import record
from dashboard.i18n import N_

ASSIGNABLE = (RequestStatus.QUEUED, RequestStatus.WAITING)


class AssignmentRefused(Exception):
    """Why the assignment cannot be made; the message is a msgid."""


async def assign(
    session: AsyncSession,
    now: datetime,
    handover: Handover,
    viewer: Viewer,
    request: HelpRequest,
    person: Sleutelpersoon,
) -> None:
    """Offer `request` to `person` (both already resolved through `dashboard.access`)."""
    if request.status not in ASSIGNABLE:
        raise AssignmentRefused(N_("This request is no longer waiting for someone."))
    if not person.active or person.telegram_user_id is None:
        raise AssignmentRefused(N_("This sleutelpersoon is not active on Telegram."))
    if request.language not in person.languages:
        raise AssignmentRefused(N_("This sleutelpersoon does not speak the request's language."))
    earlier = await session.scalar(
        select(Offer.status).where(
            Offer.request_id == request.id, Offer.sleutelpersoon_id == person.id
        )
    )
    if earlier is not None:
        raise AssignmentRefused(
            N_("This request was offered to this sleutelpersoon before; choose someone else.")
        )
    # The bot's own offer: office-time limit, buttons, and the outbox that waits for hours.
    await handover.offer_to(session, now, request, person)
    record(
        session,
        now,
        viewer,
        AuditAction.REQUEST_ASSIGNED,
        request_id=request.id,
        sleutelpersoon_id=person.id,
        details={"language": request.language, "domain": request.domain},
    )
