"""What the newsroom page tests share: a signed-in test client and the words a page shows."""

from __future__ import annotations

import re

from django.test import Client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visible_text(html: str) -> str:
    """The page's words as a person reads them: no markup, scripts or styles; whitespace folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
