"""Registers' passwords: stored encrypted with a key derived from the app's secret key (Fernet:
AES-128-CBC with HMAC-SHA256), or read from an environment variable; never shown back."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken


def _fernet(app_secret: str) -> Fernet:
    digest = hashlib.sha256(b"frontoffice fiscal register secret\0" + app_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str, app_secret: str) -> str:
    """``secret`` encrypted for the database."""
    return _fernet(app_secret).encrypt(secret.encode()).decode()


class SecretUnavailable(Exception):
    """The password cannot be had: the variable is not set, or the key changed since it was stored."""


def reveal(encrypted: str | None, env_name: str, app_secret: str) -> str:
    """The password of a register: from ``env_name`` when set, else the stored one decrypted;
    empty when it has none."""
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise SecretUnavailable(f"The environment variable {env_name} holding the password is not set.")
        return value
    if not encrypted:
        return ""
    try:
        return _fernet(app_secret).decrypt(encrypted.encode()).decode()
    except InvalidToken:
        raise SecretUnavailable(
            "The stored password cannot be decrypted (the secret key changed): enter it again."
        ) from None


def hint(encrypted: str | None, env_name: str) -> str:
    """What a page may say about a password: where it comes from, never the password."""
    if env_name:
        return f"from ${env_name}"
    return "stored encrypted" if encrypted else "none"
