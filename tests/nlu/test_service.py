"""The model cache key follows exactly the files that shape the model."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from nlu.service import (
    NLU_DIR,
    RasaServiceError,
    ensure_model,
    rasa_is_ready,
    start_rasa_server,
    training_hash,
    training_inputs,
)


def copy_nlu(tmp_path: Path) -> Path:
    target = tmp_path / "nlu"
    shutil.copytree(NLU_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_hash_is_stable(tmp_path: Path) -> None:
    nlu = copy_nlu(tmp_path)
    assert training_hash(nlu) == training_hash(nlu) == training_hash(NLU_DIR)


def test_training_data_and_config_change_the_hash(tmp_path: Path) -> None:
    nlu = copy_nlu(tmp_path)
    before = training_hash(nlu)
    config = nlu / "config.yml"
    config.write_text(config.read_text() + "\n# tweak\n")
    after_config = training_hash(nlu)
    assert after_config != before
    (nlu / "data" / "extra.yml").write_text('version: "3.1"\nnlu: []\n')
    assert training_hash(nlu) != after_config


def test_client_code_does_not_change_the_hash(tmp_path: Path) -> None:
    nlu = copy_nlu(tmp_path)
    before = training_hash(nlu)
    (nlu / "client.py").write_text("# edited\n")
    assert training_hash(nlu) == before
    assert all(path.suffix in {".yml", ".py"} for path in training_inputs(nlu))
    assert nlu / "config.yml" in training_inputs(nlu)


# A stand-in for `.venv-rasa/bin/rasa` at the process boundary: the real Rasa is trained and
# served by the rasa_server fixture; this one makes the cache and process handling observable
# (each call is recorded) and fast.
FAKE_RASA = """#!{python}
import http.server, json, pathlib, sys
calls = pathlib.Path({calls!r})
with calls.open("a") as record:
    record.write(" ".join(sys.argv[1:3]) + "\\n")
args = sys.argv[1:]
option = lambda name: args[args.index(name) + 1]
if args[:2] == ["train", "nlu"]:
    if pathlib.Path({fail!r}).exists():
        print("InvalidConfigException: the pipeline is broken", file=sys.stderr)
        sys.exit(1)
    out = pathlib.Path(option("--out")) / (option("--fixed-model-name") + ".tar.gz")
    out.write_bytes(b"model")
elif args[:1] == ["run"]:
    model = option("--model")
    class Status(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({{"model_file": model}}).encode()
            self.send_response(200 if self.path == "/status" else 404)
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    http.server.HTTPServer((option("--interface"), int(option("--port"))), Status).serve_forever()
"""


@pytest.fixture
def fake_rasa(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(executable, file of recorded calls, file whose presence makes training fail)."""
    calls, fail = tmp_path / "calls.txt", tmp_path / "fail-training"
    executable = tmp_path / "rasa"
    executable.write_text(FAKE_RASA.format(python=sys.executable, calls=str(calls), fail=str(fail)))
    executable.chmod(0o755)
    return executable, calls, fail


def recorded(calls: Path) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


def test_a_model_is_trained_once_per_set_of_inputs(tmp_path: Path, fake_rasa) -> None:
    rasa, calls, _ = fake_rasa
    nlu, cache = copy_nlu(tmp_path), tmp_path / "cache"
    first = ensure_model(nlu, cache, rasa)
    assert first == cache / f"nlu-{training_hash(nlu)}.tar.gz" and first.read_bytes() == b"model"
    assert ensure_model(nlu, cache, rasa) == first
    assert recorded(calls) == ["train nlu"]
    (nlu / "data" / "extra.yml").write_text('version: "3.1"\nnlu: []\n')
    second = ensure_model(nlu, cache, rasa)
    assert second != first and recorded(calls) == ["train nlu", "train nlu"]
    assert {path.name for path in cache.iterdir()} == {first.name, second.name}


def test_failed_training_says_why_and_leaves_no_model(tmp_path: Path, fake_rasa) -> None:
    rasa, _, fail = fake_rasa
    fail.touch()
    cache = tmp_path / "cache"
    with pytest.raises(RasaServiceError, match=r"(?s)exit 1.*pipeline is broken"):
        ensure_model(copy_nlu(tmp_path), cache, rasa)
    assert list(cache.iterdir()) == []


def test_missing_rasa_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RasaServiceError, match="run the setup script"):
        ensure_model(copy_nlu(tmp_path), tmp_path / "cache", tmp_path / "no-such-rasa")


def test_the_server_is_started_until_ready_and_stopped(tmp_path: Path, fake_rasa) -> None:
    rasa, calls, _ = fake_rasa
    model = ensure_model(copy_nlu(tmp_path), tmp_path / "cache", rasa)
    server = start_rasa_server(model, log_dir=tmp_path / "logs", rasa=rasa, ready_timeout=20)
    try:
        assert rasa_is_ready(server.url)
        assert recorded(calls)[-1] == "run --enable-api"
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert not rasa_is_ready(server.url)
