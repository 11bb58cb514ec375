"""Provider keys at rest: encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from the
`cryptography` package, rather than a cipher of our own).

The encryption key is GAITU_PROVIDER_KEYS when set: Fernet keys separated by commas, the first
encrypting, every one decrypting. Without it, a key is derived from SECRET_KEY (HKDF-SHA256,
info "gaitu provider keys"), and SECRET_KEY_FALLBACKS still decrypt. To rotate: put the new key
first (or change SECRET_KEY, keeping the old one in SECRET_KEY_FALLBACKS), run
`manage.py rotate_provider_keys`, which re-encrypts every stored key with the first, then drop
the old one.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

HKDF_INFO = b"gaitu provider keys"


class KeyUnreadable(Exception):
    """A stored key none of the configured keys can decrypt (the encryption key was lost)."""


def derived_key(secret: str) -> bytes:
    """A Fernet key of its own for provider keys, derived from a SECRET_KEY."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


def fernet_keys() -> list[bytes]:
    """The keys in order: the first encrypts, all decrypt. The keys derived from SECRET_KEY
    (and its fallbacks) always decrypt, so that setting GAITU_PROVIDER_KEYS later strands no
    stored key: rotate_provider_keys moves them over."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    derived = [derived_key(secret) for secret in secrets if secret]
    configured = [key.strip().encode() for key in settings.GAITU_PROVIDER_KEYS if key.strip()]
    return [*configured, *derived]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in fernet_keys()])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise KeyUnreadable from None


def rotated(token: str) -> str:
    """The same key, encrypted again with the first encryption key."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        raise KeyUnreadable from None
