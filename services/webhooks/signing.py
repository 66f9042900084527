"""Signing deliveries so a receiver knows they are ours, unaltered and fresh.

Each attempt sends `CRM-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256, keyed with the endpoint's secret, of `"<t>.<body>"`: the body exactly as
sent, so a receiver verifies the raw bytes before parsing them, and the time, so it can
refuse a replayed old request. While a rotated-out secret still counts, a second `v1`
carries its signature: a receiver that checks any `v1` against the secret it knows keeps
working until it switches.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "CRM-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix of every secret
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """256 random bits, shown to the admin once."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(signing_secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex>[,v1=<hex>]`: one v1 per secret, the current one first."""
    parts = [f"t={timestamp}"]
    parts += [f"v1={signature(secret, timestamp, body)}" for secret in signing_secrets]
    return ",".join(parts)


def verify(
    header: str,
    body: bytes,
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: True when some `v1` is this secret's signature of the body and
    the timestamp is within the tolerance of now."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
