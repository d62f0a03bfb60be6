"""One real MLflow server per tested version for the whole session, and the handler pointed at it.

2.9.x and 2.22.x run from their own cached venvs (``devtools.local.server_venvs`` builds one on first
use, from ``requirements/mlflow-server-<series>.txt``); the pinned 3.x is the dev venv's server,
the one the rest of the suite already shares. Every test here runs once per version: the server
fixture is session-scoped and parametrized, so pytest groups the tests by version and runs each
server once, stopping it before the next version's starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from devtools.local.fault_proxy import FaultProxy, fault_proxy
from devtools.local.server_venvs import mlflow_executable, pinned_mlflow_version, pins_file
from devtools.local.servers import mlflow_server

DEV_VENV = "dev"  # the series whose server is the dev venv's own mlflow
TESTED_SERIES = ["2.9", "2.22", DEV_VENV]


def _version_of(series: str) -> str:
    return mlflow.__version__ if series == DEV_VENV else pinned_mlflow_version(pins_file(series))


@dataclass(frozen=True)
class VersionedServer:
    version: str
    url: str
    client: MlflowClient  # the dev venv's client: it speaks to 2.9, 2.22 and 3.x servers alike
    proxy: FaultProxy  # the handler's way in, so requests are counted at the server's door

    @property
    def major_minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@pytest.fixture(
    scope="session", params=TESTED_SERIES, ids=[f"mlflow-{_version_of(series)}" for series in TESTED_SERIES]
)
def server(request: pytest.FixtureRequest, servers_dir) -> Iterator[VersionedServer]:
    series = request.param
    if series == DEV_VENV:
        url = request.getfixturevalue("mlflow_url")
        with fault_proxy(url) as proxy:
            yield VersionedServer(_version_of(series), url, MlflowClient(url, url), proxy)
        return
    mlflow_bin = mlflow_executable(series)  # builds the venv the first time, under a file lock
    with (
        mlflow_server(servers_dir / f"mlflow-{series}", mlflow_bin=mlflow_bin) as running,
        fault_proxy(running.url) as proxy,
    ):
        yield VersionedServer(_version_of(series), running.url, MlflowClient(running.url, running.url), proxy)


@pytest.fixture
def compat_env(lambda_env: pytest.MonkeyPatch, server: VersionedServer) -> Iterator[VersionedServer]:
    """The function's settings (``lambda_env``) with MLflow reached through the version's proxy."""
    lambda_env.setenv("MLFLOW_TRACKING_URI", server.proxy.url)
    server.proxy.clear()
    yield server
    server.proxy.clear()
