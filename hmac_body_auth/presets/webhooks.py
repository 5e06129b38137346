"""Webhook schemes that sign the body: GitHub, Shopify, Slack, Stripe and Standard Webhooks.

Each is a keyless recipe (a shared secret, no API key). On the sending side the auth is
``auth=`` for a service that posts webhooks (``requests.post(url, json=event,
auth=GitHubWebhook(secret))``); on the receiving side the verifier checks a delivery, and
takes several secrets while one is being rotated. Verifiers of timestamped schemes refuse a
delivery more than ``tolerance_s`` (300 s by default, as the official libraries) from their
clock.

* GitHub (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries):
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.
* Shopify (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries):
  ``X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>``.
* Slack (https://docs.slack.dev/authentication/verifying-requests-from-slack/):
  ``X-Slack-Request-Timestamp: <s>`` and ``X-Slack-Signature: v0=<hex HMAC-SHA256 of
  "v0:<ts>:<body>">``; slack-sdk's ``SignatureVerifier``.
* Stripe (https://docs.stripe.com/webhooks#verify-manually): ``Stripe-Signature:
  t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">``, several ``v1`` allowed, other schemes
  (``v0``) ignored; stripe-python's ``WebhookSignature``.
* Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
  ``webhook-id``, ``webhook-timestamp`` (s) and ``webhook-signature: v1,<base64 HMAC-SHA256
  of "<id>.<ts>.<body>">`` (a space-separated list); the secret is ``whsec_`` + base64 of the
  key; the ``standardwebhooks`` library (Svix).
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .._clock import validate_clock
from ..errors import ConfigurationError
from ..recipe import SECONDS, Codec, Header, Recipe, RecipeAuth, RecipeVerifier, Verdict

__all__ = [
    "GitHubWebhook",
    "GitHubWebhookVerifier",
    "ShopifyWebhook",
    "ShopifyWebhookVerifier",
    "SlackWebhook",
    "SlackWebhookVerifier",
    "StandardWebhook",
    "StandardWebhookVerifier",
    "StripeWebhook",
    "StripeWebhookVerifier",
]

# A webhook signs whatever it delivers (JSON, a form, text), exactly as sent.
_BODIES: frozenset[Any] = frozenset({"any"})


def _stripe_header(parts: Mapping[str, str]) -> str:
    return f"t={parts['timestamp']},v1={parts['signature']}"


def _read_stripe(value: str) -> dict[str, str] | None:
    """``t=...,v1=...[,v1=...][,v0=...]``: the timestamp and every v1 signature (as the official library)."""
    items = [item.partition("=") for item in value.split(",")]
    stamps = [v.strip() for k, _, v in items if k.strip() == "t"]
    signatures = [v.strip() for k, _, v in items if k.strip() == "v1" and v.strip()]
    if len(stamps) != 1 or not signatures:
        raise ValueError("Stripe-Signature has no t= or no v1= signature")
    return {"timestamp": stamps[0], "signature": " ".join(signatures)}


def _read_standard(value: str) -> dict[str, str] | None:
    """``v1,<sig> v1,<sig2>``: the v1 signatures (other versions are ignored, as the spec says)."""
    signatures = [sig for version, _, sig in (item.partition(",") for item in value.split()) if version == "v1" and sig]
    if not signatures:
        raise ValueError("webhook-signature has no v1 signature")
    return {"signature": " ".join(signatures)}


def _whsec(secret: str | bytes) -> bytes:
    """``whsec_<base64>``: the key is the base64 part, decoded (a secret without the prefix is base64 too)."""
    text = (secret.decode("ascii", "replace") if isinstance(secret, bytes) else secret).removeprefix("whsec_")
    try:
        # The official library accepts a secret without its base64 padding: so does this.
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("a Standard Webhooks secret is whsec_ followed by base64") from None
    if not key:
        raise ConfigurationError("a Standard Webhooks secret is whsec_ followed by base64")
    return key


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _webhook(name: str, title: str, doc: str, **fields: Any) -> Recipe:
    return Recipe(
        name=name, title=title, doc=doc, origin="", env_prefix=name.upper().replace("-", "_"), keyed=False, **fields
    )


GITHUB = _webhook(
    "github-webhook",
    "GitHub webhooks",
    "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
    message="{body}",
    headers=(Header("X-Hub-Signature-256", "sha256={signature}"),),
    bodies=_BODIES,
)
SHOPIFY = _webhook(
    "shopify-webhook",
    "Shopify webhooks",
    "https://shopify.dev/docs/apps/build/webhooks/verify-deliveries",
    message="{body}",
    digest_encoding="base64",
    headers=(Header("X-Shopify-Hmac-Sha256", "{signature}"),),
    bodies=_BODIES,
)
SLACK = _webhook(
    "slack-webhook",
    "Slack requests",
    "https://docs.slack.dev/authentication/verifying-requests-from-slack/",
    message="v0:{timestamp}:{body}",
    headers=(Header("X-Slack-Request-Timestamp", "{timestamp}"), Header("X-Slack-Signature", "v0={signature}")),
    bodies=_BODIES,
    timestamp=SECONDS,
)
STRIPE = _webhook(
    "stripe-webhook",
    "Stripe webhooks",
    "https://docs.stripe.com/webhooks#verify-manually",
    message="{timestamp}.{body}",
    headers=(Header("Stripe-Signature", Codec(frozenset({"timestamp", "signature"}), _stripe_header, _read_stripe)),),
    bodies=_BODIES,
    timestamp=SECONDS,
)
STANDARD = _webhook(
    "standard-webhooks",
    "Standard Webhooks",
    "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
    message="{nonce}.{timestamp}.{body}",
    digest_encoding="base64",
    secret_decode=_whsec,
    headers=(
        Header("webhook-id", "{nonce}"),
        Header("webhook-timestamp", "{timestamp}"),
        Header("webhook-signature", Codec(frozenset({"signature"}), lambda p: f"v1,{p['signature']}", _read_standard)),
    ),
    bodies=_BODIES,
    timestamp=SECONDS,
    nonce=lambda key: _message_id,
    nonce_text="any",
    ordered=False,
)


class _Verifier(RecipeVerifier):
    """A webhook verifier: one secret or several (rotation); a timestamp at most ``tolerance_s`` from the clock."""

    def __init__(
        self,
        secrets: str | bytes | list[str | bytes],
        *,
        tolerance_s: int = 300,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if isinstance(tolerance_s, bool) or not isinstance(tolerance_s, int) or tolerance_s <= 0:
            raise ConfigurationError("tolerance_s must be a positive number of seconds")
        super().__init__(secrets)
        self._tolerance_ms = tolerance_s * 1000
        self._clock = validate_clock(clock) if clock is not None else time.time_ns

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Check the signature (any secret, any listed signature), then the timestamp's distance from the clock."""
        verdict = super().verify(method, url, headers, body)
        stamp = verdict.timestamp_ms
        if verdict and stamp is not None and abs(self._clock() // 1_000_000 - stamp) > self._tolerance_ms:
            return Verdict(False, "timestamp outside the tolerance", verdict.key, verdict.nonce, stamp)
        return verdict


class GitHubWebhook(RecipeAuth):
    """Sign a webhook delivery as GitHub does: ``X-Hub-Signature-256: sha256=<hex>``."""

    recipe = GITHUB


class GitHubWebhookVerifier(_Verifier):
    """Verify ``X-Hub-Signature-256`` (one secret, or several during a rotation)."""

    recipe = GITHUB


class ShopifyWebhook(RecipeAuth):
    """Sign a webhook delivery as Shopify does: ``X-Shopify-Hmac-Sha256: <base64>``."""

    recipe = SHOPIFY


class ShopifyWebhookVerifier(_Verifier):
    """Verify ``X-Shopify-Hmac-Sha256`` (one secret, or several during a rotation)."""

    recipe = SHOPIFY


class SlackWebhook(RecipeAuth):
    """Sign a request as Slack does (``v0``): ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``."""

    recipe = SLACK


class SlackWebhookVerifier(_Verifier):
    """Verify a Slack request's ``X-Slack-Signature`` and its timestamp (300 s, as slack-sdk)."""

    recipe = SLACK


class StripeWebhook(RecipeAuth):
    """Sign an event as Stripe does: ``Stripe-Signature: t=<ts>,v1=<hex>``."""

    recipe = STRIPE


class StripeWebhookVerifier(_Verifier):
    """Verify ``Stripe-Signature`` (any ``v1``; several secrets) and its timestamp (300 s, as stripe-python)."""

    recipe = STRIPE


class StandardWebhook(RecipeAuth):
    """Sign a delivery as Standard Webhooks (Svix) does: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``.

    The secret is ``whsec_`` + base64; each delivery gets a new ``msg_...`` id (``nonce=`` to give your own).
    """

    recipe = STANDARD


class StandardWebhookVerifier(_Verifier):
    """Verify ``webhook-signature`` (any ``v1``; several ``whsec_`` secrets) and its timestamp (300 s)."""

    recipe = STANDARD
