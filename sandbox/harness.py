"""The Python face of the sandbox for tests and the local run command.

``Sandbox`` runs the fake Bot API server inside the current event loop; ``SimUser`` plays a
Telegram user chatting with the bot::

    async with Sandbox() as sb:
        app = ApplicationBuilder().token(sb.token).base_url(sb.base_url)
                                  .base_file_url(sb.base_file_url).build()
        amina = sb.add_user(first_name="Amina", language_code="ar")
        await amina.send_text("/start")
        reply = await amina.wait_for_message(lambda m: "Welcome" in (m.text or ""))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Generator
from datetime import datetime
from pathlib import Path
from types import TracebackType

import uvicorn

from sandbox.persistence import WorldFile
from sandbox.server import SandboxServer
from sandbox.state import (
    CallbackQueryRecord,
    ChatMessage,
    FloodLimits,
    RecordedRequest,
    SandboxUsageError,
    UserProfile,
    World,
)

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:SANDBOX-TOKEN"  # noqa: S105 - the fake server's well-known token
_STARTUP_TIMEOUT_SECONDS = 10.0
_SHUTDOWN_TIMEOUT_SECONDS = 10.0
_RECHECK_SECONDS = 0.02
# A persistent sandbox writes its world at most this often: one write covers a burst of
# changes (a long poll alone changes the world several times a second).
SAVE_DELAY_SECONDS = 1.0
# How long the saver sleeps without changes before looking again; any change wakes it earlier.
_SAVER_IDLE_SECONDS = 3600.0

MessagePredicate = Callable[[ChatMessage], bool]


class _EmbeddedUvicorn(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host (pytest, the bot's runner)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Sandbox:
    """A local Telegram Bot API server with simulated users, running in this event loop."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        flood_limits: FloodLimits | None = None,
        clock: Callable[[], datetime] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_first_name: str = "Sleutelbrug",
        bot_username: str = "SleutelbrugSandboxBot",
        webhook_retry_delay: float = 1.0,
        handle_signals: bool = False,
        state_path: Path | None = None,
    ) -> None:
        """``flood_limits=None`` disables flood control; ``clock`` dates messages (UTC now by
        default); ``port=0`` picks a free port; ``handle_signals`` lets Ctrl-C stop the server
        (for standalone use); ``state_path`` keeps the world (users, chats, id counters) in that
        file across restarts (see ``sandbox/persistence.py``), in memory only without it."""
        self.token = token
        self.host = host
        self.world = World(
            token,
            bot_first_name=bot_first_name,
            bot_username=bot_username,
            clock=clock,
            flood_limits=flood_limits,
        )
        self._world_file = WorldFile(state_path) if state_path is not None else None
        if self._world_file is not None:
            self._world_file.load_into(self.world)
        # The world as the file holds it; any change after this is to be saved.
        self._loaded_version = self.world.changes.version
        self._saving: asyncio.Task[None] | None = None
        self.server = SandboxServer(self.world, webhook_retry_delay=webhook_retry_delay)
        self._requested_port = port
        self._handle_signals = handle_signals
        self._socket: socket.socket | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._users: dict[int, SimUser] = {}

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._serving is not None:
            raise RuntimeError("the sandbox is already running")
        # Binding the socket here makes the port known before uvicorn starts (port=0 case).
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # asyncio sets TCP_NODELAY only on sockets it creates as IPPROTO_TCP; without it every
        # answer on a kept-alive connection waits ~40 ms for the client's delayed ACK (Nagle),
        # which Telegram does not do. Accepted sockets inherit the option (Linux).
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind((self.host, self._requested_port))
        listener.listen(128)
        listener.setblocking(False)
        self._socket = listener
        config = uvicorn.Config(
            self.server.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        server_class = uvicorn.Server if self._handle_signals else _EmbeddedUvicorn
        self._uvicorn = server_class(config)
        self._serving = asyncio.create_task(self._uvicorn.serve(sockets=[listener]))
        await self._wait_until_started()
        if self._world_file is not None:
            self._saving = asyncio.create_task(self._save_changes(self._world_file))
        logger.info("Sandbox Bot API listening on %s", self.url)

    async def _save_changes(self, world_file: WorldFile) -> None:
        """Save the world a moment after it changes. Saving runs in the event loop, between
        changes, so every file is a consistent world; cancelling this task never cuts a write."""
        changes = self.world.changes
        saved_version = self._loaded_version
        while not changes.closed:
            if changes.version == saved_version:
                await changes.wait(_SAVER_IDLE_SECONDS)
                continue
            await asyncio.sleep(SAVE_DELAY_SECONDS)
            saved_version = changes.version
            world_file.save(self.world)

    async def _wait_until_started(self) -> None:
        assert self._uvicorn is not None and self._serving is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STARTUP_TIMEOUT_SECONDS
        while not self._uvicorn.started:
            if self._serving.done():
                self._serving.result()
                raise RuntimeError("the sandbox server stopped while starting")
            if loop.time() > deadline:
                raise TimeoutError("the sandbox server did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._serving is None or self._uvicorn is None:
            return
        # Waiting long polls would otherwise hold up uvicorn's graceful shutdown.
        self.server.close()
        self._uvicorn.should_exit = True
        try:
            await asyncio.wait_for(self._serving, _SHUTDOWN_TIMEOUT_SECONDS)
        finally:
            self._serving = None
            if self._socket is not None:
                self._socket.close()
                self._socket = None
            if self._saving is not None:
                self._saving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._saving
                self._saving = None
            # Whatever changed since the last save, including during the shutdown.
            if self._world_file is not None:
                self._world_file.save(self.world)

    async def serve_until_stopped(self) -> None:
        """Wait until the server stops (e.g. Ctrl-C with ``handle_signals=True``)."""
        if self._serving is not None:
            await self._serving

    # --- addresses --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the sandbox is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``; PTB appends the token."""
        return f"{self.url}/file/bot"

    @property
    def page_url(self) -> str:
        return f"{self.url}/"

    # --- world ------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every Bot API call the bot made, in order, with the status it got."""
        return self.world.requests

    def add_user(
        self,
        first_name: str,
        language_code: str | None = None,
        username: str | None = None,
        *,
        last_name: str | None = None,
        has_started: bool = True,
    ) -> SimUser:
        """A new simulated user. ``has_started=False``: they never opened the chat, so the bot
        gets 403 when writing to them until they send something."""
        profile = self.world.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            has_started=has_started,
        )
        user = SimUser(self, profile)
        self._users[profile.id] = user
        return user

    def user(self, user_id: int) -> SimUser:
        """The simulated user with this id (also users created on the chat page)."""
        if user_id not in self._users:
            self._users[user_id] = SimUser(self, self.world.user(user_id))
        return self._users[user_id]

    def find_user(self, first_name: str) -> SimUser | None:
        """The first simulated user with this first name, e.g. one a persistent sandbox kept
        from an earlier run."""
        for profile in self.world.users.values():
            if profile.first_name == first_name:
                return self.user(profile.id)
        return None

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a file the sandbox holds, e.g. a photo the bot sent."""
        return self.world.files[file_id].data

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline argument reads best in tests
    ) -> None:
        """Wait until ``condition()`` is true. It is re-checked whenever the world changes, and
        every few milliseconds for conditions on state outside the sandbox (e.g. a handler's)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            _require_running(self.world)
            await self.world.changes.wait(min(remaining, _RECHECK_SECONDS))


class SimUser:
    """A Telegram user in the sandbox, driven by a test or the run command."""

    def __init__(self, sandbox: Sandbox, profile: UserProfile) -> None:
        self._sandbox = sandbox
        self._world = sandbox.world
        self.profile = profile
        # (message_id, revision) pairs wait_for_message already returned.
        self._returned: set[tuple[int, int]] = set()

    @property
    def id(self) -> int:
        return self.profile.id

    @property
    def chat_id(self) -> int:
        return self.profile.id

    @property
    def first_name(self) -> str:
        return self.profile.first_name

    @property
    def language_code(self) -> str | None:
        return self.profile.language_code

    @property
    def username(self) -> str | None:
        return self.profile.username

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """The custom keyboard the bot currently shows this user, if any."""
        return self._world.chats[self.id].reply_keyboard

    # --- acting -----------------------------------------------------------------------------

    async def send_text(self, text: str, *, reply_to: int | None = None) -> ChatMessage:
        """Send a text, as a reply to the message ``reply_to`` of this chat when given."""
        message = self._world.user_sends_text(self.id, text, reply_to=reply_to)
        await asyncio.sleep(0)
        return self._world.snapshot(message)

    async def send_photo(self, data: bytes, caption: str | None = None) -> ChatMessage:
        message = self._world.user_sends_file(self.id, "photo", data, caption=caption)
        await asyncio.sleep(0)
        return self._world.snapshot(message)

    async def send_voice(self, data: bytes, duration: int = 1) -> ChatMessage:
        message = self._world.user_sends_file(self.id, "voice", data, duration=duration)
        await asyncio.sleep(0)
        return self._world.snapshot(message)

    async def send_document(
        self,
        data: bytes,
        filename: str,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> ChatMessage:
        message = self._world.user_sends_file(
            self.id, "document", data, caption=caption, file_name=filename, mime_type=mime_type
        )
        await asyncio.sleep(0)
        return self._world.snapshot(message)

    async def edit_text(self, message_id: int, text: str) -> ChatMessage:
        """Edit one of this user's text messages (the bot gets an edited_message update)."""
        message = self._world.user_edits_text(self.id, message_id, text)
        await asyncio.sleep(0)
        return self._world.snapshot(message)

    async def press(
        self, button_text: str, *, message_id: int | None = None
    ) -> CallbackQueryRecord:
        """Press the inline button labelled ``button_text`` on the latest bot message that has
        one (or on ``message_id``). The returned record shows the bot's answer once given."""
        if message_id is None:
            message_id = self._latest_message_with_button(button_text)
        query = self._world.user_presses_button(self.id, message_id, button_text)
        await asyncio.sleep(0)
        return query

    def _latest_message_with_button(self, button_text: str) -> int:
        for message in reversed(list(self._world.bot_messages(self.id))):
            if message.find_button(button_text) is not None:
                return message.message_id
        raise SandboxUsageError(f"no bot message to {self.first_name} has a button {button_text!r}")

    def block(self) -> None:
        """Block the bot: sending to this user now fails with 403."""
        self._world.set_blocked(self.id, True)

    def unblock(self) -> None:
        self._world.set_blocked(self.id, False)

    # --- observing --------------------------------------------------------------------------

    @property
    def command_menu(self) -> list[tuple[str, str]]:
        """The command menu this user's Telegram app shows now, as (command, description):
        their chat's own menu first, then the one for their app's language, then the default."""
        menu = self._sandbox.server.methods.commands_for_user(self.id)
        return [(command["command"], command["description"]) for command in menu]

    def received(self) -> list[ChatMessage]:
        """The bot's messages to this user, oldest first, as they are now (edits applied,
        deleted messages gone)."""
        return [self._world.snapshot(message) for message in self._world.bot_messages(self.id)]

    async def wait_for_message(
        self,
        predicate: MessagePredicate | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline argument reads best in tests
    ) -> ChatMessage:
        """The oldest bot message to this user that matches ``predicate`` and that this method
        has not returned before. An edited message counts as new again, so a test can wait for
        the bot to edit a message after a button press."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in self._world.bot_messages(self.id):
                key = (message.message_id, message.revision)
                if key in self._returned:
                    continue
                snapshot = self._world.snapshot(message)
                if predicate is None or predicate(snapshot):
                    self._returned.add(key)
                    return snapshot
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [message.text or message.caption for message in self.received()]
                raise TimeoutError(
                    f"{self.first_name} got no matching bot message within {timeout} s; "
                    f"received so far: {seen!r}"
                )
            _require_running(self._world)
            await self._world.changes.wait(remaining)


def _require_running(world: World) -> None:
    # A stopped sandbox never changes again; waiting for it would only spin.
    if world.changes.closed:
        raise RuntimeError("the sandbox has stopped")


class SandboxThread:
    """Runs a :class:`Sandbox` in a thread with its own event loop.

    For programs whose event loop belongs to something else, such as PTB's
    ``Application.run_polling()``::

        with SandboxThread(Sandbox(port=8081)) as sb:
            app = ApplicationBuilder().token(sb.token).base_url(sb.base_url)...build()
            app.run_polling()

    Only the addresses and the token may be used from other threads; users and the world
    belong to the sandbox's loop (people use the chat page).
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None

    def __enter__(self) -> Sandbox:
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise RuntimeError("the sandbox failed to start") from self._failure
        return self.sandbox

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(_SHUTDOWN_TIMEOUT_SECONDS)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.sandbox.start()
        except BaseException as failure:
            self._failure = failure
            self._started.set()
            return
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await self.sandbox.stop()
