"""Small WAV/PCM helpers (numpy), tolerant of streamed WAVs whose size fields are bogus."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
from scipy.signal import resample_poly

from .errors import EngineError


def pcm16_to_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono int16 samples -> WAV bytes."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """WAV bytes -> (mono int16 samples, sample rate).

    espeak-ng --stdout writes 0x7fffffff as the RIFF and data sizes, so chunks are walked by hand
    and the data chunk is clipped to what is really there.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EngineError("Bộ đọc trả về dữ liệu không phải WAV.", code="bad_engine_output")
    pos = 12
    fmt = None
    pcm = b""
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif chunk_id == b"data":
            pcm = body
            break
        pos += 8 + size + (size & 1)
    if fmt is None:
        raise EngineError("Tệp WAV thiếu phần định dạng (fmt).", code="bad_engine_output")
    audio_format, channels, rate, _, _, bits = fmt
    if audio_format == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: treat by bit depth
        audio_format = 3 if bits == 32 else 1
    frame = channels * bits // 8
    if frame == 0:
        raise EngineError("Tệp WAV có định dạng không hợp lệ.", code="bad_engine_output")
    pcm = pcm[: len(pcm) - len(pcm) % frame]
    if audio_format == 1 and bits == 16:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    elif audio_format == 1 and bits == 8:
        x = (np.frombuffer(pcm, dtype=np.uint8).astype(np.float32) - 128.0) * 256.0
    elif audio_format == 1 and bits == 32:
        x = np.frombuffer(pcm, dtype="<i4").astype(np.float32) / 65536.0
    elif audio_format == 3 and bits == 32:
        x = np.frombuffer(pcm, dtype="<f4") * 32767.0
    else:
        raise EngineError(f"Định dạng WAV không hỗ trợ ({audio_format}, {bits} bit).", code="bad_engine_output")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16), rate


def resample_int16(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out or samples.size == 0:
        return samples
    g = np.gcd(rate_in, rate_out)
    y = resample_poly(samples.astype(np.float32), rate_out // g, rate_in // g)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)
