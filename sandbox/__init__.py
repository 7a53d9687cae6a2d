"""A local stand-in for the Telegram Bot API server, with simulated users and a chat page.

The unmodified python-telegram-bot client talks to it through
``ApplicationBuilder().token(sb.token).base_url(sb.base_url).base_file_url(sb.base_file_url)``.
"""

from sandbox.errors import ApiError
from sandbox.harness import DEFAULT_TOKEN, Sandbox, SandboxThread, SimUser
from sandbox.images import make_png
from sandbox.spec import ApiSpec, UploadedFile
from sandbox.state import (
    CallbackQueryRecord,
    ChatMessage,
    Document,
    FloodLimits,
    InlineButton,
    PhotoSize,
    RecordedRequest,
    SandboxUsageError,
    Voice,
    World,
)

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "ApiSpec",
    "CallbackQueryRecord",
    "ChatMessage",
    "Document",
    "FloodLimits",
    "InlineButton",
    "PhotoSize",
    "RecordedRequest",
    "Sandbox",
    "SandboxThread",
    "SandboxUsageError",
    "SimUser",
    "UploadedFile",
    "Voice",
    "World",
    "make_png",
]
