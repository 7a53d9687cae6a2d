"""How updates get into the inbox (bot/inbox.py): our own webhook receiver and getUpdates loop.

Rules kept here:
- The webhook answers 200 only after the update is committed (a duplicate is committed
  already: 200 as well, nothing else happens) and 503 when the database cannot take it, so
  Telegram delivers it again later. A wrong secret token gets 403, a body that is no update 400.
- The getUpdates offset moves past an update only after it is committed.
- New updates are announced on a Redis Stream for the workers (bot/workers.py). The
  announcement is a shortcut, not the record: when Redis fails after the commit the update is
  still stored, and the workers' sweep finds it.
- Neither logs anything of an update but its id.
- The webhook never answers 500 to what a sender controls: a body over `MAX_BODY_BYTES` gets
  413 (read no further than the cap), JSON nested deeper than `MAX_JSON_DEPTH` or ids outside
  the database's signed 64-bit columns get 400.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from telegram import Bot
from telegram.error import RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.clock import Clock
from bot.crypto import MessageCipher
from bot.inbox import chat_of, store_updates, update_id_of

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
WEBHOOK_PATH = "/telegram"
# A database that does not answer within this is treated as down: Telegram retries later.
STORE_TIMEOUT_SECONDS = 10.0
# Entries are only pointers to stored updates; an old backlog beyond this is found by the sweep.
STREAM_MAX_ENTRIES = 100_000
WORKER_GROUP = "workers"
POLL_TIMEOUT_SECONDS = 25
# PTB asks for Bot.get_updates instead of a raw getUpdates; the raw call is deliberate here
# (see _fetch_updates).
warnings.filterwarnings("ignore", message="Please use 'Bot.getUpdates'", category=PTBUserWarning)
MAX_POLL_BACKOFF_SECONDS = 30.0
# Telegram's updates are a few kilobytes (a message is at most 4096 characters) and nest a
# dozen levels at most; anything far beyond is not an update and is refused before parsing.
MAX_BODY_BYTES = 2**20
MAX_JSON_DEPTH = 64


class BodyTooLarge(Exception):
    """The request body is over `MAX_BODY_BYTES`."""


class InboxStream:
    """The Redis Stream on which stored updates are announced to the workers."""

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self.redis = redis
        self.name = f"{key_prefix}inbox"
        self.group = WORKER_GROUP

    async def announce(self, update_id: int, chat_id: int) -> None:
        await self.redis.xadd(
            self.name,
            {"update_id": update_id, "chat_id": chat_id},
            maxlen=STREAM_MAX_ENTRIES,
            approximate=True,
        )


async def store_and_announce(
    sessions: async_sessionmaker[AsyncSession],
    cipher: MessageCipher,
    stream: InboxStream | None,
    payloads: list[dict[str, Any]],
    clock: Clock,
) -> list[tuple[int, int]]:
    """Commit the updates, then announce the new ones; (update_id, chat) of the new ones.

    Raises what the database raises: then nothing may be acknowledged."""
    new = await store_updates(sessions, cipher, payloads, clock.now())
    if stream is not None:
        try:
            for update_id, chat_id in new:
                await stream.announce(update_id, chat_id)
        except RedisError as exc:
            log.warning("could not announce stored updates (the sweep will): %s", exc)
    return new


def webhook_app(
    sessions: async_sessionmaker[AsyncSession],
    cipher: MessageCipher,
    stream: InboxStream | None,
    secret: str,
    clock: Clock,
) -> Starlette:
    """The ASGI app Telegram posts updates to, at `WEBHOOK_PATH`."""

    async def receive(request: Request) -> PlainTextResponse:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return PlainTextResponse("wrong secret token", status_code=403)
        try:
            payload = parse_update(await body_within(request, MAX_BODY_BYTES))
        except BodyTooLarge:
            return PlainTextResponse("body too large", status_code=413)
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("not a Telegram update", status_code=400)
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
                await store_and_announce(sessions, cipher, stream, [payload], clock)
        except ValueError:
            return PlainTextResponse("not a Telegram update", status_code=400)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("update %s not stored: %s", payload.get("update_id"), type(exc).__name__)
            return PlainTextResponse("database unavailable", status_code=503)
        return PlainTextResponse("stored")

    return Starlette(routes=[Route(WEBHOOK_PATH, receive, methods=["POST"])])


async def body_within(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk; BodyTooLarge as soon as it passes `limit` bytes (a
    declared Content-Length over it is refused before reading anything)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def parse_update(body: bytes) -> Any:
    """The JSON value of the body; ValueError when it is not JSON or nests deeper than
    `MAX_JSON_DEPTH` (the parser's own recursion limit shows as RecursionError)."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    if depth_of(value) > MAX_JSON_DEPTH:
        raise ValueError("JSON nested too deep")
    return value


def depth_of(value: Any) -> int:
    """How deep lists and objects nest in a parsed JSON value (0 for a scalar); iterative, so
    it measures what recursion could not."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            children = item.values() if isinstance(item, dict) else item
            pending += [(child, depth + 1) for child in children]
    return deepest


async def poll_updates(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    cipher: MessageCipher,
    clock: Clock,
    on_stored: Callable[[list[tuple[int, int]]], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """Our getUpdates loop: store each batch, then move the offset past it and hand the new
    updates to `on_stored`. Failures are retried with backoff until `stop`."""
    await bot.delete_webhook()
    offset: int | None = None
    backoff = 1.0
    while not stop.is_set():
        try:
            fetched = await _unless_stopped(_fetch_updates(bot, offset), stop)
            if fetched is None:
                return  # stopped during the long poll: the updates stay with Telegram
            batch: list[dict[str, Any]] = [u for u in fetched if isinstance(u, dict)]
            new = await store_and_announce(
                sessions, cipher, None, [u for u in batch if _storable(u)], clock
            )
        except RetryAfter as exc:
            await _pause(stop, _seconds(exc.retry_after))
            continue
        except (TelegramError, SQLAlchemyError, OSError) as exc:
            log.warning("polling failed (%s); retrying in %.0f s", type(exc).__name__, backoff)
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_POLL_BACKOFF_SECONDS)
            continue
        backoff = 1.0
        if batch:
            # Only now, with the batch committed, may Telegram forget it.
            offset = max(_id_or_zero(update) for update in batch) + 1
        if new:
            await on_stored(new)


def _id_or_zero(payload: dict[str, Any]) -> int:
    update_id = payload.get("update_id")
    return update_id if isinstance(update_id, int) else 0


def _storable(payload: dict[str, Any]) -> bool:
    """Whether an update can be stored; one that cannot (an id out of range) is skipped with
    its id in the log, so that it neither stops the loop nor holds up the batch."""
    try:
        update_id_of(payload)
        chat_of(payload)
    except ValueError:
        log.warning("update %r cannot be stored; skipped", payload.get("update_id"))
        return False
    return True


async def _fetch_updates(bot: Bot, offset: int | None) -> Any:
    """getUpdates as Telegram sends it, unparsed: stored as it came, an update PTB cannot
    read is skipped when handled (bot/inbox.py) instead of failing the whole batch here, and
    PTB's own getUpdates, which logs a batch it cannot parse whole, never sees message text."""
    api_kwargs: dict[str, Any] = {"timeout": POLL_TIMEOUT_SECONDS}
    if offset is not None:
        api_kwargs["offset"] = offset
    return await bot.do_api_request(
        "getUpdates", api_kwargs=api_kwargs, read_timeout=POLL_TIMEOUT_SECONDS + 10
    )


async def _unless_stopped(call: Awaitable[Any], stop: asyncio.Event) -> Any | None:
    """The call's result, or None when `stop` is set first (the call is then cancelled)."""
    calling = asyncio.ensure_future(call)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({calling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if calling.done():
        return calling.result()
    calling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await calling
    return None


def _seconds(value: Any) -> float:
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
