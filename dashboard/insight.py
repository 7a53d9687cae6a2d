"""Insight per week or month: what newcomers ask, how fast they are helped, who helps.

Definitions (also explained on the page):
- A request counts in the period in which the newcomer asked. A request passed on with
  /handback continues the same question and is not counted again.
- First response: from the question to the moment a sleutelpersoon accepted it.
- Answered within office hours: accepted before the office hours in which it was first
  offered ended (the question was picked up in the same stretch, not a day later); out of the
  requests that were offered at all.
- A decline is a press on "Decline"; a timeout is an offer that was passed on (or went to the
  queue) because nobody answered it within the office-time limit.
- Time spent is an estimate for volunteer allowance and recognition: for every message a
  sleutelpersoon writes, the time since the message before it in that conversation, counted
  as at least 2 and at most 15 minutes.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import MessageCipher
from bot.directory import schedule_of
from bot.models import (
    Conversation,
    ConversationMessage,
    HelpRequest,
    Offer,
    OfferStatus,
    Signal,
    Sleutelpersoon,
)
from dashboard import access
from dashboard.access import Viewer
from dashboard.charts import Series, bars, stacked_bars
from dashboard.i18n import DISPLAY_ZONE, N_, Translator
from dashboard.labels import DOMAINS, language_name
from dashboard.periods import Granularity, Period, period_of, periods_until
from dashboard.tables import Column, Kind, Table
from matching.office_hours import current_window_end

MIN_MESSAGE_TIME = timedelta(minutes=2)
MAX_MESSAGE_TIME = timedelta(minutes=15)
NO_DOMAIN = "none"


@dataclass(frozen=True)
class Insight:
    periods: list[Period]
    tables: list[Table]
    charts: list[tuple[str, Markup]]  # (caption, inline SVG)


def period_label(translator: Translator, period: Period) -> str:
    pattern = "d MMM" if period.granularity is Granularity.WEEK else "MMM y"
    return format_date(period.first_day, pattern, locale=translator.locale)


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile (the value at or below which `fraction` of them lie)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def timed_out(offer: Offer, later_offer_exists: bool) -> bool:
    """Passed on for lack of an answer (see the module's definitions)."""
    if offer.status in (OfferStatus.DECLINED, OfferStatus.ACCEPTED) or offer.expires_at:
        return False
    return offer.status == OfferStatus.PENDING or later_offer_exists


def is_decline(offer: Offer) -> bool:
    # A /handback is recorded as a decline that was never sent (no Telegram message): it is
    # not someone pressing "Decline", so it is not counted as one.
    return offer.status == OfferStatus.DECLINED and offer.telegram_message_id is not None


async def build_insight(
    session: AsyncSession,
    viewer: Viewer,
    now: datetime,
    granularity: Granularity,
    translator: Translator,
) -> Insight:
    periods = periods_until(now, granularity)
    start, end = periods[0].start, periods[-1].end
    _ = translator.gettext
    labels = [period_label(translator, period) for period in periods]

    visible = await access.visible_requests(session, viewer)
    requests = (
        await session.scalars(
            select(HelpRequest).where(
                visible, HelpRequest.created_at >= start, HelpRequest.created_at < end
            )
        )
    ).all()
    firsts = [r for r in requests if r.handback_note_encrypted is None]
    request_ids = [r.id for r in requests]
    own = {
        person.id: person
        for person in (await session.scalars(access.sleutelpersonen(viewer))).all()
    }
    conversations_by_request = {
        c.request_id: c
        for c in (
            await session.scalars(
                access.conversations(viewer).where(Conversation.request_id.in_(request_ids))
            )
        ).all()
    }
    offers = (
        await session.scalars(
            select(Offer).where(Offer.request_id.in_(request_ids)).order_by(Offer.created_at)
        )
    ).all()
    offers_by_request: dict[int, list[Offer]] = defaultdict(list)
    for offer in offers:
        offers_by_request[offer.request_id].append(offer)
    offered_people = {
        p.id: p
        for p in (
            await session.scalars(
                select(Sleutelpersoon).where(
                    Sleutelpersoon.id.in_({o.sleutelpersoon_id for o in offers})
                )
            )
        ).all()
    }

    # --- requests by domain and by language ---------------------------------------------
    domain_counts: dict[Period, Counter[str]] = {p: Counter() for p in periods}
    language_counts: dict[Period, Counter[str]] = {p: Counter() for p in periods}
    for r in firsts:
        period = period_of(periods, r.created_at)
        if period is not None:
            domain_counts[period][r.domain or NO_DOMAIN] += 1
            language_counts[period][r.language] += 1
    domains = [d for d in DOMAINS if any(domain_counts[p][d] for p in periods)]
    if any(domain_counts[p][NO_DOMAIN] for p in periods):
        domains.append(NO_DOMAIN)
    domain_titles = {**DOMAINS, NO_DOMAIN: N_("No topic chosen")}
    by_domain = Table(
        "requests_by_domain",
        N_("Requests by topic"),
        [
            Column(N_("Period")),
            *(Column(domain_titles[d], Kind.NUMBER) for d in domains),
            Column(N_("Total"), Kind.NUMBER),
        ],
    )
    languages = sorted({code for p in periods for code in language_counts[p]})
    by_language = Table(
        "requests_by_language",
        N_("Requests by language"),
        [Column(N_("Period"))]
        + [Column(language_name(translator, c), Kind.NUMBER, translate=False) for c in languages]
        + [Column(N_("Total"), Kind.NUMBER)],
    )
    for period, label in zip(periods, labels, strict=True):
        counts = domain_counts[period]
        by_domain.rows.append([label, *(counts[d] for d in domains), sum(counts.values())])
        spoken = language_counts[period]
        by_language.rows.append([label, *(spoken[c] for c in languages), sum(spoken.values())])

    # --- response, declines, timeouts, feedback ----------------------------------------
    response = Table(
        "response",
        N_("Response"),
        [
            Column(N_("Period")),
            Column(N_("Requests"), Kind.NUMBER),
            Column(N_("Accepted"), Kind.NUMBER),
            Column(N_("First response, median"), Kind.DURATION),
            Column(N_("First response, 90th percentile"), Kind.DURATION),
            Column(N_("Answered within office hours"), Kind.PERCENT),
            Column(N_("Declines"), Kind.NUMBER),
            Column(N_("Timeouts"), Kind.NUMBER),
            Column(N_("Handed back"), Kind.NUMBER),
            Column(N_("Feedback 👍"), Kind.NUMBER),
            Column(N_("Feedback 👎"), Kind.NUMBER),
        ],
    )
    medians: list[float] = []
    for period, label in zip(periods, labels, strict=True):
        in_period = [r for r in firsts if period.contains(r.created_at)]
        waits: list[timedelta] = []
        offered = within = 0
        for r in in_period:
            conversation = conversations_by_request.get(r.id)
            if conversation is not None:
                waits.append(conversation.opened_at - r.created_at)
            its_offers = offers_by_request.get(r.id, [])
            if not its_offers:
                continue
            offered += 1
            first = its_offers[0]
            person = offered_people.get(first.sleutelpersoon_id)
            if person is None or conversation is None:
                continue
            local_day = first.created_at.astimezone(DISPLAY_ZONE).date()
            closes = current_window_end(schedule_of(person, local_day), first.created_at)
            if conversation.opened_at <= (closes or first.created_at):
                within += 1
        own_offers = [
            o for o in offers if o.sleutelpersoon_id in own and period.contains(o.created_at)
        ]
        declines = sum(1 for o in own_offers if is_decline(o))
        timeouts = sum(1 for o in own_offers if timed_out(o, _later_offer(offers_by_request, o)))
        closed_here = [
            c
            for c in conversations_by_request.values()
            if c.closed_at is not None and period.contains(c.closed_at)
        ]
        middle = median(waits)
        medians.append(middle.total_seconds() / 60 if middle else 0)
        response.rows.append(
            [
                label,
                len(in_period),
                len(waits),
                middle,
                percentile(waits, 0.9),
                within / offered if offered else None,
                declines,
                timeouts,
                sum(1 for c in closed_here if c.status == "handed_back"),
                sum(1 for c in closed_here if c.feedback == "up"),
                sum(1 for c in closed_here if c.feedback == "down"),
            ]
        )

    people = await _per_sleutelpersoon(session, viewer, periods, labels, own, offers_by_request)
    charts = [
        (
            _("Requests by topic"),
            stacked_bars(
                _("Requests by topic"),
                labels,
                [
                    Series(_(domain_titles[d]), [float(domain_counts[p][d]) for p in periods])
                    for d in domains
                ],
            ),
        ),
        (
            _("First response, median (minutes)"),
            bars(_("First response, median"), labels, medians, _("minutes")),
        ),
    ]
    return Insight(periods, [by_domain, by_language, response, people], charts)


def _later_offer(offers_by_request: dict[int, list[Offer]], offer: Offer) -> bool:
    return any(
        other.created_at > offer.created_at
        or (other.created_at == offer.created_at and other.id > offer.id)
        for other in offers_by_request.get(offer.request_id, [])
    )


async def _per_sleutelpersoon(
    session: AsyncSession,
    viewer: Viewer,
    periods: list[Period],
    labels: list[str],
    own: dict[int, Sleutelpersoon],
    offers_by_request: dict[int, list[Offer]],
) -> Table:
    start, end = periods[0].start, periods[-1].end
    table = Table(
        "sleutelpersonen",
        N_("Per sleutelpersoon"),
        [
            Column(N_("Period")),
            Column(N_("Sleutelpersoon")),
            Column(N_("Conversations"), Kind.NUMBER),
            Column(N_("Time spent (estimate)"), Kind.DURATION),
            Column(N_("Thanks received"), Kind.NUMBER),
            Column(N_("Declines"), Kind.NUMBER),
            Column(N_("Timeouts"), Kind.NUMBER),
        ],
    )
    stats: dict[tuple[Period, int], dict[str, Any]] = defaultdict(
        lambda: {
            "conversations": 0,
            "time": timedelta(0),
            "thanks": 0,
            "declines": 0,
            "timeouts": 0,
        }
    )
    conversations = (
        await session.scalars(
            access.conversations(viewer).where(
                Conversation.opened_at < end,
                (Conversation.closed_at.is_(None)) | (Conversation.closed_at >= start),
            )
        )
    ).all()
    by_id = {c.id: c for c in conversations}
    for c in conversations:
        opened = period_of(periods, c.opened_at)
        if opened is not None:
            stats[(opened, c.sleutelpersoon_id)]["conversations"] += 1
        if c.feedback == "up" and c.closed_at is not None:
            closed = period_of(periods, c.closed_at)
            if closed is not None:
                stats[(closed, c.sleutelpersoon_id)]["thanks"] += 1
    messages = (
        await session.execute(
            select(
                ConversationMessage.conversation_id,
                ConversationMessage.author,
                ConversationMessage.created_at,
            )
            .where(
                ConversationMessage.conversation_id.in_(list(by_id)),
                ConversationMessage.created_at >= start - MAX_MESSAGE_TIME,
                ConversationMessage.created_at < end,
            )
            .order_by(ConversationMessage.conversation_id, ConversationMessage.created_at)
        )
    ).all()
    previous: dict[int, datetime] = {}
    for conversation_id, author, created_at in messages:
        before = previous.get(conversation_id, by_id[conversation_id].opened_at)
        previous[conversation_id] = created_at
        period = period_of(periods, created_at)
        if author != "sleutelpersoon" or period is None:
            continue
        spent = min(max(created_at - before, MIN_MESSAGE_TIME), MAX_MESSAGE_TIME)
        stats[(period, by_id[conversation_id].sleutelpersoon_id)]["time"] += spent
    for its_offers in offers_by_request.values():
        for offer in its_offers:
            period = period_of(periods, offer.created_at)
            if offer.sleutelpersoon_id not in own or period is None:
                continue
            if is_decline(offer):
                stats[(period, offer.sleutelpersoon_id)]["declines"] += 1
            elif timed_out(offer, _later_offer(offers_by_request, offer)):
                stats[(period, offer.sleutelpersoon_id)]["timeouts"] += 1
    for period, label in zip(periods, labels, strict=True):
        for person in sorted(own.values(), key=lambda p: p.display_name.casefold()):
            found = stats.get((period, person.id))
            if found is None:
                continue
            table.rows.append(
                [
                    label,
                    person.display_name,
                    found["conversations"],
                    found["time"],
                    found["thanks"],
                    found["declines"],
                    found["timeouts"],
                ]
            )
    return table


async def build_signals(
    session: AsyncSession,
    viewer: Viewer,
    now: datetime,
    granularity: Granularity,
    translator: Translator,
    cipher: MessageCipher,
) -> Insight:
    """Signals per period: how often each was given, in how many conversations, by how many.
    Signals whose words the retention period removed are left out."""
    periods = periods_until(now, granularity)
    start, end = periods[0].start, periods[-1].end
    labels = [period_label(translator, period) for period in periods]
    rows = (
        await session.execute(
            access.signals(viewer)
            .where(Signal.created_at >= start, Signal.created_at < end)
            .add_columns(HelpRequest.language, HelpRequest.domain)
            .join(Conversation, Conversation.id == Signal.conversation_id)
            .join(HelpRequest, HelpRequest.id == Conversation.request_id)
            .order_by(Signal.created_at)
        )
    ).all()
    counts: dict[str, Counter[Period]] = defaultdict(Counter)
    spelling: dict[str, Counter[str]] = defaultdict(Counter)
    conversations: dict[str, set[int]] = defaultdict(set)
    people: dict[str, set[int]] = defaultdict(set)
    languages: dict[str, set[str]] = defaultdict(set)
    topics: dict[str, set[str]] = defaultdict(set)
    last_seen: dict[str, datetime] = {}
    for signal, language, domain in rows:
        period = period_of(periods, signal.created_at)
        text = cipher.unseal(signal.text_encrypted)
        if period is None or text is None:
            continue
        key = Signal.key_of(text)
        counts[key][period] += 1
        spelling[key][text] += 1
        conversations[key].add(signal.conversation_id)
        people[key].add(signal.sleutelpersoon_id)
        languages[key].add(language)
        if domain:
            topics[key].add(domain)
        last_seen[key] = signal.created_at
    order = sorted(counts, key=lambda key: (-sum(counts[key].values()), key))
    summary = Table(
        "signals",
        N_("Signals"),
        [
            Column(N_("Signal")),
            Column(N_("Times given"), Kind.NUMBER),
            Column(N_("Conversations"), Kind.NUMBER),
            Column(N_("Sleutelpersonen"), Kind.NUMBER),
            Column(N_("Languages")),
            Column(N_("Topics")),
            Column(N_("Last given"), Kind.DATETIME),
        ],
        empty=N_("No signals in these periods."),
    )
    per_period = Table(
        "signals_per_period",
        N_("Signals per period"),
        [Column(N_("Signal"))] + [Column(label, Kind.NUMBER, translate=False) for label in labels],
        empty=N_("No signals in these periods."),
    )
    for key in order:
        name = spelling[key].most_common(1)[0][0]
        summary.rows.append(
            [
                name,
                sum(counts[key].values()),
                len(conversations[key]),
                len(people[key]),
                ", ".join(sorted(language_name(translator, c) for c in languages[key])),
                ", ".join(sorted(translator.gettext(DOMAINS.get(d, d)) for d in topics[key])),
                last_seen[key],
            ]
        )
        per_period.rows.append([name, *(counts[key][p] for p in periods)])
    top = order[:6]
    chart = stacked_bars(
        translator.gettext("Signals per period"),
        labels,
        [
            Series(spelling[key].most_common(1)[0][0], [float(counts[key][p]) for p in periods])
            for key in top
        ],
    )
    caption = translator.gettext("Signals per period")
    return Insight(periods, [summary, per_period], [(caption, chart)] if top else [])
