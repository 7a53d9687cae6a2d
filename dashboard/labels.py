"""Names shown for codes stored in the database (domains, roles, statuses, audit actions).

Languages are named by Babel in the reader's locale; everything else is a msgid here.
"""

from __future__ import annotations

from datetime import datetime

from babel import Locale

from bot.models import AuditAction, RequestStatus, Sleutelpersoon
from dashboard.i18n import N_, Translator

DOMAINS: dict[str, str] = {
    "post": N_("Letters and forms"),
    "finance": N_("Money"),
    "health": N_("Health"),
    "other": N_("Other"),
    "emergency": N_("Emergency"),
}
ROLES: dict[str, str] = {
    "adviseur": N_("Adviser"),
    "verbinder": N_("Connector"),
    "helper": N_("Helper"),
    "rolmodel": N_("Role model"),
    "tolk": N_("Interpreter"),
    "voorlichter": N_("Educator"),
}
REQUEST_STATUSES: dict[str, str] = {
    RequestStatus.CHOOSING: N_("choosing a topic"),
    RequestStatus.WAITING: N_("waiting for office hours"),
    RequestStatus.OFFERED: N_("offered"),
    RequestStatus.QUEUED: N_("in the queue"),
    RequestStatus.EMERGENCY: N_("emergency"),
    RequestStatus.ACCEPTED: N_("accepted"),
    RequestStatus.CLOSED: N_("closed"),
}
CONVERSATION_STATUSES: dict[str, str] = {
    "open": N_("open"),
    "closed": N_("closed"),
    "handed_back": N_("handed back"),
}
AUDIT_ACTIONS: dict[str, str] = {
    AuditAction.TRANSCRIPT_OPENED: N_("opened a transcript"),
    AuditAction.SLEUTELPERSOON_INVITED: N_("invited a sleutelpersoon"),
    AuditAction.INVITE_RENEWED: N_("made a new invite link"),
    AuditAction.PROFILE_CHANGED: N_("changed a profile"),
    AuditAction.HOURS_CHANGED: N_("changed office hours"),
    AuditAction.LEAVE_ADDED: N_("added leave"),
    AuditAction.LEAVE_REMOVED: N_("removed leave"),
    AuditAction.SLEUTELPERSOON_DEACTIVATED: N_("deactivated a sleutelpersoon"),
    AuditAction.SLEUTELPERSOON_REACTIVATED: N_("reactivated a sleutelpersoon"),
    AuditAction.SLEUTELPERSOON_ERASED: N_("erased a sleutelpersoon"),
    AuditAction.SLEUTELPERSOON_MOVED: N_("moved a sleutelpersoon to an organisation"),
    AuditAction.REQUEST_ASSIGNED: N_("assigned a request"),
    AuditAction.ORGANISATION_CREATED: N_("created an organisation"),
    AuditAction.COORDINATOR_CREATED: N_("created a coordinator account"),
    AuditAction.COORDINATOR_DEACTIVATED: N_("deactivated a coordinator account"),
    AuditAction.COORDINATOR_REACTIVATED: N_("reactivated a coordinator account"),
    AuditAction.COORDINATOR_UNLOCKED: N_("unlocked a coordinator account"),
    AuditAction.COORDINATOR_PASSWORD_RESET: N_("set a new password for a coordinator account"),
    AuditAction.SIGN_IN_LOCKED: N_("was locked out after failed sign-ins"),
    AuditAction.PASSWORD_CHANGED: N_("changed their password"),
    AuditAction.PLATFORM_ADMIN_GRANTED: N_("was made platform admin"),
    AuditAction.PLATFORM_ADMIN_REVOKED: N_("is no longer platform admin"),
}
GENDERS: dict[str, str] = {"f": N_("woman"), "m": N_("man")}


def label(translator: Translator, labels: dict[str, str], code: str | None) -> str:
    """The translated name of a code; unknown codes are shown as they are."""
    if code is None:
        return "–"
    known = labels.get(code)
    return translator.gettext(known) if known is not None else code


def language_name(translator: Translator, code: str) -> str:
    """A language code named in the reader's language, e.g. `ti` -> `Tigrinya`/`Tigrinya`."""
    return str(Locale.parse(translator.locale).languages.get(code, code))


def connection(translator: Translator, person: Sleutelpersoon, now: datetime) -> str:
    """Whether the profile is connected to Telegram, or how its invite stands."""
    if person.telegram_user_id is not None:
        return translator.gettext("connected")
    if person.invite_expires_at is not None and person.invite_expires_at > now:
        return translator.gettext("invited, until {time}").format(
            time=translator.datetime(person.invite_expires_at)
        )
    return translator.gettext("invite expired")
