"""Running the sandbox outside a test's event loop: ``python -m sandbox`` and SandboxThread."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx
import pytest

from sandbox import Sandbox, SandboxThread
from tests.sandbox.sandbox_testkit import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


async def test_standalone_server_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "world.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        str(port),
        "--token",
        "42:CLI-TOKEN",
        "--state",
        str(state),
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first_line = await asyncio.wait_for(process.stdout.readline(), timeout=15)
        assert first_line.decode().strip() == f"Chat page:    http://127.0.0.1:{port}/"
        async with httpx.AsyncClient(trust_env=False) as client:
            me = await client.get(f"http://127.0.0.1:{port}/bot42:CLI-TOKEN/getMe")
            page = await client.get(f"http://127.0.0.1:{port}/")
            added = await client.post(
                f"http://127.0.0.1:{port}/sandbox/api/users", json={"first_name": "Amina"}
            )
        assert me.json()["result"]["id"] == 42
        assert page.status_code == 200
        assert added.status_code == 200
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        # Kept in the --state file for the next run.
        assert "Amina" in state.read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_sandbox_thread_serves_while_another_loop_owns_the_main_thread() -> None:
    with SandboxThread(Sandbox()) as sandbox:
        response = httpx.get(f"{sandbox.base_url}{sandbox.token}/getMe", trust_env=False)
        assert response.json()["result"]["is_bot"] is True
        port = sandbox.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", trust_env=False)
