"""Telegram handlers of the walking skeleton: choose a language, ask, hear the understood domain.

Each handler parses the update, asks the services, and replies; what to say is decided by
`bot.replies`, and who the newcomer is by `bot.storage`. No message text is ever logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.i18n import LANGUAGE_ENDONYMS, SUPPORTED_LOCALES, isolate, suggest_locale
from bot.services import Services, services_of
from nlu.client import NluUnavailable
from nlu.domains import Domain

log = logging.getLogger(__name__)

LANGUAGE_CALLBACK_PREFIX = "lang:"
DOMAIN_CALLBACK_PREFIX = "domain:"
CHOOSABLE_DOMAINS = (Domain.POST, Domain.FINANCE, Domain.HEALTH, Domain.OTHER)

GetText = Callable[[str], str]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet in every language and offer the language choice."""
    await _send_language_choice(update, context)


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the language choice again (/language)."""
    await _send_language_choice(update, context)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain what the bot does, in the newcomer's language (/help)."""
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    texts = services.texts[await _locale_for(services, user.id, user.language_code, None)]
    await message.reply_text(
        texts.gettext(
            "Write your question about a letter, money or health in your own words. "
            "Use /language to change the language."
        )
    )


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the language the newcomer pressed and invite the question."""
    services = services_of(context)
    query = update.callback_query
    if query is None or query.data is None or update.effective_user is None:
        return
    locale = query.data.removeprefix(LANGUAGE_CALLBACK_PREFIX)
    if locale not in SUPPORTED_LOCALES:
        await query.answer()
        return
    await services.newcomers.set_locale(update.effective_user.id, locale)
    texts = services.texts[locale]
    await query.answer()
    await query.edit_message_text(
        texts.gettext("Language: {language}").format(language=isolate(LANGUAGE_ENDONYMS[locale]))
    )
    await query.get_bot().send_message(
        chat_id=update.effective_user.id,
        text=texts.gettext(
            "Welcome to Sleutelbrug. Write your question about a letter, money or health "
            "in your own words."
        ),
    )


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Classify a text question and say which domain it is about, or ask with buttons."""
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    locale = await _locale_for(services, user.id, user.language_code, message.text, remember=True)
    texts = services.texts[locale]
    try:
        classification = await services.nlu.classify(message.text)
    except NluUnavailable as exc:
        log.warning("NLU unavailable, asking with buttons: %s", exc)
        await message.reply_text(
            texts.gettext(
                "I cannot read your message automatically right now. "
                "What is your question about? Tap a button."
            ),
            reply_markup=domain_keyboard(texts.gettext),
        )
        return
    log.info(
        "classified intent=%s confidence=%.2f", classification.intent, classification.confidence
    )
    if classification.domain is None:
        await message.reply_text(
            texts.gettext("What is your question about? Tap a button."),
            reply_markup=domain_keyboard(texts.gettext),
        )
        return
    await message.reply_text(understood_text(texts.gettext, classification.domain))
    institutions = sorted({entity.value for entity in classification.entities})
    if institutions:
        await message.reply_text(
            texts.gettext("I recognised: {names}").format(
                names=", ".join(isolate(name) for name in institutions)
            )
        )


async def media_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo, voice note or document has no text to classify: ask with buttons."""
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    locale = await _locale_for(services, user.id, user.language_code, message.caption)
    texts = services.texts[locale]
    await message.reply_text(
        texts.gettext("What is your question about? Tap a button."),
        reply_markup=domain_keyboard(texts.gettext),
    )


async def choose_domain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The newcomer tapped a domain button: confirm what was understood."""
    services = services_of(context)
    query = update.callback_query
    user = update.effective_user
    if query is None or query.data is None or user is None:
        return
    value = query.data.removeprefix(DOMAIN_CALLBACK_PREFIX)
    await query.answer()
    if value not in {domain.value for domain in CHOOSABLE_DOMAINS}:
        return
    texts = services.texts[await _locale_for(services, user.id, user.language_code, None)]
    await query.edit_message_reply_markup(reply_markup=None)
    await query.get_bot().send_message(
        chat_id=user.id, text=understood_text(texts.gettext, Domain(value))
    )


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure without message content and apologise to the newcomer."""
    log.error("update handling failed: %s", type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    services = services_of(context)
    user = update.effective_user
    try:
        locale = await _locale_for(services, user.id, user.language_code, None)
        await context.bot.send_message(
            chat_id=user.id,
            text=services.texts[locale].gettext(
                "Sorry, something went wrong on our side. Please send your message again."
            ),
        )
    except Exception:  # the apology is best effort: the original error is already logged
        log.exception("could not apologise after an error")


def understood_text(gettext: GetText, domain: Domain) -> str:
    """What the bot says it understood; each domain is one whole sentence to translate."""
    if domain is Domain.POST:
        return gettext("I understand: your question is about a letter or a form.")
    if domain is Domain.FINANCE:
        return gettext(
            "I understand: your question is about money, such as bills, debts or toeslagen."
        )
    if domain is Domain.HEALTH:
        return gettext("I understand: your question is about health, such as a doctor or medicine.")
    if domain is Domain.EMERGENCY:
        return gettext(
            "If you or someone else is in danger right now, call {emergency}. "
            "If you think about ending your life, call 113 Zelfmoordpreventie: {suicide_line} "
            "(free, day and night). Violence at home: Veilig Thuis {veilig_thuis} "
            "(free, day and night)."
        ).format(
            emergency=isolate("112"),
            suicide_line=isolate("0800-0113"),
            veilig_thuis=isolate("0800-2000"),
        )
    return gettext(
        "I understand: your question is about something other than letters, money or health."
    )


def domain_keyboard(gettext: GetText) -> InlineKeyboardMarkup:
    """Large buttons, one per row, so that people who read little can still choose."""
    labels = {
        Domain.POST: gettext("✉️ Letter"),
        Domain.FINANCE: gettext("💶 Money"),
        Domain.HEALTH: gettext("🏥 Health"),
        Domain.OTHER: gettext("❓ Other"),
    }
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(labels[domain], callback_data=DOMAIN_CALLBACK_PREFIX + domain)]
            for domain in CHOOSABLE_DOMAINS
        ]
    )


async def _send_language_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    suggested = suggest_locale(user.language_code)
    # The suggested language comes first; every prompt line is in its own language.
    order = [suggested, *(locale for locale in SUPPORTED_LOCALES if locale != suggested)]
    prompt = "\n".join(services.texts[locale].gettext("Choose your language") for locale in order)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    LANGUAGE_ENDONYMS[locale], callback_data=LANGUAGE_CALLBACK_PREFIX + locale
                )
            ]
            for locale in order
        ]
    )
    await message.reply_text(prompt, reply_markup=keyboard)


async def _locale_for(
    services: Services,
    user_id: int,
    language_code: str | None,
    text: str | None,
    *,
    remember: bool = False,
) -> str:
    """The language the newcomer chose, else a guess from their writing and Telegram setting.

    With `remember`, a guess is stored so that the conversation stays in one language.
    """
    stored = await services.newcomers.locale_of(user_id)
    if stored in SUPPORTED_LOCALES:
        return stored
    guess = suggest_locale(language_code, text)
    if remember:
        await services.newcomers.set_locale(user_id, guess)
    return guess
