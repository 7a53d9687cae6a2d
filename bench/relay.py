"""Relay benchmark: the real bot and a bare echo bot, side by side on the sandbox Telegram.

Each bot runs in its own process (`bench.relay_worker`) against a fresh sandbox in this
process, with the sandbox's flood limits off. Both get the same load, in three phases:

- chat pace: each conversation exchanges a message every `chat_interval` seconds (alternately
  newcomer and sleutelpersoon), a brisk chat; this is the load at which latency is judged;
- 30/s: messages at Telegram's own limit for a bot, the most it could ever be asked to send;
- burst: every newcomer and every sleutelpersoon of the N conversations sends `burst` messages
  at once; throughput is copies delivered per second, from the first message the sandbox
  received to the last copy it got from the bot — what the bot can do flat out.

Latency is what a user would see: from the moment the sandbox received a newcomer's message to
the moment the bot's copy appeared in the sleutelpersoon's chat, both stamped by the sandbox's
clock, so neither the harness's scheduling nor its polling enters the figure.

The N conversations are created with the bot's own code before the worker starts: profiles by
`create_sleutelpersoon`, a newcomer who consented, a request with a pending offer, then
`Handover.accept` — the same state an Accept press leaves. The worker's first outbox flush sends
the conversation headers, so the sleutelpersoon's copies reply to them as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import psutil
import psycopg
from redis.asyncio import Redis

from bench.memory import peak_rss_mb
from bench.relay_worker import ECHO, RELAY, WorkerConfig
from bench.report import percentile
from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.handover import AcceptOutcome, Handover, HandoverPolicy
from bot.i18n import load_all_texts
from bot.models import HelpRequest, Newcomer, Offer, OfferStatus, RequestStatus
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.storage import create_engine_for, migrate, session_factory
from matching.office_hours import parse_weekly_hours
from sandbox import ChatMessage, Sandbox, SimUser

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_TOKEN = "123456789:SANDBOX-bench-token-not-for-telegram"  # noqa: S105
# Office hours that cover any moment of the run, so the outbox never holds a copy back.
ALWAYS = "mon-sun 00:00-24:00"
# A realistic newcomer message (about a letter from the tax office), not an emergency.
NEWCOMER_TEXT = "وصلتني رسالة من الضرائب عن دفعة مسبقة، هل لازم ادفع هلق ولا بستنى؟"
SLEUTELPERSOON_TEXT = "Stuur me een foto van de tweede pagina, dan kijk ik wanneer je moet betalen."
# Telegram's limit on a bot's messages, all chats together.
TELEGRAM_MESSAGES_PER_SECOND = 30.0
BURST = "burst"
CHAT_PACE = "chat pace"
TELEGRAM_PACE = "30/s"
WORKER_START_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 30.0
SETTLE_TIMEOUT = 300.0


@dataclass(frozen=True)
class RelayLoad:
    conversations: int
    burst: int  # messages each side of each conversation sends at once
    chat_interval: float  # seconds between two messages of one conversation at chat pace
    paced_seconds: float  # how long each paced phase sends

    def __post_init__(self) -> None:
        if self.conversations < 1 or self.burst < 1:
            raise ValueError("at least one conversation and one burst message are needed")
        if any(round(rate * self.paced_seconds) < 1 for rate in self.paced_rates().values()):
            raise ValueError("every paced phase must last long enough for one message")

    def paced_rates(self) -> dict[str, float]:
        """Messages per second (both directions together) of each paced phase."""
        return {
            CHAT_PACE: self.conversations / self.chat_interval,
            TELEGRAM_PACE: TELEGRAM_MESSAGES_PER_SECOND,
        }


@dataclass(frozen=True)
class PhaseResult:
    phase: str
    messages: int
    seconds: float  # the sandbox receiving the first message to it getting the last copy
    sending_seconds: float  # how long the harness took to send them
    latencies_ms: tuple[float, ...]  # newcomer -> sleutelpersoon copies only
    bot_cpu_ms: float  # CPU time of the bot process per message
    sandbox_cpu_ms: float  # CPU time of the sandbox (with the simulated users) per message

    @property
    def throughput(self) -> float:
        return self.messages / self.seconds

    @property
    def offered_rate(self) -> float:
        return self.messages / self.sending_seconds if self.sending_seconds else math.inf

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99)


@dataclass(frozen=True)
class BotRun:
    bot: str
    phases: tuple[PhaseResult, ...]
    peak_rss_mb: float

    def phase(self, name: str) -> PhaseResult:
        return next(phase for phase in self.phases if phase.phase == name)


@dataclass(frozen=True)
class Pair:
    newcomer: SimUser
    sleutelpersoon: SimUser


# A fresh database for each bot run (the sandbox's user ids start over with each sandbox).
DatabaseFactory = Callable[[Path], contextlib.AbstractContextManager[str]]

ECHO_BOT = "echo"
UNCAPPED = "relay"
CAPPED = "relay, own limits 30/s, 1/s per chat"


# --- stores -----------------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    """A new SQLite file in `folder` (removed with the folder)."""
    yield f"sqlite:///{folder / f'relay-{uuid.uuid4().hex[:12]}.sqlite3'}"


def postgres_databases(admin_url: str) -> DatabaseFactory:
    """New databases on the machine's PostgreSQL, each dropped after its run."""

    @contextlib.contextmanager
    def postgres_database(_folder: Path) -> Iterator[str]:
        name = f"sleutelbrug_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            yield f"{base}/{name}"
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return postgres_database


async def delete_redis_keys(redis_url: str, prefix: str) -> None:
    """Remove only our own keys; the Redis is shared with other programs."""
    client: Redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


# --- conversations ------------------------------------------------------------------------------


async def open_conversations(
    database_url: str, pairs: list[Pair], cipher: MessageCipher, now: datetime
) -> None:
    """Each pair in an open conversation, made by the bot's own code (see the module doc)."""
    migrate(database_url)
    engine = create_engine_for(database_url)
    handover = Handover(load_all_texts(), HandoverPolicy(), cipher)
    try:
        async with session_factory(engine).begin() as session:
            for number, pair in enumerate(pairs):
                person, _token = create_sleutelpersoon(
                    session,
                    now,
                    NewProfile(
                        display_name=f"Sleutelpersoon {number}",
                        languages=("ar",),
                        domains=("post", "finance"),
                        windows=parse_weekly_hours(ALWAYS),
                        works_on_public_holidays=True,
                        telegram_user_id=pair.sleutelpersoon.id,
                    ),
                )
                newcomer = Newcomer(
                    telegram_user_id=pair.newcomer.id,
                    locale="ar",
                    consented_at=now,
                    created_at=now,
                    updated_at=now,
                )
                session.add(newcomer)
                await session.flush()
                request = HelpRequest(
                    newcomer_id=newcomer.id,
                    language="ar",
                    domain="post",
                    status=RequestStatus.OFFERED,
                    created_at=now,
                    updated_at=now,
                )
                session.add(request)
                await session.flush()
                offer = Offer(
                    request_id=request.id,
                    sleutelpersoon_id=person.id,
                    status=OfferStatus.PENDING,
                    created_at=now,
                    expires_at=now + timedelta(minutes=10),
                )
                session.add(offer)
                await session.flush()
                outcome = await handover.accept(session, now, offer, person)
                if outcome is not AcceptOutcome.ACCEPTED:
                    raise RuntimeError(f"setting up conversation {number}: {outcome}")
    finally:
        await engine.dispose()


# --- the sandbox --------------------------------------------------------------------------------


async def sandbox_round_trip(calls: int = 20) -> float:
    """Median ms of a trivial Bot API call (getMe) on one kept-alive connection: the floor the
    sandbox puts under every call. It was ~44 ms while the sandbox's listener lacked
    TCP_NODELAY (each answer waited for the client's delayed ACK); the figure shows if that
    comes back."""
    async with Sandbox(token=SANDBOX_TOKEN, flood_limits=None) as sandbox:
        return await _median_get_me_ms(sandbox, calls)


async def _median_get_me_ms(sandbox: Sandbox, calls: int) -> float:
    durations = []
    # A new client, so a new connection that the listener's current options apply to.
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}{sandbox.token}/") as client:
        # Opens the connection; Linux acknowledges a new connection's first packets at once,
        # so the delay only shows on the calls after it.
        await client.get("getMe")
        for _ in range(calls):
            started = time.perf_counter()
            response = await client.get("getMe")
            durations.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return statistics.median(durations)


# --- the worker process -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_worker(config: WorkerConfig, folder: Path) -> AsyncIterator[int]:
    """Start a worker process; yield its pid; SIGTERM it and wait for it on exit."""
    config_path = folder / f"{config.kind}-worker.json"
    config.write(config_path)
    log_path = folder / f"{config.kind}-worker.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.relay_worker", str(config_path),
            cwd=PROJECT_ROOT, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        yield process.pid
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), WORKER_STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
    if process.returncode not in (0, -signal.SIGTERM):
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"{config.kind} worker exited with {process.returncode}:\n{tail}")


async def wait_for(
    sandbox: Sandbox, condition: Callable[[], bool], seconds: float, what: str
) -> None:
    try:
        await sandbox.wait_until(condition, seconds)
    except TimeoutError:
        raise TimeoutError(f"{what} did not happen within {seconds:.0f} s") from None


def bot_messages_to(sandbox: Sandbox, users: list[SimUser]) -> int:
    return sum(1 for user in users for _ in sandbox.world.bot_messages(user.id))


# --- load and measurement -----------------------------------------------------------------------


class Phase:
    """One phase of load: remembers what was sent, then reads the copies back from the sandbox."""

    def __init__(self, sandbox: Sandbox, pairs: list[Pair], name: str, worker_pid: int) -> None:
        self.sandbox = sandbox
        self.pairs = pairs
        self.name = name
        # text -> (sent by a newcomer?, when the sandbox received it)
        self.sent: dict[str, tuple[bool, datetime]] = {}
        self._counted_requests = len(sandbox.requests)
        self._copies = 0
        self._worker = psutil.Process(worker_pid)
        self._harness = psutil.Process()
        self._worker_cpu = _cpu_seconds(self._worker)
        self._harness_cpu = _cpu_seconds(self._harness)
        self._started = asyncio.get_running_loop().time()
        self._sending_seconds = 0.0

    async def send(self, pair_number: int, by_newcomer: bool, sequence: int) -> None:
        pair = self.pairs[pair_number]
        if by_newcomer:
            user, body = pair.newcomer, NEWCOMER_TEXT
        else:
            user, body = pair.sleutelpersoon, SLEUTELPERSOON_TEXT
        # A unique tag so that each copy can be traced back to its original.
        text = f"[{self.name} {pair_number}.{sequence}] {body}"
        message = await user.send_text(text)
        self.sent[text] = (by_newcomer, message.date)

    def copies_delivered(self) -> int:
        requests = self.sandbox.requests
        for record in requests[self._counted_requests :]:
            if record.method == "copyMessage" and record.status == 200:
                self._copies += 1
        self._counted_requests = len(requests)
        return self._copies

    async def settle(self) -> PhaseResult:
        """Wait for every copy, then measure."""
        self._sending_seconds = asyncio.get_running_loop().time() - self._started
        expected = len(self.sent)
        await wait_for(
            self.sandbox,
            lambda: self.copies_delivered() >= expected,
            SETTLE_TIMEOUT,
            f"delivery of all {expected} copies of the {self.name} phase",
        )
        worker_cpu = _cpu_seconds(self._worker) - self._worker_cpu
        harness_cpu = _cpu_seconds(self._harness) - self._harness_cpu
        copies: list[tuple[ChatMessage, bool, datetime]] = []
        for pair in self.pairs:
            for user in (pair.newcomer, pair.sleutelpersoon):
                for message in self.sandbox.world.bot_messages(user.id):
                    original = self.sent.get(message.text or "")
                    if original is not None:
                        copies.append((message, *original))
        if len(copies) != expected:
            raise RuntimeError(f"{len(copies)} copies for {expected} messages")
        first_sent = min(sent_at for _, _, sent_at in copies)
        last_copy = max(message.date for message, _, _ in copies)
        return PhaseResult(
            phase=self.name,
            messages=expected,
            seconds=(last_copy - first_sent).total_seconds(),
            sending_seconds=self._sending_seconds,
            latencies_ms=tuple(
                (message.date - sent_at).total_seconds() * 1000
                for message, by_newcomer, sent_at in copies
                if by_newcomer
            ),
            bot_cpu_ms=worker_cpu * 1000 / expected,
            sandbox_cpu_ms=harness_cpu * 1000 / expected,
        )


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def burst_phase(sandbox: Sandbox, pairs: list[Pair], burst: int, pid: int) -> PhaseResult:
    """Every side of every conversation sends `burst` messages at once."""
    phase = Phase(sandbox, pairs, BURST, pid)
    for sequence in range(burst):
        for number in range(len(pairs)):
            await phase.send(number, True, sequence)
            await phase.send(number, False, sequence)
    return await phase.settle()


async def paced_phase(
    sandbox: Sandbox, pairs: list[Pair], name: str, rate: float, seconds: float, pid: int
) -> PhaseResult:
    """Messages at a steady `rate`: alternately from a newcomer and a sleutelpersoon, going
    round the conversations, so every chat gets its share."""
    phase = Phase(sandbox, pairs, name, pid)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index in range(round(rate * seconds)):
        delay = started + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await phase.send((index // 2) % len(pairs), index % 2 == 0, index // (2 * len(pairs)))
    return await phase.settle()


async def run_load(
    sandbox: Sandbox, pairs: list[Pair], load: RelayLoad, bot: str, pid: int
) -> BotRun:
    # Paced phases first: the burst leaves work behind (the database writing out what it just
    # took in), which would otherwise land in the latency figures.
    phases = [
        await paced_phase(sandbox, pairs, name, rate, load.paced_seconds, pid)
        for name, rate in load.paced_rates().items()
    ]
    phases.append(await burst_phase(sandbox, pairs, load.burst, pid))
    return BotRun(bot=bot, phases=tuple(phases), peak_rss_mb=peak_rss_mb(pid))


def make_pairs(sandbox: Sandbox, count: int) -> list[Pair]:
    return [
        Pair(
            newcomer=sandbox.add_user(f"Nieuwkomer {number}", "ar"),
            sleutelpersoon=sandbox.add_user(f"Sleutelpersoon {number}", "nl"),
        )
        for number in range(count)
    ]


async def measure_echo(load: RelayLoad, folder: Path) -> BotRun:
    async with Sandbox(token=SANDBOX_TOKEN, flood_limits=None) as sandbox:
        pairs = make_pairs(sandbox, load.conversations)
        partners = [(p.newcomer.id, p.sleutelpersoon.id) for p in pairs]
        partners += [(sleutelpersoon, newcomer) for newcomer, sleutelpersoon in partners]
        config = WorkerConfig(
            kind=ECHO,
            token=sandbox.token,
            base_url=sandbox.base_url,
            base_file_url=sandbox.base_file_url,
            partners=tuple(partners),
        )
        async with running_worker(config, folder) as pid:
            await wait_for(
                sandbox,
                lambda: any(r.method == "getUpdates" for r in sandbox.requests),
                WORKER_START_TIMEOUT,
                "the echo bot's first getUpdates",
            )
            return await run_load(sandbox, pairs, load, ECHO_BOT, pid)


async def measure_relay(
    load: RelayLoad,
    folder: Path,
    databases: DatabaseFactory,
    redis_url: str,
    *,
    self_rate_limit: bool,
    label: str,
) -> BotRun:
    message_keys = new_key_spec("bench")
    redis_key_prefix = f"bench:{uuid.uuid4().hex[:12]}:"
    with databases(folder) as database_url:
        try:
            async with Sandbox(token=SANDBOX_TOKEN, flood_limits=None) as sandbox:
                pairs = make_pairs(sandbox, load.conversations)
                await open_conversations(
                    database_url,
                    pairs,
                    MessageCipher(parse_keys(message_keys)),
                    sandbox.world.now(),
                )
                config = WorkerConfig(
                    kind=RELAY,
                    token=sandbox.token,
                    base_url=sandbox.base_url,
                    base_file_url=sandbox.base_file_url,
                    database_url=database_url,
                    redis_url=redis_url,
                    redis_key_prefix=redis_key_prefix,
                    message_keys=message_keys,
                    self_rate_limit=self_rate_limit,
                )
                everyone = [user for pair in pairs for user in (pair.newcomer, pair.sleutelpersoon)]
                async with running_worker(config, folder) as pid:
                    # Each side gets one message as the conversation opens: the sleutelpersoon
                    # its header, the newcomer the news that someone accepted.
                    await wait_for(
                        sandbox,
                        lambda: bot_messages_to(sandbox, everyone) >= len(everyone),
                        WORKER_START_TIMEOUT,
                        "the opening messages of every conversation",
                    )
                    return await run_load(sandbox, pairs, load, label, pid)
        finally:
            await delete_redis_keys(redis_url, redis_key_prefix)


async def measure_relay_and_echo(
    load: RelayLoad, databases: DatabaseFactory, redis_url: str, *, rounds: int, capped: bool
) -> list[BotRun]:
    """Echo and relay alternately, `rounds` times, so that both see the same machine load; with
    `capped`, also the relay as deployed, held to Telegram's limits by its own rate limiter."""
    runs: list[BotRun] = []
    with tempfile.TemporaryDirectory(prefix="sleutelbrug-bench-") as temporary:
        folder = Path(temporary)
        for _ in range(rounds):
            runs.append(await measure_echo(load, folder))
            runs.append(
                await measure_relay(
                    load, folder, databases, redis_url, self_rate_limit=False, label=UNCAPPED
                )
            )
        if capped:
            runs.append(
                await measure_relay(
                    load, folder, databases, redis_url, self_rate_limit=True, label=CAPPED
                )
            )
    return runs
