"""Fixtures for the sandbox tests: each test gets its own sandbox on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot

from sandbox import Sandbox
from tests.sandbox.sandbox_testkit import WEBHOOK_RETRY_DELAY, RawBotApi


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(webhook_retry_delay=WEBHOOK_RETRY_DELAY) as sb:
        yield sb


@pytest.fixture
async def raw_api(sandbox: Sandbox) -> AsyncIterator[RawBotApi]:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        yield RawBotApi(client, sandbox)


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    """A PTB Bot talking to the sandbox, initialised (it has called getMe)."""
    ptb_bot = Bot(sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
    async with ptb_bot:
        yield ptb_bot
