"""What the browser tests share: Debian's Chromium driven by Playwright, launched with the flags this
machine's closed network needs, and the sign-in through the login page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
NEWSROOM_SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "newsroom"
PASSWORD = "mat-khau-thu-nghiem"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")

# Headless as root; no background connections (refused here, many at a time, and slow to give up).
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync")
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"


def launch(pw: Any, *extra: str) -> Any:
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, *extra])


def sign_in_at(page: Any, base: str, path: str, username: str, password: str = PASSWORD) -> None:
    """Opens `path` signed out (it leads to the login page), signs in and waits to be back on `path`."""
    page.goto(f"{base}{path}")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
