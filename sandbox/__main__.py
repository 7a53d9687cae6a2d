"""``python -m sandbox``: run the fake Bot API server and chat page standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from sandbox.harness import DEFAULT_TOKEN, Sandbox
from sandbox.state import FloodLimits


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local stand-in for the Telegram Bot API with a browser chat page.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token it accepts")
    parser.add_argument(
        "--flood-limits",
        action="store_true",
        help="refuse messages over 1/s per chat or 30/s overall with 429, as Telegram does",
    )
    parser.add_argument(
        "--webhook-retry-delay",
        type=float,
        default=1.0,
        help="seconds between webhook delivery attempts after a failure",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="keep users, chats and id counters in FILE across restarts (in memory without it)",
    )
    return parser.parse_args()


async def _serve(arguments: argparse.Namespace) -> None:
    sandbox = Sandbox(
        token=arguments.token,
        flood_limits=FloodLimits() if arguments.flood_limits else None,
        host=arguments.host,
        port=arguments.port,
        webhook_retry_delay=arguments.webhook_retry_delay,
        handle_signals=True,
        state_path=arguments.state,
    )
    await sandbox.start()
    print(f"Chat page:    {sandbox.page_url}")
    print(f"Bot API base: {sandbox.base_url}  (token {arguments.token})")
    print(f"File base:    {sandbox.base_file_url}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        await sandbox.serve_until_stopped()
    finally:
        await sandbox.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # uvicorn re-raises the captured Ctrl-C after its graceful shutdown.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_arguments()))


if __name__ == "__main__":
    main()
