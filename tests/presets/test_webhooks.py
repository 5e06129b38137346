"""The webhook presets, checked against each provider's official library in both directions."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import inspect
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
import stripe
from slack_sdk.signature import SignatureVerifier
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hmac_body_auth.errors import ConfigurationError
from hmac_body_auth.presets import WEBHOOKS, entry
from hmac_body_auth.presets.webhooks import (
    GitHubWebhook,
    GitHubWebhookVerifier,
    ShopifyWebhook,
    ShopifyWebhookVerifier,
    SlackWebhook,
    SlackWebhookVerifier,
    StandardWebhook,
    StandardWebhookVerifier,
    StripeWebhook,
    StripeWebhookVerifier,
)
from hmac_body_auth.testing import SchemeServer

from .._presets import CLIENTS, send

NOW_S = 1_700_000_000
SECRET = "hba-webhook-secret-0123456789"
WHSEC = "whsec_" + base64.b64encode(b"hba-standard-webhooks-key-bytes!").decode()
BODIES = [
    json.dumps({"id": "evt_1", "type": "charge.succeeded"}).encode(),
    json.dumps({"note": "é 😀", "amount": 100}, ensure_ascii=False).encode(),
    b"payload=%7B%22a%22%3A1%7D",
]
URL = "https://receiver.example/hooks"


def _clock(seconds: int = NOW_S) -> Any:
    return lambda: seconds * 1_000_000_000


def _any_time(header: str) -> datetime.datetime:
    """Standardwebhooks' timestamp check, without its tolerance against the real clock (the tests fix the clock)."""
    return datetime.datetime.fromtimestamp(int(header), datetime.UTC)


def _signed(auth: Any, body: bytes) -> dict[str, str]:
    return dict(auth.sign("POST", URL, body=body, content_type="application/json").headers)


def test_github_reproduces_the_docs_vector() -> None:
    """GitHub's published example: secret "It's a Secret to Everybody", body "Hello, World!"."""
    headers = _signed(GitHubWebhook("It's a Secret to Everybody"), b"Hello, World!")
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert headers == {"X-Hub-Signature-256": expected}
    verifier = GitHubWebhookVerifier("It's a Secret to Everybody")
    assert verifier.verify("POST", URL, headers, b"Hello, World!")
    assert verifier.verify("POST", URL, headers, b"Hello, World?").reason == "bad signature"


@pytest.mark.parametrize("body", BODIES)
def test_shopify_is_base64_hmac_of_the_raw_body(body: bytes) -> None:
    """X-Shopify-Hmac-Sha256 is the docs' base64(HMAC-SHA256(secret, raw body)); the verifier takes it back."""
    headers = _signed(ShopifyWebhook(SECRET), body)
    docs = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers == {"X-Shopify-Hmac-Sha256": docs}
    assert ShopifyWebhookVerifier(SECRET).verify("POST", URL, headers, body)
    assert ShopifyWebhookVerifier(SECRET).verify("POST", URL, headers, body + b" ").reason == "bad signature"


@pytest.mark.parametrize("body", BODIES)
def test_slack_official_verifier_accepts_ours_and_ours_accepts_theirs(body: bytes) -> None:
    """slack-sdk's SignatureVerifier accepts our headers; ours accepts slack-sdk's generate_signature."""
    headers = _signed(SlackWebhook(SECRET, clock=_clock()), body)
    official = SignatureVerifier(SECRET, clock=type("C", (), {"now": lambda self: float(NOW_S)})())
    assert official.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    theirs = official.generate_signature(timestamp=str(NOW_S), body=body)
    assert theirs is not None
    received = {"X-Slack-Request-Timestamp": str(NOW_S), "X-Slack-Signature": theirs}
    assert SlackWebhookVerifier(SECRET, clock=_clock()).verify("POST", URL, received, body)


@pytest.mark.parametrize("body", BODIES)
def test_stripe_official_verifier_accepts_ours_and_ours_accepts_theirs(body: bytes) -> None:
    """stripe-python's verify_header accepts our Stripe-Signature; ours accepts its computed signature."""
    headers = _signed(StripeWebhook(SECRET, clock=_clock()), body)
    assert headers["Stripe-Signature"].startswith(f"t={NOW_S},v1=")
    assert stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], SECRET, tolerance=None)
    theirs = stripe.WebhookSignature._compute_signature(f"{NOW_S}.{body.decode()}", SECRET)
    # Several v1 (one per secret being rotated) and a v0 the official library ignores too.
    header = f"t={NOW_S},v1={'0' * 64},v1={theirs},v0={'1' * 64}"
    assert StripeWebhookVerifier(SECRET, clock=_clock()).verify("POST", URL, {"Stripe-Signature": header}, body)


@pytest.mark.parametrize("body", BODIES)
def test_standard_webhooks_official_library_accepts_ours_and_ours_accepts_theirs(body: bytes) -> None:
    """Standardwebhooks' Webhook.verify accepts our three headers; ours accepts its Webhook.sign."""
    headers = _signed(StandardWebhook(WHSEC, nonce=lambda: "msg_hba1", clock=_clock()), body)
    assert headers["webhook-id"] == "msg_hba1"
    official = Webhook(WHSEC)
    official._Webhook__verify_timestamp = _any_time  # type: ignore[attr-defined]  # the vectors' fixed clock
    official.verify(body, headers, json_parse=False)
    stamp = datetime.datetime.fromtimestamp(NOW_S, tz=datetime.UTC)
    theirs = official.sign("msg_x", stamp, body.decode())
    received = {"webhook-id": "msg_x", "webhook-timestamp": str(NOW_S), "webhook-signature": f"v1,AAAA {theirs}"}
    verdict = StandardWebhookVerifier(WHSEC, clock=_clock()).verify("POST", URL, received, body)
    assert (verdict.ok, verdict.nonce) == (True, "msg_x")


def test_standard_webhooks_official_library_refuses_our_tampered_body() -> None:
    """Tamper twin: one changed byte and the official library raises, as our verifier refuses."""
    headers = _signed(StandardWebhook(WHSEC, clock=_clock()), BODIES[0])
    official = Webhook(WHSEC)
    official._Webhook__verify_timestamp = _any_time  # type: ignore[attr-defined]
    with pytest.raises(WebhookVerificationError):
        official.verify(BODIES[0] + b" ", headers, json_parse=False)
    assert not StandardWebhookVerifier(WHSEC, clock=_clock()).verify("POST", URL, headers, BODIES[0] + b" ")


@pytest.mark.parametrize(
    ("auth_cls", "verifier_cls", "secret"),
    [
        (GitHubWebhook, GitHubWebhookVerifier, SECRET),
        (ShopifyWebhook, ShopifyWebhookVerifier, SECRET),
        (SlackWebhook, SlackWebhookVerifier, SECRET),
        (StripeWebhook, StripeWebhookVerifier, SECRET),
        (StandardWebhook, StandardWebhookVerifier, WHSEC),
    ],
)
def test_rotation_old_and_new_secret_both_verify(auth_cls: Any, verifier_cls: Any, secret: str) -> None:
    """A verifier given [old, new] accepts deliveries signed with either, and refuses a third secret."""
    other = "whsec_" + base64.b64encode(b"another-key-entirely-0123456789!").decode() if secret == WHSEC else "other-1"
    third = "whsec_" + base64.b64encode(b"a-third-key-nobody-has-012345678").decode() if secret == WHSEC else "other-2"
    verifier = verifier_cls([other, secret], clock=_clock())
    for signing in (secret, other):
        assert verifier.verify("POST", URL, _signed(_auth(auth_cls, signing), BODIES[0]), BODIES[0])
    assert verifier.verify("POST", URL, _signed(_auth(auth_cls, third), BODIES[0]), BODIES[0]).reason == (
        "bad signature"
    )


def _auth(auth_cls: Any, secret: str, seconds: int = NOW_S) -> Any:
    if auth_cls in (GitHubWebhook, ShopifyWebhook):
        return auth_cls(secret)
    return auth_cls(secret, clock=_clock(seconds))


@pytest.mark.parametrize(
    ("auth_cls", "verifier_cls"), [(SlackWebhook, SlackWebhookVerifier), (StripeWebhook, StripeWebhookVerifier)]
)
def test_an_old_delivery_is_outside_the_tolerance(auth_cls: Any, verifier_cls: Any) -> None:
    """A delivery 301 s old is refused (300 s by default, as the official libraries); 299 s is accepted."""
    verifier = verifier_cls(SECRET, clock=_clock())
    old = _signed(_auth(auth_cls, SECRET, NOW_S - 301), BODIES[0])
    assert verifier.verify("POST", URL, old, BODIES[0]).reason == "timestamp outside the tolerance"
    recent = _signed(_auth(auth_cls, SECRET, NOW_S - 299), BODIES[0])
    assert verifier.verify("POST", URL, recent, BODIES[0])


def test_bad_secrets_and_options_are_configuration_errors_without_echo() -> None:
    """A whsec_ secret that is not base64, an empty secret list and a bad tolerance are refused, never echoed."""
    with pytest.raises(ConfigurationError, match="whsec_") as info:
        StandardWebhook("whsec_not base64!!")
    assert "not base64!!" not in str(info.value)
    with pytest.raises(ConfigurationError):
        StripeWebhookVerifier([])
    with pytest.raises(ConfigurationError, match="tolerance_s"):
        SlackWebhookVerifier(SECRET, tolerance_s=0)
    with pytest.raises(TypeError):
        GitHubWebhook("key", "secret")


def test_secrets_never_in_repr_and_pickling_refused() -> None:
    """No secret shows in the auth's or the verifier's repr; the auth refuses pickling."""
    auth = StripeWebhook(SECRET)
    for text in (repr(auth), repr(StripeWebhookVerifier(SECRET))):
        assert SECRET not in text
    with pytest.raises(TypeError):
        pickle.dumps(auth)


def test_every_webhook_is_in_the_registry_with_its_doc() -> None:
    """Each webhook scheme has a registry entry (any case), its doc URL and no key."""
    for name in WEBHOOKS:
        found = entry(name.upper())
        assert found.doc.startswith("https://")
        assert found.name == name
        assert "key" not in inspect.signature(found.auth).parameters


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_delivered_through_every_client_and_verified(client: str, name: str) -> None:
    """Each webhook scheme as auth= of every client: the receiving server's verifier accepts the delivery."""
    found = entry(name)
    secret = WHSEC if name == "standard-webhooks" else SECRET
    verifier = found.verifier(secret)
    with SchemeServer(verifier, strict_nonces=False) as server:
        calls = [("POST", server.origin + "/hooks", {"json": {"event": "order.paid", "note": "é"}})]
        assert [r.status for r in send(client, found.auth(secret), calls)] == [200]
        assert server.stats.accepted == 1


VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "webhooks.json").read_text())["vectors"]
_SCHEMES = {
    "github": (GitHubWebhook, GitHubWebhookVerifier),
    "shopify": (ShopifyWebhook, ShopifyWebhookVerifier),
    "slack": (SlackWebhook, SlackWebhookVerifier),
    "stripe": (StripeWebhook, StripeWebhookVerifier),
    "standard-webhooks": (StandardWebhook, StandardWebhookVerifier),
}


def _scheme(vector: dict[str, Any]) -> tuple[Any, Any]:
    return _SCHEMES[vector["scheme"]]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_official_library_vectors_verify_and_tampering_does_not(vector: dict[str, Any]) -> None:
    """Every vector signed by the official code (generate_webhooks.py) verifies; a changed body does not."""
    _, verifier_cls = _scheme(vector)
    secrets = [vector["secret"], *vector.get("also_signed_with", [])]
    clock = _clock(vector["timestamp"]) if vector["timestamp"] else None
    verifier = verifier_cls(secrets, clock=clock)
    body = vector["body"].encode()
    headers = vector["expected"]["headers"]
    assert verifier.verify("POST", URL, headers, body), vector["name"]
    assert not verifier.verify("POST", URL, headers, body + b"x")


@pytest.mark.parametrize("vector", [v for v in VECTORS if not v.get("also_signed_with")], ids=lambda v: v["name"])
def test_official_library_vectors_are_signed_the_same(vector: dict[str, Any]) -> None:
    """Signing the vector's body with its secret, timestamp and id gives the official code's headers exactly."""
    auth_cls, _ = _scheme(vector)
    options: dict[str, Any] = {}
    if vector["timestamp"]:
        options["clock"] = _clock(vector["timestamp"])
    if vector["id"]:
        options["nonce"] = lambda: vector["id"]
    signed = auth_cls(vector["secret"], **options).sign("POST", URL, body=vector["body"].encode())
    assert dict(signed.headers) == vector["expected"]["headers"]
