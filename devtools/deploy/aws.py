"""The vocabulary of a deployed stack's verification: clients of the local AWS endpoint, a resource found
in its service, and one check of it (what the template asks for against what the service answers)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Aws:
    """Clients of one local AWS endpoint, with explicit credentials (never this shell's)."""

    endpoint_url: str
    region: str = "us-east-1"
    account: str = "123456789012"

    def client(self, service: str) -> Any:
        return _client(self.endpoint_url, self.region, service)


@functools.cache
def _client(endpoint_url: str, region: str, service: str) -> Any:
    import boto3

    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
    return session.client(service, endpoint_url=endpoint_url)


@dataclass(frozen=True)
class Check:
    resource: str  # the template's logical id
    service: str
    name: str
    expected: Any
    actual: Any

    @property
    def passed(self) -> bool:
        return bool(self.expected == self.actual)


class Found:
    """A resource found in its service: what ``Ref`` and ``Fn::GetAtt`` give for it, and its API answer."""

    def __init__(self, ref: str, attributes: dict[str, str] | None = None, described: Any = None) -> None:
        self.ref, self.attributes, self.described = ref, attributes or {}, described


def layer_version(arn: str) -> dict[str, Any]:
    """``GetLayerVersion``'s arguments for a version ARN (moto has no ``GetLayerVersionByArn``)."""
    layer, version = arn.rsplit(":", 1)
    return {"LayerName": layer, "VersionNumber": int(version)}
