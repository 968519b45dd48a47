"""A small MQTT 3.1.1 client (standard library only) for the push doorbell (README "Giao thức trạm").

One thread owns the socket: it connects (clean_session = false, so QoS 1 commands sent while the box was
offline arrive when it comes back), subscribes, hands each received PUBLISH to `on_message` and
acknowledges a QoS 1 one only after the handler returned (the handler records it first), pings, and
reconnects after a jittered exponential back-off so that thousands of boxes losing the broker together
do not come back in the same second. `publish` only queues: the caller (the play loop) never waits.
"""

from __future__ import annotations

import collections
import logging
import queue
import random
import selectors
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable

from .mqtt_packets import (
    CONNACK,
    DISCONNECT,
    PINGREQ,
    PINGRESP,
    PUBACK,
    PUBLISH,
    SUBACK,
    Message,
    PacketReader,
    ProtocolError,
    connect_packet,
    packet,
    parse_publish,
    publish_packet,
    subscribe_packet,
)

log = logging.getLogger("loa.agent.mqtt")

BACKOFF_MAX_S = 60.0
INFLIGHT_MAX = 200  # unacknowledged outgoing QoS 1 messages kept for a resend after a reconnect
REFUSALS = {1: "phiên bản giao thức không được nhận", 2: "mã máy khách bị từ chối", 3: "máy chủ MQTT không sẵn sàng",
            4: "sai tên hoặc mật khẩu MQTT", 5: "không được phép kết nối MQTT (sai mật khẩu hoặc token đã bị thu hồi)"}


class Refused(Exception):
    """CONNACK with a non-zero return code (bad credentials, not authorized…)."""


def parse_url(url: str) -> tuple[str, int, bool, str | None]:
    """(host, port, tls, user name from the URL or None) of mqtt://[user@]host[:port] or mqtts://…."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"Địa chỉ MQTT không hợp lệ: {url!r} (cần mqtt://máy:cổng hoặc mqtts://…).")
    tls = parts.scheme == "mqtts"
    return parts.hostname, parts.port or (8883 if tls else 1883), tls, urllib.parse.unquote(parts.username or "") or None


# ------------------------------------------------------------ the client


class Client:
    """`on_message(Message)` runs on the client's thread; if it raises, the QoS 1 message is not
    acknowledged (the broker sends it again on the next connection). `on_connect()` runs after each
    successful subscription."""

    def __init__(self, url: str, *, client_id: str, username: str | None, password: str | None,
                 subscriptions: list[tuple[str, int]], on_message: Callable[[Message], None],
                 on_connect: Callable[[], None] | None = None, keepalive: int = 60, connect_timeout: float = 10.0,
                 ssl_context: ssl.SSLContext | None = None, backoff_max_s: float = BACKOFF_MAX_S) -> None:
        self.host, self.port, self.tls, _ = parse_url(url)
        self.url = url
        self.client_id, self.username, self.password = client_id, username, password
        self.subscriptions = subscriptions
        self.on_message, self.on_connect = on_message, on_connect
        self.keepalive, self.connect_timeout = keepalive, connect_timeout
        self.ssl_context = ssl_context
        self.backoff_max_s = backoff_max_s
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._outgoing: queue.Queue[tuple[str, bytes, int, bool, threading.Event | None]] = queue.Queue(maxsize=1000)
        self._inflight: collections.OrderedDict[int, tuple[str, bytes]] = collections.OrderedDict()
        self._confirms: dict[int, threading.Event] = {}  # packet id -> set on its PUBACK
        self._next_id = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._thread: threading.Thread | None = None
        self._last_problem: str | None = None
        self.failures = 0

    # ------------------------------------------------ public

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="loa-mqtt", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._poke()
        if self._thread is not None:
            self._thread.join(timeout)
        self._wake_r.close()
        self._wake_w.close()

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
                confirm: threading.Event | None = None) -> bool:
        """Queues a message; False when the client is not connected (the caller has its own queue) or the
        outgoing queue is full. Never blocks. `confirm` (QoS 1) is set when the broker's PUBACK arrives."""
        if not self.connected.is_set():
            return False
        try:
            self._outgoing.put_nowait((topic, payload, qos, retain, confirm))
        except queue.Full:
            return False
        self._poke()
        return True

    # ------------------------------------------------ the thread

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
                problem = None
            except Refused as exc:
                problem = str(exc)
            except (OSError, ProtocolError, ValueError) as exc:
                problem = str(exc) or type(exc).__name__
            except Exception as exc:  # noqa: BLE001 - a bug must not end push for good: retried like a drop
                log.exception("MQTT: lỗi không lường trước")
                problem = f"{type(exc).__name__}: {exc}"
            self.connected.clear()
            if self._stop.is_set():
                break
            # Logged once per change, not per retry: a box with a revoked token retries for days.
            if problem != self._last_problem:
                if problem:
                    log.warning("MQTT %s:%d: %s; thử lại sau.", self.host, self.port, problem)
                self._last_problem = problem
            self.failures += 1
            self._stop.wait(self.backoff(self.failures))

    def backoff(self, failures: int) -> float:
        """Full jitter: uniform over (0.2, min(cap, 2^n)) seconds."""
        ceiling = min(self.backoff_max_s, 2.0 ** min(failures, 16))
        return random.uniform(min(0.2, ceiling), ceiling)

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        if self.tls:
            context = self.ssl_context or ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _session(self) -> None:
        sock = self._open()
        try:
            reader = PacketReader()
            backlog: list[tuple[int, int, bytes]] = []  # packets read but not handled yet
            sock.sendall(connect_packet(self.client_id, self.username, self.password, self.keepalive))
            kind, _flags, body = self._expect(sock, reader, backlog, CONNACK)
            if len(body) != 2:
                raise ProtocolError("CONNACK sai dạng")
            if body[1] != 0:
                raise Refused(REFUSALS.get(body[1], f"máy chủ MQTT từ chối (mã {body[1]})"))
            sub_id = self._packet_id()
            sock.sendall(subscribe_packet(sub_id, self.subscriptions))
            pending: list[tuple[int, int, bytes]] = []
            while True:  # messages of the persistent session may come before the SUBACK
                kind, flags, body = self._expect(sock, reader, backlog, None)
                if kind == SUBACK:
                    if len(body) < 3 or struct.unpack_from("!H", body)[0] != sub_id:
                        raise ProtocolError("SUBACK sai dạng")
                    if any(code == 0x80 for code in body[2:]):
                        raise Refused("máy chủ MQTT không cho đăng ký chủ đề")
                    break
                pending.append((kind, flags, body))
            sock.settimeout(None)
            sock.setblocking(False)
            self.failures = 0
            if self._last_problem is not None or not self.connected.is_set():
                log.info("MQTT: đã kết nối %s:%d.", self.host, self.port)
            self._last_problem = None
            self.connected.set()
            for dup in list(self._inflight.items()):  # unacknowledged before the drop: once more, DUP
                self._send(sock, publish_packet(dup[1][0], dup[1][1], 1, dup[0], dup=True))
            if self.on_connect is not None:
                self.on_connect()
            for item in pending + backlog:
                self._handle(sock, *item)
            self._loop(sock, reader)
        finally:
            self.connected.clear()
            try:
                sock.close()
            except OSError:
                pass

    def _expect(self, sock: socket.socket, reader: PacketReader, backlog: list[tuple[int, int, bytes]],
                kind: int | None) -> tuple[int, int, bytes]:
        sock.settimeout(self.connect_timeout)
        while not backlog:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("máy chủ MQTT đóng kết nối")
            backlog += reader.feed(data)
        first = backlog.pop(0)
        if kind is not None and first[0] != kind:
            raise ProtocolError(f"chờ gói {kind}, nhận gói {first[0]}")
        return first

    def _loop(self, sock: socket.socket, reader: PacketReader) -> None:
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        last_sent = last_heard = time.monotonic()
        ping_sent: float | None = None
        self._last_sent = last_sent
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                events = selector.select(timeout=max(0.05, min(1.0, self.keepalive - (now - self._last_sent))))
                for key, _ in events:
                    if key.fileobj is self._wake_r:
                        try:
                            self._wake_r.recv(4096)
                        except BlockingIOError:
                            pass
                        continue
                    for item in self._read(sock, reader):
                        last_heard = time.monotonic()
                        if item[0] == PINGRESP:
                            ping_sent = None
                        else:
                            self._handle(sock, *item)
                self._drain(sock)
                now = time.monotonic()
                if ping_sent is None and now - self._last_sent >= self.keepalive:
                    self._send(sock, packet(PINGREQ, 0, b""))
                    ping_sent = now
                if ping_sent is not None and now - ping_sent > max(5.0, self.keepalive / 2):
                    raise ConnectionError("máy chủ MQTT không trả lời PINGREQ")
                if now - last_heard > self.keepalive * 2:
                    raise ConnectionError("máy chủ MQTT im lặng quá lâu")
            try:
                self._send(sock, packet(DISCONNECT, 0, b""))
            except OSError:
                pass
        finally:
            selector.close()

    def _read(self, sock: socket.socket, reader: PacketReader) -> list[tuple[int, int, bytes]]:
        packets = []
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                return packets
            if not data:
                raise ConnectionError("máy chủ MQTT đóng kết nối")
            packets += reader.feed(data)
            if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                return packets

    def _handle(self, sock: socket.socket, kind: int, flags: int, body: bytes) -> None:
        if kind == PUBLISH:
            message = parse_publish(flags, body)
            if message.qos == 2:
                raise ProtocolError("nhận QoS 2 dù chỉ đăng ký QoS 1")
            try:
                self.on_message(message)
            except Exception:  # noqa: BLE001 - not acknowledged: the broker sends it again next connection
                log.exception("MQTT: không xử lý được tin trên %s.", message.topic)
                return
            if message.qos == 1:
                self._send(sock, packet(PUBACK, 0, struct.pack("!H", message.packet_id)))
        elif kind == PUBACK:
            if len(body) != 2:
                raise ProtocolError("PUBACK sai dạng")
            packet_id = struct.unpack("!H", body)[0]
            self._inflight.pop(packet_id, None)
            confirm = self._confirms.pop(packet_id, None)
            if confirm is not None:
                confirm.set()
        elif kind in (SUBACK, PINGRESP):
            pass
        else:
            raise ProtocolError(f"gói lạ từ máy chủ MQTT (loại {kind})")

    def _drain(self, sock: socket.socket) -> None:
        while True:
            try:
                topic, payload, qos, retain, confirm = self._outgoing.get_nowait()
            except queue.Empty:
                return
            packet_id = 0
            if qos:
                packet_id = self._packet_id()
                self._inflight[packet_id] = (topic, payload)
                if confirm is not None:
                    self._confirms[packet_id] = confirm
                while len(self._inflight) > INFLIGHT_MAX:
                    self._confirms.pop(self._inflight.popitem(last=False)[0], None)
            self._send(sock, publish_packet(topic, payload, qos, packet_id, retain))

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.setblocking(True)
        sock.settimeout(self.connect_timeout)  # a stuck broker ends the session, not the thread
        try:
            sock.sendall(data)
        finally:
            sock.setblocking(False)
        self._last_sent = time.monotonic()

    def _packet_id(self) -> int:
        self._next_id = self._next_id % 0xFFFF + 1
        while self._next_id in self._inflight:
            self._next_id = self._next_id % 0xFFFF + 1
        return self._next_id

    def _poke(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass
