"""A station's MQTT credentials, derived from its API token (standard library only, no Django).

The broker (Mosquitto) knows a station as user name = station code and password = `mqtt_password(token)`.
The server keeps only a Mosquitto hash of that password (stations.broker); the agent derives the same
password from the token it already holds, so a new or revoked token changes or ends its MQTT access too.
Defined once here: the server imports it from this module when it issues a token.
"""

from __future__ import annotations

import hashlib
import hmac
import re

# The domain separator: the MQTT password is never the API token itself, and a second derivation
# (another version) would not collide with this one.
_CONTEXT = b"loa-mqtt-v1"

# A station code that is safe as an MQTT user name (and client id): no '+', '#', '/', spaces or
# anything else a pattern ACL (%u) could misread (CVE-2017-7650). Other stations stay on polling.
_USERNAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def mqtt_password(token: str) -> str:
    """The station's MQTT password: HMAC-SHA256 of a fixed context keyed by its API token, in hex."""
    return hmac.new(token.encode(), _CONTEXT, hashlib.sha256).hexdigest()


def mqtt_username_ok(code: object) -> bool:
    """Whether a station code may be an MQTT user name (letters, digits, '_' and '-'; 1 to 64)."""
    return isinstance(code, str) and _USERNAME_RE.fullmatch(code) is not None
