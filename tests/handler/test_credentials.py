"""Credentials against a real basic-auth MLflow server, served from Secrets Manager (moto)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest
import requests

from devtools.local.servers import RunningServer, mlflow_server
from promote_model.errors import ConfigurationError, RegistryAuthError
from tests.support import S3_SOURCE, invoke, log_records

ADMIN_PASSWORD = "admin-password-0123"
PROMOTER_PASSWORD = "promoter-password-4567"
READER_PASSWORD = "reader-password-8910"


@dataclass(frozen=True)
class AuthRegistry:
    url: str

    def admin(self, method: str, path: str, payload: dict) -> dict:
        response = requests.request(
            method, f"{self.url}{path}", json=payload, auth=("admin", ADMIN_PASSWORD), timeout=10
        )
        response.raise_for_status()
        return response.json() if response.content else {}

    def model_with_champion_and_challenger(self) -> str:
        name = f"Secured-{uuid.uuid4().hex[:8]}"
        self.admin("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
        for stage in ("Production", "Staging"):
            version = self.admin("POST", "/api/2.0/mlflow/model-versions/create", {"name": name, "source": S3_SOURCE})
            self.admin(
                "POST",
                "/api/2.0/mlflow/model-versions/transition-stage",
                {"name": name, "version": version["model_version"]["version"], "stage": stage,
                 "archive_existing_versions": False},
            )  # fmt: skip
        return name

    def grant(self, username: str, model_name: str, permission: str) -> None:
        self.admin(
            "POST",
            "/api/3.0/mlflow/users/permissions/grant",
            {"username": username, "resource_type": "registered_model", "resource_id": model_name,
             "permission": permission},
        )  # fmt: skip

    def stages(self, name: str) -> dict[str, str]:
        response = requests.get(
            f"{self.url}/api/2.0/mlflow/model-versions/search",
            params={"filter": f"name='{name}'"},
            auth=("admin", ADMIN_PASSWORD),
            timeout=10,
        )
        response.raise_for_status()
        return {v["version"]: v["current_stage"] for v in response.json()["model_versions"]}


@pytest.fixture(scope="session")
def auth_registry(servers_dir) -> Iterator[AuthRegistry]:
    with mlflow_server(servers_dir / "mlflow-auth", basic_auth_admin_password=ADMIN_PASSWORD) as server:
        registry = AuthRegistry(server.url)
        for username, password in (("promoter", PROMOTER_PASSWORD), ("reader", READER_PASSWORD)):
            registry.admin("POST", "/api/2.0/mlflow/users/create", {"username": username, "password": password})
        yield registry


@pytest.fixture
def secret_arn(moto: RunningServer) -> Callable[[str], str]:
    secrets = boto3.client("secretsmanager")

    def create(value: str) -> str:
        return secrets.create_secret(Name=f"promote-model/mlflow-{uuid.uuid4().hex[:8]}", SecretString=value)["ARN"]

    return create


@pytest.fixture
def secured_env(lambda_env, auth_registry):
    lambda_env.setenv("MLFLOW_TRACKING_URI", auth_registry.url)
    lambda_env.setenv("ALERTS_ENABLED", "false")
    return lambda_env


def test_promotes_with_credentials_from_the_secret(auth_registry, secured_env, secret_arn, log_output):
    name = auth_registry.model_with_champion_and_challenger()
    auth_registry.grant("promoter", name, "EDIT")
    secured_env.setenv(
        "MLFLOW_CREDENTIALS_SECRET_ARN",
        secret_arn(json.dumps({"username": "promoter", "password": PROMOTER_PASSWORD})),
    )

    result = invoke({"model_name": name})

    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "2", "1")
    assert auth_registry.stages(name) == {"1": "Archived", "2": "Production"}
    assert PROMOTER_PASSWORD not in log_output.getvalue()


def test_promotes_with_credentials_from_the_environment(auth_registry, secured_env):
    name = auth_registry.model_with_champion_and_challenger()
    auth_registry.grant("promoter", name, "EDIT")
    secured_env.setenv("MLFLOW_TRACKING_USERNAME", "promoter")
    secured_env.setenv("MLFLOW_TRACKING_PASSWORD", PROMOTER_PASSWORD)

    result = invoke({"model_name": name, "new_version": "2"})

    assert result["promoted"] is True
    assert auth_registry.stages(name) == {"1": "Archived", "2": "Production"}


def test_a_wrong_password_is_an_auth_error_that_changes_nothing(auth_registry, secured_env, secret_arn, log_output):
    name = auth_registry.model_with_champion_and_challenger()
    wrong = "wrong-password-1357"
    secured_env.setenv(
        "MLFLOW_CREDENTIALS_SECRET_ARN", secret_arn(json.dumps({"username": "promoter", "password": wrong}))
    )

    with pytest.raises(RegistryAuthError, match="HTTP 401") as raised:
        invoke({"model_name": name})

    assert wrong not in str(raised.value)
    assert wrong not in log_output.getvalue()
    assert auth_registry.stages(name) == {"1": "Production", "2": "Staging"}


def test_a_user_without_edit_is_an_auth_error_that_changes_nothing(auth_registry, secured_env, secret_arn, log_output):
    name = auth_registry.model_with_champion_and_challenger()
    auth_registry.grant("reader", name, "READ")
    secured_env.setenv(
        "MLFLOW_CREDENTIALS_SECRET_ARN",
        secret_arn(json.dumps({"username": "reader", "password": READER_PASSWORD})),
    )

    with pytest.raises(RegistryAuthError, match="HTTP 403"):
        invoke({"model_name": name})

    records = log_records(log_output)
    assert [r["error_type"] for r in records if r["message"] == "promotion failed"] == ["RegistryAuthError"]
    assert READER_PASSWORD not in log_output.getvalue()
    assert auth_registry.stages(name) == {"1": "Production", "2": "Staging"}


def test_a_missing_secret_is_a_configuration_error(secured_env, moto):
    secured_env.setenv(
        "MLFLOW_CREDENTIALS_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    )

    with pytest.raises(ConfigurationError, match=r"MLFLOW_CREDENTIALS_SECRET_ARN \(ResourceNotFoundException\)"):
        invoke({"model_name": "Anything"})


@pytest.mark.parametrize(
    "secret_value",
    ["not json at all: hunter2-hunter2", json.dumps({"username": "promoter"}), json.dumps(["promoter", "pw"])],
    ids=["not-json", "no-password", "not-an-object"],
)
def test_a_malformed_secret_is_a_configuration_error_that_quotes_nothing(
    secured_env, secret_arn, secret_value, log_output
):
    secured_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", secret_arn(secret_value))

    with pytest.raises(ConfigurationError, match="MLFLOW_CREDENTIALS_SECRET_ARN") as raised:
        invoke({"model_name": "Anything"})

    assert "hunter2" not in str(raised.value)
    assert "hunter2" not in log_output.getvalue()


def test_a_rotated_password_is_read_again_on_the_first_401(auth_registry, secured_env, secret_arn):
    username, old_password, new_password = f"rotor-{uuid.uuid4().hex[:6]}", "old-password-2468", "new-password-1357"
    auth_registry.admin("POST", "/api/2.0/mlflow/users/create", {"username": username, "password": old_password})
    name = auth_registry.model_with_champion_and_challenger()
    auth_registry.grant(username, name, "EDIT")
    arn = secret_arn(json.dumps({"username": username, "password": old_password}))
    secured_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", arn)
    assert invoke({"model_name": name, "dry_run": True})["would_promote"] is True  # the old password, now cached

    auth_registry.admin(
        "PATCH", "/api/2.0/mlflow/users/update-password", {"username": username, "password": new_password}
    )
    boto3.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": username, "password": new_password})
    )
    result = invoke({"model_name": name})  # warm: the cached password is refused once, then re-read

    assert (result["promoted"], result["new_version"]) == (True, "2")
    assert auth_registry.stages(name) == {"1": "Archived", "2": "Production"}
