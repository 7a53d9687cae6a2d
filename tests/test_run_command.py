"""The one-command local run: `sleutelbrug run` brings up the sandbox chat page, where a person
asks in Arabic and in Tigrinya, the demo sleutelpersoon of that language is offered the question
with the right domain and accepts it, and Ctrl-C stops all it started.

It drives the real process through Debian's Chromium, as a first-time user would.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from playwright.async_api import Browser, Page, expect

from bot import notices
from bot.i18n import load_all_texts
from nlu.service import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = PROJECT_ROOT / "artifacts"
TEXTS = load_all_texts()


def wait_for_page_url(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """Read the run command's output until it prints the sandbox page URL."""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        match = re.search(r"Sandbox Telegram chat page: (\S+)", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no page URL printed; output was:\n{''.join(seen)}")


async def ask(page: Page, page_url: str, name: str, language_code: str, question: str) -> None:
    """As a new newcomer: start, choose the suggested language, agree, ask."""
    await page.goto(page_url)
    await page.fill("input[name=first_name]", name)
    await page.fill("input[name=language_code]", language_code)
    await page.click("#new-user-form button[type=submit]")
    await page.wait_for_url("**/?user=*")
    await page.click("#start-button")
    await page.locator(".inline-keyboard button").first.click()
    agree = TEXTS[language_code].gettext("✅ I agree")
    await page.locator(".inline-keyboard button", has_text=agree).click()
    await page.locator(".from-bot .text", has_text="/preferences").wait_for()
    await page.fill("#message-input", question)
    await page.press("#message-input", "Enter")


async def open_chat_of(page: Page, page_url: str, name: str) -> None:
    await page.goto(page_url)
    await page.locator("#user-list a.user-link", has_text=name).click()
    await page.wait_for_url("**/?user=*")


@dataclass
class RunningCommand:
    process: subprocess.Popen[str]
    page_url: str
    children: list[psutil.Process]


@pytest.fixture
def run_command(tmp_path: Path) -> Iterator[RunningCommand]:
    """`sleutelbrug run` as a child process on embedded defaults, killed if a test leaves it.
    Nothing answers at its RASA_URL, so it starts Rasa itself, as on a fresh machine."""
    environment = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "SANDBOX_PORT": str(free_port()),
        "DASHBOARD_PORT": str(free_port()),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        # Round the clock, so the handover it checks happens whenever the suite runs.
        "DEMO_OFFICE_HOURS": "mon-sun 00:00-24:00",
    }
    for name in ("TELEGRAM_BOT_TOKEN", "REDIS_URL", "DATABASE_URL", "BOT_MODE"):
        environment.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page_url = wait_for_page_url(process)
        assert f":{environment['SANDBOX_PORT']}" in page_url
        children = psutil.Process(process.pid).children(recursive=True)
        yield RunningCommand(process, page_url, children)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.browser
@pytest.mark.rasa
async def test_run_command_serves_a_chat_page_that_routes_arabic_and_tigrinya(
    run_command: RunningCommand, chromium: Browser
) -> None:
    page_url = run_command.page_url
    assert any("redis-server" in child.name() for child in run_command.children), "no Redis"
    assert any("rasa" in " ".join(child.cmdline()) for child in run_command.children), "no Rasa"
    page = await chromium.new_page(viewport={"width": 1100, "height": 800})
    await ask(page, page_url, "أمينة", "ar", "وصلني مكتوب من البلدية ما فهمت شو بدهم")
    await expect(
        page.locator(".from-bot .text", has_text=notices.someone_will_come(TEXTS["ar"], "ar"))
    ).to_be_visible(timeout=20_000)
    await page.screenshot(path=str(SCREENSHOTS / "run-arabic.png"))
    await open_chat_of(page, page_url, "Amal (sleutelpersoon)")
    amal_offer = page.locator(".from-bot .text", has_text=TEXTS["ar"].gettext("letters and forms"))
    await expect(amal_offer).to_be_visible(timeout=20_000)
    await page.screenshot(path=str(SCREENSHOTS / "run-arabic-offer.png"))

    await ask(page, page_url, "ሰላም", "ti", "ሓኪም ክረክብ ደልየ ቆልዓይ ሓሚሙ")
    await expect(
        page.locator(".from-bot .text", has_text=notices.someone_will_come(TEXTS["ti"], "ti"))
    ).to_be_visible(timeout=20_000)
    await page.screenshot(path=str(SCREENSHOTS / "run-tigrinya.png"))
    await open_chat_of(page, page_url, "Tesfay (sleutelpersoon)")
    tesfay_offer = page.locator(".from-bot .text", has_text=TEXTS["ti"].gettext("health"))
    await expect(tesfay_offer).to_be_visible(timeout=20_000)
    await page.locator(".inline-keyboard button", has_text=TEXTS["ti"].gettext("✅ Accept")).click()
    await expect(page.locator(".from-bot .text", has_text="ሓኪም ክረክብ ደልየ ቆልዓይ ሓሚሙ")).to_be_visible(
        timeout=20_000
    )
    await page.screenshot(path=str(SCREENSHOTS / "run-tigrinya-accepted.png"))

    # Ctrl-C stops the bot, the sandbox, the embedded Redis and the Rasa server it started.
    run_command.process.send_signal(signal.SIGINT)
    exit_code = await asyncio.to_thread(run_command.process.wait, 30)
    assert exit_code == 0
    for child in run_command.children:
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(page_url, timeout=2)
