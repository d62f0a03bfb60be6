"""``MLflowAdapter``: the one place that talks to MLflow, over its REST API (docs/design.md §7).

It turns MLflow's answers into small typed records, ``None`` for "does not exist", and the
function's errors for everything else. The promotion rules live in ``promotion``, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promote_model.deadline import Deadline
from promote_model.errors import RegistryResponseError, RegistryUnavailableError
from promote_model.http_client import JsonResponse, RegistryHttpClient, RequestOutcomeUnknown
from promote_model.stages import ModelStage

_API = "/api/2.0/mlflow"
_NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
_INVALID_PARAMETER = "INVALID_PARAMETER_VALUE"
_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
# Pages of 100 stay well inside the body cap (docs/design.md §7); the verification reads one page
# unless 100 versions were updated within moments of the transition.
SEARCH_PAGE_SIZE = 100
MAX_SEARCH_PAGES = 20
# Time kept for reading a version back after the transition's answer was lost.
READ_BACK_SECONDS = 3.0
_REQUIRED_VERSION_FIELDS = ("name", "version", "current_stage", "status")
# A first write of an alias or tag key that lost a race to a concurrent one is sent again this often.
UNIQUE_KEY_RETRIES = 2
_UNIQUE_KEY_MARKERS = (
    "UNIQUE constraint failed",
    "IntegrityError",
    "UniqueViolation",
    "duplicate key",
    "Duplicate entry",
)


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    current_stage: str
    status: str
    last_updated_timestamp: int
    aliases: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    run_id: str | None = None  # the run that produced it, where its metrics are logged

    @property
    def in_production(self) -> bool:
        return self.current_stage == ModelStage.PRODUCTION.value

    def tag(self, key: str) -> str | None:
        return dict(self.tags).get(key)

    @classmethod
    def from_api(cls, data: Any) -> ModelVersion:
        """A version as MLflow describes it. Strict: a field the rules depend on that is missing or
        not a string is an answer the function cannot interpret, never a default (a version without
        ``current_stage`` may really be in Production; one without ``status`` may not be ready)."""
        if not isinstance(data, dict):
            raise RegistryResponseError("MLflow returned a model version that is not a JSON object")
        missing = [key for key in _REQUIRED_VERSION_FIELDS if not isinstance(data.get(key), str) or not data[key]]
        if missing:
            raise RegistryResponseError(f"MLflow returned a model version without {', '.join(missing)}")
        try:
            return cls(
                name=data["name"],
                version=str(int(data["version"])),
                current_stage=data["current_stage"],
                status=data["status"],
                last_updated_timestamp=int(data.get("last_updated_timestamp") or 0),
                aliases=tuple(str(a) for a in data.get("aliases") or ()),
                tags=tuple(
                    (str(t["key"]), str(t.get("value", "")))
                    for t in data.get("tags") or ()
                    if isinstance(t, dict) and "key" in t
                ),
                run_id=str(data["run_id"]) if data.get("run_id") else None,
            )
        except (TypeError, ValueError):
            raise RegistryResponseError("MLflow returned a model version whose fields have the wrong types") from None


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    latest_versions: tuple[ModelVersion, ...]

    def latest_in(self, stage: ModelStage) -> ModelVersion | None:
        """The highest version in ``stage``: what MLflow's ``latest_versions`` holds per stage."""
        in_stage = [v for v in self.latest_versions if v.current_stage == stage.value]
        return max(in_stage, key=lambda v: int(v.version), default=None)


@dataclass(frozen=True)
class VersionDraft:
    """A model version to create: where its files are, its run, and its tags."""

    name: str
    source: str  # e.g. models:/<source model>/<version>
    run_id: str | None
    tags: tuple[tuple[str, str], ...]
    find_by: tuple[str, str]  # one of the tags, which finds the version when the answer is lost
    description: str = ""


class MLflowAdapter:
    def __init__(self, http: RegistryHttpClient, deadline: Deadline) -> None:
        self._http = http
        self._deadline = deadline

    def get_registered_model(self, name: str) -> RegisteredModel | None:
        response = self._http.get(f"{_API}/registered-models/get", {"name": name}, deadline=self._deadline)
        if _is_not_found(response):
            return None
        model = _expect(response, "registered_model")
        if model.get("name") != name:
            raise RegistryResponseError(_other_name("a registered model", model.get("name"), name))
        versions = model.get("latest_versions") or []
        if not isinstance(versions, list):
            raise RegistryResponseError("MLflow returned latest_versions that is not a list")
        return RegisteredModel(
            name=name,
            latest_versions=tuple(_same_model(ModelVersion.from_api(v), name) for v in versions),
        )

    def get_model_version(self, name: str, version: str, *, deadline: Deadline | None = None) -> ModelVersion | None:
        response = self._http.get(
            f"{_API}/model-versions/get", {"name": name, "version": version}, deadline=deadline or self._deadline
        )
        if _is_not_found(response):
            return None
        found = _same_model(ModelVersion.from_api(_expect(response, "model_version")), name)
        if found.version != version:
            raise RegistryResponseError(f"MLflow answered with version {found.version} when asked for {version}")
        return found

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
            return self._read_back_transition(name, version, str(unknown))
        if response.status != 200:
            _expect(response, "model_version")  # raises: MLflow refused the transition outright
        try:
            return _same_model(ModelVersion.from_api(response.body.get("model_version")), name)
        except RegistryResponseError:
            # A 200 that is not MLflow's answer (a proxy's HTML page, a stripped body) says nothing
            # about the effect: find out, as for a lost answer.
            return self._read_back_transition(name, version, "MLflow answered the transition unintelligibly")

    def _read_back_transition(self, name: str, version: str, problem: str) -> ModelVersion:
        current = self.get_model_version(name, version, deadline=self._deadline.at_least(READ_BACK_SECONDS))
        if current is not None and current.in_production:
            return current
        raise RegistryUnavailableError(f"{problem}; the version is not in Production")

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion | None:
        response = self._http.get(
            f"{_API}/registered-models/alias", {"name": name, "alias": alias}, deadline=self._deadline
        )
        if _is_not_found(response) or response.error_code == _INVALID_PARAMETER:
            return None
        return _same_model(ModelVersion.from_api(_expect(response, "model_version")), name)

    def versions_updated_since(self, name: str, since_ms: int) -> list[ModelVersion]:
        """The model's versions updated at or after ``since_ms`` (server clock), newest first.

        MLflow's search, ordered by ``last_updated_timestamp`` descending and matched exactly by name,
        read page by page until a page reaches older versions: one small page whatever the model's
        history. At most ``MAX_SEARCH_PAGES`` pages, and a page token seen before is an error, so a
        server that pages forever gets a named answer, not the function's whole budget and memory.
        """
        versions: list[ModelVersion] = []
        params = {
            "filter": _name_filter(name),
            "max_results": str(SEARCH_PAGE_SIZE),
            "order_by": "last_updated_timestamp DESC",
        }
        seen_tokens: set[str] = set()
        for _ in range(MAX_SEARCH_PAGES):
            found, token = self._search_page(params)
            versions += [v for v in found if v.name == name and v.last_updated_timestamp >= since_ms]
            if not token or any(v.last_updated_timestamp < since_ms for v in found):
                return versions
            token = str(token)
            if token in seen_tokens:
                raise RegistryResponseError("MLflow's search returned a page token it had returned before")
            seen_tokens.add(token)
            params = {**params, "page_token": token}
        raise RegistryResponseError(
            f"MLflow's search did not end within {MAX_SEARCH_PAGES} pages of {SEARCH_PAGE_SIZE} versions"
        )

    def get_run_metrics(self, run_id: str) -> dict[str, float] | None:
        """The latest value of each metric logged on the run, ``None`` when there is no such run.
        MLflow writes a ``NaN`` metric as the string ``"NaN"`` (and infinities as strings too)."""
        response = self._http.get(f"{_API}/runs/get", {"run_id": run_id}, deadline=self._deadline)
        if _is_not_found(response):
            return None
        data = _expect(response, "run").get("data") or {}
        metrics = data.get("metrics") if isinstance(data, dict) else None
        if not isinstance(metrics, list):
            return {}
        values: dict[str, float] = {}
        for metric in metrics:
            if isinstance(metric, dict) and isinstance(metric.get("key"), str):
                values[metric["key"]] = _metric_value(metric.get("value"))
        return values

    def versions_tagged(self, name: str, key: str, value: str) -> list[ModelVersion]:
        """The model's versions carrying the tag ``key=value`` (one page: a handful at most),
        lowest version first; none when the model does not exist. ``key`` and ``value`` are the
        caller's own (letters, digits, '_'), so they need no quoting in MLflow's filter."""
        params = {"filter": f"{_name_filter(name)} AND tag.{key} = '{value}'", "max_results": str(SEARCH_PAGE_SIZE)}
        found, _ = self._search_page(params)
        return sorted((v for v in found if v.name == name and v.tag(key) == value), key=lambda v: int(v.version))

    def _search_page(self, params: dict[str, str]) -> tuple[list[ModelVersion], object]:
        """One page of MLflow's model-version search: its versions and its next page token, if any."""
        response = self._http.get(f"{_API}/model-versions/search", params, deadline=self._deadline)
        if response.status != 200 or not response.parsed:
            _expect(response, "model_versions")
        page = response.body.get("model_versions") or []
        if not isinstance(page, list):
            raise RegistryResponseError("MLflow returned model_versions that is not a list")
        return [ModelVersion.from_api(item) for item in page], response.body.get("next_page_token")

    def create_registered_model(self, name: str) -> None:
        """Create the model; one that exists already is as good (a concurrent promotion made it)."""
        response = self._http.post(
            f"{_API}/registered-models/create", {"name": name}, deadline=self._deadline, idempotent=True
        )
        if response.error_code != _ALREADY_EXISTS:
            _expect(response, "registered_model")

    def create_model_version(self, draft: VersionDraft) -> ModelVersion | None:
        """A new version of ``draft.name`` (``None`` when that model does not exist), created with its
        tags in the one call, so that whoever looks for it by tag finds it from the moment it exists.

        Not idempotent: when the answer is lost, the version is looked for by ``draft.find_by`` (one
        of its tags) and returned if it was created; otherwise that is a retryable error."""
        payload: dict[str, Any] = {
            "name": draft.name,
            "source": draft.source,
            "tags": [{"key": key, "value": value} for key, value in draft.tags],
        }
        if draft.run_id is not None:
            payload["run_id"] = draft.run_id
        if draft.description:
            payload["description"] = draft.description
        try:
            response = self._http.post(
                f"{_API}/model-versions/create", payload, deadline=self._deadline, idempotent=False
            )
        except RequestOutcomeUnknown as unknown:
            return self._read_back_creation(draft, str(unknown))
        if _is_not_found(response):
            return None
        if response.status != 200:
            _expect(response, "model_version")  # raises: MLflow refused the version outright
        try:
            return _same_model(ModelVersion.from_api(response.body.get("model_version")), draft.name)
        except RegistryResponseError:
            return self._read_back_creation(draft, "MLflow answered the version's creation unintelligibly")

    def _read_back_creation(self, draft: VersionDraft, problem: str) -> ModelVersion:
        key, value = draft.find_by
        wanted = dict(draft.tags)
        reader = MLflowAdapter(self._http, self._deadline.at_least(READ_BACK_SECONDS))
        created = [v for v in reader.versions_tagged(draft.name, key, value) if dict(v.tags).items() >= wanted.items()]
        if created:
            return created[0]
        raise RegistryUnavailableError(f"{problem}; no version of it was created")

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
        self._write_settling_races(f"{_API}/registered-models/alias", payload)

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        payload = {"name": name, "version": version, "key": key, "value": value}
        self._write_settling_races(f"{_API}/model-versions/set-tag", payload)

    def _write_settling_races(self, path: str, payload: dict[str, str]) -> None:
        """An idempotent write. MLflow does not lock: concurrent *first* writes of one alias or tag key
        both insert, and the loser is answered 400 with the database's unique-key violation (docs/design.md
        §5). The row exists then, so the same write again is an update: sent again (at most twice
        more), it settles the race instead of failing the promotion. Whoever writes last wins; the
        caller reads the outcome back (the alias holder, the champion) as it does for any race."""
        for _ in range(1 + UNIQUE_KEY_RETRIES):
            response = self._http.post(path, payload, deadline=self._deadline, idempotent=True)
            if not _is_unique_key_race(response):
                break
        _expect_ok(response)


def _name_filter(name: str) -> str:
    """A search filter that matches ``name``. MLflow's filter syntax cannot quote a name holding
    quotes or backslashes, so those become LIKE's one-character wildcard and the caller keeps only
    exact matches."""
    if any(c in name for c in "'\\\""):
        pattern = "".join("_" if c in "'\\\"" else c for c in name)
        return f"name LIKE '{pattern}'"
    return f"name = '{name}'"


def _metric_value(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RegistryResponseError("MLflow returned a metric whose value is not a number")
    try:
        return float(value)  # also "NaN", "Infinity" and "-Infinity", as MLflow writes them
    except ValueError:
        raise RegistryResponseError("MLflow returned a metric whose value is not a number") from None


def _same_model(version: ModelVersion, name: str) -> ModelVersion:
    if version.name != name:
        raise RegistryResponseError(_other_name("a model version", version.name, name))
    return version


def _other_name(what: str, got: object, wanted: str) -> str:
    return f"MLflow returned {what} of another model ({str(got)[:60]!r}) when asked for {wanted[:60]!r}"


def _expect_ok(response: JsonResponse) -> None:
    if response.status != 200:
        detail = response.error_code or f"HTTP {response.status}"
        raise RegistryResponseError(f"MLflow answered {detail} to a write")


def _is_unique_key_race(response: JsonResponse) -> bool:
    """MLflow's 400 for a concurrent insert of the same key (SQLite's IntegrityError, PostgreSQL's
    UniqueViolation, MySQL's duplicate entry), as its message reports it."""
    if response.status != 400:
        return False
    message = str(response.body.get("message") or "")
    return any(marker in message for marker in _UNIQUE_KEY_MARKERS)


def _is_not_found(response: JsonResponse) -> bool:
    """MLflow's own "does not exist". Any other 404 (a load balancer's or web server's page for a
    wrong URL or path prefix) is not an answer about the model: saying ``MODEL_NOT_FOUND`` would end
    a workflow quietly at "nothing to promote", so it is an error naming the URL's problem."""
    if response.error_code == _NOT_FOUND:
        return True
    if response.status == 404:
        raise RegistryResponseError(
            "MLflow's tracking URI does not answer like MLflow's REST API: HTTP 404 without MLflow's "
            f"{_NOT_FOUND} error; check MLFLOW_TRACKING_URI (host and path prefix)"
        )
    return False


def _expect(response: JsonResponse, key: str) -> dict[str, Any]:
    value = response.body.get(key)
    if response.status != 200 or not isinstance(value, dict):
        detail = response.error_code or f"HTTP {response.status}"
        raise RegistryResponseError(f"MLflow answered {detail} where a {key} was expected")
    return value
