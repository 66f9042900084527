"""Signatures: what a receiver checks, and what a delivery's body holds."""

import hashlib
import hmac
import time
from datetime import UTC, datetime

import orjson

from db.records import EventRecord
from domain.global_ids import to_global_id
from services.webhooks import signing
from services.webhooks.payload import event_body
from settings import PROJECT_ROOT

SECRET = "whsec_test-secret"
BODY = b'{"id":"RXZlbnQ6MQ","type":"lead.created"}'
NOW = 1_800_000_000


def test_a_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # given the recipe a receiver implements on its own
    expected = hmac.new(SECRET.encode(), b"%d.%s" % (NOW, BODY), hashlib.sha256).hexdigest()
    # then the header carries exactly that
    assert signing.signature_header([SECRET], NOW, BODY) == f"t={NOW},v1={expected}"


def test_verify_accepts_only_the_body_as_sent_fresh_and_with_the_secret() -> None:
    header = signing.signature_header([SECRET], NOW, BODY)
    assert signing.verify(header, BODY, SECRET, now=NOW + 10)
    assert not signing.verify(header, BODY + b" ", SECRET, now=NOW)
    assert not signing.verify(header, BODY, "whsec_other", now=NOW)
    assert not signing.verify(header, BODY, SECRET, now=NOW + 301)  # replayed later
    assert not signing.verify(header.replace(f"t={NOW}", f"t={NOW + 5}"), BODY, SECRET, now=NOW)
    assert not signing.verify("garbage", BODY, SECRET, now=NOW)


def test_during_a_rotation_either_secret_verifies() -> None:
    header = signing.signature_header(["whsec_new", "whsec_old"], NOW, BODY)
    assert signing.verify(header, BODY, "whsec_new", now=NOW)
    assert signing.verify(header, BODY, "whsec_old", now=NOW)
    assert not signing.verify(header, BODY, SECRET, now=NOW)


def test_secrets_are_random_and_marked() -> None:
    made = {signing.new_secret() for _ in range(100)}
    assert len(made) == 100
    assert all(secret.startswith("whsec_") and len(secret) >= 48 for secret in made)


def test_the_body_names_objects_by_their_global_ids() -> None:
    # given an analysis event of a lead
    event = EventRecord(
        id=42,
        tenant_id=1,
        type="lead.analyzed",
        lead_id=7,
        sale_id=None,
        analysis_id=9,
        data={"score": 0.71, "previousScore": None, "recommendation": "transfer_to_sales"},
        occurred_at=datetime(2026, 11, 26, 10, 15, tzinfo=UTC),
    )
    # when its body is made, then it is the event with global IDs, the same every time
    body = event_body(event)
    assert body == event_body(event)
    assert orjson.loads(body) == {
        "id": to_global_id("Event", 42),
        "type": "lead.analyzed",
        "createdAt": "2026-11-26T10:15:00+00:00",
        "data": {
            "leadId": to_global_id("Lead", 7),
            "analysisId": to_global_id("LeadAnalysis", 9),
            "score": 0.71,
            "previousScore": None,
            "recommendation": "transfer_to_sales",
        },
    }


def test_the_readmes_verification_sample_agrees_with_the_signatures() -> None:
    # given the receiver's code the README shows
    readme = (PROJECT_ROOT / "README.md").read_text()
    [sample] = [block for block in readme.split("```python\n")[1:] if "def verified(" in block]
    namespace: dict[str, object] = {}
    exec(sample.split("```")[0], namespace)  # noqa: S102 - our own documentation
    verified = namespace["verified"]
    assert callable(verified)
    # when it checks deliveries signed now, then it accepts exactly the genuine ones
    now = int(time.time())
    header = signing.signature_header(["whsec_new", "whsec_old"], now, BODY)
    assert verified(BODY, header, "whsec_new")
    assert verified(BODY, header, "whsec_old")
    assert not verified(BODY + b" ", header, "whsec_new")
    assert not verified(BODY, header, SECRET)
    stale = signing.signature_header([SECRET], now - 3600, BODY)
    assert not verified(BODY, stale, SECRET)
