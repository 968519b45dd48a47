"""The agent's state on disk: playlists, plays and the report queue, in one SQLite file.

WAL with synchronous=FULL: a committed transaction survives kill -9 and power loss. A play gets its
report id in the same transaction that marks it started (before the player runs), and its report goes
into the queue in the same transaction that marks it done, so after a crash at any point a play is
either unfinished (reported interrupted with its own id) or done with exactly one queued report.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stations.agent.files import fsync_dir

log = logging.getLogger("loa.agent.store")

FILENAME = "agent.sqlite3"
ERROR_MAX_CHARS = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS playlists (
    date TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    etag TEXT,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS plays (
    item_id INTEGER PRIMARY KEY,
    date TEXT NOT NULL,
    report_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('started', 'done')),
    status TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS queue (
    report_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
-- Emergency acknowledgements (acks.py): one per (schedule, state), kept after upload (uploaded = 1) so
-- that a state is acknowledged once and the latest one can be sent again; pruned after a few days.
CREATE TABLE IF NOT EXISTS acks (
    schedule INTEGER NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (schedule, state)
);
CREATE INDEX IF NOT EXISTS acks_pending ON acks(uploaded, created_at);
-- Push command ids acted on (push.py), bounded: a re-sent command is not acted on twice.
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT
);
"""


class Store:
    """One connection, used from one thread at a time (a lock guards it anyway)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.rebuilt_from: Path | None = None  # where a corrupt file was moved, when Store.open rebuilt
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str]) -> Store:
        """Opens data_dir/agent.sqlite3; a file that fails `PRAGMA quick_check` (or is not a database) is
        moved aside as agent.sqlite3.corrupt-<time> with its -wal/-shm, and an empty store starts (the
        playlists come back from the server, which already has every report it accepted)."""
        directory = Path(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILENAME
        problem = _check(path) if path.exists() else None
        moved: Path | None = None
        if problem:
            moved = path.with_name(f"{FILENAME}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(path) + suffix)
                if src.exists():
                    os.replace(src, Path(str(moved) + suffix))
            fsync_dir(directory)
            log.error("Cơ sở dữ liệu của trạm bị hỏng (%s); đã chuyển sang %s và bắt đầu lại.", problem, moved.name)
        store = cls(path)
        store.rebuilt_from = moved
        if moved:
            store.set_last_error(f"Cơ sở dữ liệu hỏng, đã làm lại ({problem}).")
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ playlists

    def save_playlist(self, date: str, version: int, etag: str | None, doc: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO playlists(date, version, etag, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(date) DO UPDATE SET version=excluded.version, etag=excluded.etag, doc=excluded.doc",
                (str(date), int(version), etag, json.dumps(doc, ensure_ascii=False)),
            )

    def playlist(self, date: str) -> dict[str, Any] | None:
        row = self._one("SELECT doc FROM playlists WHERE date = ?", (str(date),))
        return json.loads(row[0]) if row else None

    def etag(self, date: str) -> str | None:
        row = self._one("SELECT etag FROM playlists WHERE date = ?", (str(date),))
        return row[0] if row else None

    def versions(self) -> dict[str, int]:
        return {d: v for d, v in self._all("SELECT date, version FROM playlists ORDER BY date")}

    def dates(self) -> list[str]:
        return [r[0] for r in self._all("SELECT date FROM playlists ORDER BY date")]

    def forget_playlists_before(self, date: str) -> int:
        with self._tx() as db:
            return db.execute("DELETE FROM playlists WHERE date < ?", (str(date),)).rowcount

    def needed_shas(self) -> set[str]:
        """The sha256 of every audio file a stored playlist names (what the cache must keep)."""
        shas: set[str] = set()
        for (doc,) in self._all("SELECT doc FROM playlists"):
            for item in json.loads(doc).get("items") or []:
                sha = (item.get("audio") or {}).get("sha256")
                if sha:
                    shas.add(sha)
        return shas

    # ------------------------------------------------------------ plays

    def begin_play(self, item_id: int, date: str, started_at: dt.datetime | str,
                   ack: dict[str, Any] | list[dict[str, Any]] | None = None) -> str:
        """Records the play as started and returns its report id, before the player starts. An item that
        already has a play keeps it: the same report id comes back and nothing changes (one report per item).
        `ack` (an emergency's `started`) is queued in the same transaction."""
        with self._tx() as db:
            row = db.execute("SELECT report_id FROM plays WHERE item_id = ?", (int(item_id),)).fetchone()
            if row:
                return row[0]
            self.add_ack(db, ack)
            report_id = str(uuid.uuid4())
            db.execute(
                "INSERT INTO plays(item_id, date, report_id, state, started_at) VALUES (?, ?, ?, 'started', ?)",
                (int(item_id), str(date), report_id, _iso(started_at)),
            )
            return report_id

    def finish_play(self, item_id: int, status: str, ended_at: dt.datetime | str | None = None,
                    error: str | None = None, ack: dict[str, Any] | None = None) -> str | None:
        """Marks a started play done and queues its report, in one transaction; returns the report id.
        A play already done is left as it is (its report is queued once); an unknown item returns None."""
        with self._tx() as db:
            row = db.execute("SELECT report_id, state, started_at FROM plays WHERE item_id = ?",
                             (int(item_id),)).fetchone()
            if row is None:
                return None
            report_id, state, started_at = row
            if state == "done":
                return report_id
            ended = _iso(ended_at) if ended_at is not None else None
            error = _clean(error)
            db.execute("UPDATE plays SET state='done', status=?, ended_at=?, error=? WHERE item_id=?",
                       (status, ended, error, int(item_id)))
            self.add_ack(db, ack)
            self._enqueue(db, _report(report_id, item_id, status, started_at, ended, error))
            return report_id

    def record_outcome(self, item_id: int, date: str, status: str, started_at: dt.datetime | str,
                       ended_at: dt.datetime | str | None = None, error: str | None = None,
                       ack: dict[str, Any] | None = None) -> str:
        """A play that never started (skipped: too late, clock wrong, file missing) as begin + finish in
        one transaction. An item that already has a play keeps it."""
        with self._tx() as db:
            row = db.execute("SELECT report_id FROM plays WHERE item_id = ?", (int(item_id),)).fetchone()
            if row:
                return row[0]
            report_id = str(uuid.uuid4())
            ended = _iso(ended_at) if ended_at is not None else None
            error = _clean(error)
            db.execute(
                "INSERT INTO plays(item_id, date, report_id, state, status, started_at, ended_at, error) "
                "VALUES (?, ?, ?, 'done', ?, ?, ?, ?)",
                (int(item_id), str(date), report_id, status, _iso(started_at), ended, error),
            )
            self._enqueue(db, _report(report_id, item_id, status, _iso(started_at), ended, error))
            self.add_ack(db, ack)
            return report_id

    def mark_unreported(self, item_ids: Iterable[int], date: str, started_at: dt.datetime | str) -> int:
        """Marks items done without queueing a report: after a rebuilt (corrupt) store, the items that began
        before it are not reported a second time under new report ids (the server may already have theirs).
        Items that already have a play are left alone; returns how many were marked."""
        marked = 0
        with self._tx() as db:
            for item_id in item_ids:
                marked += db.execute(
                    "INSERT OR IGNORE INTO plays(item_id, date, report_id, state, status, started_at, error) "
                    "VALUES (?, ?, ?, 'done', 'unknown', ?, ?)",
                    (int(item_id), str(date), str(uuid.uuid4()), _iso(started_at),
                     "Không rõ: cơ sở dữ liệu đã làm lại"),
                ).rowcount
        return marked

    def unfinished_plays(self) -> list[dict[str, Any]]:
        """Plays started but never finished (the agent died during them): report them interrupted."""
        cols = ("item_id", "date", "report_id", "started_at")
        rows = self._all("SELECT item_id, date, report_id, started_at FROM plays WHERE state='started' "
                         "ORDER BY started_at, item_id")
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def play_state(self, item_id: int) -> str | None:
        row = self._one("SELECT state FROM plays WHERE item_id = ?", (int(item_id),))
        return row[0] if row else None

    def play_states(self, item_ids: Iterable[int] | None = None) -> dict[int, str]:
        """{item_id: 'started'|'done'} for the given items (all when None), for the scheduler."""
        rows = self._all("SELECT item_id, state FROM plays")
        wanted = None if item_ids is None else {int(i) for i in item_ids}
        return {i: s for i, s in rows if wanted is None or i in wanted}

    def forget_plays_before(self, date: str) -> int:
        """Drops finished plays of old days (their reports are queued separately, so nothing is lost)."""
        with self._tx() as db:
            return db.execute("DELETE FROM plays WHERE date < ? AND state='done'", (str(date),)).rowcount

    # ------------------------------------------------------------ queue

    def queue_batch(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = self._all("SELECT body FROM queue ORDER BY created_at, rowid LIMIT ?", (int(limit),))
        return [json.loads(r[0]) for r in rows]

    def queue_delete(self, report_ids: Iterable[str]) -> int:
        ids = [str(i) for i in report_ids]
        if not ids:
            return 0
        with self._tx() as db:
            return sum(db.execute("DELETE FROM queue WHERE report_id = ?", (i,)).rowcount for i in ids)

    def queue_length(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM queue", ())[0])

    # ------------------------------------------------------------ small values

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM kv WHERE key = ?", (key,))
        return row[0] if row else default

    def set(self, key: str, value: str | None) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO kv(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                       (key, value))

    def last_error(self) -> str | None:
        return self.get("last_error")

    def set_last_error(self, message: str | None) -> None:
        self.set("last_error", _clean(message))

    # ------------------------------------------------------------ acknowledgements (acks.py reads them)

    def add_ack(self, db: sqlite3.Connection, ack: dict[str, Any] | list[dict[str, Any]] | None) -> bool:
        """Queues `ack` (or each of a list) inside the caller's transaction; False when its (schedule, state)
        was already there."""
        if isinstance(ack, list):
            return [self.add_ack(db, a) for a in ack].count(True) > 0
        if ack is None:
            return False
        return db.execute("INSERT OR IGNORE INTO acks(schedule, state, body, created_at) VALUES (?, ?, ?, ?)",
                          (int(ack["schedule"]), ack["state"], json.dumps(ack, ensure_ascii=False),
                           time.time())).rowcount == 1

    # ------------------------------------------------------------ plumbing

    def _enqueue(self, db: sqlite3.Connection, body: dict[str, Any]) -> None:
        db.execute("INSERT OR IGNORE INTO queue(report_id, body, created_at) VALUES (?, ?, ?)",
                   (body["report_id"], json.dumps(body, ensure_ascii=False), time.time()))

    def _tx(self) -> _Transaction:
        return _Transaction(self)

    def _one(self, sql: str, args: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()


class _Transaction:
    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        try:
            self.store._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.store._lock.release()
            raise
        return self.store._db

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.store._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            self.store._lock.release()


def _check(path: Path) -> str | None:
    """None when the file is a sound database, else what is wrong with it."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                return "; ".join(str(r[0]) for r in rows[:3])
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None


def _report(report_id: str, item_id: int, status: str, started_at: str, ended_at: str | None,
            error: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"report_id": report_id, "playlist_item": int(item_id), "status": status,
                            "started_at": started_at}
    if ended_at:
        body["ended_at"] = ended_at
    if error:
        body["error"] = error
    return body


def _iso(value: dt.datetime | str) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("Thời điểm phải có múi giờ.")
        return value.isoformat()
    return str(value)


def _clean(message: str | None) -> str | None:
    """A message the server accepts: no NUL (a 400 for the whole batch), bounded length."""
    if message is None:
        return None
    text = str(message).replace("\x00", "")
    return text[:ERROR_MAX_CHARS]
