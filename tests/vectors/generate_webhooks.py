"""Regenerate ``webhooks.json``: webhook signing vectors from each provider's own code.

Not run by the test suite. Run it in a venv that has the official libraries (they are in
the ``test`` extra too)::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install stripe standardwebhooks slack-sdk
    /tmp/vec/bin/python tests/vectors/generate_webhooks.py

Made with stripe 16.1.0, standardwebhooks 1.1.0 and slack-sdk 3.48.0 on CPython 3.11.7;
the same script gives the same file on 3.13.0. Each vector's ``expected.headers`` is what
the provider's own signing function returned (GitHub and Shopify publish no library: their
documented algorithm, written out below); each is then accepted by the official verifier
(or, for GitHub and Shopify, by the docs' verification rule) before it is written, and the
published examples (GitHub docs, Slack docs, the standardwebhooks test suite) are checked
against their published signatures. The timestamps are fixed, so a test that hands a vector
to a verifier with a tolerance fixes that verifier's clock.

What each scheme signs, and how its official verifier reads a delivery (read in the sources
of the versions above; the edge cases were run on 3.11.7 and 3.13.0):

GitHub -- https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
(github/docs ``content/webhooks/using-webhooks/validating-webhook-deliveries.md`` at 0c4564ac)
    Header ``X-Hub-Signature-256: sha256=<hex>``, hex = lower-case HMAC-SHA256, key = the
    webhook secret as UTF-8, message = the raw body bytes exactly as delivered. No timestamp,
    no tolerance, one signature (the delivery's GUID in ``X-GitHub-Delivery`` is not signed;
    the legacy ``X-Hub-Signature: sha1=...`` is not covered here). Published test vector:
    secret ``It's a Secret to Everybody``, body ``Hello, World!``, signature ``757107ea...``.
    No official Python library; the docs' Python ``verify_signature(payload_body,
    secret_token, signature_header)`` raises ``HTTPException(403)`` when the header is
    missing, and otherwise compares the whole string ``"sha256=" + hexdigest`` with the
    header using ``hmac.compare_digest``: exact, case-sensitive, nothing trimmed. (The
    official JavaScript verifier is ``@octokit/webhooks``' ``Webhooks.verify``.)

Shopify -- https://shopify.dev/docs/apps/build/webhooks/verify-deliveries
    Header ``X-Shopify-Hmac-Sha256`` (the docs write ``X-Shopify-Hmac-SHA256``; header names
    are case-insensitive): standard base64 (with ``=`` padding) of HMAC-SHA256, key = the
    app's client secret as UTF-8, message = the raw body. No timestamp in the signature, one
    signature per delivery; ``X-Shopify-Webhook-Id`` (not signed) identifies duplicates.
    Rotation: "If you rotate your app's client secret, it can take up to an hour for the HMAC
    digest to be generated using the new secret", so a receiver accepts the old and the new
    secret for that hour. Shopify's Python library (``ShopifyAPI`` 12.7.0, repo
    Shopify/shopify_python_api) has no webhook verifier: ``shopify.Session.validate_hmac``
    checks the OAuth query-string ``hmac`` (hex over sorted parameters), not a webhook. The
    vectors therefore use the docs' rule (compute, base64-encode, compare in constant time);
    the official JavaScript verifier is ``@shopify/shopify-api``'s ``webhooks.validate``.

Slack -- https://docs.slack.dev/authentication/verifying-requests-from-slack/
(formerly https://api.slack.com/authentication/verifying-requests-from-slack)
    Headers ``X-Slack-Request-Timestamp: <integer seconds>`` and ``X-Slack-Signature:
    v0=<hex>``, hex = lower-case HMAC-SHA256, key = the signing secret as UTF-8, message =
    ``"v0:" + timestamp + ":" + body``. The docs' example (also in slack-sdk's tests) is a
    vector below. ``slack_sdk.signature.SignatureVerifier(signing_secret, clock=Clock())``
    (unchanged since 3.0 apart from rejecting an empty secret):
    ``generate_signature(*, timestamp, body)`` returns ``v0=<hex>`` (``None`` when the
    timestamp is ``None``; a ``None`` body signs as ""; ``bytes`` are decoded as UTF-8, so
    invalid UTF-8 raises ``UnicodeDecodeError``). ``is_valid(body, timestamp, signature)`` ->
    ``bool``: ``False`` if either header is ``None``; ``int(timestamp)`` raises ``ValueError``
    (not ``False``) for a non-integer; ``False`` when ``abs(clock.now() - ts) > 300`` (both
    directions; 300 s itself passes); then ``hmac.compare_digest`` of the whole ``v0=...``
    string: one signature only (a space-separated pair is ``False``), upper-case hex is
    ``False``, a non-ASCII signature raises ``TypeError``. ``is_valid_request(body, headers)``
    reads the two headers case-insensitively (``None`` headers -> ``False``). One secret per
    verifier; an empty or blank secret raises ``ValueError``.

Stripe -- https://docs.stripe.com/webhooks#verify-manually
    Header ``Stripe-Signature: t=<integer seconds>,v1=<hex>``, hex = lower-case HMAC-SHA256,
    key = the endpoint secret string as given (``whsec_...`` included, UTF-8; it is not
    base64-decoded), message = ``"<t>.<body>"``. While a secret is being rolled Stripe sends
    one ``v1`` per active secret; ``v0`` (test-mode signature) and any other scheme is to be
    ignored. stripe-python's ``stripe.WebhookSignature`` (16.1.0):
    ``_compute_signature(payload: str, secret: str) -> hex`` (private);
    ``generate_signature_header(payload: str, secret: str, timestamp=None)`` ->
    ``"t=<ts>,v1=<hex>"`` (public since 15.5.0; ``timestamp`` defaults to ``int(time.time())``);
    ``verify_header(payload, header, secret, tolerance=None)`` -> ``True`` or raises
    ``stripe.SignatureVerificationError``. Parsing: ``header.split(",")``, each item
    ``split("=", 2)``; ``t`` = ``int()`` of the first item whose key is exactly ``t`` (order is
    free; a repeated ``t``: the first wins; ``int`` tolerates spaces around the digits);
    signatures = every item whose key is exactly ``v1`` (any one matching passes, compared with
    ``secure_compare``); other keys are ignored. Keys are not trimmed: ``t=1, v1=...`` -> "No
    signatures found with expected scheme v1", `` t=...`` -> "Unable to extract timestamp and
    signatures from header"; anything after a second ``=`` in an item is dropped. Errors:
    empty or ``None`` header -> "No Stripe-Signature header value was provided..."; blank
    secret -> "No webhook secret value was provided..."; no ``v1`` -> "No signatures found
    with expected scheme v1"; no match -> "No signatures found matching the expected signature
    for payload"; old -> "Timestamp outside the tolerance zone (<t>)". Tolerance only when
    truthy, and only one way: refused when ``t < time.time() - tolerance`` (a future ``t`` is
    accepted; ``None`` or ``0`` checks nothing). ``verify_header``'s default is ``None``;
    ``stripe.Webhook.construct_event(payload, sig_header, secret, tolerance=300)`` and
    ``StripeClient.construct_event`` default to 300 and then ``json.loads`` the body
    (``JSONDecodeError`` for a non-JSON or empty body). ``payload`` may be ``bytes`` (decoded
    as UTF-8) only since 15.6.0: before that ``verify_header`` formats bytes as ``b'...'`` and
    never matches, so pass ``str``.

Standard Webhooks (Svix) -- https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
(at b2fa7b87); https://docs.svix.com/receiving/verifying-payloads/how-manual
    Headers ``webhook-id``, ``webhook-timestamp`` (integer seconds) and ``webhook-signature``:
    a space-delimited list of ``<version>,<base64>``; ``v1`` = standard base64 (padded) of
    HMAC-SHA256 of ``"<id>.<timestamp>.<body>"`` (``v1a`` is ed25519, not covered). Secret
    ``whsec_`` + base64 of the key (24 to 64 random bytes per the spec). The spec's own header
    example has no secret; the published vector is the library's ``test_sign_function``
    (libraries/python/tests/test_webhooks.py). ``standardwebhooks.Webhook(whsecret)`` 1.1.0: a
    ``str`` loses a leading ``whsec_`` and is ``base64.b64decode(s + "==")`` (non-validating:
    unpadded secrets work, characters outside the alphabet are dropped, some lengths raise
    ``binascii.Error``); ``bytes`` are the raw key; empty -> ``EmptyWebhookSecretError``.
    ``sign(msg_id, timestamp: datetime, data: str)`` -> ``"v1,<base64>"`` with the seconds
    ``floor(timestamp.replace(tzinfo=utc).timestamp())``: a naive datetime is read as UTC and an
    aware non-UTC one has its zone replaced (a wrong second), so pass ``tz=timezone.utc``.
    ``verify(data, headers, *, json_parse=True)``: header names lower-cased; any of the three
    missing -> ``WebhookVerificationError("Missing required headers")``; timestamp =
    ``float(header)`` ("Invalid Signature Headers" otherwise; ``1700000000.9`` passes and the
    signed text uses the floored second, not the header's text), refused if more than 5
    minutes old ("Message timestamp too old") or ahead ("too new") of ``datetime.now()``: fixed,
    no clock parameter. Then ``header.split(" ")``: every entry is unpacked as ``version,
    signature`` -- an empty entry (double or leading space), one without a comma or with two
    commas raises ``ValueError`` (not ``WebhookVerificationError``) when reached before a match;
    entries whose version is not ``v1`` are skipped; a ``v1`` value is non-validating base64
    (an unpadded one raises ``binascii.Error``); the first match returns (the parsed JSON, or
    ``None`` with ``json_parse=False``); none -> "No matching signature found". With the default
    ``json_parse=True`` an empty or non-JSON body raises ``JSONDecodeError`` after verification;
    ``json_parse`` exists since 1.1.0 (1.0.0 always parses). ``svix.webhooks.Webhook`` (svix
    2.x) wraps it, also reads ``svix-id``/``svix-timestamp``/``svix-signature``, and verifies
    with ``json_parse=False`` (returns ``None``); svix 1.x had its own copy that parses JSON.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import slack_sdk.version
import standardwebhooks
import stripe
from slack_sdk.signature import SignatureVerifier
from standardwebhooks.webhooks import Webhook

DOCS = {
    "github": "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
    "shopify": "https://shopify.dev/docs/apps/build/webhooks/verify-deliveries",
    "slack": "https://docs.slack.dev/authentication/verifying-requests-from-slack/",
    "stripe": "https://docs.stripe.com/webhooks#verify-manually",
    "standard-webhooks": "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
}
STANDARD_TESTS = (
    "https://github.com/standard-webhooks/standard-webhooks/blob/b2fa7b8719fb75d326b591077f5d1b385cfcdfae/"
    "libraries/python/tests/test_webhooks.py (test_sign_function)"
)
SLACK_TESTS = (
    "https://github.com/slackapi/python-slack-sdk/blob/ae87985e2c3811ead978f31ea5a1e4a7ca5c3515/"
    "tests/slack_sdk/signature/test_signature_verifier.py"
)

# Test-only secrets: none of them was ever issued by a provider.
GITHUB_SECRET = "hba-test-github-webhook-secret"
SHOPIFY_SECRET = "hba-test-shopify-client-secret"
SLACK_SECRET = "hba-test-slack-signing-secret"
STRIPE_SECRET = "whsec_hba_test_stripe_endpoint_secret"
STRIPE_OLD_SECRET = "whsec_hba_test_stripe_rolled_secret"
STANDARD_SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"hmac-body-auth standard webhooks key").digest()).decode()
STANDARD_OLD_SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"hmac-body-auth standard old key").digest()).decode()

# The bodies every scheme is signed over, exactly as sent (UTF-8 on the wire).
BODIES = [
    ("ascii-json", '{"id":"evt_hba_1","type":"order.paid","amount":1000}'),
    ("utf8-json", json.dumps({"note": "café é 😀", "amount": 100}, ensure_ascii=False, separators=(",", ":"))),
    (
        "pretty-json",
        json.dumps({"action": "opened", "number": 7, "title": "Straße"}, indent=2, ensure_ascii=False) + "\n",
    ),
    ("form", "payload=%7B%22a%22%3A1%7D&text=caf%C3%A9"),
    ("empty", ""),
]
BASE_TS = 1_700_000_000


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _utc(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def _vector(scheme: str, name: str, source: str, secret: str, body: str, **fields: Any) -> dict[str, Any]:
    return {
        "scheme": scheme,
        "name": name,
        "source": source,
        "secret": secret,
        "body": body,
        "timestamp": fields.get("timestamp"),
        "id": fields.get("id"),
        "expected": {"headers": fields["headers"], "prehash": fields["prehash"]},
        **({"also_signed_with": fields["also"]} if "also" in fields else {}),
    }


def github(secret: str, body: str, name: str, source: str) -> dict[str, Any]:
    """GitHub's documented algorithm, checked with the docs' own comparison (the whole header string)."""
    header = "sha256=" + hmac.new(secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha256).hexdigest()
    assert hmac.compare_digest("sha256=" + _hmac(secret.encode(), body).hex(), header)
    return _vector("github", name, source, secret, body, headers={"X-Hub-Signature-256": header}, prehash=body)


def shopify(secret: str, body: str, name: str) -> dict[str, Any]:
    """Shopify's documented algorithm: base64 of the HMAC of the raw body, compared in constant time."""
    header = base64.b64encode(hmac.new(secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(base64.b64decode(header), _hmac(secret.encode(), body))
    source = f"{DOCS['shopify']} (the documented algorithm; Shopify's Python library has no webhook signer)"
    return _vector("shopify", name, source, secret, body, headers={"X-Shopify-Hmac-Sha256": header}, prehash=body)


def slack(secret: str, body: str, timestamp: int, name: str, source: str) -> dict[str, Any]:
    """slack-sdk's SignatureVerifier.generate_signature, then its is_valid_request at that second."""
    clock = type("FixedClock", (), {"now": lambda self: float(timestamp)})()
    verifier = SignatureVerifier(secret, clock=clock)
    signature = verifier.generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    headers = {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}
    assert verifier.is_valid_request(body.encode("utf-8"), headers)
    assert not verifier.is_valid_request(body + " ", headers)
    prehash = f"v0:{timestamp}:{body}"
    return _vector("slack", name, source, secret, body, timestamp=timestamp, headers=headers, prehash=prehash)


def stripe_vector(secret: str, body: str, timestamp: int, name: str, old: str | None = None) -> dict[str, Any]:
    """stripe-python's generate_signature_header; verify_header (no tolerance: the vectors' time is fixed)."""
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    assert header == f"t={timestamp},v1={stripe.WebhookSignature._compute_signature(f'{timestamp}.{body}', secret)}"
    source = f"stripe {stripe.VERSION} WebhookSignature.generate_signature_header(body, secret, timestamp=t)"
    fields: dict[str, Any] = {}
    if old is not None:
        # A secret being rolled: Stripe sends one v1 per active secret; a v0 is there to be ignored.
        rolled = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", old)
        header = f"t={timestamp},v0={'0' * 64},v1={rolled},{header.split(',', 1)[1]}"
        source += " for each secret, the v1 items joined, and a v0 the official verifier ignores"
        fields["also"] = [old]
        assert stripe.WebhookSignature.verify_header(body, header, old, tolerance=None)
    assert stripe.WebhookSignature.verify_header(body.encode("utf-8"), header, secret, tolerance=None)
    try:
        stripe.WebhookSignature.verify_header(body + " ", header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        pass
    else:
        raise AssertionError("stripe accepted a changed body")
    return _vector(
        "stripe",
        name,
        source,
        secret,
        body,
        timestamp=timestamp,
        headers={"Stripe-Signature": header},
        prehash=f"{timestamp}.{body}",
        **fields,
    )


def standard(secret: str, body: str, timestamp: int, msg_id: str, name: str, **options: Any) -> dict[str, Any]:
    """Standardwebhooks' Webhook(secret).sign; the headers it makes; the same signing verified at the real clock."""
    signature = Webhook(secret).sign(msg_id, _utc(timestamp), body)
    source = options.get("source", f"standardwebhooks {standardwebhooks.__version__} Webhook(secret).sign(id, t, body)")
    fields: dict[str, Any] = {}
    if options.get("old"):
        # Rotation: one signature per secret, space-separated; a v1a (ed25519) entry is skipped by v1 verifiers.
        old_signature = Webhook(options["old"]).sign(msg_id, _utc(timestamp), body)
        signature = f"v1a,{base64.b64encode(bytes(64)).decode()} {old_signature} {signature}"
        source += " for each secret, space-separated, and a v1a entry the official verifier skips"
        fields["also"] = [options["old"]]
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    key = _standard_key(secret)
    for entry in signature.split(" "):
        version, value = entry.split(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(value), _hmac(key, f"{msg_id}.{timestamp}.{body}")):
            break
    else:
        raise AssertionError("no v1 signature of the secret in the header")
    # Webhook.verify has a fixed five-minute window around datetime.now(): verify the same signing done now.
    now = int(time.time())
    live = {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": ""}
    live["webhook-signature"] = Webhook(secret).sign(msg_id, _utc(now), body)
    assert Webhook(secret).verify(body.encode("utf-8"), live, json_parse=False) is None
    return _vector(
        "standard-webhooks",
        name,
        source,
        secret,
        body,
        timestamp=timestamp,
        id=msg_id,
        headers=headers,
        prehash=f"{msg_id}.{timestamp}.{body}",
        **fields,
    )


def _standard_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret, read as the official library does (padding added)."""
    return base64.b64decode(secret.removeprefix("whsec_") + "==")


def vectors() -> list[dict[str, Any]]:
    """Every vector: the published examples first, then each body under each scheme."""
    github_docs = github(
        "It's a Secret to Everybody",
        "Hello, World!",
        "github-docs-hello-world",
        DOCS["github"] + " (Testing the webhook payload validation)",
    )
    assert github_docs["expected"]["headers"]["X-Hub-Signature-256"] == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    out = [github_docs]
    out += [
        github(GITHUB_SECRET, body, f"github-{case}", DOCS["github"] + " (the documented algorithm)")
        for case, body in BODIES
    ]
    out += [shopify(SHOPIFY_SECRET, body, f"shopify-{case}") for case, body in BODIES]

    slack_body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    slack_docs = slack(
        "8f742231b10e8888abcd99yyyzzz85a5",
        slack_body,
        1531420618,
        "slack-docs-slash-command",
        f"{DOCS['slack']} (the worked example; also {SLACK_TESTS})",
    )
    assert slack_docs["expected"]["headers"]["X-Slack-Signature"] == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )
    out.append(slack_docs)
    source = (
        f"slack-sdk {slack_sdk.version.__version__} SignatureVerifier(secret).generate_signature(timestamp=, body=)"
    )
    out += [slack(SLACK_SECRET, body, BASE_TS + i, f"slack-{case}", source) for i, (case, body) in enumerate(BODIES)]

    out += [stripe_vector(STRIPE_SECRET, body, BASE_TS + i, f"stripe-{case}") for i, (case, body) in enumerate(BODIES)]
    out.append(
        stripe_vector(STRIPE_SECRET, BODIES[0][1], BASE_TS + 10, "stripe-rolling-two-v1-and-v0", old=STRIPE_OLD_SECRET)
    )

    standard_docs = standard(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        '{"test": 2432232314}',
        1614265330,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "standard-webhooks-library-test-sign",
        source=STANDARD_TESTS,
    )
    assert (
        standard_docs["expected"]["headers"]["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    out.append(standard_docs)
    out += [
        standard(STANDARD_SECRET, body, BASE_TS + i, f"msg_hba_{i:04d}", f"standard-webhooks-{case}")
        for i, (case, body) in enumerate(BODIES)
    ]
    out.append(
        standard(
            STANDARD_SECRET,
            BODIES[0][1],
            BASE_TS + 10,
            "msg_hba_rotation",
            "standard-webhooks-rotation-two-v1-and-v1a",
            old=STANDARD_OLD_SECRET,
        )
    )
    # The library reads a whsec_ secret without its base64 padding (it appends "=="); the spec's
    # secrets are padded base64, but unpadded ones are accepted by the official verifier.
    out.append(
        standard(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
            '{"test": 2432232314}',
            1614265330,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "standard-webhooks-unpadded-secret",
            source=f"standardwebhooks {standardwebhooks.__version__} Webhook(secret).sign(id, t, body); the secret"
            " is the library test's 'needs two padding' case (test_signature_verification_with_unpadded_secret)",
        )
    )
    return out


def main() -> None:
    """Write webhooks.json next to this script."""
    document = {
        "source": (
            "GitHub and Shopify docs (their documented algorithms), Slack docs and slack-sdk, stripe-python, "
            "standardwebhooks; the doc URLs are under 'docs'"
        ),
        "docs": DOCS,
        "versions": {
            "stripe": stripe.VERSION,
            "standardwebhooks": standardwebhooks.__version__,
            "slack-sdk": slack_sdk.version.__version__,
        },
        "generator": "tests/vectors/generate_webhooks.py",
        "vectors": vectors(),
    }
    text = json.dumps(document, indent=2) + "\n"
    Path(__file__).with_name("webhooks.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
