"""Daily playlists: the pure packing `planner`, the `builder` that writes them from what `inputs`
reads, and the `enqueue` helpers that queue rebuilds after a commit."""

from __future__ import annotations

from ...selectors.playlists import parse_slot_bounds
from . import builder, enqueue, planner
from .builder import RebuildStats, placement_of, rebuild_playlists
from .planner import IMMEDIATE_SLOT, Placement, playlist_etag_for

__all__ = [
    "IMMEDIATE_SLOT",
    "Placement",
    "RebuildStats",
    "builder",
    "enqueue",
    "parse_slot_bounds",
    "placement_of",
    "planner",
    "playlist_etag_for",
    "rebuild_playlists",
]
