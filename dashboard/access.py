"""Who may read and change what in the dashboard. Every route gets its data through here.

Rules kept here:
- A coordinator sees only their own organisation: its sleutelpersonen, the conversations
  those sleutelpersonen hold, the signals they give, and the audit entries of the organisation.
  Anything else is "not found" (404), never "forbidden": another organisation's ids do not
  even confirm that something exists.
- Requests that nobody has accepted yet belong to the shared pool and carry no content or
  identity (language, topic, how long waiting). An organisation sees those in a language one
  of its sleutelpersonen speaks, or that were offered to one of them; a request in a language
  no organisation covers is shown to every organisation, so that no question waits unseen.
  Accepted requests belong to the organisation of the sleutelpersoon who accepted them.
- An organisation's admin manages the coordinator accounts of their own organisation only;
  another organisation's accounts are not found (404), like all its other objects.
- A platform admin (granted only on the command line, `sleutelbrug coordinator platform-admin`)
  also creates organisations, places profiles that belong to none, and manages the accounts
  of every organisation. Like an admin, they read no conversation, profile or statistic beyond
  their own organisation's: managing accounts is not reading. Every change is logged in the
  organisation it concerns and in their own (`dashboard/audit.py`).
- No dashboard account manages a platform admin's account (not even another platform admin's):
  otherwise whoever manages it could take over the platform role by resetting its password.
- Content (a transcript) is never read here: the route that shows it writes an access record
  with a reason first, in the same transaction (see `dashboard/views/audit.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.models import (
    AuditEntry,
    Conversation,
    Coordinator,
    CoordinatorRole,
    HelpRequest,
    Leave,
    Offer,
    Organisation,
    RequestStatus,
    Signal,
    Sleutelpersoon,
)

UNACCEPTED = (
    RequestStatus.CHOOSING,
    RequestStatus.WAITING,
    RequestStatus.OFFERED,
    RequestStatus.QUEUED,
    RequestStatus.EMERGENCY,
)


class NotFound(Exception):
    """Not there, or not this viewer's to see: both answer 404."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in coordinator, as every access decision sees them."""

    coordinator_id: int
    organisation_id: int
    organisation_name: str
    display_name: str
    role: str
    locale: str

    @property
    def is_admin(self) -> bool:
        return self.role in (CoordinatorRole.ADMIN, CoordinatorRole.PLATFORM_ADMIN)

    @property
    def is_platform_admin(self) -> bool:
        return self.role == CoordinatorRole.PLATFORM_ADMIN


def require_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise NotFound


def require_platform_admin(viewer: Viewer) -> None:
    if not viewer.is_platform_admin:
        raise NotFound


# --- sleutelpersonen -----------------------------------------------------------------------


def own_people(viewer: Viewer) -> ColumnElement[bool]:
    return Sleutelpersoon.organisation_id == viewer.organisation_id


def sleutelpersonen(viewer: Viewer) -> Select[Sleutelpersoon]:
    """Every profile of the organisation, erased ones included (their conversations remain)."""
    return select(Sleutelpersoon).where(own_people(viewer)).order_by(Sleutelpersoon.display_name)


def _erased() -> ColumnElement[bool]:
    # What `bot.erasure.erase_sleutelpersoon` leaves: a nameless tombstone that conversations
    # and statistics still point at.
    return Sleutelpersoon.erased_at.is_not(None)


def managed_sleutelpersonen(viewer: Viewer) -> Select[Sleutelpersoon]:
    """The organisation's profiles that can still be edited: not erased."""
    return sleutelpersonen(viewer).where(~_erased())


async def sleutelpersoon(session: AsyncSession, viewer: Viewer, person_id: int) -> Sleutelpersoon:
    """A managed profile of the viewer's organisation; erased ones are gone (404)."""
    person = await session.scalar(
        managed_sleutelpersonen(viewer).where(Sleutelpersoon.id == person_id)
    )
    if person is None:
        raise NotFound
    return person


async def leave(session: AsyncSession, viewer: Viewer, person_id: int, leave_id: int) -> Leave:
    person = await sleutelpersoon(session, viewer, person_id)
    found = await session.get(Leave, leave_id)
    if found is None or found.sleutelpersoon_id != person.id:
        raise NotFound
    return found


# --- conversations -------------------------------------------------------------------------


def _own_people_ids(viewer: Viewer) -> ScalarSelect[int]:
    # Never correlated: the same subquery inside queries that join sleutelpersonen themselves.
    return select(Sleutelpersoon.id).where(own_people(viewer)).correlate(None).scalar_subquery()


def own_conversations(viewer: Viewer) -> ColumnElement[bool]:
    return Conversation.sleutelpersoon_id.in_(_own_people_ids(viewer))


def conversations(viewer: Viewer) -> Select[Conversation]:
    return select(Conversation).where(own_conversations(viewer))


async def conversation(session: AsyncSession, viewer: Viewer, conversation_id: int) -> Conversation:
    """The conversation's metadata; its content only through an access record."""
    found = await session.scalar(conversations(viewer).where(Conversation.id == conversation_id))
    if found is None:
        raise NotFound
    return found


# --- requests ------------------------------------------------------------------------------


async def visible_requests(session: AsyncSession, viewer: Viewer) -> ColumnElement[bool]:
    """The condition on `HelpRequest` for what this viewer's organisation sees (module rules)."""
    spoken_here: set[str] = set()
    spoken_anywhere: set[str] = set()
    people = await session.execute(
        select(Sleutelpersoon.organisation_id, Sleutelpersoon.languages).where(
            Sleutelpersoon.active.is_(True), Sleutelpersoon.organisation_id.is_not(None)
        )
    )
    for organisation_id, languages in people:
        spoken_anywhere.update(languages)
        if organisation_id == viewer.organisation_id:
            spoken_here.update(languages)
    own_ids = _own_people_ids(viewer)
    # Correlated to the request only, so these also work in queries that join conversations.
    offered_here = (
        select(Offer.id)
        .where(Offer.request_id == HelpRequest.id, Offer.sleutelpersoon_id.in_(own_ids))
        .correlate(HelpRequest)
        .exists()
    )
    accepted_here = (
        select(Conversation.id)
        .where(
            Conversation.request_id == HelpRequest.id,
            Conversation.sleutelpersoon_id.in_(own_ids),
        )
        .correlate(HelpRequest)
        .exists()
    )
    unaccepted = HelpRequest.status.in_(UNACCEPTED)
    return or_(
        accepted_here,
        and_(
            unaccepted,
            or_(
                HelpRequest.language.in_(spoken_here) if spoken_here else false(),
                offered_here,
                HelpRequest.language.not_in(spoken_anywhere) if spoken_anywhere else unaccepted,
            ),
        ),
    )


async def request(session: AsyncSession, viewer: Viewer, request_id: int) -> HelpRequest:
    found = await session.scalar(
        select(HelpRequest).where(
            HelpRequest.id == request_id, await visible_requests(session, viewer)
        )
    )
    if found is None:
        raise NotFound
    return found


# --- signals and the audit log -------------------------------------------------------------


def signals(viewer: Viewer) -> Select[Signal]:
    return select(Signal).where(Signal.sleutelpersoon_id.in_(_own_people_ids(viewer)))


def audit_entries(viewer: Viewer) -> Select[AuditEntry]:
    return select(AuditEntry).where(AuditEntry.organisation_id == viewer.organisation_id)


# --- administration (admins only; see the module rules) ---------------------------------


def _managed_organisation(
    viewer: Viewer, organisation_id: InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    return true() if viewer.is_platform_admin else organisation_id == viewer.organisation_id


def organisations(viewer: Viewer) -> Select[Organisation]:
    """The organisations this admin manages: their own, or every one for a platform admin."""
    require_admin(viewer)
    return (
        select(Organisation)
        .where(_managed_organisation(viewer, Organisation.id))
        .order_by(Organisation.name)
    )


async def organisation(session: AsyncSession, viewer: Viewer, organisation_id: int) -> Organisation:
    found = await session.scalar(organisations(viewer).where(Organisation.id == organisation_id))
    if found is None:
        raise NotFound
    return found


def coordinators(viewer: Viewer) -> Select[Coordinator]:
    """The accounts of the organisations this admin manages (platform admins' listed, too)."""
    require_admin(viewer)
    return (
        select(Coordinator)
        .where(_managed_organisation(viewer, Coordinator.organisation_id))
        .order_by(Coordinator.organisation_id, Coordinator.display_name)
    )


def may_manage(viewer: Viewer, account: Coordinator) -> bool:
    """Whether this admin may deactivate, reactivate, unlock or reset the account (module rules:
    within the organisations they manage, and never a platform admin's)."""
    return (
        viewer.is_admin
        and account.role != CoordinatorRole.PLATFORM_ADMIN
        and (viewer.is_platform_admin or account.organisation_id == viewer.organisation_id)
    )


async def coordinator(session: AsyncSession, viewer: Viewer, coordinator_id: int) -> Coordinator:
    """An account this admin may manage; any other is not found."""
    require_admin(viewer)
    found = await session.get(Coordinator, coordinator_id)
    if found is None or not may_manage(viewer, found):
        raise NotFound
    return found


def new_organisation(viewer: Viewer) -> None:
    """Creating organisations is the platform's, not an organisation's."""
    require_platform_admin(viewer)


def unassigned_sleutelpersonen(viewer: Viewer) -> Select[Sleutelpersoon]:
    """Profiles without an organisation (e.g. made on the command line), for platform admins to
    place: they are no organisation's, so an organisation's admin sees none of them."""
    require_admin(viewer)
    return (
        select(Sleutelpersoon)
        .where(
            Sleutelpersoon.organisation_id.is_(None),
            true() if viewer.is_platform_admin else false(),
        )
        .order_by(Sleutelpersoon.display_name)
    )


async def unassigned_sleutelpersoon(
    session: AsyncSession, viewer: Viewer, person_id: int
) -> Sleutelpersoon:
    require_platform_admin(viewer)
    person = await session.get(Sleutelpersoon, person_id)
    if person is None or person.organisation_id is not None:
        raise NotFound
    return person
