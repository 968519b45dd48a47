#!/bin/sh
# The fleet's player: "plays" a file for its real duration (measured once by bench_fleet.py and kept in
# $LOA_FLEET_DURATIONS/<sha256>), then appends "<sha256> <end time>" to the agent's play log. Stopped
# (the agent interrupting it, or killed with its agent), it logs nothing: the log holds complete plays only.
# Usage: _fleet_player.sh <path> <duration_s from the playlist> <play log>
name=$(basename "$1")
sha=${name%%.*}
seconds=$(cat "$LOA_FLEET_DURATIONS/$sha" 2>/dev/null || echo "$2")
sleep "$seconds" || exit 1
echo "$sha $(date +%s.%N)" >> "$3"
