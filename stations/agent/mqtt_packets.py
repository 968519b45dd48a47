"""MQTT 3.1.1 packets (the subset the agent's client needs), free of I/O so that they are tested alone."""

from __future__ import annotations

import struct
from typing import NamedTuple

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14
MAX_PACKET = 256 * 1024  # a command is a few hundred bytes: anything bigger is not ours


class ProtocolError(Exception):
    """The broker sent something this client cannot parse: drop the connection and reconnect."""


def _string(value: str | bytes) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if len(raw) > 0xFFFF:
        raise ValueError("chuỗi MQTT quá dài")
    return struct.pack("!H", len(raw)) + raw


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + _remaining_length(len(body)) + body


def connect_packet(client_id: str, username: str | None, password: str | None, keepalive: int,
                   clean_session: bool = False) -> bytes:
    flags = (0x02 if clean_session else 0) | (0x80 if username is not None else 0) | (
        0x40 if password is not None else 0)
    body = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive) + _string(client_id)
    if username is not None:
        body += _string(username)
    if password is not None:
        body += _string(password)
    return packet(CONNECT, 0, body)


def subscribe_packet(packet_id: int, topics: list[tuple[str, int]]) -> bytes:
    body = struct.pack("!H", packet_id) + b"".join(_string(t) + bytes([q]) for t, q in topics)
    return packet(SUBSCRIBE, 0x02, body)


def publish_packet(topic: str, payload: bytes, qos: int = 0, packet_id: int = 0, retain: bool = False,
                   dup: bool = False) -> bytes:
    body = _string(topic) + (struct.pack("!H", packet_id) if qos else b"") + payload
    return packet(PUBLISH, (0x08 if dup else 0) | qos << 1 | (0x01 if retain else 0), body)


class Message(NamedTuple):
    topic: str
    payload: bytes
    qos: int
    retain: bool
    packet_id: int | None


def parse_publish(flags: int, body: bytes) -> Message:
    qos = (flags >> 1) & 0x03
    if qos == 3 or len(body) < 2:
        raise ProtocolError("PUBLISH sai dạng")
    (length,) = struct.unpack_from("!H", body)
    end = 2 + length
    if len(body) < end + (2 if qos else 0):
        raise ProtocolError("PUBLISH cụt")
    try:
        topic = body[2:end].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("chủ đề không phải UTF-8") from None
    packet_id = None
    if qos:
        (packet_id,) = struct.unpack_from("!H", body, end)
        end += 2
    return Message(topic, body[end:], qos, bool(flags & 0x01), packet_id)


class PacketReader:
    """Splits a byte stream into (type, flags, body); a malformed length or an oversized packet raises."""

    def __init__(self, max_packet: int = MAX_PACKET) -> None:
        self.buffer = bytearray()
        self.max_packet = max_packet

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        self.buffer += data
        packets = []
        while len(self.buffer) >= 2:
            length, multiplier, i = 0, 1, 1
            while True:
                if i >= len(self.buffer):
                    return packets  # the length is not complete yet
                if i > 4:
                    raise ProtocolError("độ dài gói sai")
                byte = self.buffer[i]
                length += (byte & 0x7F) * multiplier
                multiplier *= 128
                i += 1
                if not byte & 0x80:
                    break
            if length > self.max_packet:
                raise ProtocolError(f"gói quá lớn ({length} byte)")
            if len(self.buffer) < i + length:
                return packets
            first = self.buffer[0]
            packets.append((first >> 4, first & 0x0F, bytes(self.buffer[i:i + length])))
            del self.buffer[:i + length]
        return packets
