"""Encoding: one streaming pass into ffmpeg/libmp3lame, independent verification of the MP3, atomic write."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO

import numpy as np

from ..engines import Attempt
from ..errors import (
    RenderError,
)
from ..loudness import (
    LoudnessMeter,
    TruePeakMeter,
)
from ..tools import resolve_tool, run_tool
from .assembly import _release_freed_memory
from .limiter import _analyse, _plan, _refine_true_peaks
from .options import _BLOCK, _CHUNK, _FS, RenderResult, RenderSettings, _sha256_file
from .waveform import WaveformMeter

log = logging.getLogger(__name__)


def _encode_args(settings: RenderSettings, dest: Path) -> list[str]:
    return [
        settings.ffmpeg_binary, "-v", "error", "-y", "-f", "s16le", "-ar", str(settings.sample_rate), "-ac", "1",
        "-i", "pipe:0", "-ac", str(settings.channels), "-ar", str(settings.sample_rate), "-c:a", "libmp3lame",
        "-b:a", settings.bitrate, "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "mp3", str(dest),
    ]  # fmt: skip


def _gain_chunks(program: np.ndarray, gains: np.ndarray) -> Iterator[bytes]:
    """The program with the planned per-block gains applied, as little-endian int16 chunks."""
    centers = np.arange(gains.size, dtype=np.float64) * _BLOCK + _BLOCK / 2
    for start in range(0, program.size, _CHUNK):
        x = program[start : start + _CHUNK].astype(np.float32)
        idx = np.arange(start, start + x.size, dtype=np.float64)
        # Only the blocks around this chunk: np.interp copies its tables on every call.
        lo, hi = max(0, start // _BLOCK - 1), min(gains.size, (start + x.size) // _BLOCK + 2)
        g = np.interp(idx, centers[lo:hi], gains[lo:hi]).astype(np.float32)
        yield np.clip(np.rint(x * g), -32768, 32767).astype("<i2").tobytes()


def _decode_args(settings: RenderSettings) -> list[str]:
    return [settings.ffmpeg_binary, "-v", "error", "-f", "mp3", "-i", "pipe:0", "-ac", "1", "-ar",
            str(settings.sample_rate), "-f", "f32le", "pipe:1"]  # fmt: skip


def _encode_and_verify(
    program: np.ndarray, gains: np.ndarray, settings: RenderSettings, dest: Path,
    wave: WaveformMeter | None = None,
) -> tuple[float, float, int]:
    """Encode into ``dest`` while an independent ffmpeg decodes what the encoder has written so far;
    return the decoded stream's (integrated LUFS, true peak dBTP, samples).

    libmp3lame is single-threaded, so the verification (decode + metering) runs on the other core
    and finishes a moment after the encoder instead of adding a full decode afterwards. The bytes
    checked are the file's own, read back as ffmpeg writes them (it seeks back only to fill in the
    first frame's Xing/LAME tag, which carries no audio).
    """
    enc_exe = resolve_tool(settings.ffmpeg_binary)
    enc_args, dec_args = _encode_args(settings, dest), _decode_args(settings)
    with open(dest, "wb"):
        pass  # empty before the encoder starts: the reader never sees a previous attempt's bytes
    meter = LoudnessMeter(settings.sample_rate)
    tp = TruePeakMeter(_BLOCK)
    errors: list[BaseException] = []
    with tempfile.TemporaryFile() as enc_err, open(dest, "rb") as written:
        enc = subprocess.Popen([enc_exe, *enc_args[1:]], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=enc_err)  # fmt: skip
        try:
            dec = subprocess.Popen([enc_exe, *dec_args[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        except BaseException:
            enc.kill()  # not left waiting on its stdin
            enc.wait()
            raise
        expired = threading.Event()

        def kill_all() -> None:
            expired.set()
            for proc in (enc, dec):
                if proc.poll() is None:
                    proc.kill()

        timer = threading.Timer(settings.tool_timeout_s, kill_all)

        def feed() -> None:
            try:
                for chunk in _gain_chunks(program, gains):
                    enc.stdin.write(chunk)
            except BrokenPipeError:
                pass  # the encoder died; its exit code and stderr say why
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(exc)
                kill_all()
            finally:
                try:
                    enc.stdin.close()
                except BrokenPipeError:
                    pass

        def relay() -> None:
            try:
                while True:
                    data = written.read(1 << 16)
                    if data:
                        dec.stdin.write(data)
                    elif enc.poll() is not None:
                        rest = written.read()  # the encoder has exited: all it wrote is there
                        if rest:
                            dec.stdin.write(rest)
                        break
                    else:
                        time.sleep(0.005)
            except BrokenPipeError:
                pass
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                kill_all()
            finally:
                try:
                    dec.stdin.close()
                except BrokenPipeError:
                    pass

        threads = [
            threading.Thread(target=feed, name="loa-encode"),
            threading.Thread(target=relay, name="loa-verify"),
        ]
        timer.start()
        samples = 0
        try:
            for t in threads:
                t.start()
            samples = _meter_f32_stream(dec.stdout, meter, tp, wave)
            for t in threads:
                t.join()
            enc.wait()
            dec.wait()
        except BaseException:
            kill_all()
            for t in threads:
                if t.is_alive():
                    t.join()
            enc.wait()
            dec.wait()
            raise
        finally:
            timer.cancel()
        if errors:
            raise errors[0]
        if enc.returncode != 0:
            enc_err.seek(0)
            detail = enc_err.read().decode("utf-8", "replace").strip().splitlines()
            reason = detail[-1] if detail else f"mã {enc.returncode}"
            if expired.is_set():
                reason = f"quá thời gian {settings.tool_timeout_s:g} giây"
            elif enc.returncode < 0 and not detail:
                reason = "bị dừng"
            raise RenderError(f"Mã hóa MP3: lỗi ({reason}).", code="tool_failed")
        if dec.returncode != 0 or expired.is_set():
            raise RenderError("Không giải mã được tệp MP3 vừa tạo để kiểm tra.", code="verify_failed")
    return meter.integrated(), tp.max_dbtp(), samples


def _meter_f32_stream(
    stream: IO[bytes], meter: LoudnessMeter, tp: TruePeakMeter, wave: WaveformMeter | None = None
) -> int:
    """Feeds raw little-endian float32 mono samples from `stream` to the meters; returns the count."""
    samples = 0
    carry = b""
    while True:
        data = stream.read(_CHUNK * 4)
        if not data:
            return samples
        data = carry + data
        usable = len(data) - len(data) % 4
        carry = data[usable:]
        x = np.frombuffer(data[:usable], dtype="<f4")
        samples += x.size
        meter.feed(x)
        tp.feed(x)
        if wave is not None:
            wave.feed(x)


def measure_file(
    path: Path, settings: RenderSettings, wave: WaveformMeter | None = None,
) -> tuple[float, float, int]:
    """Decode ``path`` with ffmpeg and measure it: (integrated LUFS, true peak dBTP, samples); `wave`, when
    given, is fed the same samples."""
    exe = resolve_tool(settings.ffmpeg_binary)
    rate = settings.sample_rate
    args = [exe, "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"]
    meter = LoudnessMeter(rate)
    tp = TruePeakMeter(_BLOCK)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    timer = threading.Timer(settings.tool_timeout_s, proc.kill)
    timer.start()
    samples = 0
    try:
        samples = _meter_f32_stream(proc.stdout, meter, tp, wave)
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RenderError("Không giải mã được tệp MP3 vừa tạo để kiểm tra.", code="verify_failed")
    return meter.integrated(), tp.max_dbtp(), samples


@lru_cache(maxsize=8)
def _encoder_gain_db(ffmpeg: str, rate: int, bitrate: str, channels: int) -> float:
    """Level change of encode+decode (libmp3lame scales by ~0.95, -0.45 dB): measured once with a
    test tone so the first encode already lands on the target instead of needing a second one."""
    t = np.arange(int(rate * 1.5)) / rate
    tone = np.round(0.25 * 32767 * np.sin(2 * np.pi * 997.0 * t)).astype("<i2")
    settings = RenderSettings(sample_rate=rate, bitrate=bitrate, channels=channels, ffmpeg_binary=ffmpeg)
    with tempfile.TemporaryDirectory() as tmpdir:
        dest = Path(tmpdir) / "cal.mp3"
        run_tool(_encode_args(settings, dest), input=tone.tobytes(), timeout=60.0, what="Hiệu chuẩn MP3")
        raw = run_tool([ffmpeg, "-v", "error", "-i", str(dest), "-ac", "1", "-f", "f32le", "pipe:1"],
                       timeout=60.0, what="Hiệu chuẩn MP3")  # fmt: skip
    decoded = np.frombuffer(raw, dtype="<f4")
    mid = slice(int(rate * 0.4), int(rate * 1.1))
    if decoded.size < int(rate * 1.1):
        return 0.0
    ratio = np.sqrt(np.mean(decoded[mid] ** 2)) / np.sqrt(np.mean((tone[mid] / _FS) ** 2))
    return float(np.clip(20 * np.log10(ratio), -3.0, 3.0))


def _temp_path(out_path: Path) -> Path:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".part", dir=out_path.parent)
    os.close(fd)
    return Path(name)


def _commit(tmp: Path, out_path: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, out_path)
    try:
        dir_fd = os.open(out_path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _produce(
    program: np.ndarray,
    spans: list[tuple[int, int, str]],
    out_path: Path,
    settings: RenderSettings,
    *,
    engine: str,
    voice: str,
    attempts: list[Attempt],
    started: float,
) -> RenderResult:
    resolve_tool(settings.ffmpeg_binary)  # fail before any work if ffmpeg is missing
    out_path = Path(out_path)
    analysis = _analyse(program, settings.sample_rate)
    _refine_true_peaks(analysis, program, spans, settings)
    tmp = _temp_path(out_path)
    try:
        trim = -_encoder_gain_db(
            settings.ffmpeg_binary, settings.sample_rate, settings.bitrate, settings.channels
        )
        margin = 0.0
        for _ in range(3):
            gains, _predicted = _plan(analysis, spans, settings, trim_db=trim, extra_margin_db=margin)
            _release_freed_memory()  # the planner's temporaries
            wave = WaveformMeter()  # of the attempt kept: the file as written
            lufs, peak, decoded = _encode_and_verify(program, gains, settings, tmp, wave)
            if decoded < program.size:  # the decoder saw less than was encoded: a broken file
                raise RenderError("Tệp MP3 vừa tạo bị thiếu dữ liệu.", code="verify_failed")
            log.debug(
                "render attempt: %.2f LUFS, %.2f dBTP (trim %.2f, margin %.2f)", lufs, peak, trim, margin
            )
            loud_ok = abs(lufs - settings.target_lufs) <= 0.5
            peak_ok = peak <= settings.true_peak_dbtp
            if loud_ok and peak_ok:
                break
            # The encoder moved loudness or peaks: correct from the measured file and redo.
            if not loud_ok:
                trim += settings.target_lufs - lufs
            if not peak_ok:
                margin += peak - settings.true_peak_dbtp + 0.3
        else:
            if abs(lufs - settings.target_lufs) > 1.0 or peak > settings.true_peak_dbtp + 0.5:
                raise RenderError(
                    f"Không đạt độ lớn chuẩn ({lufs:.1f} LUFS, đỉnh {peak:.1f} dBTP).", code="loudness_failed"
                )
        _commit(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return RenderResult(
        path=out_path,
        sha256=_sha256_file(out_path),
        duration_ms=round(program.size * 1000 / settings.sample_rate),
        size_bytes=out_path.stat().st_size,
        loudness_lufs=round(float(lufs), 2),
        true_peak_dbtp=round(float(peak), 2),
        engine=engine,
        voice=voice,
        attempts=attempts,
        cache_key=settings.cache_key(),
        sample_rate=settings.sample_rate,
        bitrate=settings.bitrate,
        render_seconds=round(time.monotonic() - started, 3),
        waveform=wave.peaks(),
    )
