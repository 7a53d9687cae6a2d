"""The handover: a newcomer's request is offered, accepted, relayed and closed.

Every function here runs inside the caller's transaction and writes the messages it causes
to the outbox in that same transaction; nothing is sent from here. Time is passed in.

Rules kept here:
- An offer goes only to a sleutelpersoon who fits the request and is within office hours at
  that moment (`matching.candidates`); its timeout counts office time only.
- A timed-out offer stays acceptable, but the request moves on to the next candidate; when
  nobody is left, it goes to the coordinators' queue and the newcomer is told.
- The first accept wins: the request's status changes with a conditional UPDATE, and the unique
  `conversations.request_id` makes a second conversation impossible even across processes.
- A sleutelpersoon's name is the only identity that crosses over, and only their display
  name; messages are copied, never forwarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import access, notices
from bot.crypto import MessageCipher
from bot.directory import candidate_pool, local_today, schedule_of
from bot.i18n import Texts
from bot.models import (
    Conversation,
    ConversationMessage,
    Coordinator,
    DangerCheck,
    HelpRequest,
    Newcomer,
    Offer,
    OfferStatus,
    OutboxMessage,
    RelayedMessage,
    RequestMessage,
    RequestStatus,
    Sleutelpersoon,
)
from bot.outbox import cancel_unsent, enqueue
from matching.candidates import HelpRequest as MatchRequest
from matching.candidates import TieBreak, earliest_availability, rank_candidates
from matching.office_hours import (
    Schedule,
    add_office_time,
    is_within,
    next_opening,
    parse_weekly_hours,
)

OPEN = "open"
CLOSED = "closed"
HANDED_BACK = "handed_back"
ACTIVE_REQUEST_STATUSES = (
    RequestStatus.CHOOSING,
    RequestStatus.WAITING,
    RequestStatus.OFFERED,
    RequestStatus.QUEUED,
)
NEWCOMER_ZONE = "Europe/Amsterdam"

# Words of feedback are asked for, and taken, only within this time after the conversation
# closed, and only as the newcomer's next message after their 👍 / 👎. Anything later, or any
# other next message, is routed as usual: a new question weeks later must never be swallowed
# as a comment on an old conversation.
FEEDBACK_WORDS_WINDOW = timedelta(hours=1)

# Further urgent messages within this time of the last one belong to the same emergency: the
# newcomer gets the help again, the coordinators' request grows, and nobody is alerted twice.
EMERGENCY_FOLLOW_UP_WINDOW = timedelta(hours=24)

OFFER_ACCEPT_PREFIX = "offer:accept:"
OFFER_DECLINE_PREFIX = "offer:decline:"
FEEDBACK_PREFIX = "feedback:"
DOMAIN_PREFIX = "domain:"
# "Are you or someone else in danger right now?" — yes / no (nlu/danger.py, CHECK).
DANGER_PREFIX = "danger:"
DANGER_YES = "yes"
DANGER_NO = "no"
# Outbox purpose of the alert about an emergency before consent, and how often at most one goes
# to each coordinator on call: it names nobody, so more of them would only be noise (and
# anyone could send a flood of them).
ALERT_BEFORE_CONSENT = "alert:before-consent"
ALERT_BEFORE_CONSENT_INTERVAL = timedelta(minutes=10)


class AcceptOutcome(StrEnum):
    ACCEPTED = "accepted"
    ALREADY_TAKEN = "already_taken"
    NOT_PENDING = "not_pending"


@dataclass(frozen=True)
class MessageContent:
    """One incoming Telegram message: where it is, what kind, and its words (text or caption)."""

    telegram_message_id: int
    kind: str
    text: str | None


@dataclass(frozen=True)
class HandoverPolicy:
    """Per-deployment choices of the organisation."""

    offer_timeout: timedelta = timedelta(minutes=10)
    tie_break: TieBreak = TieBreak.NONE


class Handover:
    """State changes of requests, offers and conversations, with their outbox messages."""

    def __init__(
        self, texts: dict[str, Texts], policy: HandoverPolicy, cipher: MessageCipher
    ) -> None:
        self._texts = texts
        self._policy = policy
        self._cipher = cipher

    @property
    def cipher(self) -> MessageCipher:
        """Seals what people write before it is stored (bot/crypto.py)."""
        return self._cipher

    def texts_for(self, locale: str | None) -> Texts:
        return self._texts.get(locale or "en", self._texts["en"])

    # --- newcomer side ---------------------------------------------------------------------

    async def active_request(self, session: AsyncSession, newcomer: Newcomer) -> HelpRequest | None:
        return await _latest_request(
            session, newcomer, HelpRequest.status.in_(ACTIVE_REQUEST_STATUSES)
        )

    async def emergency(
        self, session: AsyncSession, now: datetime, newcomer: Newcomer, content: MessageContent
    ) -> None:
        """An urgent message outside a conversation: the help numbers at once. Within
        `EMERGENCY_FOLLOW_UP_WINDOW` of the newcomer's last emergency it joins that request (its
        coordinator was alerted once); otherwise it is a new emergency request."""
        recent = await _latest_request(
            session,
            newcomer,
            HelpRequest.status == RequestStatus.EMERGENCY,
            HelpRequest.updated_at > now - EMERGENCY_FOLLOW_UP_WINDOW,
        )
        if recent is None:
            await self.start_request(session, now, newcomer, content, domain="emergency")
            return
        send_emergency_help(
            session, now, newcomer.telegram_user_id, self.texts_for(newcomer.locale)
        )
        self.add_message(session, now, recent, content)
        recent.updated_at = now

    async def open_conversation_of_newcomer(
        self, session: AsyncSession, newcomer: Newcomer
    ) -> Conversation | None:
        return await session.scalar(
            select(Conversation).where(
                Conversation.newcomer_id == newcomer.id, Conversation.status == OPEN
            )
        )

    async def start_request(
        self,
        session: AsyncSession,
        now: datetime,
        newcomer: Newcomer,
        content: MessageContent,
        *,
        domain: str | None,
        intent: str | None = None,
        confidence: float | None = None,
        institutions: list[str] | None = None,
        ask_about_danger: bool = False,
    ) -> HelpRequest:
        """A new question. With a domain it is matched at once; without, buttons are asked.
        With `ask_about_danger` the danger question goes first, and the question on at once."""
        request = HelpRequest(
            newcomer_id=newcomer.id,
            language=newcomer.locale or "en",
            domain=domain,
            status=RequestStatus.CHOOSING,
            intent=intent,
            confidence=confidence,
            institutions=institutions or [],
            created_at=now,
            updated_at=now,
        )
        session.add(request)
        await session.flush()
        self.add_message(session, now, request, content)
        if ask_about_danger:
            texts = self.texts_for(newcomer.locale)
            self.ask_about_danger(session, now, newcomer.telegram_user_id, texts, request)
        if domain is not None:
            await self.route(session, now, request, newcomer)
        return request

    def add_message(
        self, session: AsyncSession, now: datetime, request: HelpRequest, content: MessageContent
    ) -> None:
        session.add(
            RequestMessage(
                request_id=request.id,
                telegram_message_id=content.telegram_message_id,
                kind=content.kind,
                body_encrypted=self._sealed(content.text),
                created_at=now,
            )
        )

    def _sealed(self, text: str | None) -> str | None:
        return self._cipher.encrypt(text) if text else None

    async def add_to_waiting_request(
        self,
        session: AsyncSession,
        now: datetime,
        newcomer: Newcomer,
        request: HelpRequest,
        content: MessageContent,
    ) -> None:
        """A further message while waiting belongs to the same request."""
        self.add_message(session, now, request, content)
        texts = self.texts_for(newcomer.locale)
        enqueue(
            session,
            now,
            newcomer.telegram_user_id,
            "sendMessage",
            {"text": notices.added_to_question(texts)},
        )

    async def choose_domain(
        self,
        session: AsyncSession,
        now: datetime,
        newcomer: Newcomer,
        request: HelpRequest,
        domain: str,
    ) -> None:
        request.domain = domain
        request.updated_at = now
        await self.route(session, now, request, newcomer)

    async def route(
        self, session: AsyncSession, now: datetime, request: HelpRequest, newcomer: Newcomer
    ) -> None:
        """Send emergencies to professional help; match everything else."""
        texts = self.texts_for(newcomer.locale)
        if request.domain == "emergency":
            # Professional help at once, at any hour; a volunteer is never the emergency
            # service, so the request stays with the coordinators. The help comes first and
            # alone: choosing a subject right after it reads as if the danger was ignored, so
            # the newcomer is only invited to write any question they also have (a new one).
            await self.mark_urgent(session, now, request.id)
            request.status = RequestStatus.EMERGENCY
            send_emergency_help(session, now, newcomer.telegram_user_id, texts)
            enqueue(
                session, now, newcomer.telegram_user_id, "sendMessage",
                {"text": notices.after_emergency_help(texts)},
            )  # fmt: skip
            return
        await self.match(session, now, request, newcomer=newcomer)

    async def mark_urgent(self, session: AsyncSession, now: datetime, request_id: int) -> None:
        """Flag the request for the coordinators and alert whoever is on call right now; when
        nobody is, it waits at the top of the dashboard."""
        request = await session.get_one(HelpRequest, request_id)
        request.updated_at = now
        if request.urgent:
            return
        request.urgent = True
        for coordinator in await self._on_call(session, now):
            assert coordinator.telegram_user_id is not None
            enqueue(
                session, now, coordinator.telegram_user_id, "sendMessage",
                {"text": notices.urgent_alert(
                    self.texts_for(coordinator.locale), request.id, request.language)},
            )  # fmt: skip

    def ask_about_danger(
        self,
        session: AsyncSession,
        now: datetime,
        chat_id: int,
        texts: Texts,
        request: HelpRequest | None,
    ) -> None:
        """Ask whether the writer of this chat or someone else is in danger right now, with 112
        in the question itself; the request (None before consent: nothing is kept) remembers it
        was asked, so the coordinators see an unanswered one."""
        if request is not None and request.danger_check != DangerCheck.YES:
            request.danger_check = DangerCheck.ASKED
        enqueue(
            session, now, chat_id, "sendMessage",
            {"text": notices.danger_question(texts),
             "reply_markup": danger_keyboard(texts).to_dict()},
        )  # fmt: skip

    async def answer_danger(
        self, session: AsyncSession, now: datetime, newcomer: Newcomer, in_danger: bool
    ) -> None:
        """The newcomer's answer to the danger question. Yes: the help numbers and the latest
        request asked about urgent. No: the question goes on as it was. A press on an old
        question still answers: help is never refused. (Before consent there is no newcomer:
        the handler sends the numbers and the anonymous alert itself.)"""
        texts = self.texts_for(newcomer.locale)
        request = await _latest_request(
            session, newcomer, HelpRequest.danger_check == DangerCheck.ASKED
        )
        if not in_danger:
            if request is not None:
                request.danger_check = DangerCheck.NO
                request.updated_at = now
            enqueue(
                session, now, newcomer.telegram_user_id, "sendMessage",
                {"text": notices.not_in_danger(texts)},
            )  # fmt: skip
            return
        send_emergency_help(session, now, newcomer.telegram_user_id, texts)
        if request is not None:
            request.danger_check = DangerCheck.YES
            await self.mark_urgent(session, now, request.id)

    async def alert_before_consent(self, session: AsyncSession, now: datetime) -> None:
        """Tell whoever is on call that someone who has not consented may be in danger, without
        a word about who or what: nothing of theirs may be kept yet."""
        for coordinator in await self._on_call(session, now):
            assert coordinator.telegram_user_id is not None
            recent = await session.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.chat_id == coordinator.telegram_user_id,
                    OutboxMessage.purpose == ALERT_BEFORE_CONSENT,
                    OutboxMessage.created_at > now - ALERT_BEFORE_CONSENT_INTERVAL,
                )
            )
            if recent is None:
                enqueue(
                    session, now, coordinator.telegram_user_id, "sendMessage",
                    {"text": notices.urgent_alert_before_consent(
                        self.texts_for(coordinator.locale))},
                    purpose=ALERT_BEFORE_CONSENT,
                )  # fmt: skip

    async def _on_call(self, session: AsyncSession, now: datetime) -> list[Coordinator]:
        """The coordinators reachable on Telegram whose on-call hours hold `now`."""
        coordinators = await session.scalars(
            select(Coordinator).where(
                Coordinator.active.is_(True),
                Coordinator.telegram_user_id.is_not(None),
                Coordinator.on_call_hours.is_not(None),
            )
        )
        return [
            coordinator
            for coordinator in coordinators
            if coordinator.on_call_hours
            and is_within(Schedule(parse_weekly_hours(coordinator.on_call_hours)), now)
        ]

    async def match(
        self,
        session: AsyncSession,
        now: datetime,
        request: HelpRequest,
        *,
        newcomer: Newcomer | None = None,
    ) -> None:
        """Offer the request to the best candidate now, or decide when someone will be there."""
        if newcomer is None:
            newcomer = await session.get_one(Newcomer, request.newcomer_id)
        texts = self.texts_for(newcomer.locale)
        offered = set(
            (
                await session.scalars(
                    select(Offer.sleutelpersoon_id).where(Offer.request_id == request.id)
                )
            ).all()
        )
        wanted = MatchRequest(
            language=request.language,
            domain=request.domain or "other",
            preferred_gender=newcomer.preferred_gender,
            avoid_circle=newcomer.avoid_circle,
            previous_helpers=await self._previous_helpers(session, newcomer),
            excluded=frozenset(offered),
        )
        pool = await candidate_pool(session, now)
        ranked = rank_candidates(pool, wanted, now, self._policy.tie_break)
        first_time = request.status == RequestStatus.CHOOSING
        request.updated_at = now
        if ranked:
            best = await session.get_one(Sleutelpersoon, ranked[0].id)
            await self._offer(session, now, request, best)
            request.status = RequestStatus.OFFERED
            request.next_match_at = None
            if first_time:
                enqueue(
                    session,
                    now,
                    newcomer.telegram_user_id,
                    "sendMessage",
                    {"text": notices.someone_will_come(texts, request.language)},
                )
            return
        earliest = earliest_availability(pool, wanted, now)
        if earliest is None:
            request.status = RequestStatus.QUEUED
            request.next_match_at = None
            enqueue(
                session,
                now,
                newcomer.telegram_user_id,
                "sendMessage",
                {"text": notices.queued_for_coordinators(texts)},
            )
            return
        told_before = request.status == RequestStatus.WAITING and request.next_match_at == earliest
        request.status = RequestStatus.WAITING
        request.next_match_at = earliest
        if not told_before:
            text = (
                notices.someone_will_come_at(texts, request.language, earliest, NEWCOMER_ZONE)
                + "\n"
                + notices.urgent_hint(texts)
            )
            enqueue(session, now, newcomer.telegram_user_id, "sendMessage", {"text": text})

    async def _previous_helpers(self, session: AsyncSession, newcomer: Newcomer) -> tuple[int, ...]:
        helpers = (
            await session.scalars(
                select(Conversation.sleutelpersoon_id)
                .where(Conversation.newcomer_id == newcomer.id, Conversation.status == CLOSED)
                .order_by(Conversation.opened_at.desc())
            )
        ).all()
        return tuple(dict.fromkeys(helpers))

    async def offer_to(
        self, session: AsyncSession, now: datetime, request: HelpRequest, person: Sleutelpersoon
    ) -> None:
        """Offer a request to one chosen sleutelpersoon (a coordinator's manual assignment):
        the same offer, timeout and office-hours holding as an automatic one."""
        await self._offer(session, now, request, person)
        request.status = RequestStatus.OFFERED
        request.next_match_at = None
        request.updated_at = now

    async def _offer(
        self, session: AsyncSession, now: datetime, request: HelpRequest, person: Sleutelpersoon
    ) -> None:
        assert person.telegram_user_id is not None
        schedule = schedule_of(person, local_today(person, now))
        offer = Offer(
            request_id=request.id,
            sleutelpersoon_id=person.id,
            status=OfferStatus.PENDING,
            created_at=now,
            expires_at=add_office_time(schedule, now, self._policy.offer_timeout),
        )
        session.add(offer)
        await session.flush()
        texts = self.texts_for(person.locale)
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts.gettext("✅ Accept"), callback_data=f"{OFFER_ACCEPT_PREFIX}{offer.id}"
                    ),
                    InlineKeyboardButton(
                        texts.gettext("✖️ Decline"),
                        callback_data=f"{OFFER_DECLINE_PREFIX}{offer.id}",
                    ),
                ]
            ]
        )
        text = notices.offer(
            texts,
            request.language,
            request.domain,
            request.institutions,
            now - request.created_at,
            self._cipher.unseal(request.handback_note_encrypted),
        )
        enqueue(
            session,
            now,
            person.telegram_user_id,
            "sendMessage",
            {"text": text, "reply_markup": keyboard.to_dict()},
            sleutelpersoon_id=person.id,
            purpose=f"offer:{offer.id}",
        )

    # --- timers ------------------------------------------------------------------------------

    async def expire_offers(self, session: AsyncSession, now: datetime) -> int:
        """Pass on every offer whose office-time timeout has passed; each fires exactly once."""
        due = (
            await session.scalars(
                select(Offer).where(
                    Offer.status == OfferStatus.PENDING,
                    Offer.expires_at.is_not(None),
                    Offer.expires_at <= now,
                )
            )
        ).all()
        fired = 0
        for offer in due:
            # The conditional update is the once-only guard, also across processes.
            claimed = await session.execute(
                update(Offer)
                .where(Offer.id == offer.id, Offer.expires_at.is_not(None))
                .values(expires_at=None)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            fired += 1
            request = await session.get_one(HelpRequest, offer.request_id)
            if request.status == RequestStatus.OFFERED:
                await self.match(session, now, request)
        return fired

    async def release_waiting(self, session: AsyncSession, now: datetime) -> int:
        """Match requests whose awaited office hours have opened."""
        due = (
            await session.scalars(
                select(HelpRequest).where(
                    HelpRequest.status == RequestStatus.WAITING,
                    HelpRequest.next_match_at.is_not(None),
                    HelpRequest.next_match_at <= now,
                )
            )
        ).all()
        for request in due:
            await self.match(session, now, request)
        return len(due)

    # --- sleutelpersoon side -----------------------------------------------------------------

    async def accept(
        self, session: AsyncSession, now: datetime, offer: Offer, person: Sleutelpersoon
    ) -> AcceptOutcome:
        """The offered sleutelpersoon accepts; exactly one accept per request succeeds."""
        if offer.status == OfferStatus.TAKEN:
            # Another accept won and has already committed.
            return AcceptOutcome.ALREADY_TAKEN
        if offer.status != OfferStatus.PENDING:
            return AcceptOutcome.NOT_PENDING
        won = await session.execute(
            update(HelpRequest)
            .where(
                HelpRequest.id == offer.request_id,
                HelpRequest.status.in_(
                    (RequestStatus.OFFERED, RequestStatus.WAITING, RequestStatus.QUEUED)
                ),
            )
            .values(status=RequestStatus.ACCEPTED, updated_at=now, next_match_at=None)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            offer.status = OfferStatus.TAKEN
            offer.expires_at = None
            return AcceptOutcome.ALREADY_TAKEN
        request = await session.get_one(HelpRequest, offer.request_id)
        await session.refresh(request)
        newcomer = await session.get_one(Newcomer, request.newcomer_id)
        conversation = Conversation(
            request_id=request.id,
            newcomer_id=newcomer.id,
            sleutelpersoon_id=person.id,
            label="",
            status=OPEN,
            opened_at=now,
            feedback_pending=False,
        )
        try:
            # A savepoint, so that losing here leaves the caller's transaction usable (on
            # PostgreSQL a failed statement otherwise aborts the whole transaction).
            async with session.begin_nested():
                session.add(conversation)
                await session.flush()
        except IntegrityError:
            # Another process created the conversation between our update and insert.
            offer.status = OfferStatus.TAKEN
            offer.expires_at = None
            return AcceptOutcome.ALREADY_TAKEN
        conversation.label = f"#{conversation.id}"
        offer.status = OfferStatus.ACCEPTED
        offer.expires_at = None
        others_open = [
            other.label
            for other in await access.open_conversations_of(session, person)
            if other.id != conversation.id
        ]
        # The newest conversation is the one a plain message now goes to; with others open the
        # header says so, and how to reach them, so no text meant for one goes to another.
        person.selected_conversation_id = conversation.id
        await self._withdraw_other_offers(session, now, request, offer, OfferStatus.TAKEN)

        person_texts = self.texts_for(person.locale)
        assert person.telegram_user_id is not None
        if offer.telegram_message_id is not None:
            self._edit_offer(
                session,
                now,
                person,
                offer,
                notices.offer_accepted(person_texts, conversation.label),
                answers_their_press=True,
            )
            # The offer now names the conversation, so a reply to it belongs there too.
            session.add(
                RelayedMessage(
                    conversation_id=conversation.id,
                    chat_id=person.telegram_user_id,
                    telegram_message_id=offer.telegram_message_id,
                )
            )
        header = notices.conversation_header(
            person_texts, conversation.label, request.language, request.domain
        )
        if others_open:
            header += "\n\n" + notices.plain_messages_go_to(
                person_texts, conversation.label, others_open
            )
        enqueue(
            session,
            now,
            person.telegram_user_id,
            "sendMessage",
            {"text": header},
            sleutelpersoon_id=_held_for_hours(person, answers_their_action=True),
            purpose=f"header:{conversation.id}",
        )
        newcomer_texts = self.texts_for(newcomer.locale)
        enqueue(
            session,
            now,
            newcomer.telegram_user_id,
            "sendMessage",
            {"text": notices.sleutelpersoon_accepted(newcomer_texts, person.display_name)},
        )
        waiting_messages = (
            await session.scalars(
                select(RequestMessage.telegram_message_id)
                .where(RequestMessage.request_id == request.id)
                .order_by(RequestMessage.id)
            )
        ).all()
        for message_id in waiting_messages:
            self._copy_to_sleutelpersoon(
                session, now, conversation, person, newcomer.telegram_user_id, message_id
            )
        return AcceptOutcome.ACCEPTED

    async def decline(
        self, session: AsyncSession, now: datetime, offer: Offer, person: Sleutelpersoon
    ) -> None:
        if offer.status != OfferStatus.PENDING:
            return
        offer.status = OfferStatus.DECLINED
        was_running = offer.expires_at is not None
        offer.expires_at = None
        self._edit_offer(
            session,
            now,
            person,
            offer,
            notices.offer_declined(self.texts_for(person.locale)),
            answers_their_press=True,
        )
        await self._pass_on(session, now, offer, was_running)

    async def _pass_on(
        self, session: AsyncSession, now: datetime, ended: Offer, was_running: bool
    ) -> None:
        """An offer whose timer was still running ended without an accept: its request goes
        to the next candidate now (an expired one was passed on when it expired)."""
        request = await session.get_one(HelpRequest, ended.request_id)
        if was_running and request.status == RequestStatus.OFFERED:
            await self.match(session, now, request)

    async def _withdraw_other_offers(
        self,
        session: AsyncSession,
        now: datetime,
        request: HelpRequest,
        kept: Offer | None,
        status: OfferStatus,
    ) -> None:
        others = (
            await session.scalars(
                select(Offer).where(
                    Offer.request_id == request.id, Offer.status == OfferStatus.PENDING
                )
            )
        ).all()
        for other in others:
            if kept is not None and other.id == kept.id:
                continue
            await self._end_offer(session, now, other, status)

    async def withdraw_offers_of(
        self, session: AsyncSession, now: datetime, person: Sleutelpersoon
    ) -> None:
        """Withdraw a sleutelpersoon's pending offers (a coordinator deactivated or erased
        them); a request whose offer was still running goes to the next candidate at once."""
        pending = (
            await session.scalars(
                select(Offer).where(
                    Offer.sleutelpersoon_id == person.id, Offer.status == OfferStatus.PENDING
                )
            )
        ).all()
        for offer in pending:
            was_running = offer.expires_at is not None
            await self._end_offer(session, now, offer, OfferStatus.WITHDRAWN)
            await self._pass_on(session, now, offer, was_running)

    async def _end_offer(
        self, session: AsyncSession, now: datetime, offer: Offer, status: OfferStatus
    ) -> None:
        """No longer acceptable: an unsent offer is not sent, a sent one loses its buttons."""
        offer.status = status
        offer.expires_at = None
        if offer.telegram_message_id is None:
            await cancel_unsent(session, f"offer:{offer.id}")
            return
        person = await session.get_one(Sleutelpersoon, offer.sleutelpersoon_id)
        self._edit_offer(
            session,
            now,
            person,
            offer,
            notices.offer_taken(self.texts_for(person.locale)),
            answers_their_press=False,
        )

    def _edit_offer(
        self,
        session: AsyncSession,
        now: datetime,
        person: Sleutelpersoon,
        offer: Offer,
        text: str,
        *,
        answers_their_press: bool,
    ) -> None:
        """Replace an offer's text and remove its buttons (only once it has been sent)."""
        if offer.telegram_message_id is None or person.telegram_user_id is None:
            return
        enqueue(
            session,
            now,
            person.telegram_user_id,
            "editMessageText",
            {"message_id": offer.telegram_message_id, "text": text},
            sleutelpersoon_id=_held_for_hours(person, answers_their_action=answers_their_press),
        )

    # --- conversation ------------------------------------------------------------------------

    def _copy_to_sleutelpersoon(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        person: Sleutelpersoon,
        newcomer_chat_id: int,
        message_id: int,
    ) -> None:
        assert person.telegram_user_id is not None
        enqueue(
            session,
            now,
            person.telegram_user_id,
            "copyMessage",
            {"from_chat_id": newcomer_chat_id, "message_id": message_id},
            sleutelpersoon_id=person.id,
            purpose=f"relay:{conversation.id}",
        )

    async def relay_from_newcomer(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        newcomer: Newcomer,
        content: MessageContent,
    ) -> None:
        """Copy to the sleutelpersoon (held until their hours); say when if they are away."""
        person = await session.get_one(Sleutelpersoon, conversation.sleutelpersoon_id)
        self._record(session, now, conversation, "newcomer", content)
        self._copy_to_sleutelpersoon(
            session,
            now,
            conversation,
            person,
            newcomer.telegram_user_id,
            content.telegram_message_id,
        )
        schedule = schedule_of(person, local_today(person, now))
        if is_within(schedule, now):
            return
        if conversation.away_notice_until is not None and conversation.away_notice_until > now:
            return  # told already for this stretch
        opening = next_opening(schedule, now)
        if opening is None:
            return
        conversation.away_notice_until = opening
        enqueue(
            session,
            now,
            newcomer.telegram_user_id,
            "sendMessage",
            {
                "text": notices.sleutelpersoon_away(
                    self.texts_for(newcomer.locale), person.display_name, opening, NEWCOMER_ZONE
                )
            },
        )

    async def relay_from_sleutelpersoon(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        person: Sleutelpersoon,
        content: MessageContent,
    ) -> None:
        newcomer = await session.get_one(Newcomer, conversation.newcomer_id)
        assert person.telegram_user_id is not None
        self._record(session, now, conversation, "sleutelpersoon", content)
        # Their own message belongs to this conversation: a later reply to it goes here too.
        session.add(
            RelayedMessage(
                conversation_id=conversation.id,
                chat_id=person.telegram_user_id,
                telegram_message_id=content.telegram_message_id,
            )
        )
        enqueue(
            session,
            now,
            newcomer.telegram_user_id,
            "copyMessage",
            {"from_chat_id": person.telegram_user_id, "message_id": content.telegram_message_id},
        )

    def _record(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        author: str,
        content: MessageContent,
    ) -> None:
        session.add(
            ConversationMessage(
                conversation_id=conversation.id,
                author=author,
                kind=content.kind,
                body_encrypted=self._sealed(content.text),
                created_at=now,
            )
        )

    async def close(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        *,
        by_sleutelpersoon: bool,
    ) -> None:
        """End a conversation (by either side) and ask the newcomer for feedback."""
        if conversation.status != OPEN:
            return
        conversation.status = CLOSED
        conversation.closed_at = now
        conversation.feedback_pending = True
        request = await session.get_one(HelpRequest, conversation.request_id)
        request.status = RequestStatus.CLOSED
        request.updated_at = now
        newcomer = await session.get_one(Newcomer, conversation.newcomer_id)
        person = await session.get_one(Sleutelpersoon, conversation.sleutelpersoon_id)
        if person.selected_conversation_id == conversation.id:
            person.selected_conversation_id = None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "👍", callback_data=f"{FEEDBACK_PREFIX}up:{conversation.id}"
                    ),
                    InlineKeyboardButton(
                        "👎", callback_data=f"{FEEDBACK_PREFIX}down:{conversation.id}"
                    ),
                ]
            ]
        )
        enqueue(
            session,
            now,
            newcomer.telegram_user_id,
            "sendMessage",
            {
                "text": notices.conversation_closed_ask_feedback(self.texts_for(newcomer.locale)),
                "reply_markup": keyboard.to_dict(),
            },
        )
        assert person.telegram_user_id is not None
        enqueue(
            session,
            now,
            person.telegram_user_id,
            "sendMessage",
            {
                "text": notices.conversation_closed_for_sleutelpersoon(
                    self.texts_for(person.locale), conversation.label
                )
            },
            sleutelpersoon_id=_held_for_hours(person, answers_their_action=by_sleutelpersoon),
        )

    async def handback(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        person: Sleutelpersoon,
        note: str,
    ) -> None:
        """Back to the pool with a note; the same sleutelpersoon is not offered it again."""
        if conversation.status != OPEN:
            return
        conversation.status = HANDED_BACK
        conversation.closed_at = now
        if person.selected_conversation_id == conversation.id:
            person.selected_conversation_id = None
        request = await session.get_one(HelpRequest, conversation.request_id)
        newcomer = await session.get_one(Newcomer, conversation.newcomer_id)
        # A new request carries the question on; the accepted one stays with its conversation.
        successor = HelpRequest(
            newcomer_id=newcomer.id,
            language=request.language,
            domain=request.domain,
            status=RequestStatus.OFFERED,
            intent=request.intent,
            confidence=request.confidence,
            institutions=request.institutions,
            # "" marks a request handed back without a note.
            handback_note_encrypted=self._cipher.seal(note) or "",
            created_at=request.created_at,
            updated_at=now,
        )
        request.status = RequestStatus.CLOSED
        session.add(successor)
        await session.flush()
        # The one who handed it back is excluded through a declined offer on the successor.
        session.add(
            Offer(
                request_id=successor.id,
                sleutelpersoon_id=person.id,
                status=OfferStatus.DECLINED,
                created_at=now,
            )
        )
        original_messages = (
            await session.scalars(
                select(RequestMessage)
                .where(RequestMessage.request_id == request.id)
                .order_by(RequestMessage.id)
            )
        ).all()
        for original in original_messages:
            session.add(
                RequestMessage(
                    request_id=successor.id,
                    telegram_message_id=original.telegram_message_id,
                    kind=original.kind,
                    body_encrypted=original.body_encrypted,
                    created_at=original.created_at,
                )
            )
        assert person.telegram_user_id is not None
        enqueue(
            session,
            now,
            person.telegram_user_id,
            "sendMessage",
            {
                "text": notices.handed_back_for_sleutelpersoon(
                    self.texts_for(person.locale), conversation.label
                )
            },
            sleutelpersoon_id=_held_for_hours(person, answers_their_action=True),
        )
        enqueue(
            session,
            now,
            newcomer.telegram_user_id,
            "sendMessage",
            {"text": notices.handed_back_to_newcomer(self.texts_for(newcomer.locale))},
        )
        await self.match(session, now, successor, newcomer=newcomer)

    async def feedback(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        newcomer: Newcomer,
        rating: str,
    ) -> None:
        """👍 or 👎 from the newcomer; a 👍 reaches the sleutelpersoon as thanks."""
        if conversation.feedback is not None:
            return
        conversation.feedback = rating
        texts = self.texts_for(newcomer.locale)
        if _words_window_open(conversation, now):
            thanks = notices.feedback_thanks_ask_words(texts)
        else:
            conversation.feedback_pending = False
            thanks = notices.feedback_received(texts)
        enqueue(session, now, newcomer.telegram_user_id, "sendMessage", {"text": thanks})
        if rating != "up":
            return
        person = await session.get_one(Sleutelpersoon, conversation.sleutelpersoon_id)
        if person.telegram_user_id is None:
            return
        enqueue(
            session,
            now,
            person.telegram_user_id,
            "sendMessage",
            {
                "text": notices.thanks_from_newcomer(
                    self.texts_for(person.locale), conversation.label
                )
            },
            sleutelpersoon_id=person.id,
        )

    async def feedback_words(
        self,
        session: AsyncSession,
        now: datetime,
        conversation: Conversation,
        newcomer: Newcomer,
        words: str | None,
    ) -> None:
        conversation.feedback_comment_encrypted = self._cipher.seal(words)
        conversation.feedback_pending = False
        enqueue(
            session,
            now,
            newcomer.telegram_user_id,
            "sendMessage",
            {"text": notices.feedback_received(self.texts_for(newcomer.locale))},
        )

    async def pending_feedback(
        self, session: AsyncSession, now: datetime, newcomer: Newcomer
    ) -> Conversation | None:
        """The conversation whose words of feedback the newcomer's next message may be, while
        the window for them is open (`FEEDBACK_WORDS_WINDOW`); an ask that ran out is ended."""
        conversation = await session.scalar(
            select(Conversation)
            .where(
                Conversation.newcomer_id == newcomer.id,
                Conversation.feedback_pending.is_(True),
                Conversation.feedback.is_not(None),
            )
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        if conversation is None:
            return None
        if not _words_window_open(conversation, now):
            conversation.feedback_pending = False
            return None
        return conversation


async def _latest_request(
    session: AsyncSession, newcomer: Newcomer, *conditions: ColumnElement[bool]
) -> HelpRequest | None:
    """The newcomer's most recent request that meets `conditions`, if any."""
    return await session.scalar(
        select(HelpRequest)
        .where(HelpRequest.newcomer_id == newcomer.id, *conditions)
        .order_by(HelpRequest.id.desc())
        .limit(1)
    )


def send_emergency_help(session: AsyncSession, now: datetime, chat_id: int, texts: Texts) -> None:
    """Where professional help is, at once and at any hour, with the 113 chat button."""
    enqueue(
        session, now, chat_id, "sendMessage",
        {"text": notices.emergency_help(texts),
         "reply_markup": emergency_keyboard(texts).to_dict()},
    )  # fmt: skip


def _held_for_hours(person: Sleutelpersoon, *, answers_their_action: bool) -> int | None:
    """The outbox hold for a row to `person`: everything addressed to them waits for their
    hours, except the answer to what they themselves just did (accept, decline, /close,
    /handback): they are acting now, so answering now does not reach them off-hours."""
    return None if answers_their_action else person.id


def _words_window_open(conversation: Conversation, now: datetime) -> bool:
    closed_at = conversation.closed_at
    return closed_at is not None and now - closed_at <= FEEDBACK_WORDS_WINDOW


def emergency_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    """The 113 chat as a link button. Telegram buttons take only http(s) and tg:// links, not
    tel:, so the phone numbers are tapped in the text itself."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    notices.suicide_prevention_chat_button(texts),
                    url=notices.SUICIDE_PREVENTION_CHAT_URL,
                )
            ]
        ]
    )


def danger_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    """Yes / no to "are you or someone else in danger right now?", one large button a row."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.gettext("🚨 Yes, danger now"),
                                  callback_data=DANGER_PREFIX + DANGER_YES)],
            [InlineKeyboardButton(texts.gettext("No"), callback_data=DANGER_PREFIX + DANGER_NO)],
        ]
    )  # fmt: skip


def domain_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    """Large buttons, one per row, so that people who read little can still choose."""
    labels = {
        "post": texts.gettext("✉️ Letter"),
        "finance": texts.gettext("💶 Money"),
        "health": texts.gettext("🏥 Health"),
        "other": texts.gettext("❓ Other"),
    }
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=DOMAIN_PREFIX + domain)]
         for domain, label in labels.items()]
    )  # fmt: skip
