"""Classification with a shared pause: when Rasa fails, every bot process stops asking it.

Without the pause each newcomer's message during a Rasa outage would wait for the full
timeout and add to the storm of retries. The pause lives in Redis so that all processes
honour it; while it lasts, newcomers get the domain buttons at once.
"""

from __future__ import annotations

from redis.asyncio import Redis

from nlu.client import Classification, NluUnavailable, RasaClient

PAUSE_SECONDS = 30


class GuardedClassifier:
    """`RasaClient.classify` behind a Redis-held pause after a failure."""

    def __init__(self, client: RasaClient, redis: Redis, key_prefix: str) -> None:
        self._client = client
        self._redis = redis
        self._pause_key = f"{key_prefix}nlu:paused"

    async def classify(self, text: str) -> Classification:
        if await self._redis.exists(self._pause_key):
            raise NluUnavailable("classification paused after a recent Rasa failure")
        try:
            return await self._client.classify(text)
        except NluUnavailable:
            await self._redis.set(self._pause_key, "1", ex=PAUSE_SECONDS, nx=True)
            raise

    async def resume(self) -> None:
        """End a pause early, e.g. once Rasa reports ready again."""
        await self._redis.delete(self._pause_key)
