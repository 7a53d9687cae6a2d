"""Everything the bot says, per reader: whole translatable sentences with isolated values.

Each function takes the reader's `Texts`, so newcomers read their own language and
sleutelpersonen theirs. Values inserted into sentences (names, numbers, dates) are wrapped in
Unicode isolates so that Arabic text around them stays readable.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_timedelta
from babel.numbers import format_decimal

from bot.i18n import Texts, isolate

EMERGENCY_NUMBER = "112"
# The free 0800 numbers in international form: Telegram apps make "+31 800 0113" a tap-to-call
# link, which they do not reliably do for "0800-0113" (and a button cannot carry a tel: link).
# Each number is isolated as a whole, never with marks between its digits.
SUICIDE_PREVENTION_NUMBER = "+31 800 0113"
VEILIG_THUIS_NUMBER = "+31 800 2000"
SUICIDE_PREVENTION_CHAT_URL = "https://www.113.nl"


def language_name(texts: Texts, language: str) -> str:
    """A language's name in the reader's language, e.g. Tigrinya in Arabic: التغرينية."""
    name: str = Locale.parse(texts.locale).languages.get(language, language)
    return name


def domain_name(texts: Texts, domain: str | None) -> str:
    if domain == "post":
        return texts.gettext("letters and forms")
    if domain == "finance":
        return texts.gettext("money")
    if domain == "health":
        return texts.gettext("health")
    if domain == "emergency":
        return texts.gettext("emergency")
    return texts.gettext("other questions")


def emergency_help(texts: Texts) -> str:
    """Where professional help is, at any hour: short lines, one kind of danger each."""
    return texts.gettext(
        "Help is there day and night:\n"
        "🚨 In danger right now? Call {emergency}.\n"
        "💬 Thinking about ending your life? 113 Zelfmoordpreventie, free: call {suicide_line} "
        "or chat on 113.nl.\n"
        "🏠 Violence at home? Veilig Thuis, free: call {veilig_thuis}.\n"
        "🩺 Need a doctor in the evening, at night or at the weekend? Call your own huisarts: "
        "outside office hours you will hear how to reach the huisartsenpost."
    ).format(
        emergency=isolate(EMERGENCY_NUMBER),
        suicide_line=isolate(SUICIDE_PREVENTION_NUMBER),
        veilig_thuis=isolate(VEILIG_THUIS_NUMBER),
    )


def danger_question(texts: Texts) -> str:
    """Asked when a message may tell of danger but is not clear: the number is in the question
    itself, so a person in danger never waits for a button."""
    return texts.gettext(
        "Are you or someone else in danger right now? Then call {emergency} at once."
    ).format(emergency=isolate(EMERGENCY_NUMBER))


def not_in_danger(texts: Texts) -> str:
    return texts.gettext("Thank you. Your question goes on as usual.")


def after_emergency_help(texts: Texts) -> str:
    """After the help numbers: an invitation, not a choice to make at once."""
    return texts.gettext(
        "Do you also have a question for a sleutelpersoon, about a letter, money or health? "
        "Write it here when you are ready."
    )


def suicide_prevention_chat_button(texts: Texts) -> str:
    return texts.gettext("💬 Chat with 113 Zelfmoordpreventie")


def urgent_hint(texts: Texts) -> str:
    return texts.gettext(
        "If it is urgent: call {emergency} in an emergency, or the huisartsenpost for a doctor "
        "outside office hours."
    ).format(emergency=isolate(EMERGENCY_NUMBER))


# --- newcomer --------------------------------------------------------------------------------


def consent_request(texts: Texts, retention_days: int) -> str:
    # Health information needs explicit consent (GDPR art. 9), so the text names it; the
    # period is the configured one (RETENTION_DAYS), never a number written into the text.
    return texts.gettext(
        "Before we start: Sleutelbrug keeps your language, your preferences and your questions "
        "with what you write, encrypted. What you write may be about your health; with your "
        "agreement we keep that too, only to help you. Your messages go to one sleutelpersoon, "
        "who helps you. A coordinator may read a conversation only when something went wrong, "
        "and every time is recorded. Everything is deleted {days} days after you were last "
        "active; /delete deletes it at once. Do you agree?"
    ).format(days=isolate(format_decimal(retention_days, locale=texts.locale)))


def consent_refused(texts: Texts) -> str:
    return texts.gettext(
        "Without your agreement we keep nothing of what you wrote and cannot pass on your "
        "question to a sleutelpersoon. In an emergency call {emergency}. If you change your "
        "mind, send /start."
    ).format(emergency=isolate(EMERGENCY_NUMBER))


def what_is_a_sleutelpersoon(texts: Texts) -> str:
    return texts.gettext(
        "A sleutelpersoon is a volunteer or professional who came to the Netherlands "
        "themselves and now helps people from their community with letters, money and health. "
        "You write here; the sleutelpersoon answers here. Neither of you sees the other's "
        "phone number."
    )


def ask_your_question(texts: Texts) -> str:
    return texts.gettext(
        "Ask your question now. You can write it, send a photo of a letter, or send a voice "
        "message. With /preferences you can choose who helps you."
    )


def choose_domain(texts: Texts) -> str:
    return texts.gettext("What is your question about? Tap a button.")


def nlu_unavailable(texts: Texts) -> str:
    return texts.gettext(
        "I cannot read your message automatically right now. "
        "What is your question about? Tap a button."
    )


def someone_will_come(texts: Texts, language: str) -> str:
    return texts.gettext("A sleutelpersoon who speaks {language} will be with you soon.").format(
        language=isolate(language_name(texts, language))
    )


def someone_will_come_at(texts: Texts, language: str, when: datetime, zone: str) -> str:
    return texts.gettext(
        "Right now no sleutelpersoon who speaks {language} is available. One will be from {when}."
    ).format(
        language=isolate(language_name(texts, language)),
        when=texts.format_datetime(when.astimezone(ZoneInfo(zone))),
    )


def queued_for_coordinators(texts: Texts) -> str:
    return texts.gettext(
        "No sleutelpersoon could take your question yet. A coordinator will look at it and "
        "find someone for you."
    )


def added_to_question(texts: Texts) -> str:
    return texts.gettext("I added this to your question.")


def sleutelpersoon_accepted(texts: Texts, name: str) -> str:
    return texts.gettext(
        "{name} will help you now. Write here; {name} reads it here. When your question is "
        "answered, send /done."
    ).format(name=isolate(name))


def sleutelpersoon_away(texts: Texts, name: str, when: datetime, zone: str) -> str:
    return texts.gettext(
        "{name} is not available right now. Your messages will be delivered at {when}."
    ).format(name=isolate(name), when=texts.format_datetime(when.astimezone(ZoneInfo(zone))))


def handed_back_to_newcomer(texts: Texts) -> str:
    return texts.gettext("Your question is passed on to another sleutelpersoon.")


def close_this_conversation(texts: Texts) -> str:
    return texts.gettext(
        "Your message was passed on. Is your question answered? Do you want to close this "
        "conversation?"
    )


def conversation_stays_open(texts: Texts) -> str:
    return texts.gettext(
        "The conversation stays open. Write here whenever you like; send /done when you are "
        "finished."
    )


def conversation_closed_ask_feedback(texts: Texts) -> str:
    return texts.gettext("This conversation is closed. Did it help you?")


def feedback_thanks_ask_words(texts: Texts) -> str:
    return texts.gettext("Thank you! If you like, write a few words about it, or send /skip.")


def feedback_received(texts: Texts) -> str:
    return texts.gettext("Thank you for your feedback.")


def preferences_gender(texts: Texts) -> str:
    return texts.gettext("Who would you like to help you?")


def preferences_circle(texts: Texts) -> str:
    return texts.gettext(
        "Do you prefer someone from outside your own town or community? Choose your town, "
        "and we will not send your question to someone from there."
    )


def preferences_saved(texts: Texts) -> str:
    return texts.gettext("Your preferences are saved.")


def not_for_you(texts: Texts) -> str:
    return texts.gettext("This command is not available to you.")


def not_understood_command(texts: Texts) -> str:
    return texts.gettext("This button is no longer valid.")


def one_by_one(texts: Texts) -> str:
    """Told once per flood (bot/inbound_limit.py): nothing is lost, and 112 does not wait."""
    return texts.gettext(
        "You are sending messages faster than I can pass them on. Nothing is lost: I handle "
        "them one by one, in order. In danger right now? Call {emergency}."
    ).format(emergency=isolate(EMERGENCY_NUMBER))


def edits_not_passed_on(texts: Texts) -> str:
    return texts.gettext(
        "Changes to a message you already sent are not passed on. "
        "Please send the corrected message again."
    )


# --- sleutelpersoon --------------------------------------------------------------------------


def offer(
    texts: Texts,
    language: str,
    domain: str | None,
    institutions: list[str],
    waited: timedelta,
    note: str | None,
) -> str:
    lines = [
        texts.gettext("New question from a newcomer."),
        texts.gettext("Language: {language}").format(
            language=isolate(language_name(texts, language))
        ),
        texts.gettext("About: {domain}").format(domain=isolate(domain_name(texts, domain))),
        texts.gettext("Waiting for: {duration}").format(
            duration=isolate(format_timedelta(waited, locale=texts.locale))
        ),
    ]
    if institutions:
        lines.append(
            texts.gettext("Recognised: {names}").format(
                names=", ".join(isolate(name) for name in institutions)
            )
        )
    if note:
        lines.append(
            texts.gettext("Note from the previous sleutelpersoon: {note}").format(
                note=isolate(note)
            )
        )
    return "\n".join(lines)


def offer_accepted(texts: Texts, label: str) -> str:
    return texts.gettext("You accepted this question: conversation {label}.").format(
        label=isolate(label)
    )


def offer_declined(texts: Texts) -> str:
    return texts.gettext("You declined this question. Thank you for letting us know.")


def offer_taken(texts: Texts) -> str:
    return texts.gettext("Another sleutelpersoon already took this question. Thank you!")


def conversation_header(texts: Texts, label: str, language: str, domain: str | None) -> str:
    return texts.gettext(
        "Conversation {label} ({language}, {domain}). Messages of the newcomer appear as "
        "replies to this message. To answer, reply to one of them, or choose the conversation "
        "with /mine and just write."
    ).format(
        label=isolate(label),
        language=isolate(language_name(texts, language)),
        domain=isolate(domain_name(texts, domain)),
    )


def plain_messages_go_to(texts: Texts, label: str, others: list[str]) -> str:
    return texts.gettext(
        "Your messages that are not a reply now go to conversation {label}. You also have "
        "{others} open: to answer there, reply to one of its messages, or choose it with /mine."
    ).format(label=isolate(label), others=", ".join(isolate(other) for other in others))


def which_conversation(texts: Texts) -> str:
    return texts.gettext(
        "Which conversation is this for? Reply to one of its messages, or choose one with /mine."
    )


def no_open_conversations(texts: Texts) -> str:
    return texts.gettext("You have no open conversations.")


def your_open_conversations(texts: Texts) -> str:
    return texts.gettext("Your open conversations. Tap one to write in it:")


def conversation_button(texts: Texts, label: str, language: str, domain: str | None) -> str:
    return texts.gettext("{label}: {language}, {domain}").format(
        label=isolate(label),
        language=isolate(language_name(texts, language)),
        domain=isolate(domain_name(texts, domain)),
    )


def conversation_selected(texts: Texts, label: str) -> str:
    return texts.gettext("Your messages now go to conversation {label}.").format(
        label=isolate(label)
    )


def conversation_closed_for_sleutelpersoon(texts: Texts, label: str) -> str:
    return texts.gettext("Conversation {label} is closed. Thank you for your help!").format(
        label=isolate(label)
    )


def handed_back_for_sleutelpersoon(texts: Texts, label: str) -> str:
    return texts.gettext(
        "Conversation {label} is handed back. The question goes to another sleutelpersoon."
    ).format(label=isolate(label))


def thanks_from_newcomer(texts: Texts, label: str) -> str:
    return texts.gettext("The newcomer of conversation {label} says thank you! 👍").format(
        label=isolate(label)
    )


def away_until(texts: Texts, day: date) -> str:
    return texts.gettext(
        "You are away until {date}. You get no new questions and no messages until then."
    ).format(date=isolate(texts.format_date(day)))


def away_too_long(texts: Texts, latest: date) -> str:
    return texts.gettext(
        "You can be away for a year at most, so until {date} at the latest. For longer leave, "
        "ask your coordinator."
    ).format(date=isolate(texts.format_date(latest)))


def away_usage(texts: Texts) -> str:
    return texts.gettext(
        "Write /away and the last day you are away, for example /away 2026-12-24. "
        "Write /away off to be back."
    )


def away_ended(texts: Texts) -> str:
    return texts.gettext("Welcome back. You can get new questions again within your hours.")


def hours_overview(texts: Texts, lines: list[str], next_time: datetime | None, zone: str) -> str:
    if not lines:
        return texts.gettext("You have no office hours yet. Ask your coordinator to set them.")
    text = texts.gettext("Your office hours:") + "\n" + "\n".join(lines)
    if next_time is not None:
        text += "\n" + texts.gettext("Next time you can get questions: {when}").format(
            when=texts.format_datetime(next_time.astimezone(ZoneInfo(zone)))
        )
    return text


def handback_usage(texts: Texts) -> str:
    return texts.gettext(
        "Write /handback and a short note for the next sleutelpersoon, for example "
        "/handback needs someone who knows about debts."
    )


def signal_usage(texts: Texts) -> str:
    return texts.gettext(
        "Write /signal and what you notice, for example /signal many CJIB fines. "
        "Coordinators see how often each signal comes up; the newcomer is not named."
    )


def signal_saved(texts: Texts, label: str) -> str:
    return texts.gettext("Signal saved for conversation {label}. Thank you!").format(
        label=isolate(label)
    )


def close_which(texts: Texts) -> str:
    return texts.gettext("Which conversation do you want to close? Choose it with /mine first.")


def signal_which(texts: Texts) -> str:
    return texts.gettext(
        "Which conversation is this signal about? Send /signal as a reply to one of its "
        "messages (a closed conversation is fine too), or choose an open one with /mine first."
    )


def conversation_not_open(texts: Texts, label: str) -> str:
    return texts.gettext(
        "Conversation {label} is no longer open, so nothing was passed on or changed. If the "
        "newcomer writes again, it comes as a new question. To write in another conversation, "
        "reply to one of its messages or choose it with /mine."
    ).format(label=isolate(label))


def invite_welcome(texts: Texts, name: str) -> str:
    return texts.gettext(
        "Welcome, {name}! You are now connected as a sleutelpersoon. You get questions only "
        "within your office hours; /hours shows them."
    ).format(name=isolate(name))


def invite_invalid(texts: Texts) -> str:
    return texts.gettext(
        "This invite link is not valid or has expired. Ask your coordinator for a new one."
    )


def already_a_sleutelpersoon(texts: Texts, organisation: str | None) -> str:
    """An invite opened by an account connected to another profile: nothing changed."""
    if organisation is None:
        return texts.gettext(
            "This Telegram account is already connected as a sleutelpersoon, so the link was "
            "not used and nothing changed: one account holds one profile. Please ask the "
            "coordinator who sent you the link."
        )
    return texts.gettext(
        "This Telegram account is already connected as a sleutelpersoon of {organisation}, so "
        "the link was not used and nothing changed: one account holds one profile. Please ask "
        "the coordinator who sent you the link."
    ).format(organisation=isolate(organisation))


def newcomer_cannot_join(texts: Texts) -> str:
    """An invite opened by a newcomer's account: one account has one role; nothing changed."""
    return texts.gettext(
        "This Telegram account asks questions here, so it cannot also become a sleutelpersoon: "
        "one account has one role. The link was not used and nothing changed. Please use "
        "another Telegram account as a sleutelpersoon, or ask the coordinator who sent you "
        "the link."
    )


# --- coordinators ------------------------------------------------------------------------------


def urgent_alert(texts: Texts, request_id: int, language: str) -> str:
    return texts.gettext(
        "Urgent: a newcomer may be in danger (request {request}, {language}). They received "
        "the emergency numbers at once. Please look at the dashboard."
    ).format(request=isolate(f"#{request_id}"), language=isolate(language_name(texts, language)))


def urgent_alert_before_consent(texts: Texts) -> str:
    # Nothing about the person is stored before they agree, so the alert says only that it
    # happened: no words, no name, no request to look at.
    return texts.gettext(
        "Urgent: someone who has not agreed to the consent text yet wrote what looks like an "
        "emergency. They received the emergency numbers at once. Nothing about them is stored "
        "until they agree."
    )


# --- privacy ---------------------------------------------------------------------------------


def privacy_overview(
    texts: Texts,
    language: str,
    gender_preference: str | None,
    circle_preference: str | None,
    questions: int,
    retention_days: int,
) -> str:
    return texts.gettext(
        "What Sleutelbrug keeps about you: your language ({language}), your preferences "
        "({gender}; {circle}), your agreement, and your {questions} question(s) with what you "
        "wrote, encrypted. Who can see it: the sleutelpersoon who helps you reads your messages; "
        "a coordinator may read a conversation only when something went wrong, and every time "
        "is recorded. Everything is deleted {days} days after you were last active. "
        "Send /delete to delete it all now."
    ).format(
        language=isolate(language_name(texts, language)),
        gender=isolate(
            texts.gettext("a woman")
            if gender_preference == "f"
            else texts.gettext("a man")
            if gender_preference == "m"
            else texts.gettext("no preference for a woman or a man")
        ),
        circle=isolate(
            circle_preference if circle_preference else texts.gettext("no town avoided")
        ),
        questions=isolate(questions),
        days=isolate(retention_days),
    )


def privacy_before_consent(texts: Texts) -> str:
    """/privacy before consent: nothing about the person is kept, only the chat's technical
    records for their short time (README, "Consent")."""
    return texts.gettext(
        "Sleutelbrug keeps nothing about you yet: your language, preferences and questions are "
        "kept only after you agree to the consent text. Until then only the technical records "
        "of this chat exist: your messages to the bot for at most two days (without their "
        "content once handled) and the bot's messages to you for seven days. Send /start to "
        "begin."
    )


def privacy_for_sleutelpersoon(texts: Texts, retention_days: int) -> str:
    return texts.gettext(
        "What Sleutelbrug keeps about you as a sleutelpersoon: your profile (display name, "
        "languages, topics, roles, office hours, leave and limits, and what your coordinator "
        "entered, such as gender, town and organisation), your Telegram account number to send "
        "you messages (not your phone number), your conversations with what was written, "
        "encrypted, and the signals you tagged. Messages are deleted {days} days after they "
        "were written. Who can see it: newcomers see only your display name; the coordinators "
        "of your organisation see your profile and how many conversations you have, and may "
        "read a conversation only when something went wrong, and every time is recorded. To "
        "change or delete your profile, ask your coordinator."
    ).format(days=isolate(retention_days))


def delete_is_for_newcomers(texts: Texts) -> str:
    return texts.gettext(
        "Nothing was deleted: /delete is for newcomers. Your sleutelpersoon profile is managed "
        "by your coordinator. Ask them to deactivate it in the dashboard, or to delete it."
    )


def delete_confirm(texts: Texts) -> str:
    return texts.gettext(
        "Do you want to delete everything Sleutelbrug keeps about you? An open conversation "
        "will be closed. This cannot be undone."
    )


def deleted(texts: Texts) -> str:
    return texts.gettext(
        "Everything about you is deleted. If you write again, we start from the beginning."
    )


def delete_cancelled(texts: Texts) -> str:
    return texts.gettext("Nothing was deleted.")


def conversation_erased(texts: Texts, label: str) -> str:
    return texts.gettext(
        "The newcomer of conversation {label} deleted their data. The conversation is closed."
    ).format(label=isolate(label))


# Telegram's command menu: (command, description) pairs, each description in the reader's
# language. A chat's own menu follows its role and chosen language (see bot/handlers.py).


def newcomer_commands(texts: Texts) -> list[tuple[str, str]]:
    """The commands a newcomer has, as the menu lists them."""
    return [
        ("start", texts.gettext("Start again")),
        ("language", texts.gettext("Choose your language")),
        ("preferences", texts.gettext("Choose who helps you")),
        ("done", texts.gettext("My question is answered")),
        ("privacy", texts.gettext("What is kept about me")),
        ("delete", texts.gettext("Delete my data")),
    ]


def sleutelpersoon_commands(texts: Texts) -> list[tuple[str, str]]:
    """The commands a sleutelpersoon has, as the menu lists them."""
    return [
        ("mine", texts.gettext("My open conversations")),
        ("close", texts.gettext("Close the conversation")),
        ("handback", texts.gettext("Hand the question back, with a note")),
        ("signal", texts.gettext("Tag the conversation with what you notice")),
        ("away", texts.gettext("Away until a date, or: /away off")),
        ("hours", texts.gettext("My office hours")),
        ("language", texts.gettext("Choose your language")),
        ("privacy", texts.gettext("What is kept about me")),
    ]
