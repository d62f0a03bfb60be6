"""An AWS Signature Version 4 verifier, written for the tests from the published algorithm (not from
botocore), used as the gate of an enforcing proxy in front of the real MLflow server.

It rebuilds the canonical request from the request *as received* — the path, the query re-encoded the
way AWS canonicalizes it (each key and value percent-decoded, then encoded except ``A-Za-z0-9-_.~``;
a ``+`` is a literal plus, not a space), the signed headers, the body's hash — derives the signing key
from the secret key, and compares signatures. A client that signs something other than what it sends
(MLflow's ``+`` for spaces is the classic case) is refused, as SageMaker would.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class SigV4Verifier:
    access_key: str
    secret_key: str
    region: str
    service: str
    required_headers: dict[str, str]  # headers that must be present, signed, and equal to these values
    session_token: str | None = None

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> str | None:
        """``None`` when the request is signed correctly, else why not (mentioning the signature)."""
        match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if match is None:
            return "signature missing: no AWS4-HMAC-SHA256 Authorization header"
        if (match["key"], match["region"], match["service"]) != (self.access_key, self.region, self.service):
            return f"signature scope mismatch: {match['key']}/{match['region']}/{match['service']}"
        signed = match["signed"].split(";")
        amz_date = headers.get("x-amz-date", "")
        if not amz_date.startswith(match["date"]):
            return "signature date mismatch"
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-amz-content-sha256") != payload_hash:
            return "signature covers another body: x-amz-content-sha256 differs"
        for name, value in self.required_headers.items():
            if headers.get(name) != value or name not in signed:
                return f"signature lacks the signed header {name}"
        if self.session_token is not None and headers.get("x-amz-security-token") != self.session_token:
            return "signature lacks the session token"
        if any(name not in headers for name in signed):
            return "signature names a header that was not sent"

        raw_path, _, raw_query = path.partition("?")
        canonical_request = "\n".join(
            [
                method,
                quote(unquote(raw_path), safe="/" + _UNRESERVED),
                _canonical_query(raw_query),
                "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed),
                match["signed"],
                payload_hash,
            ]
        )
        scope = f"{match['date']}/{self.region}/{self.service}/aws4_request"
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
        )
        key = f"AWS4{self.secret_key}".encode()
        for part in (match["date"], self.region, self.service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["signature"]):
            return "signature does not match the request as received"
        return None


def _canonical_query(raw_query: str) -> str:
    pairs = []
    for item in filter(None, raw_query.split("&")):
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe=_UNRESERVED), quote(unquote(value), safe=_UNRESERVED)))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))
