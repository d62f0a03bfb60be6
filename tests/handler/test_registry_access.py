"""Every way to reach MLflow, each through a real enforcing proxy in front of the real server:
SageMaker managed MLflow (SigV4 with the function's AWS credentials), bearer tokens (from the
environment or a secret), and TLS with a private CA."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import trustme

from devtools.local.fault_proxy import FaultProxy, fault_proxy
from promote_model.errors import ConfigurationError, RegistryAuthError
from tests.sigv4_verifier import SigV4Verifier
from tests.support import invoke, log_records, register_model, stages, unique_model_name

TRACKING_SERVER_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/retraining"
TOKEN = f"tok-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def sigv4_proxy(mlflow_url, moto) -> Iterator[FaultProxy]:
    """Lets through only requests signed for sagemaker-mlflow in eu-west-1 with the test credentials
    (AWS_TEST_ENV: key ``testing``, secret ``testing``, session token ``testing``)."""
    verifier = SigV4Verifier(
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        session_token=os.environ["AWS_SESSION_TOKEN"],
        region="eu-west-1",
        service="sagemaker-mlflow",
        required_headers={"x-mlflow-sm-tracking-server-arn": TRACKING_SERVER_ARN},
    )
    with fault_proxy(mlflow_url, gate=verifier) as proxy:
        yield proxy


@pytest.fixture
def sagemaker_env(lambda_env, sigv4_proxy):
    sigv4_proxy.clear()
    sigv4_proxy.refused.clear()
    lambda_env.setenv("MLFLOW_TRACKING_URI", TRACKING_SERVER_ARN)
    lambda_env.setenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", sigv4_proxy.url)
    return lambda_env


def _official_client(name: str, proxy: FaultProxy, **env: str) -> subprocess.CompletedProcess[str]:
    """MLflow's own client with the sagemaker-mlflow plugin, reading a model through the proxy."""
    script = "import sys; from mlflow.tracking import MlflowClient; print(MlflowClient().get_registered_model(sys.argv[1]).name)"
    environment = os.environ | {
        "MLFLOW_TRACKING_URI": TRACKING_SERVER_ARN,
        "SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT": proxy.url,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", script, name], env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_verifying_proxy_accepts_the_official_plugin_and_refuses_a_wrong_key(sigv4_proxy, mlflow_client):
    name = register_model(mlflow_client, ["Production"], name=unique_model_name("Pascal Strategy"))  # a space: '+'

    accepted = _official_client(name, sigv4_proxy)
    refused = _official_client(name, sigv4_proxy, AWS_SECRET_ACCESS_KEY="not-the-key")

    assert accepted.returncode == 0, accepted.stderr[-2000:]
    assert accepted.stdout.strip() == name
    assert refused.returncode != 0
    assert "signature does not match" in sigv4_proxy.refused[-1]


@pytest.mark.parametrize("new_version", ["2", None], ids=["explicit", "latest-staging"])
def test_promotes_a_sagemaker_tracking_server_by_its_arn(sagemaker_env, sigv4_proxy, mlflow_client, new_version):
    name = register_model(mlflow_client, ["Production", "Staging"], name=unique_model_name("Pascal Strategy"))

    result = invoke({"model_name": name, "new_version": new_version})
    again = invoke({"model_name": name, "new_version": "2"})

    assert (result["promoted"], result["already_promoted"], result["archived_version"]) == (True, False, "1")
    assert (again["promoted"], again["already_promoted"]) == (True, True)
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    assert sigv4_proxy.refused == []
    assert sigv4_proxy.take()  # every request went through the verifying proxy


def test_a_wrong_aws_key_is_an_auth_error_that_changes_nothing(sagemaker_env, sigv4_proxy, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])
    sagemaker_env.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key")

    with pytest.raises(RegistryAuthError, match="HTTP 403") as raised:
        invoke({"model_name": name, "new_version": "2"})

    assert "sagemaker-mlflow" in str(raised.value)
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}
    assert sigv4_proxy.refused


def test_a_sagemaker_arn_with_a_secret_beside_it_is_a_configuration_error(sagemaker_env):
    sagemaker_env.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)

    with pytest.raises(ConfigurationError, match="IAM role") as raised:
        invoke({"model_name": "Anything"})

    assert TOKEN not in str(raised.value)


@pytest.fixture(scope="session")
def bearer_proxy(mlflow_url) -> Iterator[FaultProxy]:
    def one_token(method: str, path: str, headers: dict[str, str], body: bytes) -> str | None:
        return None if headers.get("authorization") == f"Bearer {TOKEN}" else "bearer token missing or wrong"

    with fault_proxy(mlflow_url, gate=one_token) as proxy:
        yield proxy


@pytest.fixture
def bearer_env(lambda_env, bearer_proxy):
    lambda_env.setenv("MLFLOW_TRACKING_URI", bearer_proxy.url)
    return lambda_env


def _secret(value: dict[str, str]) -> str:
    return boto3.client("secretsmanager").create_secret(
        Name=f"promote-model/mlflow-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(value)
    )["ARN"]


@pytest.mark.parametrize("source", ["environment", "secret"])
def test_promotes_with_a_bearer_token(bearer_env, mlflow_client, log_output, source):
    name = register_model(mlflow_client, ["Production", "Staging"])
    if source == "environment":
        bearer_env.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    else:
        bearer_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", _secret({"token": TOKEN}))

    result = invoke({"model_name": name})

    assert (result["promoted"], result["new_version"]) == (True, "2")
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    assert TOKEN not in log_output.getvalue()


def test_a_wrong_token_is_an_auth_error_that_names_no_token(bearer_env, mlflow_client, log_output):
    name = register_model(mlflow_client, ["Production", "Staging"])
    wrong = f"wrong-{uuid.uuid4().hex}"
    bearer_env.setenv("MLFLOW_TRACKING_TOKEN", wrong)

    with pytest.raises(RegistryAuthError, match="HTTP 401") as raised:
        invoke({"model_name": name})

    assert wrong not in str(raised.value)
    assert wrong not in log_output.getvalue()
    assert [r["error_type"] for r in log_records(log_output) if r["message"] == "promotion failed"] == [
        "RegistryAuthError"
    ]
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}


def test_a_token_is_never_sent_over_plain_http_beyond_loopback(lambda_env):
    lambda_env.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    lambda_env.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)

    with pytest.raises(ConfigurationError, match="MLFLOW_ALLOW_INSECURE_HTTP") as raised:
        invoke({"model_name": "Anything"})

    assert TOKEN not in str(raised.value)


@pytest.fixture(scope="session")
def private_ca(tmp_path_factory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@pytest.fixture(scope="session")
def tls_proxy(mlflow_url, private_ca) -> Iterator[FaultProxy]:
    ca, _ = private_ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with fault_proxy(mlflow_url, tls=context) as proxy:
        yield proxy


@pytest.fixture
def tls_env(lambda_env, tls_proxy):
    lambda_env.setenv("MLFLOW_TRACKING_URI", tls_proxy.url)
    return lambda_env


def test_promotes_through_tls_with_the_private_ca(tls_env, private_ca, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])
    tls_env.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(private_ca[1]))

    result = invoke({"model_name": name})

    assert (result["promoted"], result["new_version"]) == (True, "2")
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}


def test_an_unverifiable_certificate_is_a_configuration_error_at_once(tls_env, tls_proxy, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])
    tls_proxy.clear()

    started = time.monotonic()
    with pytest.raises(ConfigurationError, match="certificate verify failed") as raised:
        invoke({"model_name": name})
    seconds = time.monotonic() - started

    assert seconds < 3  # answered, never retried as "unavailable"
    assert "MLFLOW_TRACKING_SERVER_CERT_PATH" in str(raised.value)
    assert tls_proxy.take() == []
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}


def test_insecure_tls_skips_verification_when_asked(tls_env, mlflow_client):
    name = register_model(mlflow_client, ["Production", "Staging"])
    tls_env.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")

    result = invoke({"model_name": name})

    assert result["promoted"] is True
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
