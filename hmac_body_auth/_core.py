"""The transport-neutral signing call: (method, content type, body, nonce) -> what to send.

Both client adapters are thin wrappers around :meth:`BodyDigestScheme.sign`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._body import FORM_CONTENT_TYPE, add_form_field, check_form, encode_body
from ._signing import Signer
from .errors import BodyError

__all__ = ["BodyDigestScheme", "SignedBody"]

# Methods whose requests carry no body by convention: a nonce cannot be placed.
_BODILESS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class SignedBody:
    """The exact bytes to send and the headers that sign them."""

    body: bytes
    headers: dict[str, str]
    nonce: int | str | None


class BodyDigestScheme:
    """HMAC over the exact body bytes, with an optional nonce form field."""

    __slots__ = ("body_encoding", "key", "key_header", "nonce_field", "signature_header", "signer")

    def __init__(
        self,
        *,
        signer: Signer,
        key: str | None,
        key_header: str,
        signature_header: str,
        body_encoding: str,
        nonce_field: str,
    ) -> None:
        self.signer = signer
        self.key = key
        self.key_header = key_header
        self.signature_header = signature_header
        self.body_encoding = body_encoding
        self.nonce_field = nonce_field

    def body_bytes(self, method: str, content_type: str | None, body: str | bytes | None, *, with_nonce: bool) -> bytes:
        """Encode and check ``body`` before a nonce is allocated, so bad input costs no nonce."""
        data = encode_body(body, self.body_encoding)
        if with_nonce:
            if method.upper() in _BODILESS:
                raise BodyError(f"the nonce goes into the form body, and a {method.upper()} request has none; use POST")
            check_form(data, content_type, self.nonce_field)
        return data

    def sign(self, data: bytes, nonce: int | str | None) -> SignedBody:
        """Add the nonce to ``data`` (already checked) and sign the resulting bytes."""
        if nonce is not None:
            data = add_form_field(data, self.nonce_field, nonce)
        headers = {self.signature_header: self.signer.sign(data)}
        if self.key is not None:
            headers = {self.key_header: self.key, **headers}
        return SignedBody(data, headers, nonce)

    def form_content_type(self, current: str | None, signed: SignedBody) -> str | None:
        """The Content-Type to set when a nonce turned an empty body into a form."""
        if signed.nonce is not None and current is None:
            return FORM_CONTENT_TYPE
        return None
