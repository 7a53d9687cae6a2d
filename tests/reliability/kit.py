"""A webhook deployment under test: the sandbox Telegram, our webhook receiver in this event
loop, and `sleutelbrug worker` processes that can be killed, on the machine's PostgreSQL and
Redis.

The traffic is relaying: each newcomer has an open conversation with their own
sleutelpersoon, so every message a newcomer sends must arrive exactly once, as a copy, in that
sleutelpersoon's chat, and in the order it was sent. No Rasa is needed for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.cli import SANDBOX_TOKEN
from bot.clock import SystemClock
from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.intake import SECRET_HEADER, WEBHOOK_PATH, InboxStream, webhook_app
from bot.models import (
    Conversation,
    HelpRequest,
    InboxUpdate,
    Newcomer,
    Offer,
    OfferStatus,
    RequestStatus,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.serving import serving
from bot.storage import create_engine_for, migrate, session_factory
from matching.office_hours import parse_weekly_hours
from sandbox import Sandbox, SimUser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WEBHOOK_SECRET = "reliability-test-secret"
ROUND_THE_CLOCK = "mon-sun 00:00-24:00"
# Short claims, so a killed worker's updates move on quickly; generous against a loaded machine.
CLAIM_SECONDS = 3.0
WORKER_READY_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 15.0
# Nothing listens here: the relay path never asks Rasa.
NO_RASA_URL = "http://127.0.0.1:9"
FORKED = re.compile(r"forked (\d+)")
READY = re.compile(r"worker \S+-(\d+) ready")


@dataclass
class Pair:
    """A newcomer in an open conversation with their own sleutelpersoon."""

    newcomer: SimUser
    sleutelpersoon: SimUser
    sent: list[str] = field(default_factory=list)
    # The newcomer's message id of each text sent: what the outbox copies.
    message_ids: dict[str, int] = field(default_factory=dict)

    async def send(self, number: int) -> None:
        text = f"{self.newcomer.first_name} {number}"
        message = await self.newcomer.send_text(text)
        self.sent.append(text)
        self.message_ids[text] = message.message_id

    def copies(self) -> list[str]:
        """What reached the sleutelpersoon, in the order it arrived."""
        return [message.text or "" for message in self.sleutelpersoon.received()]


class WorkerZygote:
    """Forks worker processes from one that has imported the bot already (worker_zygote.py):
    a restart takes a fraction of a second instead of seconds of imports."""

    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self._environment = environment
        self._log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._reading: asyncio.Task[None] | None = None
        self._forked: asyncio.Queue[int] = asyncio.Queue()
        self._ready: dict[int, asyncio.Future[None]] = {}
        self._asking = asyncio.Lock()

    async def start(self) -> None:
        with self._log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.reliability.worker_zygote",
                cwd=PROJECT_ROOT,
                env=self._environment,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        self._reading = asyncio.create_task(self._read())

    async def fork(self, arguments: list[str], log_path: Path) -> int:
        """A new worker's pid; it is not ready yet (see `ready`)."""
        assert self._process is not None and self._process.stdin is not None
        async with self._asking:
            request = {"argv": arguments, "log": str(log_path)}
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            await self._process.stdin.drain()
            return await asyncio.wait_for(self._forked.get(), WORKER_READY_TIMEOUT)

    async def ready(self, pid: int) -> None:
        await asyncio.wait_for(self._ready_of(pid), WORKER_READY_TIMEOUT)

    async def stop(self) -> None:
        if self._process is None or self._process.stdin is None:
            return
        self._process.stdin.close()
        await asyncio.wait_for(self._process.wait(), WORKER_STOP_TIMEOUT)
        if self._reading is not None:
            await self._reading

    def _ready_of(self, pid: int) -> asyncio.Future[None]:
        return self._ready.setdefault(pid, asyncio.get_running_loop().create_future())

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        # Several processes write to this pipe, each line in two writes (text, newline), so
        # lines can come out joined; each write on its own is whole.
        async for raw in self._process.stdout:
            for pid in FORKED.findall(raw.decode()):
                self._forked.put_nowait(int(pid))
            for pid in READY.findall(raw.decode()):
                self._ready_of(int(pid)).set_result(None)


class WorkerProcess:
    """One `sleutelbrug worker` process, forked by the zygote; its log goes to `log_path`."""

    def __init__(self, zygote: WorkerZygote, bot_api_url: str, log_path: Path) -> None:
        self._zygote = zygote
        self._bot_api_url = bot_api_url
        self._log_path = log_path
        self._pid: int | None = None

    async def start(self) -> None:
        """Start it and wait until it reads the stream."""
        arguments = ["worker", "--claim-seconds", str(CLAIM_SECONDS)]
        arguments += ["--bot-api-url", self._bot_api_url]
        self._pid = await self._zygote.fork(arguments, self._log_path)
        await self._zygote.ready(self._pid)

    @property
    def inbox_name(self) -> str:
        """The name it claims inbox updates under (`claimed_by`; bot/cli.py: host-pid)."""
        assert self._pid is not None
        return f"{socket.gethostname()}-{self._pid}"

    @property
    def outbox_identity_start(self) -> str:
        """How its outbox claims (`claimed_by`) start: bot/outbox.py's `sender_identity` is
        host:pid:random, and only the random part is unknown here."""
        assert self._pid is not None
        return f"{socket.gethostname()[:40]}:{self._pid}:"

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, no commit of what it was doing."""
        assert self._pid is not None
        os.kill(self._pid, signal.SIGKILL)
        await self._gone(WORKER_STOP_TIMEOUT)

    async def stop(self) -> None:
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGTERM)
        try:
            await self._gone(WORKER_STOP_TIMEOUT)
        except TimeoutError:
            await self.kill()

    async def _gone(self, within: float) -> None:
        """Wait until the process no longer exists (the kernel reaps it at once)."""

        async def gone() -> bool:
            try:
                os.kill(self._pid or 0, 0)
            except ProcessLookupError:
                return True
            return False

        await eventually(gone, within, f"worker {self._pid} gone")


class StatusLog:
    """ASGI wrapper that remembers every answer the receiver gave, per update_id."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self.answers: dict[int, list[int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        body = b""

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        update_id = json.loads(body).get("update_id", -1)

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.answers.setdefault(update_id, []).append(message["status"])
            await send(message)

        await self._app(scope, replay, record)


@dataclass
class Deployment:
    sandbox: Sandbox
    sessions: async_sessionmaker[AsyncSession]
    cipher_spec: str
    receiver_url: str
    answers: StatusLog
    workers: list[WorkerProcess]
    make_worker: Callable[[], WorkerProcess]

    async def add_pairs(self, count: int) -> list[Pair]:
        """`count` newcomers, each in an open conversation with a sleutelpersoon of their own."""
        pairs = []
        now = datetime.now(UTC)
        async with self.sessions.begin() as session:
            for index in range(count):
                newcomer = self.sandbox.add_user(f"N{index}", language_code="nl")
                helper = self.sandbox.add_user(f"S{index}", language_code="nl")
                await _open_conversation(session, now, newcomer, helper)
                pairs.append(Pair(newcomer, helper))
        return pairs

    async def post_update(self, client: httpx.AsyncClient, update: dict[str, Any]) -> int:
        """Deliver an update to the receiver as Telegram would; the HTTP status."""
        response = await client.post(
            self.receiver_url, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
        return response.status_code

    async def set_webhook(self) -> None:
        """Let the sandbox deliver its updates to our receiver."""
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.post(
                f"{self.sandbox.base_url}{self.sandbox.token}/setWebhook",
                json={"url": self.receiver_url, "secret_token": WEBHOOK_SECRET},
            )
        response.raise_for_status()

    async def unhandled(self) -> int:
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count()).where(InboxUpdate.handled_at.is_(None))
            )
        return count or 0

    async def stored(self) -> int:
        async with self.sessions() as session:
            return await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0


async def _open_conversation(
    session: AsyncSession, now: datetime, newcomer_user: SimUser, helper: SimUser
) -> None:
    person, _token = create_sleutelpersoon(
        session,
        now,
        NewProfile(
            display_name=helper.first_name,
            languages=("nl",),
            domains=("post",),
            windows=parse_weekly_hours(ROUND_THE_CLOCK),
            works_on_public_holidays=True,
            telegram_user_id=helper.id,
        ),
    )
    newcomer = Newcomer(
        telegram_user_id=newcomer_user.id,
        locale="nl",
        consented_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(newcomer)
    await session.flush()
    request = HelpRequest(
        newcomer_id=newcomer.id,
        language="nl",
        domain="post",
        status=RequestStatus.ACCEPTED,
        institutions=[],
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    session.add(
        Offer(
            request_id=request.id,
            sleutelpersoon_id=person.id,
            status=OfferStatus.ACCEPTED,
            created_at=now,
        )
    )
    session.add(
        Conversation(
            request_id=request.id,
            newcomer_id=newcomer.id,
            sleutelpersoon_id=person.id,
            label=f"#{request.id}",
            status="open",
            opened_at=now,
            feedback_pending=False,
        )
    )


class TcpProxy:
    """A TCP relay in this event loop that can be cut and restored: a database "outage"."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def restore(self) -> None:
        await self.start()

    async def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._writers -= {writer, upstream_writer}


@contextlib.asynccontextmanager
async def deployment(
    database_url: str,
    redis: Redis,
    redis_key_prefix: str,
    log_dir: Path,
    *,
    workers: int = 3,
    receiver_database_url: str | None = None,
) -> AsyncIterator[Deployment]:
    """A migrated database, the sandbox, the receiver and `workers` running worker processes.

    `receiver_database_url` lets the receiver reach the same database another way (a proxy)."""
    migrate(database_url)
    cipher_spec = new_key_spec("rel")
    cipher = MessageCipher(parse_keys(cipher_spec))
    engine = create_engine_for(database_url)
    receiver_engine = create_engine_for(receiver_database_url or database_url)
    stream = InboxStream(redis, redis_key_prefix)
    answers = StatusLog(
        webhook_app(session_factory(receiver_engine), cipher, stream, WEBHOOK_SECRET, SystemClock())
    )
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": redis_key_prefix,
        "TELEGRAM_BOT_TOKEN": SANDBOX_TOKEN,
        "MESSAGE_KEYS": cipher_spec,
        "RASA_URL": NO_RASA_URL,
        "DATA_DIR": str(log_dir / "data"),
        "LOG_LEVEL": "INFO",
    }
    zygote = WorkerZygote(environment, log_dir / "zygote.log")
    started: list[WorkerProcess] = []
    try:
        async with (
            Sandbox(token=SANDBOX_TOKEN, flood_limits=None, webhook_retry_delay=0.2) as sandbox,
            serving(answers, "127.0.0.1", 0, "receiver") as base_url,
        ):
            await zygote.start()
            log_number = iter(range(1_000_000))

            def make_worker() -> WorkerProcess:
                path = log_dir / f"worker-{next(log_number)}.log"
                return WorkerProcess(zygote, sandbox.base_url, path)

            started = [make_worker() for _ in range(workers)]
            await asyncio.gather(*(worker.start() for worker in started))
            yield Deployment(
                sandbox=sandbox,
                sessions=session_factory(engine),
                cipher_spec=cipher_spec,
                receiver_url=base_url.rstrip("/") + WEBHOOK_PATH,
                answers=answers,
                workers=started,
                make_worker=make_worker,
            )
    finally:
        await asyncio.gather(*(worker.stop() for worker in started))
        await zygote.stop()
        await engine.dispose()
        await receiver_engine.dispose()


async def eventually(condition: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    """Wait until the async condition holds, checking a few times a second."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not reached within {within} s")
        await asyncio.sleep(0.1)
