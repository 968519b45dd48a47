"""Mosquitto's password hashes, as `mosquitto_passwd` (Mosquitto 2.0) writes them.

Format: `$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512(password, salt, iterations)>`, standard
base64 with padding, a 12-byte salt, a 64-byte key and 101 iterations (mosquitto_passwd's default; the
broker checks every station's connect with it, so a costlier hash would slow reconnect storms).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

ITERATIONS = 101
SALT_BYTES = 12
KEY_BYTES = 64

HASH_RE = re.compile(r"\$7\$[1-9][0-9]{0,8}\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}")


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$…` hash of `password` that Mosquitto's password file holds (a fresh random salt)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, KEY_BYTES)
    return f"$7${iterations}${_b64(salt)}${_b64(key)}"


def check_password(password: str, encoded: str) -> bool:
    """Whether `encoded` (a `$7$…` hash) is the hash of `password`; False for anything malformed."""
    if not HASH_RE.fullmatch(encoded or ""):
        return False
    _, _, iterations, salt, key = encoded.split("$")
    try:
        salt_bytes, key_bytes = base64.b64decode(salt, validate=True), base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return False
    actual = hashlib.pbkdf2_hmac("sha512", password.encode(), salt_bytes, int(iterations), len(key_bytes))
    return hmac.compare_digest(actual, key_bytes)


def is_hash(encoded: str) -> bool:
    """Whether `encoded` looks like a hash this module (or mosquitto_passwd) writes."""
    return HASH_RE.fullmatch(encoded or "") is not None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
