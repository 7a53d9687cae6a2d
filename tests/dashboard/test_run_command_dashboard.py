"""`sleutelbrug run` starts the dashboard next to the bot and the sandbox, prints its URL, and
stops it on Ctrl-C; `sleutelbrug coordinator add` makes the account to sign in with."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from nlu.service import free_port

PROJECT = Path(__file__).resolve().parents[2]
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "a long enough passphrase"


class _ReadyRasa(BaseHTTPRequestHandler):
    """Answers Rasa's /status, so the run command uses it instead of starting the real one
    (this test is about the dashboard; the real Rasa is tested in tests/test_run_command.py)."""

    def do_GET(self) -> None:
        body = json.dumps({"model_file": "models/nlu-test.tar.gz"}).encode()
        self.send_response(200 if self.path == "/status" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def ready_rasa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReadyRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def wait_for(process: subprocess.Popen[str], pattern: str, timeout: float = 90) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match.group(1)
    raise AssertionError(f"{pattern!r} not printed; output was:\n{''.join(seen)}")


def test_run_serves_the_dashboard(tmp_path: Path, ready_rasa: str) -> None:
    environment = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "SANDBOX_PORT": str(free_port()),
        "DASHBOARD_PORT": str(free_port()),
        "RASA_URL": ready_rasa,
    }
    for name in ("TELEGRAM_BOT_TOKEN", "REDIS_URL", "DATABASE_URL", "BOT_MODE", "LOG_LEVEL"):
        environment.pop(name, None)
    command = [sys.executable, "-m", "bot.cli"]
    added = subprocess.run(
        [*command, "coordinator", "add", "--email", "anna@tilburg.example", "--name", "Anna",
         "--organisation", "Gemeente Tilburg", "--platform-admin", "--locale", "en",
         "--password-stdin"],
        input=PASSWORD + "\n", cwd=PROJECT, env=environment, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    process = subprocess.Popen(
        [*command, "run"],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = wait_for(process, r"Coordinator dashboard: (\S+)")
        assert url == f"http://127.0.0.1:{environment['DASHBOARD_PORT']}/"
        wait_for(process, r"Sandbox Telegram chat page: (\S+)")
        with httpx.Client(base_url=url, headers={"accept-language": "en"}) as client:
            login = client.get("/login")
            token = CSRF_FIELD.search(login.text)
            assert token is not None
            signed_in = client.post(
                "/login",
                data={
                    "csrf_token": token.group(1),
                    "email": "anna@tilburg.example",
                    "password": PASSWORD,
                },
            )
            assert signed_in.status_code == 303
            assert client.get("/now").status_code == 200
            # The demo sleutelpersonen have no organisation yet: the platform admin places them.
            admin = client.get("/admin")
            assert "Sleutelpersonen without an organisation" in admin.text
            assert "Amal" in admin.text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
