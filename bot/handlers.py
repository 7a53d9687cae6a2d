"""Telegram handlers: parse the update, change state in one transaction, then flush the outbox.

Handlers never send a message that a state change causes; they write it to the outbox in the
same transaction, and the outbox sends it after the commit. Only answering a button press
(`answerCallbackQuery`) is immediate, because Telegram expects it at once. No message text is
ever logged.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine
from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.dates import format_time
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import access, notices, outbox
from bot.directory import local_today, schedule_of
from bot.done_phrases import sounds_done
from bot.erasure import DELETE_PROMPT, answer_delete_prompt
from bot.handover import (
    DANGER_NO,
    DANGER_PREFIX,
    DANGER_YES,
    DOMAIN_PREFIX,
    FEEDBACK_PREFIX,
    OFFER_ACCEPT_PREFIX,
    OFFER_DECLINE_PREFIX,
    OPEN,
    AcceptOutcome,
    MessageContent,
    domain_keyboard,
    send_emergency_help,
)
from bot.i18n import (
    LANGUAGE_ENDONYMS,
    SUPPORTED_LOCALES,
    Texts,
    isolate,
    suggest_locale,
)
from bot.inbox import ClaimLost
from bot.models import (
    Conversation,
    HelpRequest,
    Newcomer,
    RequestStatus,
    Signal,
    Sleutelpersoon,
)
from bot.outbox import enqueue
from bot.profiles import INVITE_PREFIX, MAX_AWAY, hash_invite_token
from bot.services import Services, services_of
from matching.office_hours import next_opening
from nlu.client import Classification, NluUnavailable
from nlu.danger import Danger, danger_of

log = logging.getLogger(__name__)

LANGUAGE_PREFIX = "lang:"
CONSENT_PREFIX = "consent:"
GENDER_PREFIX = "pref:gender:"
CIRCLE_PREFIX = "pref:circle:"
SELECT_PREFIX = "conv:select:"
DELETE_PREFIX = "delete:"
DONE_PREFIX = "done:"
CHOOSABLE_DOMAINS = ("post", "finance", "health", "other")
NO_PREFERENCE = "any"
YES_OR_NO = ("yes", "no")
# Ids in button data are database integers (64-bit signed): at most 18 digits always fit.
MAX_ID_DIGITS = 18


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def sends_outbox(handler: Handler) -> Handler:
    """After the handler's transaction, have what it wrote to the outbox sent, however it
    ended; in the background, so the next update is handled while Telegram's limits are
    waited for."""

    @functools.wraps(handler)
    async def handle_then_send(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Only the chats this handler wrote to: other chats' rows are another handler's or the
        # dispatcher's to send, and looking at all of them in every handler made a burst of
        # updates cost a failed claim per chat per update.
        with outbox.collecting_chats() as written:
            try:
                await handler(update, context)
            finally:
                services_of(context).outbox.send_soon(written)

    return handle_then_send


# --- commands --------------------------------------------------------------------------------


@sends_outbox
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Connect a sleutelpersoon by invite link, or welcome a newcomer with the language choice."""
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        if context.args and context.args[0].startswith(INVITE_PREFIX):
            await _accept_invite(
                services, session, now, user.id, user.language_code, context.args[0]
            )
        elif (person := await access.sleutelpersoon_of_user(session, user.id)) is not None:
            _say(
                session,
                now,
                person.telegram_user_id or user.id,
                notices.invite_welcome(
                    services.handover.texts_for(person.locale), person.display_name
                ),
            )
        else:
            newcomer = await access.newcomer_of_user(session, user.id)
            suggested = newcomer.locale if newcomer else None
            _language_choice(
                services, session, now, user.id, suggested or suggest_locale(user.language_code)
            )


@sends_outbox
async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the language choice again, at any time (/language)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    async with services.sessions.begin() as session:
        person = await access.sleutelpersoon_of_user(session, user.id)
        newcomer = await access.newcomer_of_user(session, user.id) if person is None else None
        current = person.locale if person else newcomer.locale if newcomer else None
        _language_choice(
            services,
            session,
            services.clock.now(),
            user.id,
            current or suggest_locale(user.language_code),
        )


@sends_outbox
async def preferences(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask which sleutelpersoon the newcomer prefers (/preferences)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        # A sleutelpersoon has no newcomer's preferences: without this check they got one.
        if (person := await access.sleutelpersoon_of_user(session, user.id)) is not None:
            _not_for_you(services, session, now, user, person.locale)
            return
        newcomer = await access.newcomer_of_user(session, user.id)
        if newcomer is None:  # preferences are kept only after consent: that comes first
            _language_choice(services, session, now, user.id, suggest_locale(user.language_code))
            return
        texts = services.handover.texts_for(newcomer.locale)
        keyboard = _keyboard(
            [
                (texts.gettext("No preference"), GENDER_PREFIX + NO_PREFERENCE),
                (texts.gettext("A woman"), GENDER_PREFIX + "f"),
                (texts.gettext("A man"), GENDER_PREFIX + "m"),
            ]
        )
        _say(session, now, user.id, notices.preferences_gender(texts), keyboard)


@sends_outbox
async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newcomer ends their conversation (/done)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        newcomer = await _newcomer_or_refuse(services, session, now, user)
        if newcomer is None:
            return
        conversation = await services.handover.open_conversation_of_newcomer(session, newcomer)
        if conversation is not None:
            await services.handover.close(session, now, conversation, by_sleutelpersoon=False)
        else:
            texts = services.handover.texts_for(newcomer.locale)
            _say(session, now, user.id, notices.no_open_conversations(texts))


@sends_outbox
async def skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newcomer skips writing words of feedback (/skip)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        newcomer = await _newcomer_or_refuse(services, session, now, user)
        if newcomer is None:
            return
        conversation = await services.handover.pending_feedback(session, now, newcomer)
        if conversation is not None:
            await services.handover.feedback_words(session, now, conversation, newcomer, None)


@sends_outbox
async def mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the sleutelpersoon's open conversations to choose one (/mine)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await _sleutelpersoon_or_refuse(services, session, now, user)
        if person is None:
            return
        texts = services.handover.texts_for(person.locale)
        conversations = await access.open_conversations_of(session, person)
        if not conversations:
            _say(session, now, user.id, notices.no_open_conversations(texts))
        else:
            buttons = []
            for conversation in conversations:
                request = await session.get_one(HelpRequest, conversation.request_id)
                label = notices.conversation_button(
                    texts, conversation.label, request.language, request.domain
                )
                buttons.append((label, f"{SELECT_PREFIX}{conversation.id}"))
            _say(session, now, user.id, notices.your_open_conversations(texts), _keyboard(buttons))


@sends_outbox
async def close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sleutelpersoon closes the selected conversation (/close)."""
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await _sleutelpersoon_or_refuse(services, session, now, user)
        if person is None:
            return
        texts = services.handover.texts_for(person.locale)
        conversation = await _open_target(
            session, now, person, message, texts, notices.close_which(texts)
        )
        if conversation is not None:
            await services.handover.close(session, now, conversation, by_sleutelpersoon=True)


@sends_outbox
async def handback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sleutelpersoon hands the selected conversation back with a note (/handback note)."""
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await _sleutelpersoon_or_refuse(services, session, now, user)
        if person is None:
            return
        texts = services.handover.texts_for(person.locale)
        note = " ".join(context.args or []).strip()
        if not note:
            _say(session, now, user.id, notices.handback_usage(texts))
            return
        conversation = await _open_target(
            session, now, person, message, texts, notices.close_which(texts)
        )
        if conversation is not None:
            await services.handover.handback(session, now, conversation, person, note[:500])


@sends_outbox
async def signal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sleutelpersoon tags a conversation with what they see (/signal many CJIB fines)."""
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await _sleutelpersoon_or_refuse(services, session, now, user)
        if person is None:
            return
        texts = services.handover.texts_for(person.locale)
        # A closed conversation may be tagged too (by replying to one of its messages):
        # sleutelpersonen often see what to signal only once it is over.
        conversation = await _target_conversation(session, person, message)
        if conversation is None:
            _say(session, now, user.id, notices.signal_which(texts))
            return
        try:
            tagged = Signal.tag(
                conversation.id,
                person.id,
                " ".join(context.args or []),
                now,
                services.handover.cipher,
            )
        except ValueError:  # no words given
            _say(session, now, user.id, notices.signal_usage(texts))
            return
        session.add(tagged)
        _say(session, now, user.id, notices.signal_saved(texts, conversation.label))


@sends_outbox
async def away(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sleutelpersoon is away until a date (/away 2026-12-24, /away off)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await _sleutelpersoon_or_refuse(services, session, now, user)
        if person is None:
            return
        texts = services.handover.texts_for(person.locale)
        argument = (context.args or [""])[0].strip().lower()
        if argument == "off":
            person.away_until = None
            _say(session, now, user.id, notices.away_ended(texts))
        else:
            until = _parse_day(argument)
            today = local_today(person, now)
            if until is None or until < today:
                _say(session, now, user.id, notices.away_usage(texts))
            elif until > today + MAX_AWAY:
                _say(session, now, user.id, notices.away_too_long(texts, today + MAX_AWAY))
            else:
                person.away_until = until
                _say(session, now, user.id, notices.away_until(texts, until))


@sends_outbox
async def hours(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the sleutelpersoon's office hours and when they next get questions (/hours)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await _sleutelpersoon_or_refuse(services, session, now, user)
        if person is None:
            return
        texts = services.handover.texts_for(person.locale)
        day_names = Locale.parse(texts.locale).days["format"]["wide"]
        lines = [
            "{day} {start}–{end}".format(
                day=day_names[window.weekday],
                start=isolate(format_time(window.starts_at, "HH:mm", locale=texts.locale)),
                end=isolate(format_time(window.ends_at, "HH:mm", locale=texts.locale)),
            )
            for window in sorted(person.windows, key=lambda w: (w.weekday, w.starts_at))
        ]
        opening = next_opening(schedule_of(person, local_today(person, now)), now)
        _say(session, now, user.id, notices.hours_overview(texts, lines, opening, person.timezone))


@sends_outbox
async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the user what is kept about them and who can see it (/privacy)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await access.sleutelpersoon_of_user(session, user.id)
        if person is not None:
            texts = services.handover.texts_for(person.locale)
            overview = notices.privacy_for_sleutelpersoon(texts, services.retention_days)
            _say(session, now, user.id, overview)
            return
        newcomer = await access.newcomer_of_user(session, user.id)
        if newcomer is None:
            texts = services.handover.texts_for(suggest_locale(user.language_code))
            _say(session, now, user.id, notices.privacy_before_consent(texts))
            return
        locale = newcomer.locale or suggest_locale(user.language_code)
        texts = services.handover.texts_for(locale)
        questions = len(
            (
                await session.scalars(
                    select(HelpRequest.id).where(HelpRequest.newcomer_id == newcomer.id)
                )
            ).all()
        )
        _say(session, now, user.id, notices.privacy_overview(
            texts, locale, newcomer.preferred_gender, newcomer.avoid_circle,
            questions, services.retention_days,
        ))  # fmt: skip


@sends_outbox
async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask the newcomer to confirm deleting everything about them (/delete)."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        if await _sleutelpersoon_told_delete_is_not_here(services, session, now, user):
            return
        newcomer = await access.newcomer_of_user(session, user.id)
        texts = services.handover.texts_for(
            newcomer.locale if newcomer else suggest_locale(user.language_code)
        )
        keyboard = _keyboard(
            [
                (texts.gettext("🗑️ Yes, delete everything"), DELETE_PREFIX + "yes"),
                (texts.gettext("↩️ No, keep it"), DELETE_PREFIX + "no"),
            ]
        )
        _say(session, now, user.id, notices.delete_confirm(texts), keyboard, DELETE_PROMPT)


# --- buttons ---------------------------------------------------------------------------------


@sends_outbox
async def confirm_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Erase the newcomer after they confirmed, or leave everything as it is."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    answer = query.data.removeprefix(DELETE_PREFIX)
    if answer not in YES_OR_NO:
        await _refuse_button(services, query, user)
        return
    now = services.clock.now()
    refusal: str | None = None
    async with services.sessions.begin() as session:
        if not await _sleutelpersoon_told_delete_is_not_here(services, session, now, user):
            texts = services.handover.texts_for(await _locale_of(session, user))
            answered = await answer_delete_prompt(
                session, now, user.id, answer == "yes", services.handover, texts
            )
            # Without a /delete prompt to this chat (a forged press, or one on a prompt
            # answered or expired) nothing is erased: the confirmation is never skipped.
            refusal = None if answered else notices.not_understood_command(texts)
    await _answer(query, refusal)
    if refusal is None:
        await _settle(query.edit_message_reply_markup(reply_markup=None))


@sends_outbox
async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the chosen language, then ask for consent or invite the question."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    locale = query.data.removeprefix(LANGUAGE_PREFIX)
    if locale not in SUPPORTED_LOCALES:
        await _refuse_button(services, query, user)
        return
    await _answer(query)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await access.sleutelpersoon_of_user(session, user.id)
        if person is not None:
            person.locale = locale
            outbox.set_command_menu(
                session, now, user.id, notices.sleutelpersoon_commands(services.texts[locale])
            )
            _say(
                session,
                now,
                user.id,
                services.texts[locale]
                .gettext("Language: {language}")
                .format(language=isolate(LANGUAGE_ENDONYMS[locale])),
            )
        else:
            texts = services.texts[locale]
            outbox.set_command_menu(session, now, user.id, notices.newcomer_commands(texts))
            _say(
                session,
                now,
                user.id,
                texts.gettext("Language: {language}").format(
                    language=isolate(LANGUAGE_ENDONYMS[locale])
                ),
            )
            newcomer = await access.newcomer_of_user(session, user.id)
            if newcomer is None:
                # Nothing is stored before consent: the choice travels in the consent buttons.
                _ask_consent(services, session, now, user.id, locale)
            else:
                newcomer.locale = locale
                newcomer.updated_at = now
                _say(session, now, user.id, notices.ask_your_question(texts))


@sends_outbox
async def consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newcomer agrees (or not) to what is stored and who sees it."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    answer, _, locale = query.data.removeprefix(CONSENT_PREFIX).partition(":")
    if answer not in YES_OR_NO or locale not in SUPPORTED_LOCALES:
        await _refuse_button(services, query, user)
        return
    async with services.sessions() as session:
        sleutelpersoon = await access.sleutelpersoon_of_user(session, user.id)
    if sleutelpersoon is not None:  # one account, one role: a sleutelpersoon is no newcomer
        await _refuse_button(services, query, user)
        return
    await _answer(query)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        await _answer_consent(services, session, now, user.id, locale, answer == "yes")


@sends_outbox
async def choose_domain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newcomer tapped a domain button for their question."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    domain = query.data.removeprefix(DOMAIN_PREFIX)
    if domain not in CHOOSABLE_DOMAINS:
        await _refuse_button(services, query, user)
        return
    await _answer(query)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        newcomer = await access.newcomer_of_user(session, user.id)
        if newcomer is None:
            return
        request = await services.handover.active_request(session, newcomer)
        if request is None or request.status != RequestStatus.CHOOSING:
            return
        await services.handover.choose_domain(session, now, newcomer, request, domain)


@sends_outbox
async def answer_danger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes or no to "are you or someone else in danger right now?"."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    choice = query.data.removeprefix(DANGER_PREFIX)
    if choice not in {DANGER_YES, DANGER_NO}:
        await _refuse_button(services, query, user)
        return
    async with services.sessions() as session:
        sleutelpersoon = await access.sleutelpersoon_of_user(session, user.id)
    if sleutelpersoon is not None:  # the question is only ever put to a newcomer
        await _refuse_button(services, query, user)
        return
    await _answer(query)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        newcomer = await access.newcomer_of_user(session, user.id)
        if newcomer is None:
            # Asked before consent (or erased since): help is never refused. Yes sends the
            # numbers and the anonymous alert, no leaves the consent question to go on.
            if choice == DANGER_YES:
                texts = services.handover.texts_for(suggest_locale(user.language_code))
                send_emergency_help(session, now, user.id, texts)
                await services.handover.alert_before_consent(session, now)
            return
        await services.handover.answer_danger(session, now, newcomer, choice == DANGER_YES)
    await _settle(query.edit_message_reply_markup(reply_markup=None))


@sends_outbox
async def choose_gender(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the gender preference and ask about the newcomer's own town or community."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    choice = query.data.removeprefix(GENDER_PREFIX)
    if choice not in {NO_PREFERENCE, "f", "m"}:
        await _refuse_button(services, query, user)
        return
    await _answer(query)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        newcomer = await access.newcomer_of_user(session, user.id)
        if newcomer is None:
            return
        newcomer.preferred_gender = None if choice == NO_PREFERENCE else choice
        texts = services.handover.texts_for(newcomer.locale)
        circles = sorted(
            {
                circle
                for circle in (await session.scalars(select(Sleutelpersoon.circle))).all()
                if circle
            }
        )
        buttons = [(texts.gettext("No preference"), CIRCLE_PREFIX + NO_PREFERENCE)]
        buttons += [(circle, f"{CIRCLE_PREFIX}{index}") for index, circle in enumerate(circles)]
        _say(session, now, user.id, notices.preferences_circle(texts), _keyboard(buttons))


@sends_outbox
async def choose_circle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the town or community whose sleutelpersonen the newcomer wants to avoid."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    choice = query.data.removeprefix(CIRCLE_PREFIX)
    index = _parse_number(choice)
    if choice != NO_PREFERENCE and index is None:
        await _refuse_button(services, query, user)
        return
    now = services.clock.now()
    refusal: str | None = None
    async with services.sessions.begin() as session:
        newcomer = await access.newcomer_of_user(session, user.id)
        circles = sorted(
            {
                circle
                for circle in (await session.scalars(select(Sleutelpersoon.circle))).all()
                if circle
            }
        )
        if newcomer is not None:
            texts = services.handover.texts_for(newcomer.locale)
            if index is not None and index >= len(circles):
                # The towns changed since the buttons were made.
                refusal = notices.not_understood_command(texts)
            else:
                newcomer.avoid_circle = None if index is None else circles[index]
                _say(session, now, user.id, notices.preferences_saved(texts))
    await _answer(query, refusal)


@sends_outbox
async def answer_offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sleutelpersoon accepts or declines an offer made to them (and only to them)."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    accepting = query.data.startswith(OFFER_ACCEPT_PREFIX)
    offer_id = _parse_number(
        query.data.removeprefix(OFFER_ACCEPT_PREFIX).removeprefix(OFFER_DECLINE_PREFIX)
    )
    if offer_id is None:
        await _refuse_button(services, query, user)
        return
    now = services.clock.now()
    outcome: AcceptOutcome | None = None
    async with services.sessions.begin() as session:
        person = await access.sleutelpersoon_of_user(session, user.id)
        offer = await access.offer_for(session, offer_id, person) if person else None
        if person is not None and offer is not None:
            if accepting:
                outcome = await services.handover.accept(session, now, offer, person)
            else:
                await services.handover.decline(session, now, offer, person)
    if person is None or offer is None:
        # Not an offer to this user (anyone's forged or stale press): in their own language.
        await _refuse_button(services, query, user)
        return
    texts = services.handover.texts_for(person.locale)
    if outcome in {AcceptOutcome.ALREADY_TAKEN, AcceptOutcome.NOT_PENDING}:
        await _answer(query, notices.offer_taken(texts))
        await _settle(query.edit_message_text(notices.offer_taken(texts)))
    else:
        await _answer(query)


@sends_outbox
async def select_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The sleutelpersoon chooses the conversation their plain messages go to."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    conversation_id = _parse_number(query.data.removeprefix(SELECT_PREFIX))
    if conversation_id is None:
        await _refuse_button(services, query, user)
        return
    await _answer(query)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await access.sleutelpersoon_of_user(session, user.id)
        if person is None:
            return
        conversation = await access.open_conversation_for_sleutelpersoon(
            session, conversation_id, person
        )
        texts = services.handover.texts_for(person.locale)
        if conversation is None:
            _say(session, now, user.id, notices.not_understood_command(texts))
            return
        person.selected_conversation_id = conversation.id
        _say(session, now, user.id, notices.conversation_selected(texts, conversation.label))


@sends_outbox
async def give_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎 after a conversation closed."""
    await _on_conversation_button(update, context, FEEDBACK_PREFIX, {"up", "down"}, _rate)


async def _rate(
    services: Services,
    session: AsyncSession,
    now: datetime,
    newcomer: Newcomer,
    conversation: Conversation,
    rating: str,
) -> None:
    await services.handover.feedback(session, now, conversation, newcomer, rating)


@sends_outbox
async def confirm_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newcomer answers whether to close the conversation their message seemed to end."""
    await _on_conversation_button(update, context, DONE_PREFIX, YES_OR_NO, _close_or_keep)


async def _close_or_keep(
    services: Services,
    session: AsyncSession,
    now: datetime,
    newcomer: Newcomer,
    conversation: Conversation,
    answer: str,
) -> None:
    if answer == "yes":
        # Once, if still open.
        await services.handover.close(session, now, conversation, by_sleutelpersoon=False)
    elif conversation.status == OPEN:
        texts = services.handover.texts_for(newcomer.locale)
        _say(session, now, newcomer.telegram_user_id, notices.conversation_stays_open(texts))


ConversationChoice = Callable[
    [Services, AsyncSession, datetime, Newcomer, Conversation, str], Awaitable[None]
]


async def _on_conversation_button(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    prefix: str,
    choices: Collection[str],
    act: ConversationChoice,
) -> None:
    """A newcomer's button `<prefix><choice>:<conversation id>`: `act` gets one of `choices`
    only for a conversation of this newcomer (forged ids find nothing); then the buttons go."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    choice, _, raw_id = query.data.removeprefix(prefix).partition(":")
    conversation_id = _parse_number(raw_id)
    if choice not in choices or conversation_id is None:
        await _refuse_button(services, query, user)
        return
    await _answer(query)
    now = services.clock.now()
    async with services.sessions.begin() as session:
        newcomer = await access.newcomer_of_user(session, user.id)
        if newcomer is None:
            return
        conversation = await access.conversation_for_newcomer(session, conversation_id, newcomer)
        if conversation is None:
            return
        await act(services, session, now, newcomer, conversation, choice)
    await _settle(query.edit_message_reply_markup(reply_markup=None))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press with data no handler knows (old, forged or garbled): say it is not valid."""
    services = services_of(context)
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    await _refuse_button(services, query, user)


# --- messages --------------------------------------------------------------------------------


@sends_outbox
async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the edit is not passed on, so say so and ask to send it again."""
    services = services_of(context)
    user = update.effective_user
    if user is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        texts = services.handover.texts_for(await _locale_of(session, user))
        _say(session, now, user.id, notices.edits_not_passed_on(texts))


@sends_outbox
async def message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any message: relayed in a conversation, added to a waiting question, or a new question."""
    services = services_of(context)
    user, incoming = update.effective_user, update.effective_message
    if user is None or incoming is None:
        return
    now = services.clock.now()
    async with services.sessions.begin() as session:
        person = await access.sleutelpersoon_of_user(session, user.id)
        if person is not None:
            await _from_sleutelpersoon(services, session, now, person, incoming)
        else:
            await _from_newcomer(services, session, now, user.id, user.language_code, incoming)


async def _from_sleutelpersoon(
    services: Services,
    session: AsyncSession,
    now: datetime,
    person: Sleutelpersoon,
    incoming: Message,
) -> None:
    texts = services.handover.texts_for(person.locale)
    conversation = await _open_target(
        session, now, person, incoming, texts, notices.which_conversation(texts)
    )
    if conversation is None:
        return
    await services.handover.relay_from_sleutelpersoon(
        session, now, conversation, person, content_of(incoming)
    )


async def _from_newcomer(
    services: Services,
    session: AsyncSession,
    now: datetime,
    user_id: int,
    language_code: str | None,
    incoming: Message,
) -> None:
    content = content_of(incoming)
    text = content.text
    newcomer = await access.newcomer_of_user(session, user_id)
    # Before consent there is no newcomer: their language is guessed from Telegram's setting
    # and the script of this message, for the language choice (to be confirmed).
    locale = (newcomer.locale if newcomer else None) or suggest_locale(language_code, text)
    texts = services.handover.texts_for(locale)
    # Every text is read for danger, on every path, at any hour (nlu/danger.py): the emergency
    # phrases, and Rasa's emergency intent while Rasa answers (when it does not, the phrases
    # decide alone). URGENT sends the help numbers; CHECK asks, with 112 in the question.
    classification = await _classify(services, text)
    danger = danger_of(text, classification)
    if danger is not Danger.NONE:
        log.warning("possible emergency (%s); help offered", danger.value)
    handover = services.handover
    if newcomer is None:
        if danger is Danger.URGENT:
            # To protect vital interests: the numbers at once, and whoever is on call is told,
            # with nothing about this person (nothing is kept before consent).
            send_emergency_help(session, now, user_id, texts)
            await handover.alert_before_consent(session, now)
        elif danger is Danger.CHECK:
            handover.ask_about_danger(session, now, user_id, texts, None)
        # Every message before consent brings the language choice, which leads to the consent
        # text: what they chose earlier is not kept anywhere to skip it.
        _language_choice(services, session, now, user_id, locale)
        return
    newcomer.updated_at = now  # the retention period counts from the last activity
    conversation = await handover.open_conversation_of_newcomer(session, newcomer)
    if conversation is not None:
        if danger is Danger.URGENT:
            send_emergency_help(session, now, user_id, texts)
            await handover.mark_urgent(session, now, conversation.request_id)
        await handover.relay_from_newcomer(session, now, conversation, newcomer, content)
        if danger is Danger.CHECK:
            asked = await session.get_one(HelpRequest, conversation.request_id)
            handover.ask_about_danger(session, now, user_id, texts, asked)
        if danger is Danger.NONE and sounds_done(incoming.text):
            # Only asked, never closed on words alone: the message is passed on either way.
            keyboard = _done_keyboard(texts, conversation.id)
            _say(session, now, user_id, notices.close_this_conversation(texts), keyboard)
        return
    feedback_of = await handover.pending_feedback(session, now, newcomer)
    if feedback_of is not None:
        # Words after 👍 / 👎 are feedback first ("Sanne was heel snel, top" is praise, not a
        # question about danger); only an urgent reading is never taken as feedback.
        if incoming.text and danger is not Danger.URGENT:
            await handover.feedback_words(session, now, feedback_of, newcomer, incoming.text)
            return
        feedback_of.feedback_pending = False  # only the very next message can be the words
    request = await handover.active_request(session, newcomer)
    if request is not None:
        if danger is Danger.URGENT:
            send_emergency_help(session, now, user_id, texts)
            await handover.mark_urgent(session, now, request.id)
        await handover.add_to_waiting_request(session, now, newcomer, request, content)
        if danger is Danger.CHECK:
            handover.ask_about_danger(session, now, user_id, texts, request)
        return
    if danger is Danger.URGENT:
        # Routed as an emergency: help numbers to the newcomer, the request to the
        # coordinators as urgent, never to a volunteer.
        await handover.emergency(session, now, newcomer, content)
        return
    if not text:
        # A photo, voice note or document without words: the newcomer chooses the domain.
        await handover.start_request(session, now, newcomer, content, domain=None)
        _say(session, now, user_id, notices.choose_domain(texts), domain_keyboard(texts))
        return
    if classification is None:  # Rasa is unavailable: the newcomer chooses with buttons
        await handover.start_request(session, now, newcomer, content, domain=None)
        _say(session, now, user_id, notices.nlu_unavailable(texts), domain_keyboard(texts))
        return
    institutions = sorted({entity.value for entity in classification.entities})
    # A question asked about (CHECK) goes on as an ordinary one at once: nobody waits for the
    # answer, and "yes" makes it urgent wherever it is by then.
    routed = classification.routine_domain
    domain = routed.value if routed is not None else None
    await handover.start_request(
        session,
        now,
        newcomer,
        content,
        domain=domain,
        intent=classification.intent,
        confidence=classification.confidence,
        institutions=institutions,
        ask_about_danger=danger is Danger.CHECK,
    )
    if domain is None:
        _say(session, now, user_id, notices.choose_domain(texts), domain_keyboard(texts))


async def _classify(services: Services, text: str | None) -> Classification | None:
    """Rasa's reading of a newcomer's words; None without words or while Rasa is unavailable."""
    if not text:
        return None
    try:
        classification = await services.nlu.classify(text)
    except NluUnavailable as exc:
        log.warning("NLU unavailable, emergency words only and buttons: %s", exc)
        return None
    log.info(
        "classified intent=%s confidence=%.2f", classification.intent, classification.confidence
    )
    return classification


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure without message content and apologise to the user; unless this worker
    merely lost the update to another one, which handles it: nothing went wrong for the user,
    and an apology would only make them send it twice."""
    if isinstance(context.error, ClaimLost):
        log.warning("update handling given up: %s", context.error)
        return
    log.error("update handling failed: %s", type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    user = update.effective_user
    services = services_of(context)
    try:
        texts = services.texts[suggest_locale(user.language_code)]
        await context.bot.send_message(
            chat_id=user.id,
            text=texts.gettext(
                "Sorry, something went wrong on our side. Please send your message again."
            ),
        )
    except Exception:  # the apology is best effort: the original error is already logged
        log.exception("could not apologise after an error")


async def tell_to_slow_down(services: Services, update: Update) -> None:
    """The inbound limit held this user's updates back (bot/inbound_limit.py): say once, in
    their language, that nothing is lost, and where help is if it cannot wait."""
    user = update.effective_user
    if user is None:
        return
    with outbox.collecting_chats() as written:
        async with services.sessions.begin() as session:
            texts = services.handover.texts_for(await _locale_of(session, user))
            _say(session, services.clock.now(), user.id, notices.one_by_one(texts))
    services.outbox.send_soon(written)


# --- helpers ---------------------------------------------------------------------------------

MEDIA_KINDS = ("photo", "voice", "audio", "video", "video_note", "document", "sticker")


def content_of(incoming: Message) -> MessageContent:
    """What kind of message this is and its words, for the encrypted audit record."""
    kind = next((name for name in MEDIA_KINDS if getattr(incoming, name, None)), None)
    if kind is None:
        kind = "text" if incoming.text else "other"
    return MessageContent(incoming.message_id, kind, incoming.text or incoming.caption)


def _say(
    session: AsyncSession,
    now: datetime,
    chat_id: int,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    purpose: str | None = None,
) -> None:
    params: dict[str, object] = {"text": text}
    if keyboard is not None:
        params["reply_markup"] = keyboard.to_dict()
    enqueue(session, now, chat_id, "sendMessage", params, purpose=purpose)


async def _sleutelpersoon_or_refuse(
    services: Services, session: AsyncSession, now: datetime, user: User
) -> Sleutelpersoon | None:
    """The sleutelpersoon writing a sleutelpersoon's command; anyone else is told it is not
    for them, in their own language."""
    person = await access.sleutelpersoon_of_user(session, user.id)
    if person is None:
        newcomer = await access.newcomer_of_user(session, user.id)
        _not_for_you(services, session, now, user, newcomer.locale if newcomer else None)
    return person


async def _newcomer_or_refuse(
    services: Services, session: AsyncSession, now: datetime, user: User
) -> Newcomer | None:
    """The newcomer writing a newcomer's command; anyone else is told it is not for them, in
    their own language."""
    newcomer = await access.newcomer_of_user(session, user.id)
    if newcomer is None:
        person = await access.sleutelpersoon_of_user(session, user.id)
        _not_for_you(services, session, now, user, person.locale if person else None)
    return newcomer


async def _sleutelpersoon_told_delete_is_not_here(
    services: Services, session: AsyncSession, now: datetime, user: User
) -> bool:
    """Whether the user is a sleutelpersoon, who is then told truthfully that /delete erases
    nothing of theirs: their profile belongs to their organisation's coordinator."""
    person = await access.sleutelpersoon_of_user(session, user.id)
    if person is not None:
        texts = services.handover.texts_for(person.locale)
        _say(session, now, user.id, notices.delete_is_for_newcomers(texts))
    return person is not None


async def _locale_of(session: AsyncSession, user: User) -> str:
    """The language the bot speaks with this user: their chosen one, else their Telegram's."""
    person = await access.sleutelpersoon_of_user(session, user.id)
    newcomer = await access.newcomer_of_user(session, user.id) if person is None else None
    chosen = person.locale if person else newcomer.locale if newcomer else None
    return chosen or suggest_locale(user.language_code)


def _not_for_you(
    services: Services, session: AsyncSession, now: datetime, user: User, locale: str | None
) -> None:
    """A command for another role: say so plainly, in the user's language, and do nothing."""
    texts = services.handover.texts_for(locale or suggest_locale(user.language_code))
    _say(session, now, user.id, notices.not_for_you(texts))


async def _refuse_button(services: Services, query: CallbackQuery, user: User) -> None:
    """A press whose data no button of this user's carries (unknown data, a known kind with a
    value none has, an offer not theirs): say, in their language, that the button is not valid;
    change nothing."""
    async with services.sessions() as session:
        locale = await _locale_of(session, user)
    await _answer(query, notices.not_understood_command(services.handover.texts_for(locale)))


async def _answer(query: CallbackQuery, alert: str | None = None) -> None:
    """Answer a button press; a press Telegram no longer knows (too old, forged) is no error."""
    await _settle(query.answer(alert, show_alert=alert is not None))


async def _settle(call: Awaitable[object]) -> None:
    """Run a call about the pressed message, which may be gone or never have existed: the
    state change is already committed, so a refusal here changes nothing for the user."""
    try:
        await call
    except BadRequest as exc:
        log.info("button follow-up refused by Telegram: %s", exc.message)


def _keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One large button per row, so that people who read little can still choose."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons]
    )


def _language_choice(
    services: Services, session: AsyncSession, now: datetime, user_id: int, suggested: str
) -> None:
    """The language buttons, the suggested language first: a guess is only ever confirmed."""
    # Every prompt line is in its own language, so whoever reads any of them can choose.
    order = [suggested, *(locale for locale in SUPPORTED_LOCALES if locale != suggested)]
    prompt = "\n".join(services.texts[locale].gettext("Choose your language") for locale in order)
    _say(
        session,
        now,
        user_id,
        prompt,
        _keyboard([(LANGUAGE_ENDONYMS[locale], LANGUAGE_PREFIX + locale) for locale in order]),
    )


def _done_keyboard(texts: Texts, conversation_id: int) -> InlineKeyboardMarkup:
    return _keyboard(
        [
            (texts.gettext("✅ Yes, close it"), f"{DONE_PREFIX}yes:{conversation_id}"),
            (texts.gettext("↩️ No, keep it open"), f"{DONE_PREFIX}no:{conversation_id}"),
        ]
    )


def _ask_consent(
    services: Services, session: AsyncSession, now: datetime, user_id: int, locale: str
) -> None:
    """The consent text in the chosen language; its buttons carry the language, which is
    stored only if they agree."""
    texts = services.handover.texts_for(locale)
    keyboard = _keyboard(
        [
            (texts.gettext("✅ I agree"), f"{CONSENT_PREFIX}yes:{locale}"),
            (texts.gettext("✖️ I do not agree"), f"{CONSENT_PREFIX}no:{locale}"),
        ]
    )
    request = notices.consent_request(texts, services.retention_days)
    _say(session, now, user_id, request, keyboard)


async def _answer_consent(
    services: Services,
    session: AsyncSession,
    now: datetime,
    user_id: int,
    locale: str,
    agreed: bool,
) -> None:
    """Agreeing makes the newcomer's row (their Telegram id, the language, the moment); not
    agreeing keeps nothing, and writing again starts from the language choice. A press on a
    consent text answered before agrees again harmlessly or is not valid (withdrawing is
    /delete's job)."""
    newcomer = await access.newcomer_of_user(session, user_id)
    texts = services.handover.texts_for(newcomer.locale if newcomer else locale)
    if newcomer is not None and not agreed:
        _say(session, now, user_id, notices.not_understood_command(texts))
    elif agreed:
        if newcomer is None:
            session.add(
                Newcomer(
                    telegram_user_id=user_id,
                    locale=locale,
                    consented_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
        _say(session, now, user_id, notices.what_is_a_sleutelpersoon(texts))
        _say(session, now, user_id, notices.ask_your_question(texts))
    else:
        outbox.drop_command_menu(session, now, user_id)
        _say(session, now, user_id, notices.consent_refused(texts))


async def _target_conversation(
    session: AsyncSession, person: Sleutelpersoon, incoming: Message
) -> Conversation | None:
    """The conversation a sleutelpersoon's message is meant for: the one replied to, else the
    selected one, else their only open one.

    A reply to a message of a conversation goes to that conversation or nowhere: when it is no
    longer open it is still returned (callers check its status), because falling through to the
    selected one would hand the text to a different newcomer."""
    if incoming.reply_to_message is not None:
        replied = await access.conversation_replied_to(
            session, person, incoming.reply_to_message.message_id
        )
        if replied is not None:
            return replied
    if person.selected_conversation_id is not None:
        selected = await access.open_conversation_for_sleutelpersoon(
            session, person.selected_conversation_id, person
        )
        if selected is not None:
            return selected
    conversations = await access.open_conversations_of(session, person)
    return conversations[0] if len(conversations) == 1 else None


async def _open_target(
    session: AsyncSession,
    now: datetime,
    person: Sleutelpersoon,
    incoming: Message,
    texts: Texts,
    which: str,
) -> Conversation | None:
    """The open conversation a sleutelpersoon's message or command is for. Otherwise nothing
    happens and they are told why: `which` when no conversation is meant, or that the one they
    replied to is no longer open (their message stays in their own chat, nothing is lost)."""
    conversation = await _target_conversation(session, person, incoming)
    if conversation is None:
        _say(session, now, incoming.chat_id, which)
        return None
    if conversation.status != OPEN:
        _say(
            session, now, incoming.chat_id, notices.conversation_not_open(texts, conversation.label)
        )
        return None
    return conversation


async def _accept_invite(
    services: Services,
    session: AsyncSession,
    now: datetime,
    user_id: int,
    language_code: str | None,
    token: str,
) -> None:
    token_hash = hash_invite_token(token)
    person = await session.scalar(
        select(Sleutelpersoon).where(Sleutelpersoon.invite_token_hash == token_hash)
    )
    expires = person.invite_expires_at if person is not None else None
    # A connected profile with a live token was given a new link by its coordinator (a new
    # phone or account): opening it moves the profile to this account.
    if person is None or expires is None or expires < now:
        _say(
            session,
            now,
            user_id,
            notices.invite_invalid(services.texts[suggest_locale(language_code)]),
        )
        return
    # One Telegram account holds one role and one profile: otherwise a newcomer's own question
    # could be offered to themselves, and a second profile would take over the first one's
    # account. The link stays valid for the account it was meant for.
    holder = await access.sleutelpersoon_of_user(session, user_id)
    if holder is not None and holder.id != person.id:
        texts = services.handover.texts_for(holder.locale)
        _say(session, now, user_id, notices.already_a_sleutelpersoon(texts, holder.organisation))
        return
    newcomer = await access.newcomer_of_user(session, user_id)
    if newcomer is not None:
        texts = services.handover.texts_for(newcomer.locale)
        _say(session, now, user_id, notices.newcomer_cannot_join(texts))
        return
    person.telegram_user_id = user_id
    person.invite_token_hash = None
    person.invite_expires_at = None
    texts = services.handover.texts_for(person.locale)
    outbox.set_command_menu(session, now, user_id, notices.sleutelpersoon_commands(texts))
    _say(
        session,
        now,
        user_id,
        notices.invite_welcome(texts, person.display_name),
    )


def _parse_number(value: str) -> int | None:
    """A database id or list index from button data; None unless it is plain ASCII digits
    that fit a database integer ("²".isdigit() is true, and int() refuses it)."""
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_ID_DIGITS:
        return None
    return int(value)


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
