"""The embedded Redis of the no-setup run is a real redis-server that starts and stops."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from bot.embedded_redis import start_embedded_redis


def test_embedded_redis_serves_streams_and_stops(tmp_path: Path) -> None:
    server = start_embedded_redis(tmp_path / "redis")
    try:
        client = redis.Redis.from_url(server.url)
        assert client.info()["redis_version"].startswith("6.2")
        # Streams and consumer groups, which the worker mode relies on.
        client.xadd("updates", {"id": "1"})
        client.xgroup_create("updates", "workers", id="0")
        entries = client.xreadgroup("workers", "w1", {"updates": ">"}, count=1)
        assert entries[0][1][0][1] == {b"id": b"1"}
        client.close()
    finally:
        server.stop()
    assert server.process.poll() is not None
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=0.5).ping()
