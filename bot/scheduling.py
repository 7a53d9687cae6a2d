"""Which chat is handled when, in one process: chats side by side, each one in order.

Rules kept here:
- At most `concurrency` chats are drained at once (each holds a database connection while it
  works), and a chat is drained by one task at a time, so this process never handles two
  updates of one chat at once (the inbox's claims keep that between processes).
- A chat asked for while it is being drained is drained once more afterwards, so no update
  that arrived meanwhile waits for the sweep; asking many times costs one extra turn, not
  many. A flood of one chat therefore takes one place, never all of them.
- A drain that the inbound limit stopped (`Deferred`) is asked for again when the limit allows;
  a process that dies meanwhile leaves the updates stored, and the sweep finds them.
- Tokens (the stream entries that announced a chat's updates) are handed to `acknowledge`
  once a drain that started after they came in has ended, whether it handled them or found
  the chat held by another worker or deferred; after a failure they are not, and stay
  pending to be taken over.
- Bounded: at most `max_chats` chats are queued or running; `room` waits for a place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from bot.inbox import Busy, Deferred

log = logging.getLogger(__name__)

Drain = Callable[[int], Awaitable["int | Busy | Deferred"]]
Acknowledge = Callable[[list[bytes]], Awaitable[None]]


@dataclass
class _Turn:
    """A chat queued or being drained in this process."""

    task: asyncio.Task[None] | None = None
    again: bool = True
    tokens: list[bytes] = field(default_factory=list)  # came in since the drain started
    draining_tokens: list[bytes] = field(default_factory=list)  # covered by the running drain


class ChatScheduler:
    def __init__(
        self,
        drain: Drain,
        *,
        concurrency: int,
        max_chats: int,
        acknowledge: Acknowledge | None = None,
    ) -> None:
        self._drain = drain
        self._slots = asyncio.Semaphore(concurrency)
        self._max_chats = max_chats
        self._acknowledge = acknowledge
        self._turns: dict[int, _Turn] = {}
        self._later: dict[int, asyncio.TimerHandle] = {}
        self._changed = asyncio.Event()

    def submit(self, chat_id: int, token: bytes | None = None) -> None:
        """Drain the chat soon (again, if it is being drained now)."""
        turn = self._turns.get(chat_id)
        if turn is None:
            turn = self._turns[chat_id] = _Turn()
            turn.task = asyncio.create_task(self._run(chat_id, turn))
        turn.again = True
        if token is not None:
            turn.tokens.append(token)

    def chats(self) -> int:
        """Chats queued or being drained."""
        return len(self._turns)

    def tokens(self) -> list[bytes]:
        """The tokens of every chat queued or being drained (still unacknowledged)."""
        return [
            token
            for turn in self._turns.values()
            for token in (*turn.draining_tokens, *turn.tokens)
        ]

    def holds(self, chat_id: int) -> bool:
        return chat_id in self._turns

    async def room(self) -> None:
        """Wait until fewer than `max_chats` chats are queued or running."""
        while len(self._turns) >= self._max_chats:
            self._changed.clear()
            await self._changed.wait()

    async def idle(self) -> None:
        """Wait until no chat is queued or running (deferred chats not counted)."""
        while self._turns:
            self._changed.clear()
            await self._changed.wait()

    async def close(self) -> None:
        """Finish what is running; deferred chats stay stored for the next start's sweep."""
        for handle in self._later.values():
            handle.cancel()
        self._later.clear()
        await self.idle()

    async def _run(self, chat_id: int, turn: _Turn) -> None:
        try:
            while turn.again:
                turn.again = False
                turn.draining_tokens, turn.tokens = turn.tokens, []
                async with self._slots:
                    outcome = await self._drain(chat_id)
                if isinstance(outcome, Deferred):
                    # Whatever was asked for meanwhile is covered by the deferred turn.
                    turn.draining_tokens += turn.tokens
                    turn.tokens, turn.again = [], False
                    self._submit_later(chat_id, outcome.seconds)
                if turn.draining_tokens and self._acknowledge is not None:
                    await self._acknowledge(turn.draining_tokens)
                turn.draining_tokens = []
        except (RedisError, SQLAlchemyError, OSError) as exc:
            log.warning("chat not drained: %s", type(exc).__name__)
        except Exception:  # a bug: logged; the updates stay stored and are tried again later
            log.exception("chat not drained")
        finally:
            del self._turns[chat_id]
            self._changed.set()

    def _submit_later(self, chat_id: int, seconds: float) -> None:
        if chat_id in self._later:
            return

        def resubmit() -> None:
            del self._later[chat_id]
            self.submit(chat_id)

        self._later[chat_id] = asyncio.get_running_loop().call_later(seconds, resubmit)
