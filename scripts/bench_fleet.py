#!/usr/bin/env python
"""The fleet test: N station agents (default 600) against a real server on loopback, through a broadcast
"day" that lasts minutes, with faults; then what arrived is checked against what was played.

Server: gunicorn (the WSGI app of scripts/bench_playlists.py, which also mounts the bare Django JSON view
/bench/bare/) on PostgreSQL, Redis as cache and Celery broker, one Celery worker. `--sqlite` runs the
same on a SQLite file without Redis or Celery (the tiny mode of tests/test_bench_fleet.py).

Time. The server keeps real time and the agents do too: instead of speeding the clock up, the day is
made short. Every station gets `--slots` one-minute slots back to back, the first at the next whole minute
far enough ahead for the setup; two real bulletins (rendered once with espeak-ng by the project's
rendering service) are scheduled into every slot, so each slot plays both and a day of 10 slots passes in
10 minutes. Nothing on the server needs a clock trick, reports carry real times, and a skewed agent is
one whose simulated clock (clock = "simulated", sim_speed 1) starts off the real time. The player command
is scripts/_fleet_player.sh: it sleeps for the file's real duration (ffprobe'd once) and logs complete plays.

The agents stand for boxes in the communes, not for programs on the server's machine: they run under
`nice -n 10` (`--agent-nice`; `--agent-cpus` pins them to some CPUs), all in this script's session while
gunicorn and the Celery worker get sessions of their own. With Linux's autogroups
(/proc/sys/kernel/sched_autogroup_enabled) each session is scheduled as one group and nice only counts
inside it: 600 agents in 600 sessions weighed 600 times the server, whatever their nice; in one session
the fleet weighs as one group against each server process's. They keep their default
`upload_spread_s` (30 s): the reports of a slot's plays reach the server spread over half a minute, an
emergency's at once. Their data directories are in memory (`--agent-dir`, /dev/shm): each box fsyncs its
own SD card, and hundreds of agents' fsyncs on the server's disk would stall the database's WAL.
Latencies are those of the day (from the last agent's start); the start-up ramp, every agent booting at
once, is summed up apart.

Faults (by agent index, deterministic; `--no-faults` turns them off):
- 10 % offline from 20 % to 70 % of the day (their link cut by the proxy: they play from cache and
  upload late), through a TCP proxy (scripts/_fleet_proxy.py), as are
- 10 % on a throttled link (16 KB/s), 10 % on a link that cuts a third of its connections mid-answer,
  10 % whose first report answers are swallowed after the server took the batch (duplicate uploads);
- 5 % killed (SIGKILL) while a download is under way (a `.part` file in data_dir/audio), 5 % while their
  first report batch is held for a second in the proxy (mid-upload), 5 % in the middle of a play (a minute
  and 2 s into the day); each restarted 2 s later;
- 4 % with a clock 90 s ahead (they must refuse to play: skipped reports) and 4 % 10 s ahead (they play);
- one server restart (gunicorn stopped and started again) at half the day;
- an emergency sent to every station at 40 % of the day (it preempts the slot item playing).

It prints reports expected / received / duplicated / lost, coverage from the API against the players'
logs, latency p50/p99 by request kind (from gunicorn's access log: server-side time), the server's
requests per second, each agent's peak memory (VmHWM), and at the end the 304 poll against the bare view
(requests/s from 4 load processes, same server, same run).

    DATABASE name must contain "bench" (it is dropped):
    .venv/bin/python scripts/bench_fleet.py                       # 600 agents, PostgreSQL + Redis + Celery
    .venv/bin/python scripts/bench_fleet.py --agents 50 --slots 4
    .venv/bin/python scripts/bench_fleet.py --sqlite --agents 3 --slots 0 --emergency-at 0   # tiny
    --standin runs scripts/_fleet_standin.py instead of `python -m stations.agent`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

LOCAL = dt.timezone(dt.timedelta(hours=7))
STAFF_PASSWORD = "bench-fleet-not-secret"
BODIES = [
    ("Lịch tiêm chủng tháng này", "Trạm y tế xã thông báo lịch tiêm chủng mở rộng vào sáng thứ bảy tuần này."),
    ("Phòng chống sốt xuất huyết", "Bà con hãy úp ngược dụng cụ chứa nước và diệt lăng quăng mỗi tuần."),
]
EMERGENCY = ("Cảnh báo mưa lớn", "Mưa lớn đêm nay, bà con không ra sông suối.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- environment and server


@dataclass
class Backend:
    env: dict[str, str]
    celery: bool
    label: str


def backend(args: argparse.Namespace, work: Path) -> Backend:
    env = {
        "LOA_VAR_DIR": str(work / "var"), "MEDIA_ROOT": str(work / "media"), "DEBUG": "false",
        "SECRET_KEY": "bench-fleet-not-secret", "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0", "STATION_THROTTLE_RATE": "100000/min", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "broadcast.settings",
    }
    if args.sqlite:
        env["DATABASE_URL"] = f"sqlite:///{work / 'bench-fleet.sqlite3'}"
        env["CELERY_BROKER_URL"] = f"sqla+sqlite:///{work / 'var' / 'broker.sqlite3'}"
        env["CACHE_URL"] = ""
        return Backend(env, celery=False, label="SQLite, no Redis, no Celery worker")
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}"')
    env["DATABASE_URL"] = f"{args.pg}/{args.db}"
    env["CACHE_URL"] = "" if args.locmem_cache else f"{args.redis}/0"
    env["CELERY_BROKER_URL"] = f"{args.redis}/1"
    cache = "per-process cache" if args.locmem_cache else "Redis cache"
    return Backend(env, celery=True, label=f"PostgreSQL {args.db}, {cache}, Redis broker, 1 Celery worker")


class Server:
    """gunicorn serving the project plus /bench/bare/, with a server-side access log."""

    FORMAT = "%(m)s %(U)s %(s)s %(L)s"

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.env = {**os.environ, **env, "LOA_BENCH_WSGI": "1", "PYTHONPATH": str(ROOT)}
        self.workers, self.log, self.port = workers, log, _free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--chdir", str(SCRIPTS), "-w", str(self.workers), "-b",
             f"127.0.0.1:{self.port}", "--log-level", "warning", "--access-logfile", str(self.log),
             "--access-logformat", self.FORMAT, "--backlog", "2048", "bench_playlists:application"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=open(self.log.with_suffix(".err"), "ab"),  # noqa: SIM115
            start_new_session=True)  # its own scheduling autogroup, apart from the agents' (module docstring)
        deadline = time.monotonic() + 60
        while not self._answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)

    def _answers(self) -> bool:
        import http.client

        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/bench/bare/")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- seeding


@dataclass
class Seeded:
    tokens: dict[str, str]          # station code -> token
    durations: dict[str, float]     # audio sha256 -> real seconds
    first_start: dt.datetime        # first slot start (aware)
    day_s: float                    # seconds of slots
    today: dt.date
    bulletins: list = field(default_factory=list)


def render_audio(durations_dir: Path, texts: list[tuple[str, str, str]] | None = None) -> tuple[list, dict[str, float]]:
    """Real bulletins, drafted, rendered (espeak-ng, synchronously) and approved by the workflow: `texts`
    as (title, body, priority), by default the two of BODIES and the EMERGENCY (last)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from broadcast.models import AudioRendition, Bulletin
    from broadcast.services import bulletins as workflow
    from broadcast.services import rendering
    from stations import roles

    User = get_user_model()

    def user(name: str, role: str, password: str | None = None):  # noqa: ANN202
        u = User.objects.create(username=name)
        u.set_password(password) if password else u.set_unusable_password()
        u.save()
        u.groups.add(Group.objects.get(name=role))
        return u

    editor, approver = user("fleet-editor", roles.EDITOR), user("fleet-approver", roles.APPROVER)
    user("fleet-supervisor", roles.SUPERVISOR, STAFF_PASSWORD)
    bulletins, durations = [], {}
    if texts is None:
        texts = [*((title, body, "normal") for title, body in BODIES), (*EMERGENCY, "emergency")]
    for title, body, priority in texts:
        b = workflow.submit(workflow.create_bulletin(editor, title, body, priority=priority), editor)
        b.refresh_from_db()
        rendition = b.current_revision.rendition
        if rendition.status != AudioRendition.Status.READY:
            rendition = rendering.render_rendition(rendition.pk)
        if rendition.status != AudioRendition.Status.READY:
            raise RuntimeError(f"rendering failed: {rendition.error}")
        b = workflow.approve(Bulletin.objects.get(pk=b.pk), approver, comment="Đo đội trạm")
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                str(Path(settings.MEDIA_ROOT) / rendition.file)], capture_output=True, text=True, check=True)
        durations[rendition.sha256] = float(probe.stdout.strip())
        (durations_dir / rendition.sha256).write_text(f"{durations[rendition.sha256]:.3f}")
        bulletins.append(b)
    return bulletins, durations


def seed_stations(n: int, slots: int, lead_s: float, bulletins: list) -> Seeded:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from broadcast.services.playlists import rebuild_playlists
    from broadcast.services.schedules import create_schedule
    from stations.models import District, Station
    from stations.services import issue_station_token

    now = timezone.now().astimezone(LOCAL)
    first = (now + dt.timedelta(seconds=lead_s + 59)).replace(second=0, microsecond=0)
    if slots:
        names = [f"f{i:02d}" for i in range(slots)]
        station_slots = [{"name": name, "start": f"{first + dt.timedelta(minutes=i):%H:%M}",
                          "end": f"{first + dt.timedelta(minutes=i + 1):%H:%M}"} for i, name in enumerate(names)]
        if (first + dt.timedelta(minutes=slots)).date() != now.date():
            sys.exit("the fleet's day would cross local midnight: run it at another time or with fewer --slots")
    else:  # emergencies only: a slot late in the day that this run never reaches
        names, station_slots = [], [{"name": "evening", "start": "23:00", "end": "23:30"}]
    districts = District.objects.bulk_create(
        [District(code=f"FD{i:03d}", name=f"Huyện {i}", kind="Huyện") for i in range(max(1, n // 50))])
    stations = Station.objects.bulk_create(
        [Station(code=f"F{i:05d}", name=f"Đài {i}", kind="commune", district=districts[i % len(districts)],
                 admin_code=f"FA{i:05d}", slots=station_slots) for i in range(n)], batch_size=1000)
    tokens = {s.code: issue_station_token(s) for s in stations}
    supervisor = get_user_model().objects.get(username="fleet-supervisor")
    today = now.date()
    if names:
        for b in bulletins[:len(BODIES)]:
            create_schedule(b, by=supervisor, start_date=today, end_date=today, slots=names, targets={"all": True})
        rebuild_playlists(dates=[today])
    return Seeded(tokens, {}, first, slots * 60.0, today, bulletins)


# ---------------------------------------------------------------- agents


@dataclass
class Agent:
    index: int
    code: str
    token: str
    dir: Path
    port: int
    faults: list[str] = field(default_factory=list)
    route: object = None
    skew_s: float = 0.0
    proc: subprocess.Popen | None = None
    starts: int = 0
    peak_kb: int = 0
    dead_until: float = 0.0
    killed: bool = False

    @property
    def playlog(self) -> Path:
        return self.dir / "played.log"


def assign_faults(i: int, enabled: bool) -> tuple[list[str], float]:
    if not enabled:
        return [], 0.0
    faults = {1: ["offline"], 2: ["throttled"], 3: ["cut"], 4: ["duplicates"]}.get(i % 10, [])
    faults += {5: ["kill_download", "throttled"], 6: ["kill_upload"], 7: ["kill_play"]}.get(i % 20, [])
    skew = {8: 90.0, 9: 10.0}.get(i % 25, 0.0)
    if skew:
        faults.append(f"clock+{skew:g}s")
    return sorted(set(faults)), skew


def write_config(agent: Agent, args: argparse.Namespace) -> Path:
    player = ["/bin/sh", str(SCRIPTS / "_fleet_player.sh"), "{path}", "{duration_s}", str(agent.playlog)]
    lines = [
        f'server_url = "http://127.0.0.1:{agent.port}"', f'token = "{agent.token}"', f'data_dir = "{agent.dir}"',
        f"player = {json.dumps(player)}", f"poll_s = {args.poll_s}", f"heartbeat_s = {args.heartbeat_s}",
        "grace_s = 120.0", "tick_s = 0.5", "require_ntp = false", "max_clock_offset_s = 30.0",
        'log_level = "WARNING"', "http_timeout_s = 10.0", f"upload_spread_s = {args.upload_spread_s}",
    ]
    if agent.skew_s:
        start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=agent.skew_s)
        lines += ['clock = "simulated"', f'sim_start = "{start.isoformat()}"', "sim_speed = 1.0"]
    path = agent.dir / "agent.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def spawn(agent: Agent, args: argparse.Namespace, env: dict[str, str]) -> None:
    config = write_config(agent, args)
    if args.standin:
        cmd = [args.agent_python, str(SCRIPTS / "_fleet_standin.py"), "--config", str(config)]
    else:
        cmd = [args.agent_python, "-m", "stations.agent", "--config", str(config)]
    if args.agent_cpus:
        # Likewise: the agents may use these CPUs only, the server all of them (taskset execs too).
        cmd = ["taskset", "-c", args.agent_cpus, *cmd]
    if args.agent_nice:
        # The agents stand for boxes in the communes: on this one machine they must not take the CPU the
        # server under test would have to itself (nice execs the agent: same pid, same process group).
        cmd = ["nice", "-n", str(args.agent_nice), *cmd]
    log = open(agent.dir / "agent.log", "ab")  # noqa: SIM115 - the child keeps it
    # A process group of its own (a signal to the script's group does not reach it) in the script's session:
    # the fleet shares one scheduling autogroup (see the module's docstring).
    agent.proc = subprocess.Popen(cmd, cwd=env["PYTHONPATH"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                  process_group=0)
    log.close()
    agent.starts += 1


def sample_memory(agents: list[Agent]) -> None:
    for a in agents:
        if a.proc is None or a.proc.poll() is not None:
            continue
        try:
            for line in Path(f"/proc/{a.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    a.peak_kb = max(a.peak_kb, int(line.split()[1]))
        except OSError:
            pass


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill(agent: Agent) -> None:
    """SIGKILL the agent and everything it started (its player runs in a process group of its own), as a
    power cut would."""
    if agent.proc and agent.proc.poll() is None:
        sample_memory([agent])
        for pid in [agent.proc.pid, *_descendants(agent.proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        agent.proc.wait()


# ---------------------------------------------------------------- measurement


def latency_table(log: Path, start: int, upto: int) -> tuple[dict[str, list[float]], int]:
    """Server-side times (ms) by kind of request, from the access log's bytes start…upto."""
    kinds: dict[str, list[float]] = defaultdict(list)
    total = 0
    pattern = re.compile(r"^(\S+) (\S+) (\d+) ([\d.]+)$")
    with open(log, "rb") as fh:
        fh.seek(start)
        text = fh.read(upto - start).decode(errors="replace")
    for line in text.splitlines():
        m = pattern.match(line.strip())
        if not m:
            continue
        method, path, status, seconds = m.group(1), m.group(2), m.group(3), float(m.group(4)) * 1000
        total += 1
        if path.startswith("/api/v1/station/playlist/"):
            kind = f"poll {status}"
        elif path.startswith("/api/v1/station/heartbeat/"):
            kind = "heartbeat"
        elif path.startswith("/api/v1/station/reports/"):
            kind = "upload (reports)"
        elif path.startswith("/api/v1/station/audio/"):
            kind = f"audio {status}"
        elif path.startswith("/bench/bare/"):
            kind = "bare view"
        else:
            kind = f"other {method} {path.split('?')[0]}"
        kinds[kind].append(seconds)
    return kinds, total


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def coverage_from_api(port: int, today: dt.date) -> dict[str, int]:
    import requests

    base = f"http://127.0.0.1:{port}"
    token = requests.post(f"{base}/api/v1/auth/token/", json={"username": "fleet-supervisor",
                                                              "password": STAFF_PASSWORD}, timeout=30).json()["token"]
    played: dict[str, int] = {}
    url: str | None = f"{base}/api/v1/coverage/stations/?date={today}"
    while url:
        body = requests.get(url, headers={"Authorization": f"Token {token}"}, timeout=60).json()
        for row in body["results"]:
            played[row["code"]] = row["played"]
        url = body.get("next")
    return played


def report_counts(today: dt.date) -> dict[str, object]:
    from django.db.models import Count

    from broadcast.models import PlaybackReport, PlaylistItem

    items = PlaylistItem.objects.filter(playlist__date=today, position__isnull=False,
                                        playlist__station__code__startswith="F")
    expected = items.count()
    per_item = Counter(dict(PlaybackReport.objects.filter(playlist_item__in=items)
                            .values_list("playlist_item").annotate(n=Count("id")).values_list("playlist_item", "n")))
    statuses = Counter(PlaybackReport.objects.filter(playlist_item__in=items).values_list("status", flat=True))
    return {"expected": expected, "received": sum(per_item.values()), "items_reported": len(per_item),
            "duplicated": sum(n - 1 for n in per_item.values() if n > 1), "lost": expected - len(per_item),
            "statuses": dict(statuses)}


# ---------------------------------------------------------------- the run


def prepare(args: argparse.Namespace) -> tuple[Path, Backend, str]:
    """An empty work folder and database, Django set up in this process (migrated): (work, backend, where)."""
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    (work / "var").mkdir(parents=True)
    (work / "durations").mkdir()
    be = backend(args, work)
    os.environ.update(be.env)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # this process seeds: its rebuilds run inline
    import django

    django.setup()
    from _bench_common import guard_database
    from django.core.management import call_command

    where = guard_database()
    call_command("migrate", verbosity=0)
    return work, be, where


def start_celery(be: Backend, work: Path) -> subprocess.Popen | None:
    """One Celery worker (solo pool) when the backend has one, logging to work/celery.log."""
    if not be.celery:
        return None
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "broadcast", "worker", "-c", "1",
                             "--pool", "solo", "-l", "WARNING"], cwd=ROOT, env={**os.environ, **be.env,
                             "CELERY_TASK_ALWAYS_EAGER": "false"},
                            stdout=open(work / "celery.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
                            start_new_session=True)  # its own scheduling autogroup, as gunicorn


def agent_environment(work: Path, server_env: dict[str, str]) -> dict[str, str]:
    """The agents' environment, running a snapshot of stations/agent taken now: the tree may change under a
    long run, and an agent restarted after a kill must be the same program."""
    code = work / "agent_code"
    shutil.copytree(ROOT / "stations" / "agent", code / "stations" / "agent",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (code / "stations" / "__init__.py").write_text("")
    agent_env = {**os.environ, "LOA_FLEET_DURATIONS": str(work / "durations"), "PYTHONPATH": str(code)}
    for k in list(agent_env):
        if k in server_env and k not in ("PYTHONPATH",):
            agent_env.pop(k)  # an agent knows nothing of the server's settings
    return agent_env


def run(args: argparse.Namespace, cleanup: list) -> int:
    work, be, where = prepare(args)
    t_setup = time.monotonic()
    bulletins, durations = render_audio(work / "durations")
    print(f"database: {where}; {be.label}")
    print(f"audio: {len(durations)} real renditions, "
          + ", ".join(f"{s[:8]}… {d:.1f} s" for s, d in durations.items()))

    ramp_s = args.ramp if args.ramp is not None else min(60.0, 0.06 * args.agents)
    lead = 25 + ramp_s + 0.02 * args.agents  # stations, tokens, build, server, agents, first downloads
    seeded = seed_stations(args.agents, args.slots, lead, bulletins)
    print(f"seeded {args.agents} stations with tokens and today's playlists in {time.monotonic() - t_setup:.0f} s; "
          f"{args.slots} one-minute slots from {seeded.first_start:%H:%M} local")

    server = Server(be.env, args.workers, work / "access.log")
    cleanup.append(server.stop)
    server.start()
    celery = start_celery(be, work)
    if celery:
        cleanup.append(lambda: celery.poll() is None and (celery.kill(), celery.wait()))

    from _fleet_proxy import FleetProxy, Route

    proxy = FleetProxy(server.port)
    cleanup.append(proxy.close)
    agents_dir = Path(args.agent_dir) if args.agent_dir else work / "agents"
    shutil.rmtree(agents_dir, ignore_errors=True)
    if args.agent_dir:
        cleanup.append(lambda: shutil.rmtree(agents_dir, ignore_errors=True))  # after the agents are killed
    agents: list[Agent] = []
    cleanup.append(lambda: [kill(a) for a in agents])
    for i, (code, token) in enumerate(sorted(seeded.tokens.items())):
        faults, skew = assign_faults(i, not args.no_faults)
        d = agents_dir / code
        d.mkdir(parents=True)
        a = Agent(i, code, token, d, server.port, faults, skew_s=skew)
        if {"offline", "throttled", "cut", "duplicates", "kill_upload"} & set(faults):
            route = Route(code, bytes_per_s=16_384 if "throttled" in faults else 0.0,
                          cut_share=0.33 if "cut" in faults else 0.0,
                          drop_report_answers=3 if "duplicates" in faults else 0,
                          hold_reports_s=1.0 if "kill_upload" in faults else 0.0)
            a.port, a.route = proxy.add(route), route
        agents.append(a)
    agent_env = agent_environment(work, be.env)
    t0 = time.monotonic()
    for n, a in enumerate(agents):
        spawn(a, args, agent_env)
        time.sleep(max(0.0, t0 + ramp_s * (n + 1) / len(agents) - time.monotonic()))
    print(f"started {len(agents)} agents in {time.monotonic() - t0:.0f} s "
          f"({sum(bool(a.faults) for a in agents)} with faults)")
    # Requests before this are the start-up ramp: hundreds of agents booting at once on this machine.
    ramp_log_bytes = (work / "access.log").stat().st_size
    started_s = time.monotonic() - t0

    # Timeline, in seconds from the first slot's start.
    from django.utils import timezone

    def now_s() -> float:
        return (timezone.now() - seeded.first_start).total_seconds()

    day_s = seeded.day_s
    events = {"offline_on": 0.2 * day_s, "offline_off": 0.7 * day_s, "restart": 0.5 * day_s,
              "emergency": args.emergency_at * day_s if args.emergency_at is not None else None}
    done: set[str] = set()
    if not args.slots:  # emergency only: the "day" starts now
        seeded.first_start = timezone.now()
    restart_gap = None
    end_at = day_s + 120 if args.slots else 3 * args.poll_s + max(durations.values()) + 5
    last_mem = 0.0
    while True:
        t = now_s()
        if t > end_at:
            break
        if time.monotonic() - last_mem > 5:
            sample_memory(agents)
            last_mem = time.monotonic()
        if "offline_on" not in done and t >= events["offline_on"] and day_s:
            done.add("offline_on")
            for a in agents:
                if "offline" in a.faults:
                    proxy.set_offline(a.route, True)
        if "offline_off" not in done and t >= events["offline_off"] and day_s:
            done.add("offline_off")
            for a in agents:
                if "offline" in a.faults:
                    proxy.set_offline(a.route, False)
        if "restart" not in done and t >= events["restart"] and day_s and not args.no_faults:
            done.add("restart")
            t_r = time.monotonic()
            server.stop()
            time.sleep(2)
            server.start()
            restart_gap = time.monotonic() - t_r
        if events["emergency"] is not None and "emergency" not in done and t >= events["emergency"]:
            done.add("emergency")
            from django.contrib.auth import get_user_model

            from broadcast.services.emergency import send_emergency

            t_e = time.monotonic()
            send_emergency(bulletins[-1], by=get_user_model().objects.get(username="fleet-supervisor"),
                           targets={"all": True})
            print(f"  emergency sent to every station at {t:+.0f} s (rebuild {time.monotonic() - t_e:.1f} s)")
        for a in agents:
            if a.proc is not None and a.proc.poll() is not None and not a.killed:
                a.killed = True  # died by itself: not restarted, counted below
            if a.dead_until and time.monotonic() >= a.dead_until:
                a.dead_until = 0.0
                spawn(a, args, agent_env)
            if a.dead_until or a.proc is None or a.proc.poll() is not None:
                continue
            kills = a.starts <= 1
            if kills and "kill_download" in a.faults and any((a.dir / "audio").glob("*.part")):
                kill(a)
                a.dead_until = time.monotonic() + 2
            elif kills and "kill_upload" in a.faults and a.route.reports_seen:  # a batch is in the proxy
                kill(a)
                a.dead_until = time.monotonic() + 2
            elif kills and "kill_play" in a.faults and day_s and 60 + 2 < t < 60 + 3:
                kill(a)
                a.dead_until = time.monotonic() + 2
        time.sleep(0.1)

    # Drain: every agent still running keeps uploading until its queue is empty or time is up.
    deadline = time.monotonic() + args.drain_s
    while time.monotonic() < deadline:
        counts = report_counts(seeded.today)
        if counts["lost"] == 0:
            break
        sample_memory(agents)
        time.sleep(2)
    sample_memory(agents)
    for a in agents:
        if a.proc and a.proc.poll() is None:
            a.proc.send_signal(signal.SIGTERM)
    for a in agents:
        if a.proc:
            try:
                a.proc.wait(20)
            except subprocess.TimeoutExpired:
                kill(a)
    proxy.close()
    counts = report_counts(seeded.today)
    played_api = coverage_from_api(server.port, seeded.today)
    played_log = {a.code: (len(a.playlog.read_text().splitlines()) if a.playlog.exists() else 0) for a in agents}
    fleet_s = time.monotonic() - t0
    fleet_log_bytes = (work / "access.log").stat().st_size

    # 304 poll vs the bare view, on the same server, now that the fleet is quiet.
    ratio_line = ""
    if args.compare_requests:
        from bench_playlists import measure

        from broadcast.models import Playlist

        etags = dict(Playlist.objects.filter(date=seeded.today).values_list("station__code", "etag"))
        sample = [a for a in agents if a.code in etags][:50]
        from broadcast.api.station import _opaque

        path = f"/api/v1/station/playlist/?date={seeded.today}"
        cond = [({"Authorization": f"Bearer {a.token}", "If-None-Match": _opaque(etags[a.code])}, path) for a in sample]
        bare = [({}, "/bench/bare/")]
        # Interleaved rounds (bare, 304, bare, 304, …, bare), each 304 rate against the bare ones beside
        # it; the median round, as the machine may still be busy with what the fleet left (vacuum,
        # checkpoint).
        bares, polls = [measure(server.port, bare, args.compare_requests, 4)[0]], []
        for _ in range(3):
            polls.append(measure(server.port, cond, args.compare_requests, 4)[0])
            bares.append(measure(server.port, bare, args.compare_requests, 4)[0])
        ratios = sorted(p / ((bares[i] + bares[i + 1]) / 2) for i, p in enumerate(polls))
        ratio_line = (f"304 poll vs bare Django JSON view (same gunicorn, {args.workers} workers, 4 load processes, "
                      f"3 interleaved rounds): 304 {' / '.join(f'{p:.0f}' for p in polls)} req/s, bare "
                      f"{' / '.join(f'{b:.0f}' for b in bares)} req/s → ratios "
                      f"{', '.join(f'{r:.2f}' for r in ratios)}, median {ratios[1]:.2f} (goal ≥ 0.70)")
    server.stop()
    if celery:
        celery.send_signal(signal.SIGTERM)
        try:
            celery.wait(20)
        except subprocess.TimeoutExpired:
            celery.kill()

    ramp_kinds, ramp_total = latency_table(work / "access.log", 0, ramp_log_bytes)
    kinds, total = latency_table(work / "access.log", ramp_log_bytes, fleet_log_bytes)
    wall = fleet_s - started_s
    print()
    print(f"FLEET {len(agents)} agents ({'stand-in' if args.standin else 'stations.agent'}), day of {args.slots} "
          f"slots; server restart gap {restart_gap or 0:.1f} s")
    print(f"reports: expected {counts['expected']}, received {counts['received']} "
          f"({counts['items_reported']} items), duplicated rows {counts['duplicated']}, lost {counts['lost']}  "
          f"(goal 0 / 0); by status {counts['statuses']}")
    dropped = sum(r.dropped_report_answers for r in proxy.routes)
    cut = sum(r.cut for r in proxy.routes)
    refused = sum(r.refused for r in proxy.routes)
    print(f"faults: {dropped} report answers swallowed (resent → duplicates), {cut} connections cut, "
          f"{refused} refused while offline, {sum(a.starts - 1 for a in agents)} agent restarts after SIGKILL, "
          f"{sum(1 for a in agents if a.killed and a.proc and a.proc.returncode not in (0, -9, None))} died")
    mismatched = [(c, played_api.get(c, 0), n) for c, n in played_log.items() if played_api.get(c, 0) != n]
    print(f"coverage: played by API {sum(played_api.values())}, complete plays in players' logs "
          f"{sum(played_log.values())}; stations differing {len(mismatched)} (goal 0)"
          + (f", e.g. {mismatched[:5]} (code, api, log)" if mismatched else ""))
    ramp_all = [v for values in ramp_kinds.values() for v in values]
    if ramp_all:
        print(f"start-up ramp ({started_s:.0f} s, the agents booting): {ramp_total} requests, server-side p50 "
              f"{pct(ramp_all, 0.5):.1f} ms, p99 {pct(ramp_all, 0.99):.1f} ms (not in the table below)")
    print(f"requests (the fleet's, server-side times): {total} in {wall:.0f} s = {total / wall:.1f} req/s "
          "from the last agent's start to the end of the drain")
    print(f"  {'kind':<24} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in sorted(kinds, key=lambda k: -len(kinds[k])):
        values = kinds[kind]
        print(f"  {kind:<24} {len(values):>7} {pct(values, 0.5):>8.1f} {pct(values, 0.99):>8.1f} {max(values):>8.1f}")
    peaks = [a.peak_kb / 1024 for a in agents if a.peak_kb]
    if peaks:
        print(f"agent peak memory (VmHWM): median {statistics.median(peaks):.1f} MB, max {max(peaks):.1f} MB "
              f"(goal < 40 MB), {len(peaks)} agents sampled")
    if ratio_line:
        print(ratio_line)
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs); "
          f"work dir {work}")
    ok = counts["lost"] == 0 and counts["duplicated"] == 0 and not mismatched
    return 0 if ok or not args.strict else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=600)
    parser.add_argument("--slots", type=int, default=10, help="one-minute slots in the day (0: emergency only)")
    parser.add_argument("--emergency-at", type=float, default=0.4,
                        help="when the emergency is sent, as a share of the day (with --slots 0: seconds' share "
                             "of nothing, so 0 sends it as the agents start)")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--sqlite", action="store_true", help="SQLite file, no Redis, no Celery worker")
    parser.add_argument("--db", default="loa_bench_fleet")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379"))
    parser.add_argument("--locmem-cache", action="store_true",
                        help="PostgreSQL without the Redis cache (throttle counters per process): what Redis costs")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--poll-s", type=float, default=30.0)
    parser.add_argument("--upload-spread-s", type=float, default=30.0,
                        help="the agents' upload_spread_s (their default): reports of scheduled plays wait 0…this")
    parser.add_argument("--agent-nice", type=int, default=10, help="niceness of the agents and their players (0: none)")
    parser.add_argument("--agent-dir", default=f"/dev/shm/loa_bench_fleet_agents.{os.getpid()}"
                        if os.access("/dev/shm", os.W_OK) else "",
                        help="the agents' data directories (default: in memory, /dev/shm, removed at the end; "
                             "empty: in --work)")
    parser.add_argument("--agent-cpus", default="",
                        help="CPUs the agents and their players may use, as taskset -c takes them (default: any; "
                             "on 2 CPUs, pinning 600 agents to one starves them: plays fail for want of audio)")
    parser.add_argument("--heartbeat-s", type=float, default=60.0)
    parser.add_argument("--ramp", type=float, help="seconds over which the agents start (default 0.06 s each)")
    parser.add_argument("--drain-s", type=float, default=60.0, help="after the day: wait this long for reports")
    parser.add_argument("--compare-requests", type=int, default=3000,
                        help="requests per 304/bare measurement at the end (0: skip)")
    parser.add_argument("--standin", action="store_true", help="run scripts/_fleet_standin.py as the agent")
    parser.add_argument("--agent-python", default=sys.executable)
    parser.add_argument("--work", default="/tmp/loa_bench_fleet")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless 0 lost, 0 duplicated, coverage equal")
    args = parser.parse_args(argv)
    if "bench" not in Path(args.work).name and "bench" not in args.work:
        parser.error("--work must name a throwaway folder containing 'bench' (it is wiped)")
    return run_checked(run, args)


def run_checked(run_fn, args: argparse.Namespace) -> int:
    """Runs `run_fn(args, cleanup)` once PostgreSQL and Redis answer (unless --sqlite), then undoes what it
    set up in reverse order, whatever happened. Shared with bench_emergency."""
    if args.sqlite is False:
        if not _reachable("127.0.0.1", int(re.search(r":(\d+)", args.pg.split("@")[-1]).group(1))):
            sys.exit("PostgreSQL is not reachable (--pg); try --sqlite")
        if not _reachable("127.0.0.1", int(args.redis.rsplit(":", 1)[1].split("/")[0])):
            sys.exit("Redis is not reachable (--redis); try --sqlite")
    import faulthandler

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints where a stuck run is
    cleanup: list = []
    try:
        return run_fn(args, cleanup)
    finally:
        for undo in reversed(cleanup):
            undo()


if __name__ == "__main__":
    sys.exit(main())
