"""Start and stop the real servers the tests and the demo use: MLflow and moto, on loopback.

Each server listens on 127.0.0.1 on a free port, is health-checked with a bounded timeout, and is
stopped (its whole process group) when the context exits, also on failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.paths import ROOT

HEALTH_TIMEOUT_SECONDS = 90.0
# The folder of the ``mlflow`` and ``moto_server`` commands: this interpreter's, unless
# PROMOTE_MODEL_SERVERS_BIN names another (the handler suite under Python 3.12/3.13 keeps the dev
# venv's servers: only the handler side changes interpreter).
_BIN = Path(os.environ.get("PROMOTE_MODEL_SERVERS_BIN") or Path(sys.executable).parent)
# Keep the servers from reaching for the network: this machine has none.
_QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@dataclass(frozen=True)
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def mlflow_server(
    workdir: Path, *, basic_auth_admin_password: str | None = None, mlflow_bin: Path | None = None
) -> Iterator[RunningServer]:
    """A real ``mlflow server`` with a SQLite backend; with a password, the basic-auth app.

    ``mlflow_bin`` runs another MLflow than the dev venv's (an older server from its own venv,
    see ``devtools.local.server_venvs``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    mlflow = mlflow_bin or _BIN / "mlflow"
    command = [
        str(mlflow), "server",
        "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
        "--default-artifact-root", str(workdir / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    # The server's own helpers (gunicorn, alembic) come first on PATH, never the dev venv's.
    env = {**_QUIET_ENV, "PATH": f"{mlflow.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if basic_auth_admin_password is not None:
        config = workdir / "basic_auth.ini"
        config.write_text(
            "[mlflow]\n"
            "default_permission = READ\n"
            f"database_uri = sqlite:///{workdir / 'basic_auth.db'}\n"
            "admin_username = admin\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        command += ["--app-name", "basic-auth"]
        env |= {
            "MLFLOW_AUTH_CONFIG_PATH": str(config),
            "MLFLOW_AUTH_ADMIN_PASSWORD": basic_auth_admin_password,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": os.urandom(16).hex(),
        }
    with _process(command, workdir / "mlflow-server.log", env, f"http://127.0.0.1:{port}", "/health") as server:
        yield server


@contextmanager
def moto_server(workdir: Path, *, module: str | None = None) -> Iterator[RunningServer]:
    """A moto server standing in for AWS; with ``module``, that module of this checkout run as the
    server instead (``python -m MODULE -H 127.0.0.1 -p PORT``): how ``devtools.deploy.moto_gaps``
    serves moto with what its CloudFormation lacks filled in."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    launcher = [sys.executable, "-m", module] if module else [str(_BIN / "moto_server")]
    command = [*launcher, "-H", "127.0.0.1", "-p", str(port)]
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))} if module else {}
    with _process(command, workdir / "moto-server.log", env, f"http://127.0.0.1:{port}", "/moto-api/") as server:
        yield server


@contextmanager
def _process(
    command: list[str], log_path: Path, extra_env: Mapping[str, str], url: str, health_path: str
) -> Iterator[RunningServer]:
    env = {**os.environ, **extra_env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = RunningServer(url=url, process=process, log_path=log_path)
    try:
        _wait_healthy(server, health_path)
        yield server
    finally:
        stop(process)


def _wait_healthy(server: RunningServer, health_path: str) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.url} exited early; see {server.log_path}:\n{_tail(server.log_path)}")
        try:
            with urllib.request.urlopen(server.url + health_path, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)  # poll interval of a readiness check, not a stand-in for one
    raise RuntimeError(f"{server.url} was not healthy within {HEALTH_TIMEOUT_SECONDS:.0f} s:\n{_tail(server.log_path)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
