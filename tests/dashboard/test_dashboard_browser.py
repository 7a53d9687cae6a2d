"""A coordinator's day in Debian's Chromium, against the real bot, the sandbox Telegram and
PostgreSQL: sign in, invite a sleutelpersoon who completes the invite in the sandbox, set
their office hours and see matching follow them, assign from the queue, open a transcript
with a reason and find the access record, export CSV; another organisation gets 404; wrong
password, forged CSRF token, a transcript without a reason and an expired invite are refused.
A transcript with one very long word stays within the window.

Every main page is saved as artifacts/dashboard-*.png.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from bot import notices
from bot.directory import candidate_pool
from bot.models import (
    AuditAction,
    AuditEntry,
    Conversation,
    CoordinatorRole,
    HelpRequest,
    RequestStatus,
    Signal,
    Sleutelpersoon,
)
from dashboard import auth
from dashboard.i18n import load_translators
from dashboard.server import config_from_settings, serving
from dashboard.web import DashboardConfig
from matching.candidates import HelpRequest as MatchRequest
from matching.candidates import rank_candidates
from nlu.service import free_port
from sandbox import ChatMessage, Sandbox, SimUser
from tests.bot.kit import TEXTS, BotProcess, ManualClock, bot_process, onboard, world

from .kit import PASSWORD, add_conversation, add_person, dashboard

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "artifacts"
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
NL = load_translators()["nl"]
EN = load_translators()["en"]
ANNA, BRAM = "anna@tilburg.example", "bram@breda.example"
QUESTION = "ደብዳቤ ካብ CJIB መጺኡኒ፣ ክንደይ ክኸፍል ኣለኒ?"
REASON = "De nieuwkomer diende een klacht in over dit gesprek"


def nl(message: str) -> str:
    return NL.gettext(message)


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


async def sign_in(context: BrowserContext, base: str, email: str, password: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{base}login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("form[action='/login'] button[type=submit]")
    return page


def is_offer(message: ChatMessage) -> bool:
    return message.find_button(TEXTS["nl"].gettext("✅ Accept")) is not None


async def ask_in_tigrinya(newcomer: SimUser, question: str) -> None:
    """Rasa is down in this test: the newcomer chooses the topic with a button."""
    await onboard(newcomer, "ትግርኛ")
    await newcomer.send_text(question)
    letter = TEXTS["ti"].gettext("✉️ Letter")
    await newcomer.wait_for_message(lambda m: m.find_button(letter) is not None)
    await newcomer.press(letter)


@pytest.mark.browser
async def test_a_coordinators_day_in_chromium(
    postgres_url: str, redis, redis_key_prefix: str, chromium: Browser
) -> None:
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    async with (
        world(postgres_url, redis_key_prefix, nobody_listens, TUESDAY_10) as (
            sandbox,
            clock,
            settings,
        ),
        bot_process(settings, sandbox, clock) as bot,
    ):
        config, closing = config_from_settings(settings, clock)
        async with closing, serving(config, "127.0.0.1", 0) as base:
            async with config.sessions.begin() as session:
                tilburg = await auth.organisation_named(session, clock.now(), "Gemeente Tilburg")
                breda = await auth.organisation_named(session, clock.now(), "Breda")
                for organisation, email, name, admin, locale in (
                    (tilburg, ANNA, "Anna", True, "nl"),
                    (breda, BRAM, "Bram", False, "en"),
                ):
                    await auth.create_coordinator(
                        session, clock.now(), organisation=organisation, email=email,
                        display_name=name, password=PASSWORD, locale=locale,
                        role=CoordinatorRole.ADMIN if admin else CoordinatorRole.COORDINATOR,
                    )  # fmt: skip
            await coordinators_day(chromium, base, sandbox, clock, bot, config)


async def coordinators_day(
    browser: Browser,
    base: str,
    sandbox: Sandbox,
    clock: ManualClock,
    bot: BotProcess,
    config: DashboardConfig,
) -> None:
    sessions = config.sessions
    viewport = {"width": 1280, "height": 900}
    anna_context = await browser.new_context(viewport=viewport, locale="nl-NL")
    errors: list[str] = []

    # --- sign in: a wrong password is refused, the right one opens "Now" ------------------
    page = await sign_in(anna_context, base, ANNA, "wrong password, surely")
    page.on("pageerror", lambda error: errors.append(str(error)))
    await expect(page.locator(".error")).to_have_text(
        nl("The e-mail address or the password is wrong.")
    )
    await shot(page, "login-refused")
    await page.fill("input[name=email]", ANNA)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/now")
    await expect(page.locator("h1")).to_have_text(nl("Now"))

    # --- invite a sleutelpersoon; they complete it in the sandbox -----------------------------
    await page.click(f"text={nl('Sleutelpersonen')}")
    await page.click(f"text={nl('Invite a sleutelpersoon')}")
    await page.fill("input[name=display_name]", "Yonas")
    await page.fill("input[name=languages]", "ti")
    await page.select_option("select[name=locale]", "nl")
    await page.check("input[name=domains][value=post]")
    await page.check("input[name=domains][value=health]")
    await page.check("input[name=roles][value=tolk]")
    await page.click(f"button:has-text('{nl('Create the invite link')}')")
    await expect(page.locator("#invite-link")).to_contain_text("https://t.me/SleutelbrugBot?start=")
    await shot(page, "invite")
    start_command = (await page.locator("#invite-command").inner_text()).strip()

    yonas = sandbox.add_user("Yonas", "nl")
    chat = await anna_context.new_page()
    await chat.goto(f"{sandbox.page_url}?user={yonas.id}")
    await chat.fill("#message-input", start_command)
    await chat.press("#message-input", "Enter")
    welcome = notices.invite_welcome(TEXTS["nl"], "Yonas")
    await expect(chat.locator(".from-bot .text", has_text="Yonas")).to_have_text(welcome)
    await chat.close()
    async with sessions() as session:
        person = await session.scalar(select(Sleutelpersoon))
        assert person is not None and person.telegram_user_id == yonas.id
        person_id = person.id
    await page.goto(f"{base}sleutelpersonen")
    await expect(page.locator("table[data-table=sleutelpersonen] tbody tr")).to_contain_text(
        nl("connected")
    )
    await shot(page, "sleutelpersonen")

    # --- without office hours a question goes to the queue ----------------------------------
    selam = sandbox.add_user("Selam", "ti")
    await ask_in_tigrinya(selam, QUESTION)
    await selam.wait_for_message(lambda m: m.text == notices.queued_for_coordinators(TEXTS["ti"]))
    wanted = MatchRequest(language="ti", domain="post")

    async def ranked() -> list[int]:
        async with sessions() as session:
            pool = await candidate_pool(session, clock.now())
        return [candidate.id for candidate in rank_candidates(pool, wanted, clock.now())]

    assert await ranked() == []

    # --- office hours in the grid: matching follows them at once -----------------------------
    await page.goto(f"{base}sleutelpersonen/{person_id}")
    for slot in range(18, 24):  # Tuesday 09:00-12:00
        await page.check(f"input[name=cell][value='1-{slot}']")
    for day in (0, 2, 3):  # Monday, Wednesday, Thursday 13:00-17:00
        for slot in range(26, 34):
            await page.check(f"input[name=cell][value='{day}-{slot}']")
    await page.click(f"button:has-text('{nl('Save the office hours')}')")
    await expect(page.locator(".notice")).to_have_text(
        nl("The office hours were saved. Matching uses them from now on.")
    )
    await expect(page.locator("#within-now")).to_have_text(nl("yes"))
    await shot(page, "sleutelpersoon")
    assert await ranked() == [person_id]

    # --- the queue: assign Selam's question by hand ------------------------------------------
    await page.goto(f"{base}now")
    await expect(page.locator("#queue tbody tr")).to_have_count(1)
    await shot(page, "now")
    await page.select_option("#queue select[name=sleutelpersoon_id]", str(person_id))
    await page.click(f"#queue button:has-text('{nl('Offer')}')")
    await expect(page.locator(".notice")).to_have_text(
        nl("The request was offered. The sleutelpersoon gets it within their office hours.")
    )
    await bot.tick()  # the dispatcher sends what the dashboard put in the outbox
    await yonas.wait_for_message(is_offer)
    await yonas.press(TEXTS["nl"].gettext("✅ Accept"))
    await yonas.wait_for_message(lambda m: m.text == QUESTION)
    await selam.wait_for_message(lambda m: m.text is not None and "Yonas" in m.text)
    await selam.send_text("ቅጽዓት 95 ዩሮ እዩ")
    await yonas.wait_for_message(lambda m: m.text == "ቅጽዓት 95 ዩሮ እዩ")
    await yonas.send_text("Ik kijk met je naar de brief van het CJIB.")
    await selam.wait_for_message(lambda m: m.text == "Ik kijk met je naar de brief van het CJIB.")

    # A second newcomer now reaches Yonas without anyone's help: matching follows the hours.
    mehret = sandbox.add_user("Mehret", "ti")
    await ask_in_tigrinya(mehret, "ካብ ቤት ጽሕፈት ግብሪ ደብዳቤ መጺኡኒ")
    await yonas.wait_for_message(is_offer)

    # /hours in Telegram shows what the dashboard saved; /away there is what the dashboard shows.
    await yonas.send_text("/hours")
    hours = await yonas.wait_for_message(lambda m: m.text is not None and "dinsdag" in m.text)
    assert hours.text is not None and "09:00" in hours.text and "12:00" in hours.text
    assert "zaterdag" not in hours.text
    await yonas.send_text("/away 2026-12-10")
    away = notices.away_until(TEXTS["nl"], date(2026, 12, 10))
    await yonas.wait_for_message(lambda m: m.text == away)
    await page.goto(f"{base}sleutelpersonen/{person_id}")
    await expect(page.locator(".facts")).to_contain_text(NL.date(date(2026, 12, 10)))
    await yonas.send_text("/away off")
    await yonas.wait_for_message(lambda m: m.text == notices.away_ended(TEXTS["nl"]))

    async with sessions.begin() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        conversation_id = conversation.id
        session.add(
            Signal.tag(conversation_id, person_id, "veel CJIB-boetes", clock.now(), config.cipher)
        )

    # --- conversations, CSV export ------------------------------------------------------------
    await page.goto(f"{base}conversations")
    await expect(page.locator("table[data-table=conversations] tbody tr")).to_have_count(1)
    await shot(page, "conversations")
    async with page.expect_download() as download_info:
        await page.click(f"a:has-text('{nl('Download CSV')}')")
    download = await download_info.value
    assert download.suggested_filename == "sleutelbrug-conversations.csv"
    exported = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
    header, row = exported.splitlines()[:2]
    assert header.startswith(f"{nl('Conversation')},{nl('Sleutelpersoon')},{nl('Language')}")
    assert row.startswith(f"#{conversation_id},Yonas,")
    assert QUESTION not in exported  # metadata only

    # --- a transcript: refused without a reason, opened and recorded with one ----------------
    await page.click(f"a:has-text('#{conversation_id}')")
    await expect(page.locator("h1")).to_contain_text(f"#{conversation_id}")
    assert QUESTION not in await page.content()
    await page.fill("textarea[name=reason]", " " * 12)  # passes the browser, not the server
    await page.click(f"button:has-text('{nl('Record my reason and open the transcript')}')")
    await expect(page.locator(".error")).to_contain_text(
        nl(
            "Give the reason why you need to read this conversation (at least 10 characters). "
            "Nothing was opened and nothing was recorded."
        )
    )
    assert QUESTION not in await page.content()
    async with sessions() as session:
        opened = select(func.count()).where(AuditEntry.action == AuditAction.TRANSCRIPT_OPENED)
        assert await session.scalar(opened) == 0
    await page.fill("textarea[name=reason]", REASON)
    await page.click(f"button:has-text('{nl('Record my reason and open the transcript')}')")
    transcript = page.locator("ol.transcript")
    await expect(transcript).to_contain_text(QUESTION)
    await expect(transcript).to_contain_text("Ik kijk met je naar de brief van het CJIB.")
    await shot(page, "transcript")

    await page.click(f"text={nl('Audit log')}")
    audit_row = page.locator("table[data-table=audit] tbody tr").first
    await expect(audit_row).to_contain_text(REASON)
    await expect(audit_row).to_contain_text("Anna")
    await expect(audit_row).to_contain_text(f"#{conversation_id}")
    await expect(audit_row).to_contain_text(nl("opened a transcript"))
    await shot(page, "audit")

    # --- a forged CSRF token changes nothing ------------------------------------------------
    await page.goto(f"{base}sleutelpersonen/{person_id}")
    await page.fill("#profile input[name=display_name]", "Hacked")
    await page.locator("#profile input[name=csrf_token]").evaluate("e => e.value = 'forged'")
    await page.click(f"button:has-text('{nl('Save the profile')}')")
    await expect(page.locator(".error")).to_contain_text(
        nl(
            "This form was not sent from this dashboard, or it has expired. Nothing was "
            "changed. Reload the page and try again."
        )
    )
    await shot(page, "csrf-refused")
    async with sessions() as session:
        assert (await session.get_one(Sleutelpersoon, person_id)).display_name == "Yonas"

    # --- insight, signals, administration ---------------------------------------------------
    await page.goto(f"{base}insight")
    await expect(page.locator("svg.chart")).to_have_count(2)
    # This week: Selam's and Mehret's questions, both about a letter.
    await expect(
        page.locator("table[data-table=requests_by_domain] tbody tr").last.locator("td").last
    ).to_have_text("2")
    await shot(page, "insight")
    await page.goto(f"{base}signals")
    await expect(page.locator("table[data-table=signals]")).to_contain_text("veel CJIB-boetes")
    await shot(page, "signals")
    await page.goto(f"{base}admin")
    # Tilburg's admin manages Tilburg's accounts only: Breda is not even listed.
    organisations = page.locator("table[data-table=organisations]")
    await expect(organisations).to_contain_text("Gemeente Tilburg")
    await expect(organisations).not_to_contain_text("Breda")
    await shot(page, "admin")

    # --- another organisation's coordinator: 404 -----------------------------------------------
    bram_context = await browser.new_context(viewport=viewport, locale="en-GB")
    bram = await sign_in(bram_context, base, BRAM, PASSWORD)
    await bram.wait_for_url("**/now")
    response = await bram.goto(f"{base}conversations/{conversation_id}")
    assert response is not None and response.status == 404
    await expect(bram.locator(".error")).to_have_text(
        EN.gettext("This page does not exist, or it is not yours to see.")
    )
    await shot(bram, "404")
    await bram_context.close()

    # --- an expired invite is refused by the bot, and nothing changes ------------------------
    await page.goto(f"{base}sleutelpersonen/new")
    await page.fill("input[name=display_name]", "Saba")
    await page.fill("input[name=languages]", "ti")
    await page.check("input[name=domains][value=health]")
    await page.click(f"button:has-text('{nl('Create the invite link')}')")
    saba_command = (await page.locator("#invite-command").inner_text()).strip()
    clock.advance(timedelta(days=8))
    saba = sandbox.add_user("Saba", "ti")
    chat = await anna_context.new_page()
    await chat.goto(f"{sandbox.page_url}?user={saba.id}")
    await chat.fill("#message-input", saba_command)
    await chat.press("#message-input", "Enter")
    await expect(chat.locator(".from-bot .text").last).to_have_text(
        notices.invite_invalid(TEXTS["ti"])
    )
    async with sessions() as session:
        saba_profile = await session.scalar(
            select(Sleutelpersoon).where(Sleutelpersoon.display_name == "Saba")
        )
        assert saba_profile is not None and saba_profile.telegram_user_id is None
        statuses = (await session.scalars(select(HelpRequest.status))).all()
        assert RequestStatus.QUEUED not in statuses  # Selam's was assigned and accepted
    # Eight days later the dashboard session has ended as well: sign in again to see it.
    page = await sign_in(anna_context, base, ANNA, PASSWORD)
    await page.goto(f"{base}sleutelpersonen")
    await expect(page.locator("table[data-table=sleutelpersonen]")).to_contain_text(
        nl("invite expired")
    )
    await shot(page, "invite-expired")
    await anna_context.close()
    assert errors == []


@pytest.mark.browser
async def test_a_transcript_with_a_5000_character_word_is_no_wider_than_the_window(
    sqlite_url: str, chromium: Browser
) -> None:
    """Issue 14: an unbroken 5,000-character message made the transcript page 51,611 px wide."""
    async with dashboard(sqlite_url, TUESDAY_10) as board:
        await board.coordinator("Gemeente Tilburg", ANNA)
        person = await add_person(board, "Gemeente Tilburg", "Amal " + "m" * 70)
        await add_conversation(board, person, [("newcomer", "x" * 5000), ("sleutelpersoon", "y")])
        async with serving(board.config, "127.0.0.1", 0) as base:
            context = await chromium.new_context(viewport={"width": 1024, "height": 768})
            page = await sign_in(context, base, ANNA, PASSWORD)
            await page.goto(f"{base}conversations")
            await page.click("table[data-table=conversations] a")
            await page.fill("textarea[name=reason]", REASON)
            await page.click("form[action$='/transcript'] button[type=submit]")
            await expect(page.locator(".transcript p").first).to_contain_text("xxxx")
            await shot(page, "long-word")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1024, width
            await context.close()
