"""The scripts a user runs: the station simulator, scripts/run (start, supervise, stop), the set-up."""

from __future__ import annotations

import importlib.util
import json
import stat
import sys
from pathlib import Path

import pytest

from stations.models import StationCredential
from tests.factories import StationFactory, UserFactory

REPO = Path(__file__).resolve().parents[1]


def _simulator():
    spec = importlib.util.spec_from_file_location("simulate_stations", REPO / "scripts" / "simulate_stations.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _live_tokens() -> dict[str, int]:
    return dict(StationCredential.objects.filter(revoked_at__isnull=True).values_list("station__code", "pk"))


# --- the simulator keeps its station tokens -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simulator_reuses_its_station_tokens_on_a_second_run(live_server, tmp_path: Path) -> None:
    UserFactory(username="giamsat", roles=["supervisor"])
    codes = sorted(s.code for s in StationFactory.create_batch(3))
    tokens = tmp_path / "var" / "simulator-tokens.json"
    args = ["--base-url", live_server.url, "--username", "giamsat", "--password", "mat-khau-thu-nghiem",
            "--silent-fraction", "0", "--workers", "1", "--tokens", str(tokens)]
    simulate = _simulator()

    assert simulate.main(args) == 0
    first = _live_tokens()
    assert sorted(first) == codes
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    stored = json.loads(tokens.read_text())
    assert sorted(stored["tokens"]) == codes and stored["base_url"] == live_server.url

    assert simulate.main(args) == 0
    assert _live_tokens() == first  # nothing re-issued, so nothing revoked
    assert StationCredential.objects.count() == 3

    # A token revoked meanwhile (or a database reset) is issued again, and only that one.
    StationCredential.objects.filter(station__code=codes[0]).update(revoked_at="2026-01-01T00:00:00Z")
    assert simulate.main(args) == 0
    again = _live_tokens()
    assert again[codes[0]] != first[codes[0]]
    assert {c: again[c] for c in codes[1:]} == {c: first[c] for c in codes[1:]}
    assert json.loads(tokens.read_text())["tokens"][codes[0]] != stored["tokens"][codes[0]]
