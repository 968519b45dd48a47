"""The confirmation form's one-time token: a second click or a reload of the confirmation page must not
send again. Spent in the session; the rule against sending the same bulletin twice within a minute is
the service's (broadcast/services/emergency.py)."""

from __future__ import annotations

import secrets
from typing import Any

SESSION_KEY = "loa_emergency_tokens"
MAX_TOKENS = 20


def issue_token(session: Any) -> str:
    token = secrets.token_urlsafe(18)
    tokens = [t for t in session.get(SESSION_KEY, []) if isinstance(t, str)][-(MAX_TOKENS - 1):]
    session[SESSION_KEY] = [*tokens, token]
    return token


def spend_token(session: Any, token: str) -> bool:
    """True once per issued token; False for an unknown, forged or already spent one."""
    tokens = session.get(SESSION_KEY, [])
    if not token or not isinstance(tokens, list) or token not in tokens:
        return False
    session[SESSION_KEY] = [t for t in tokens if t != token]
    return True
