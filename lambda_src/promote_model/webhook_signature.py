"""Is a delivery really MLflow's, and fresh? The webhook signature check (docs/design.md §5).

MLflow signs each delivery the Standard Webhooks way: ``X-MLflow-Signature`` is ``v1,`` and the
base64 HMAC-SHA256, keyed with the webhook's secret, of ``"{delivery_id}.{timestamp}.{body}"``;
``X-MLflow-Timestamp`` is the Unix time of sending. Pure logic: no clock, network or secret store of
its own, so every outcome is testable with plain values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

DELIVERY_ID_HEADER = "x-mlflow-delivery-id"
TIMESTAMP_HEADER = "x-mlflow-timestamp"
SIGNATURE_HEADER = "x-mlflow-signature"
SIGNATURE_VERSION = "v1"
# A delivery signed further than this from now is refused: a captured delivery cannot be replayed later.
TOLERANCE_SECONDS = 300
MAX_DELIVERY_ID_LENGTH = 200  # MLflow's are UUIDs (36 characters)
MAX_TIMESTAMP_DIGITS = 12
_SHA256_BYTES = 32


@dataclass(frozen=True)
class Verified:
    delivery_id: str


@dataclass(frozen=True)
class Rejected:
    reason: str  # says what was wrong, never what was expected


def verify_delivery(
    headers: Mapping[str, str], body: bytes, *, secrets: Callable[[], Sequence[str]], now: float
) -> Verified | Rejected:
    """Check the three headers (names lower-cased, as a Function URL passes them) against ``body``,
    the raw bytes received. ``secrets`` (the current one, and during a rotation the previous one) are
    asked for only once the headers are well-formed, so junk requests cost no secret read. Compares
    in constant time; any ``v1`` signature of a space-separated list may match."""
    delivery_id = headers.get(DELIVERY_ID_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signatures = headers.get(SIGNATURE_HEADER, "")
    if not delivery_id or not timestamp or not signatures:
        return Rejected("missing X-MLflow-Delivery-Id, X-MLflow-Timestamp or X-MLflow-Signature header")
    if len(delivery_id) > MAX_DELIVERY_ID_LENGTH or not delivery_id.isprintable():
        return Rejected("malformed X-MLflow-Delivery-Id header")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        return Rejected("malformed X-MLflow-Timestamp header")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return Rejected(f"X-MLflow-Timestamp is more than {TOLERANCE_SECONDS} seconds from now")
    offered = _offered_signatures(signatures)
    if not offered:
        return Rejected("malformed X-MLflow-Signature header")
    expected = [_signature(secret, delivery_id, timestamp, body) for secret in secrets()]
    # Every pair is compared, so the time taken does not say which one (or how much) matched.
    matches = [hmac.compare_digest(mine, theirs) for mine in expected for theirs in offered]
    return Verified(delivery_id) if any(matches) else Rejected("signature does not match")


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The header value MLflow would send for this delivery (for tests and local tools)."""
    digest = _signature(secret, delivery_id, timestamp, body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def _signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> bytes:
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).digest()


def _offered_signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of the header; other versions are skipped, a bad one voids all."""
    offered = []
    for item in header.split():
        version, _, encoded = item.partition(",")
        if version != SIGNATURE_VERSION:
            continue
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return []
        if len(decoded) != _SHA256_BYTES:
            return []
        offered.append(decoded)
    return offered
