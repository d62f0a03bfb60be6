"""An in-memory registry with MLflow's stage semantics, for the decision paths of the promotion rules
that are slow or impossible to reach through a real server (a lost answer at an exact moment, a
concurrent winner). The real server covers every route; this covers the rules' branches."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from promote_model.alerts import PromotionNotice
from promote_model.registry import ModelVersion, RegisteredModel


@dataclass
class MemoryRegistry:
    name: str
    versions: dict[str, ModelVersion] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)  # every write, in order
    _clock: itertools.count = field(default_factory=lambda: itertools.count(1000))

    @classmethod
    def with_stages(cls, name: str, *stages: str) -> MemoryRegistry:
        registry = cls(name)
        for number, stage in enumerate(stages, start=1):
            registry.versions[str(number)] = ModelVersion(name, str(number), stage, "READY", next(registry._clock))
        return registry

    def stage_of(self, version: str) -> str:
        return self.versions[version].current_stage

    def tags_of(self, version: str) -> dict[str, str]:
        return dict(self.versions[version].tags)

    def tag(self, version: str, **tags: str) -> None:
        current = self.tags_of(version) | tags
        self.versions[version] = replace(self.versions[version], tags=tuple(current.items()))

    def set_stage(self, version: str, stage: str) -> None:
        self.versions[version] = replace(
            self.versions[version], current_stage=stage, last_updated_timestamp=next(self._clock)
        )

    # the Registry protocol

    def get_registered_model(self, name: str) -> RegisteredModel | None:
        if name != self.name:
            return None
        latest: dict[str, ModelVersion] = {}
        for version in self.versions.values():
            best = latest.get(version.current_stage)
            if best is None or int(version.version) > int(best.version):
                latest[version.current_stage] = replace(version, tags=())  # as MLflow: no tags here
        return RegisteredModel(name, tuple(latest.values()))

    def get_model_version(self, name: str, version: str) -> ModelVersion | None:
        return self.versions.get(version) if name == self.name else None

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion | None:
        return next((v for v in self.versions.values() if alias in v.aliases), None)

    def versions_updated_since(self, name: str, since_ms: int) -> list[ModelVersion]:
        recent = [v for v in self.versions.values() if v.last_updated_timestamp >= since_ms]
        return sorted(recent, key=lambda v: v.last_updated_timestamp, reverse=True)

    def transition_to_production(self, name: str, version: str) -> ModelVersion:
        """As MLflow's SQL store: the champion it archives and the new one share one timestamp."""
        self.calls.append(("transition", version))
        at = next(self._clock)
        for key, other in list(self.versions.items()):
            if other.current_stage == "Production" and other.version != version:
                self.versions[key] = replace(other, current_stage="Archived", last_updated_timestamp=at)
        self.versions[version] = replace(self.versions[version], current_stage="Production", last_updated_timestamp=at)
        return self.versions[version]

    def archive(self, name: str, version: str) -> None:
        self.calls.append(("archive", version))
        self.set_stage(version, "Archived")

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.calls.append(("alias", alias, version))
        for key, other in self.versions.items():
            self.versions[key] = replace(other, aliases=tuple(a for a in other.aliases if a != alias))
        target = self.versions[version]
        self.versions[version] = replace(target, aliases=(*target.aliases, alias))

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self.calls.append(("tag", version, key))
        self.tag(version, **{key: value})


@dataclass
class MemoryPublisher:
    notices: list[PromotionNotice] = field(default_factory=list)

    def publish(self, notice: PromotionNotice) -> bool:
        self.notices.append(notice)
        return True
