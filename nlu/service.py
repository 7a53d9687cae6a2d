"""Train the Rasa NLU model when its inputs changed, and run the Rasa server as a child process.

Rasa lives in its own Python 3.10 virtualenv (`.venv-rasa`) because it pins old libraries; the
app only starts it as a process and talks HTTP to it. Trained models are cached by a hash of
everything in `nlu/` that shapes the model, so an unchanged project never trains twice.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = PROJECT_ROOT / "nlu"
# Files under nlu/ that shape the trained model; editing client code keeps the cached model.
MODEL_INPUT_GLOBS = ("config.yml", "data/**/*.yml", "components/**/*.py")


class RasaServiceError(Exception):
    """Rasa could not be trained or started; the message says what to do."""


def default_rasa_executable() -> Path:
    return Path(os.environ.get("RASA_VENV", PROJECT_ROOT / ".venv-rasa")) / "bin" / "rasa"


def default_model_cache() -> Path:
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("NLU_MODEL_CACHE", cache_home / "sleutelbrug" / "models"))


def training_inputs(nlu_dir: Path = NLU_DIR) -> list[Path]:
    files = {path for pattern in MODEL_INPUT_GLOBS for path in nlu_dir.glob(pattern)}
    return sorted(path for path in files if path.is_file() and "__pycache__" not in path.parts)


def training_hash(nlu_dir: Path = NLU_DIR, config: Path | None = None) -> str:
    """A digest of every file that shapes the model: same inputs, same model.

    `config` stands in for `nlu_dir/config.yml` (pipeline experiments); it is hashed under that
    name, so passing the project's own config gives the project's own hash.
    """
    default_config = nlu_dir / "config.yml"
    inputs = {path.relative_to(nlu_dir).as_posix(): path for path in training_inputs(nlu_dir)}
    if config is not None:
        inputs[default_config.name] = config
    digest = hashlib.sha256()
    for name, path in sorted(inputs.items()):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def ensure_model(
    nlu_dir: Path = NLU_DIR,
    cache_dir: Path | None = None,
    rasa: Path | None = None,
    config: Path | None = None,
) -> Path:
    """Return the trained model for the current `nlu/`, training it first if it is not cached.

    `config` trains with another pipeline than `nlu_dir/config.yml` (pipeline experiments).
    """
    cache_dir = cache_dir or default_model_cache()
    rasa = rasa or default_rasa_executable()
    config = config or nlu_dir / "config.yml"
    name = f"nlu-{training_hash(nlu_dir, config)}"
    model = cache_dir / f"{name}.tar.gz"
    if model.exists():
        log.info("NLU model %s is up to date", model.name)
        return model
    if not rasa.exists():
        raise RasaServiceError(f"Rasa is not installed at {rasa}; run the setup script first")
    cache_dir.mkdir(parents=True, exist_ok=True)
    log.info("Training NLU model %s (inputs changed)", model.name)
    started = time.monotonic()
    # Train into a private folder and move the result into place in one step, so that a
    # process looking at the cache at the same time never sees a half-written model.
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".training-") as workspace:
        command = [
            str(rasa), "train", "nlu",
            "--config", str(config),
            "--nlu", str(nlu_dir / "data"),
            "--out", workspace,
            "--fixed-model-name", name,
        ]  # fmt: skip
        result = subprocess.run(  # noqa: S603 - fixed executable, arguments built here
            command, cwd=nlu_dir.parent, env=rasa_environment(), capture_output=True, text=True
        )
        trained = Path(workspace) / model.name
        if result.returncode != 0 or not trained.exists():
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise RasaServiceError(f"rasa train nlu failed (exit {result.returncode}):\n{tail}")
        os.replace(trained, model)
    log.info("Trained %s in %.0f s", model.name, time.monotonic() - started)
    return model


def rasa_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    # Rasa's fingerprint cache is off: shared between trainings running at the same time it
    # produced a model whose LogisticRegression file was missing. Models are cached whole,
    # by input hash, instead. (The directory keeps `.rasa/` out of the working directory.)
    env["RASA_MAX_CACHE_SIZE"] = "0"
    env.setdefault("RASA_CACHE_DIRECTORY", str(default_model_cache().parent / "rasa-cache"))
    # Custom components live in the `nlu` package of this project.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RasaServer:
    """A running `rasa run --enable-api` child process on loopback."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_rasa_server(
    model: Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_dir: Path,
    rasa: Path | None = None,
    ready_timeout: float = 120.0,
) -> RasaServer:
    """Start the Rasa server with `model` and wait until it answers with the model loaded."""
    rasa = rasa or default_rasa_executable()
    if not rasa.exists():
        raise RasaServiceError(f"Rasa is not installed at {rasa}; run the setup script first")
    port = port or free_port(host)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"rasa-{port}.log"
    command = [
        str(rasa), "run", "--enable-api",
        "--model", str(model),
        "--interface", host, "--port", str(port),
        "--log-file", str(log_path),
    ]  # fmt: skip
    with log_path.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - fixed executable, arguments built here
            command, cwd=PROJECT_ROOT, env=rasa_environment(), stdout=output, stderr=output
        )
    server = RasaServer(process=process, url=f"http://{host}:{port}", log_path=log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RasaServiceError(f"Rasa server exited with {process.returncode}; see {log_path}")
        if rasa_is_ready(server.url):
            return server
        time.sleep(0.5)
    server.stop()
    raise RasaServiceError(
        f"Rasa server did not become ready in {ready_timeout:.0f} s; see {log_path}"
    )


def rasa_is_ready(url: str) -> bool:
    try:
        response = httpx.get(f"{url}/status", timeout=2.0)
        return response.status_code == 200 and bool(response.json().get("model_file"))
    except (httpx.HTTPError, ValueError):
        return False


def main() -> int:
    """`python -m nlu.service`: train the model if needed and print its path."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        print(ensure_model())
    except RasaServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
