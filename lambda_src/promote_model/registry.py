"""``MLflowAdapter``: the one place that talks to MLflow, over its REST API (docs/design.md §7).

It turns MLflow's answers into small typed records, ``None`` for "does not exist", and the
function's errors for everything else. The promotion rules live in ``promotion``, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promote_model.deadline import Deadline
from promote_model.errors import PromotionError, RegistryUnavailableError
from promote_model.http_client import JsonResponse, RegistryHttpClient, RequestOutcomeUnknown
from promote_model.stages import ModelStage

_API = "/api/2.0/mlflow"
_NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
_INVALID_PARAMETER = "INVALID_PARAMETER_VALUE"
_SEARCH_PAGE_SIZE = 1000


class RegistryResponseError(PromotionError):
    """MLflow answered in a way the function cannot interpret (an unexpected 4xx or body)."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    current_stage: str
    status: str
    last_updated_timestamp: int
    aliases: tuple[str, ...] = ()

    @property
    def in_production(self) -> bool:
        return self.current_stage == ModelStage.PRODUCTION.value

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ModelVersion:
        try:
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                current_stage=str(data.get("current_stage", ModelStage.NONE.value)),
                status=str(data.get("status", "READY")),
                last_updated_timestamp=int(data.get("last_updated_timestamp", 0)),
                aliases=tuple(str(a) for a in data.get("aliases") or ()),
            )
        except (KeyError, TypeError, ValueError):
            raise RegistryResponseError("MLflow returned a model version without name or version") from None


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    latest_versions: tuple[ModelVersion, ...]

    def latest_in(self, stage: ModelStage) -> ModelVersion | None:
        """The highest version in ``stage``: what MLflow's ``latest_versions`` holds per stage."""
        in_stage = [v for v in self.latest_versions if v.current_stage == stage.value]
        return max(in_stage, key=lambda v: int(v.version), default=None)


class MLflowAdapter:
    def __init__(self, http: RegistryHttpClient, deadline: Deadline) -> None:
        self._http = http
        self._deadline = deadline

    def get_registered_model(self, name: str) -> RegisteredModel | None:
        response = self._http.get(f"{_API}/registered-models/get", {"name": name}, deadline=self._deadline)
        if _is_not_found(response):
            return None
        model = _expect(response, "registered_model")
        versions = model.get("latest_versions") or []
        return RegisteredModel(
            name=str(model.get("name", name)),
            latest_versions=tuple(ModelVersion.from_api(v) for v in versions if isinstance(v, dict)),
        )

    def get_model_version(self, name: str, version: str) -> ModelVersion | None:
        response = self._http.get(
            f"{_API}/model-versions/get", {"name": name, "version": version}, deadline=self._deadline
        )
        if _is_not_found(response):
            return None
        return ModelVersion.from_api(_expect(response, "model_version"))

    def transition_to_production(self, name: str, version: str) -> ModelVersion:
        """Move ``version`` to Production, archiving every other Production version in the same call.

        If the request may have reached MLflow but no answer came back, read the version: when it is
        in Production the transition happened, so report it rather than fail a done promotion.
        """
        payload = {
            "name": name,
            "version": version,
            "stage": ModelStage.PRODUCTION.value,
            "archive_existing_versions": True,
        }
        try:
            response = self._http.post(
                f"{_API}/model-versions/transition-stage", payload, deadline=self._deadline, idempotent=False
            )
        except RequestOutcomeUnknown as unknown:
            current = self.get_model_version(name, version)
            if current is not None and current.in_production:
                return current
            raise RegistryUnavailableError(f"{unknown}; the version is not in Production") from None
        return ModelVersion.from_api(_expect(response, "model_version"))

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion | None:
        response = self._http.get(
            f"{_API}/registered-models/alias", {"name": name, "alias": alias}, deadline=self._deadline
        )
        if _is_not_found(response) or response.error_code == _INVALID_PARAMETER:
            return None
        return ModelVersion.from_api(_expect(response, "model_version"))

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of the model (MLflow's search), matched exactly by name."""
        versions: list[ModelVersion] = []
        params = {"filter": _name_filter(name), "max_results": str(_SEARCH_PAGE_SIZE)}
        while True:
            response = self._http.get(f"{_API}/model-versions/search", params, deadline=self._deadline)
            if response.status != 200:
                _expect(response, "model_versions")
            page = response.body.get("model_versions") or []
            versions += [ModelVersion.from_api(v) for v in page if isinstance(v, dict) and v.get("name") == name]
            token = response.body.get("next_page_token")
            if not token:
                return versions
            params = {**params, "page_token": str(token)}

    def archive(self, name: str, version: str) -> None:
        payload = {"name": name, "version": version, "stage": ModelStage.ARCHIVED.value}
        # Idempotent in effect (archiving an archived version changes nothing that matters), so
        # retried like a read.
        response = self._http.post(
            f"{_API}/model-versions/transition-stage", payload, deadline=self._deadline, idempotent=True
        )
        _expect(response, "model_version")

    def set_alias(self, name: str, alias: str, version: str) -> None:
        payload = {"name": name, "alias": alias, "version": version}
        response = self._http.post(f"{_API}/registered-models/alias", payload, deadline=self._deadline, idempotent=True)
        _expect_ok(response)

    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            payload = {"name": name, "version": version, "key": key, "value": value}
            response = self._http.post(
                f"{_API}/model-versions/set-tag", payload, deadline=self._deadline, idempotent=True
            )
            _expect_ok(response)


def _name_filter(name: str) -> str:
    """A search filter that matches ``name``. MLflow's filter syntax cannot quote a name holding
    quotes or backslashes, so those become LIKE's one-character wildcard and the caller keeps only
    exact matches."""
    if any(c in name for c in "'\\\""):
        pattern = "".join("_" if c in "'\\\"" else c for c in name)
        return f"name LIKE '{pattern}'"
    return f"name = '{name}'"


def _expect_ok(response: JsonResponse) -> None:
    if response.status != 200:
        detail = response.error_code or f"HTTP {response.status}"
        raise RegistryResponseError(f"MLflow answered {detail} to a write")


def _is_not_found(response: JsonResponse) -> bool:
    return response.status == 404 or response.error_code == _NOT_FOUND


def _expect(response: JsonResponse, key: str) -> dict[str, Any]:
    value = response.body.get(key)
    if response.status != 200 or not isinstance(value, dict):
        detail = response.error_code or f"HTTP {response.status}"
        raise RegistryResponseError(f"MLflow answered {detail} where a {key} was expected")
    return value
