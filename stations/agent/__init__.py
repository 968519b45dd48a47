"""Loa's station agent: the reference player for a commune station's box.

Runs on the box wired to the amplifier (Raspberry Pi OS / Debian 12, Python 3.11+, standard library only;
it never imports Django): keeps the day's playlists and audio, plays each item at its time through a
player command, and proves it with playback reports queued on disk before anything else. Started as
`python -m stations.agent --config /etc/loa-agent.toml`.

Modules: config (settings file), clock (real or simulated time, clock sanity), http (the station API),
store (the on-disk SQLite state: playlists, plays, the report queue), sync (playlists and heartbeats),
downloads (audio files, resumed and verified; the bounded cache), scheduler (what plays when),
player (the player and amplifier commands), uploader (the report queue to the server), recovery (what a
start settles from the previous run), agent (the loop).
"""

VERSION = "loa-agent/1.0"
