#!/usr/bin/env python
"""Time to air of an emergency: from the approval call that creates the immediate schedule to "started" at
the stations, with push (MQTT) and with polling only, measured in the same run.

The rig is bench_fleet's (its functions, imported): gunicorn on PostgreSQL, Redis as cache and Celery
broker, one real Celery worker (the API call only queues `broadcast.push_emergency`: the worker rebuilds
the playlists and publishes), plus a real Mosquitto with Loa's generated config (stations.broker, two
listeners on free ports, the stations' password file written after their tokens exist) and the
acknowledgement listener (`manage.py push_listen`). N real agents (`python -m stations.agent`, default
600) on loopback, under nice 10, their data in /dev/shm; `--offline-pct` of them (10 %, spread evenly by
index) are simply never started: offline for HTTP and MQTT alike, their deliveries are rung and stay
unanswered. The day has no slot this run reaches (today's playlists are built empty); the agents keep
their defaults, a poll every `--poll-s` (60 s) and a heartbeat (which also refetches a changed playlist)
every `--heartbeat-s` (300 s), and start spread over one poll interval (`--ramp`), so their polls are
spread evenly over it as a fleet's are: "polling only" is honest about the default poll.

`--swarm` replaces the agent processes by stand-ins, hundreds to a process (scripts/_fleet_swarm.py: the
agent's own MQTT client, one connection per station, and the same HTTP calls, no player), for fleets of
thousands: a real agent takes ~29 MB, so about 700 of them fit this machine's memory.

Two phases, one run:
1. push: once every online agent holds its MQTT session, emergency A is sent through the API
   (POST /api/v1/schedules/, immediate) — t0 is taken just before the call; the phase ends when every
   online station has started it or at `--timeout-s`.
2. polling only: after A's plays ended, Mosquitto is stopped (the agents fall back to polling, the worker's
   publish fails and is recorded), emergency B (another bulletin, other audio: both phases download) is
   sent the same way and measured the same way.

"Started" per station is EmergencyDelivery.started_at, the time in the agent's "started" acknowledgement
(agents and server share this machine's real clock). Cross-checks: the time the bench first saw that ack
stored (it reads the deliveries every 0.25 s: the ack's transit and storage), and the start in the play's
report (PlaybackReport.started_at), used as the started time of a station that sent no ack (counted apart:
an agent without acknowledgements is still measured). "Lost" counts deliveries rung to the broker whose
online station never acknowledged "received" by the end of its phase. CPU seconds are utime + stime from
/proc, summed over the phase (t0 to its end): the broker, the server (gunicorn master and workers, the
Celery worker, push_listen), PostgreSQL's backends of the bench database, the agents, and the whole machine
(/proc/stat). As in bench_fleet, the agents share one session (one scheduling autogroup) and the server's
processes have their own, so the fleet's CPU does not outweigh the server's. Each phase also lists its
HTTP requests by kind with their server-side times (gunicorn's access log) and the started count over time.

    DATABASE name must contain "bench" (it is dropped):
    .venv/bin/python scripts/bench_emergency.py                      # 600 agents, 10 % offline, push + poll
    .venv/bin/python scripts/bench_emergency.py --agents 50 --poll-s 20
    .venv/bin/python scripts/bench_emergency.py --sqlite --agents 3 --poll-s 4 --heartbeat-s 4   # tiny
    .venv/bin/python scripts/bench_emergency.py --agents 5000 --swarm            # stand-ins, 500 a process
    --modes poll runs the polling phase alone (no broker); --strict exits 1 if the push p99 is over 5 s,
    a station did not start, or anything was lost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_fleet import (
    ROOT,
    SCRIPTS,
    STAFF_PASSWORD,
    Agent,
    Server,
    _descendants,
    _free_port,
    _reachable,
    agent_environment,
    kill,
    latency_table,
    pct,
    prepare,
    render_audio,
    run_checked,
    sample_memory,
    seed_stations,
    spawn,
    start_celery,
)

EMERGENCIES = [
    ("Cảnh báo mưa lớn", "Mưa lớn đêm nay, bà con không ra sông suối.", "emergency"),
    ("Cảnh báo lũ quét", "Nước sông đang lên nhanh, bà con vùng trũng di chuyển lên chỗ cao ngay.", "emergency"),
]
MQTT_PASSWORD = "bench-emergency-not-secret"
GOAL_P99_S = 5.0
LEVELS = (0.5, 0.9, 0.99, 1.0)
CURVE = (1, 2, 5, 10, 20, 30, 60, 90, 120)
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- broker and processes


class Broker:
    """Mosquitto from the files stations.broker generated in `directory`, stopped and started at will."""

    def __init__(self, directory: Path, station_port: int, internal_port: int) -> None:
        self.directory, self.station_port, self.internal_port = directory, station_port, internal_port
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

    @property
    def log(self) -> Path:
        return self.directory / "mosquitto.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([self.binary, "-c", str(self.directory / "mosquitto.conf")],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while not (_reachable("127.0.0.1", self.station_port) and _reachable("127.0.0.1", self.internal_port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start:\n{self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def connected(self) -> set[str]:
        """Client ids with a live connection, from the broker's connection messages."""
        live: set[str] = set()
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return live
        for m in re.finditer(r"New client connected from \S+ as (\S+)|Client (\S+) (?:disconnected|closed its "
                             r"connection|has exceeded timeout)", text):
            if m.group(1):
                live.add(m.group(1))
            else:
                live.discard(m.group(2))
        return live


def mqtt_environment(work: Path) -> tuple[dict[str, str], Broker]:
    station_port = _free_port()
    internal_port = _free_port()
    while internal_port == station_port:
        internal_port = _free_port()
    directory = work / "mosquitto"
    env = {
        "MQTT_URL": f"mqtt://loa:{MQTT_PASSWORD}@127.0.0.1:{internal_port}",
        "MQTT_PUBLIC_URL": f"mqtt://127.0.0.1:{station_port}", "MQTT_BROKER_DIR": str(directory),
        "MQTT_STATION_PORT": str(station_port), "MQTT_INTERNAL_PORT": str(internal_port),
        "MQTT_PASSWORD": MQTT_PASSWORD, "MQTT_TLS_CERTFILE": "", "MQTT_TLS_KEYFILE": "",
    }
    return env, Broker(directory, station_port, internal_port)


def raise_open_files() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the broker holds a socket per station
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICK


def db_backends(name: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving database `name` (their titles name it)."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {name} " in f"{title} ":
            pid = int(cmdline.parent.name)
            found[pid] = cpu_s([pid])
    return found


def vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_s() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK  # all but idle and iowait


@dataclass
class Rig:
    server: Server
    celery: subprocess.Popen | None
    listener: subprocess.Popen | None
    broker: Broker | None
    agents: list[Agent]
    swarms: list[subprocess.Popen] = field(default_factory=list)

    def groups(self) -> dict[str, list[int]]:
        server = [self.server.proc.pid, *_descendants(self.server.proc.pid)]
        for proc in (self.celery, self.listener):
            if proc is not None:
                server += [proc.pid, *_descendants(proc.pid)]
        broker = [self.broker.proc.pid] if self.broker and self.broker.proc and self.broker.proc.poll() is None else []
        agents = [a.proc.pid for a in self.agents if a.proc and a.proc.poll() is None]
        agents += [p.pid for p in self.swarms if p.poll() is None]
        return {"broker": broker, "server": server, "agents": agents}


# ---------------------------------------------------------------- one phase


def reach(times: list[float], n: int, level: float) -> float | None:
    """The time by which `level` of n stations had got there (None: fewer did)."""
    k = max(1, math.ceil(level * n - 1e-9))
    ordered = sorted(times)
    return ordered[k - 1] if k <= len(ordered) else None


@dataclass
class Phase:
    mode: str
    schedule: int = 0
    online: int = 0
    call_s: float = 0.0
    built_s: float | None = None                             # the worker's rebuild done (first_sent_at)
    errors: dict[str, int] = field(default_factory=dict)    # failed publications by error
    deliveries: int = 0
    published: int = 0
    failed: int = 0
    started: dict[str, float] = field(default_factory=dict)   # code -> s after t0 (ack, else report)
    from_report: int = 0
    received: list[float] = field(default_factory=list)
    downloaded: list[float] = field(default_factory=list)
    seen_lag: list[float] = field(default_factory=list)       # ack stored and seen - agent's start time
    report_gap: list[float] = field(default_factory=list)     # report's start - ack's start
    lost: list[str] = field(default_factory=list)
    offline_received: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    http: dict[str, list[float]] = field(default_factory=dict)  # kind -> server-side ms, during the phase

    def level(self, level: float) -> float | None:
        return reach(list(self.started.values()), self.online, level)

    @property
    def not_started(self) -> int:
        return self.online - len(self.started)


def staff_token(port: int) -> str:
    import requests

    answer = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/token/",
                           json={"username": "fleet-supervisor", "password": STAFF_PASSWORD}, timeout=30)
    answer.raise_for_status()
    return answer.json()["token"]


def send(port: int, token: str, bulletin_id: int) -> int:
    import requests

    answer = requests.post(f"http://127.0.0.1:{port}/api/v1/schedules/", headers={"Authorization": f"Token {token}"},
                           json={"bulletin": bulletin_id, "immediate": True, "targets": {"all": True}}, timeout=60)
    if answer.status_code != 201:
        raise RuntimeError(f"the emergency was refused: {answer.status_code} {answer.text[:500]}")
    return answer.json()["id"]


def snapshot(schedule_id: int) -> tuple[dict[str, tuple], dict[str, dt.datetime]]:
    from django.db import close_old_connections

    from broadcast.models import EmergencyDelivery, PlaybackReport

    close_old_connections()
    rows = {code: rest for code, *rest in EmergencyDelivery.objects.filter(schedule_id=schedule_id).values_list(
        "station__code", "first_sent_at", "received_at", "downloaded_at", "started_at", "ended_at")}
    reports: dict[str, dt.datetime] = {}
    for code, started in PlaybackReport.objects.filter(playlist_item__schedule_id=schedule_id).values_list(
            "station__code", "started_at"):
        reports[code] = min(started, reports.get(code, started))
    return rows, reports


def run_phase(mode: str, rig: Rig, port: int, token: str, bulletin_id: int, online: set[str],
              args: argparse.Namespace) -> Phase:
    from django.db.models import Count

    from broadcast.models import PushAttempt

    phase = Phase(mode, online=len(online))
    log_start = rig.server.log.stat().st_size
    groups = rig.groups()
    cpu0 = {name: cpu_s(pids) for name, pids in groups.items()}
    db0 = db_backends(args.db) if not args.sqlite else {}
    busy0 = machine_busy_s()
    seen: dict[str, float] = {}
    t0_wall = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    phase.schedule = send(port, token, bulletin_id)
    phase.call_s = time.monotonic() - t0
    deadline = t0 + args.timeout_s
    while True:
        rows, reports = snapshot(phase.schedule)
        now = time.monotonic() - t0
        for code, (_sent, _received, _downloaded, started, _ended) in rows.items():
            if started is not None and code not in seen:
                seen[code] = now
        done = {c for c in online if (rows.get(c) and rows[c][3] is not None) or c in reports}
        if len(done) == len(online) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    phase.wall_s = time.monotonic() - t0
    phase.cpu = {name: cpu_s(pids) - cpu0[name] for name, pids in groups.items()}
    phase.cpu["machine"] = machine_busy_s() - busy0
    if not args.sqlite:  # backends that ended within the phase are not counted
        phase.cpu["database"] = sum(v - db0.get(pid, 0.0) for pid, v in db_backends(args.db).items())
    phase.http = latency_table(rig.server.log, log_start, rig.server.log.stat().st_size)[0]

    def after(moment: dt.datetime | None) -> float | None:
        return None if moment is None else (moment - t0_wall).total_seconds()

    rows, reports = snapshot(phase.schedule)
    attempts = PushAttempt.objects.filter(delivery__schedule_id=phase.schedule, kind=PushAttempt.Kind.SEND)
    phase.published = attempts.filter(outcome=PushAttempt.Outcome.PUBLISHED).count()
    phase.failed = attempts.filter(outcome=PushAttempt.Outcome.FAILED).count()
    rung = set(attempts.filter(outcome=PushAttempt.Outcome.PUBLISHED).values_list("delivery__station__code", flat=True))
    phase.deliveries = len(rows)
    phase.errors = dict(attempts.filter(outcome=PushAttempt.Outcome.FAILED).values_list("error")
                        .annotate(n=Count("id")).values_list("error", "n"))
    # The worker stamps every delivery "sent" after its rebuild, just before it publishes (broker up or not).
    sent = [after(r[0]) for r in rows.values() if r[0] is not None]
    phase.built_s = min(sent) if sent else None
    for code, (_sent, received, downloaded, started, _ended) in rows.items():
        if code not in online:
            phase.offline_received += received is not None
            continue
        if received is not None:
            phase.received.append(after(received))
        if downloaded is not None:
            phase.downloaded.append(after(downloaded))
        if started is not None:
            phase.started[code] = after(started)
            if code in seen:
                phase.seen_lag.append(seen[code] - phase.started[code])
            if code in reports:
                phase.report_gap.append((reports[code] - started).total_seconds())
        if code in rung and received is None:
            phase.lost.append(code)
    for code in online - set(phase.started):
        if code in reports:
            phase.started[code] = after(reports[code])
            phase.from_report += 1
    return phase


def wait_ended(schedule_id: int, online: set[str], limit_s: float) -> None:
    """Until every online station has ended (or reported) the play, so the next phase starts quiet."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        rows, reports = snapshot(schedule_id)
        if all((rows.get(c) and rows[c][4] is not None) or c in reports for c in online):
            return
        time.sleep(0.5)


# ---------------------------------------------------------------- the run


def offline_indices(n: int, pct: float) -> set[int]:
    """pct % of n, spread evenly over the indices."""
    return {i for i in range(n) if math.floor((i + 1) * pct / 100) > math.floor(i * pct / 100)}


def run(args: argparse.Namespace, cleanup: list) -> int:
    push = "push" in args.modes
    work = Path(args.work)
    mqtt_env, broker = mqtt_environment(work) if push else ({"MQTT_URL": "", "MQTT_PUBLIC_URL": ""}, None)
    os.environ.update(mqtt_env)  # before Django's settings are read (prepare sets Django up)
    work, be, where = prepare(args)
    be.env.update(mqtt_env)  # the server's, not the agents' (agent_environment leaves out be.env's keys)
    open_files = raise_open_files()
    t_setup = time.monotonic()
    bulletins, durations = render_audio(work / "durations", EMERGENCIES)
    print(f"database: {where}; {be.label}")
    print("audio: " + ", ".join(f"{b.title!r} {durations[b.current_revision.rendition.sha256]:.1f} s"
                                for b in bulletins))
    seeded = seed_stations(args.agents, 0, 0, bulletins)  # no slot this run reaches
    from broadcast.services.playlists import rebuild_playlists

    rebuild_playlists(dates=[seeded.today])  # empty playlists of today: the polls before the emergency are 304s
    print(f"seeded {args.agents} stations with tokens in {time.monotonic() - t_setup:.0f} s")

    if broker is not None:
        from stations import broker as broker_files

        config = broker_files.config_from_settings(directory=broker.directory, station_bind="127.0.0.1")
        broker_files.write_config(config, internal_password=MQTT_PASSWORD)  # with every station's password
        cleanup.append(broker.stop)
        broker.start()
        print(f"mosquitto {broker.binary}: stations on 127.0.0.1:{broker.station_port}, internal on "
              f":{broker.internal_port}; open-file limit {open_files}")

    server_env = {**be.env, "CELERY_TASK_ALWAYS_EAGER": "false" if be.celery else "true"}
    server = Server(server_env, args.workers, work / "access.log")
    cleanup.append(server.stop)
    server.start()
    celery = start_celery(be, work)
    if celery:
        cleanup.append(lambda: celery.poll() is None and (celery.kill(), celery.wait()))
    listener = None
    if broker is not None:
        listener = subprocess.Popen([sys.executable, "manage.py", "push_listen"], cwd=ROOT,
                                    env={**os.environ, **server_env}, stdout=open(work / "push_listen.log", "wb"),  # noqa: SIM115
                                    stderr=subprocess.STDOUT, start_new_session=True)  # own autogroup, as gunicorn
        cleanup.append(lambda: listener.poll() is None and (listener.kill(), listener.wait()))

    agents_dir = Path(args.agent_dir) if args.agent_dir else work / "agents"
    shutil.rmtree(agents_dir, ignore_errors=True)
    if args.agent_dir:
        cleanup.append(lambda: shutil.rmtree(agents_dir, ignore_errors=True))  # after the agents are killed
    offline = offline_indices(args.agents, args.offline_pct)
    agents: list[Agent] = []
    cleanup.append(lambda: [kill(a) for a in agents])
    for i, (code, token) in enumerate(sorted(seeded.tokens.items())):
        d = agents_dir / code
        d.mkdir(parents=True)
        agents.append(Agent(i, code, token, d, server.port, ["offline"] if i in offline else []))
    online_agents = [a for a in agents if not a.faults]
    online = {a.code for a in online_agents}
    agent_env = agent_environment(work, be.env)
    t0 = time.monotonic()
    swarms: list[subprocess.Popen] = []
    cleanup.append(lambda: [p.poll() is None and (p.kill(), p.wait()) for p in swarms])
    if args.swarm:
        swarms += start_swarms(online_agents, args, work, server.port, broker, agent_env)
        print(f"started {len(online_agents)} stand-in stations in {len(swarms)} swarm processes; {len(offline)} "
              f"offline ({args.offline_pct:g} %, never started)")
    else:
        for n, a in enumerate(online_agents):
            spawn(a, args, agent_env)
            time.sleep(max(0.0, t0 + args.ramp * (n + 1) / len(online_agents) - time.monotonic()))
        print(f"started {len(online_agents)} agents in {time.monotonic() - t0:.0f} s; {len(offline)} offline "
              f"({args.offline_pct:g} %, never started)")
    rig = Rig(server, celery, listener, broker, agents, swarms)

    # Ready: every online station heard from (its first heartbeat or poll) and, with push, in session.
    from stations.models import Station

    deadline = time.monotonic() + args.ready_s
    while time.monotonic() < deadline:
        seen = Station.objects.filter(code__in=online, last_seen_at__isnull=False).count()
        connected = len(broker.connected() & online) if broker else len(online)
        if seen == len(online) and connected == len(online):
            break
        sample_memory(agents)
        time.sleep(1)
    seen = Station.objects.filter(code__in=online, last_seen_at__isnull=False).count()
    connected = len(broker.connected() & online) if broker else 0
    print(f"ready after {time.monotonic() - t0:.0f} s: {seen}/{len(online)} online stations heard from"
          + (f", {connected}/{len(online)} connected to the broker" if broker else ""))
    time.sleep(args.settle_s)

    token = staff_token(server.port)
    phases: list[Phase] = []
    schedule_bulletins = iter(bulletins)
    for mode in args.modes:
        bulletin = next(schedule_bulletins)
        if mode == "poll" and broker is not None:
            broker.stop()  # the agents fall back to polling; the worker's publish fails and is recorded
            time.sleep(2)
        print(f"phase {mode}: sending {bulletin.title!r} …", flush=True)
        phase = run_phase(mode, rig, server.port, token, bulletin.pk, online, args)
        phases.append(phase)
        print(f"  {len(phase.started)}/{phase.online} started in {phase.wall_s:.1f} s", flush=True)
        if mode != args.modes[-1] and not args.swarm:  # the stand-ins play nothing
            wait_ended(phase.schedule, online, 30)
    sample_memory(agents)
    swarm_counts: dict[str, int] = {}
    swarm_kb = [vm_hwm_kb(proc.pid) for proc in swarms]
    for n, proc in enumerate(swarms):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        lines = (work / f"swarm{n}.out").read_text().splitlines()
        for name, value in (json.loads(lines[-1]) if lines else {}).items():
            swarm_counts[name] = swarm_counts.get(name, 0) + value

    for a in agents:
        if a.proc and a.proc.poll() is None:
            a.proc.send_signal(signal.SIGTERM)
    for a in agents:
        if a.proc:
            try:
                a.proc.wait(20)
            except subprocess.TimeoutExpired:
                kill(a)
    logs = work / "agent_logs"  # a few agents' logs outlive their data directories (in memory, removed)
    logs.mkdir()
    for a in online_agents[:: max(1, len(online_agents) // 10)]:
        if (a.dir / "agent.log").exists():
            shutil.copy(a.dir / "agent.log", logs / f"{a.code}.log")
    for proc in (listener, celery):
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    server.stop()
    if broker:
        broker.stop()

    report(phases, args, len(agents), len(offline), be.label)
    if args.swarm:
        print(f"stand-ins' counts: {json.dumps(swarm_counts, sort_keys=True)}")
        print(f"stand-in processes' peak memory (VmHWM): max {max(swarm_kb, default=0) / 1024:.0f} MB for "
              f"{args.swarm_size} stations, {sum(swarm_kb) / 1024:.0f} MB in all")
    peaks = [a.peak_kb / 1024 for a in agents if a.peak_kb]
    if peaks:
        print(f"agent peak memory (VmHWM): median {statistics.median(peaks):.1f} MB, max {max(peaks):.1f} MB")
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs); work dir {work}")
    ok = all(p.not_started == 0 and not p.lost for p in phases)
    push_phase = next((p for p in phases if p.mode == "push"), None)
    if push_phase is not None:
        p99 = push_phase.level(0.99)
        ok = ok and p99 is not None and p99 <= GOAL_P99_S
    return 0 if ok or not args.strict else 1


def start_swarms(online: list[Agent], args: argparse.Namespace, work: Path, port: int, broker: Broker | None,
                 env: dict[str, str]) -> list[subprocess.Popen]:
    """The stand-in stations (scripts/_fleet_swarm.py), --swarm-size to a process, each polling at its own
    phase of the poll interval."""
    procs = []
    for n, first in enumerate(range(0, len(online), args.swarm_size)):
        part = [{"code": a.code, "token": a.token, "phase": (first + k) / len(online)}
                for k, a in enumerate(online[first:first + args.swarm_size])]
        path = work / f"swarm{n}.json"
        path.write_text(json.dumps(part))
        cmd = [args.agent_python, str(SCRIPTS / "_fleet_swarm.py"), "--stations", str(path), "--server",
               f"http://127.0.0.1:{port}", "--poll-s", str(args.poll_s)]
        if broker is not None:
            cmd += ["--mqtt", f"mqtt://127.0.0.1:{broker.station_port}"]
        if args.agent_nice:
            cmd = ["nice", "-n", str(args.agent_nice), *cmd]
        procs.append(subprocess.Popen(cmd, cwd=env["PYTHONPATH"], env=env, stdout=open(work / f"swarm{n}.out", "wb"),  # noqa: SIM115
                                      stderr=open(work / f"swarm{n}.err", "wb"), process_group=0))  # noqa: SIM115
    return procs


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def report(phases: list[Phase], args: argparse.Namespace, n: int, offline: int, label: str) -> None:
    print()
    kind = "stand-in stations (scripts/_fleet_swarm.py)" if args.swarm else "agents (stations.agent)"
    print(f"EMERGENCY TIME TO AIR: {n} {kind}, {offline} offline, poll every {args.poll_s:g} s, "
          f"heartbeat {args.heartbeat_s:g} s; {label}; seconds after the approval call")
    head = (f"  {'mode':<5} {'online':>6} {'call':>5} {'built':>5} {'p50':>6} {'p90':>6} {'p99':>6} {'100%':>6} "
            f"{'not started':>11} {'broker CPU':>10} {'server CPU':>10} {'db CPU':>7} {'agents CPU':>10} {'machine':>8} "
            f"{'rung/deliveries':>15} {'lost':>5}")
    print(head)
    for p in phases:
        print(f"  {p.mode:<5} {p.online:>6} {p.call_s:>5.2f} {_s(p.built_s):>5} "
              + " ".join(f"{_s(p.level(level)):>6}" for level in LEVELS)
              + f" {p.not_started:>11} {p.cpu.get('broker', 0):>10.2f} {p.cpu['server']:>10.2f} "
              f"{_s(p.cpu.get('database')):>7} {p.cpu['agents']:>10.2f} {p.cpu['machine']:>8.1f} {f'{p.published}/{p.deliveries}':>15} "
              f"{len(p.lost):>5}")
    print("  (call: the API's answer; built: the worker's rebuild of the playlists done, before it publishes; p50…100%: "
          "the time by which that share of online stations had started; CPU: seconds used from the call to the "
          "phase's end, server = gunicorn + Celery worker + push_listen, db = PostgreSQL's backends of this database, "
          "machine = all CPUs busy, whatever ran; rung/deliveries: commands the broker took within the publisher's "
          "timeout / deliveries made; lost: rung, station online, never acknowledged received)")
    for p in phases:
        times = list(p.started.values())
        print(f"  {p.mode}: started by " + ", ".join(f"{t:g} s {sum(x <= t for x in times)}" for t in CURVE)
              + f" (of {p.online})")
        extra = [f"received p50 {_s(reach(p.received, p.online, 0.5))} / p99 {_s(reach(p.received, p.online, 0.99))}",
                 f"downloaded p50 {_s(reach(p.downloaded, p.online, 0.5))} / p99 "
                 f"{_s(reach(p.downloaded, p.online, 0.99))}",
                 f"phase {p.wall_s:.0f} s, schedule {p.schedule}"]
        if p.from_report:
            extra.append(f"{p.from_report} started times from play reports (no ack)")
        if p.seen_lag:
            extra.append(f"ack stored & seen after the agent's start: median {statistics.median(p.seen_lag):.2f} s, "
                         f"max {max(p.seen_lag):.2f} s")
        if p.report_gap:
            extra.append(f"play report's start − ack's: max |{max(abs(x) for x in p.report_gap):.2f}| s")
        if p.failed:
            extra.append(f"{p.failed} commands recorded failed: " + "; ".join(
                f"{n} × {error[:90]!r}" for error, n in sorted(p.errors.items(), key=lambda e: -e[1])))
        if p.offline_received:
            extra.append(f"{p.offline_received} offline stations acknowledged (expected 0)")
        if p.lost:
            extra.append(f"lost e.g. {sorted(p.lost)[:5]}")
        print(f"  {p.mode}: " + "; ".join(extra))
        kinds = sorted(p.http, key=lambda k: -len(p.http[k]))
        print(f"  {p.mode}: HTTP during the phase (server-side ms p50/p99): " + ", ".join(
            f"{kind.replace('other ', '')} {len(p.http[kind])} ({pct(p.http[kind], 0.5):.0f}/{pct(p.http[kind], 0.99):.0f})"
            for kind in kinds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=600)
    parser.add_argument("--offline-pct", type=float, default=10.0, help="share of stations never started")
    parser.add_argument("--modes", default="push,poll", help="phases in order: push,poll (poll alone: no broker)")
    parser.add_argument("--poll-s", type=float, default=60.0, help="the agents' poll interval (their default)")
    parser.add_argument("--heartbeat-s", type=float, default=300.0, help="the agents' heartbeat (their default)")
    parser.add_argument("--timeout-s", type=float, help="a phase's limit (default 2 × poll + 30 s)")
    parser.add_argument("--ready-s", type=float, help="wait this long at most for every agent to be heard from "
                        "and in session (default 60 s + the ramp)")
    parser.add_argument("--settle-s", type=float, default=5.0, help="quiet time before the first emergency")
    parser.add_argument("--sqlite", action="store_true", help="SQLite file, no Redis, no Celery worker")
    parser.add_argument("--db", default="loa_bench_emergency")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379"))
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--upload-spread-s", type=float, default=30.0)
    parser.add_argument("--agent-nice", type=int, default=10)
    parser.add_argument("--agent-cpus", default="")
    parser.add_argument("--agent-dir", default=f"/dev/shm/loa_bench_emergency_agents.{os.getpid()}"
                        if os.access("/dev/shm", os.W_OK) else "",
                        help="the agents' data directories (default in /dev/shm, removed at the end; empty: in --work)")
    parser.add_argument("--ramp", type=float, help="seconds over which the agents start (default one poll "
                        "interval: their polls spread evenly over it, as a fleet's are)")
    parser.add_argument("--swarm", action="store_true",
                        help="stand-in stations (scripts/_fleet_swarm.py: MQTT and HTTP, no player), many to a process")
    parser.add_argument("--swarm-size", type=int, default=500, help="stand-in stations per swarm process")
    parser.add_argument("--agent-python", default=sys.executable)
    parser.add_argument("--work", default="/tmp/loa_bench_emergency")
    parser.add_argument("--strict", action="store_true",
                        help=f"exit 1 if push p99 > {GOAL_P99_S:g} s, a station did not start, or anything was lost")
    args = parser.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not args.modes or any(m not in ("push", "poll") for m in args.modes) or len(args.modes) > len(EMERGENCIES):
        parser.error("--modes: push, poll or push,poll")
    if "push" in args.modes and args.modes[-1] == "push" and len(args.modes) > 1:
        parser.error("--modes: push before poll (the poll phase stops the broker)")
    args.timeout_s = args.timeout_s or 2 * args.poll_s + 30
    args.ramp = args.poll_s if args.ramp is None else args.ramp
    args.ready_s = args.ready_s or 60 + max(args.ramp, args.poll_s if args.swarm else 0)
    # bench_fleet's agents and server read these too.
    args.standin, args.locmem_cache = False, False
    if "bench" not in args.db:
        parser.error("--db must name a throwaway database containing 'bench' (it is dropped)")
    if "bench" not in args.work:
        parser.error("--work must name a throwaway folder containing 'bench' (it is wiped)")
    if "push" in args.modes and not (shutil.which("mosquitto") or os.access("/usr/sbin/mosquitto", os.X_OK)):
        sys.exit("mosquitto is not installed (Debian package 'mosquitto'); try --modes poll")
    return run_checked(run, args)


if __name__ == "__main__":
    sys.exit(main())
