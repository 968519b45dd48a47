"""Server-rendered SVG charts of coverage: plain data in, an SVG string out (no ORM, no JavaScript).

Every chart is `<svg role="img">` with a <title> and a <desc> that says the figures in words, every
value is written as text next to its mark, and the outcomes differ by pattern as well as colour, so a
chart reads on a black-and-white printout and to a screen reader. Marks carry data attributes
(data-unit, data-value, data-date, data-outcome) so tests can compare them with the API.
Numbers are written the Vietnamese way (87,5%); data attributes keep the machine form (87.5).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

OUTCOMES = (
    # key, label, fill colour, pattern id suffix (None: solid)
    ("played", "Đã phát", "#166534", None),
    ("failed", "Lỗi", "#c2410c", "hatch"),
    ("missed", "Bỏ lỡ", "#991b1b", "cross"),
    ("pending", "Chờ phát", "#94a3b8", "dots"),
)
_ids = itertools.count(1)


def pct_text(value: float | None) -> str:
    """87.5 → '87,5%'; None (nothing due) → '—'."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + "%"


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _open(kind: str, width: int, height: int, title: str, desc: str, uid: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{uid}-title {uid}-desc" data-chart="{kind}" style="max-width:{width}px">',
        f'<title id="{uid}-title">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(desc)}</desc>',
    ]


# ------------------------------------------------------------------ line: coverage per day


@dataclass(frozen=True)
class DayPoint:
    day: date
    value: float | None  # coverage % of the plays due that day; None when nothing was due
    played: int = 0
    expected: int = 0


def line_chart(points: Sequence[DayPoint], *, title: str = "Độ phủ theo ngày",
               width: int = 760, height: int = 280) -> str:
    """Coverage % per day: a line broken where a day had nothing due, a dot with its value per day,
    the y axis 0–100 %, dates dd/mm on the x axis (about one label in five, and the last)."""
    uid = f"line{next(_ids)}"
    left, right, top, bottom = 52, 20, 18, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [p for p in points if p.value is not None]
    if known:
        low = min(known, key=lambda p: p.value)
        high = max(known, key=lambda p: p.value)
        desc = (f"Từ {points[0].day:%d/%m/%Y} đến {points[-1].day:%d/%m/%Y}: thấp nhất {pct_text(low.value)} "
                f"ngày {low.day:%d/%m}, cao nhất {pct_text(high.value)} ngày {high.day:%d/%m}, "
                f"hôm cuối {pct_text(points[-1].value)}.")
    else:
        desc = "Chưa có lượt phát nào đến hạn trong khoảng ngày này."
    out = _open("line", width, height, title, desc, uid)
    out.append('<g class="axis" font-size="12" fill="#1a1f2b">')
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c5cad3" '
                   f'stroke-dasharray="{"none" if tick == 0 else "3 3"}"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}%</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">Độ phủ (%)</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">Ngày</text>')
    if not points:
        out.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle">'
                   'Chưa có dữ liệu.</text></g></svg>')
        return "".join(out)
    step = plot_w / max(1, len(points) - 1)
    every = max(1, round(len(points) / 6))
    coords: list[tuple[float, float] | None] = []
    for n, point in enumerate(points):
        x = left + (step * n if len(points) > 1 else plot_w / 2)
        if n % every == 0 or n == len(points) - 1:
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{point.day:%d/%m}</text>')
        coords.append(None if point.value is None else (x, top + plot_h * (1 - point.value / 100)))
    out.append("</g>")
    # One polyline per run of days with a value: a day with nothing due is a gap, not a zero.
    runs = [list(group) for has, group in itertools.groupby(coords, key=lambda c: c is not None) if has]
    for run in runs:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        out.append(f'<polyline points="{path}" fill="none" stroke="#0b5fa5" stroke-width="2.5"/>')
    out.append('<g class="points" font-size="10" fill="#1a1f2b">')
    for point, coord in zip(points, coords, strict=True):
        if coord is None:
            continue
        x, y = coord
        label = f"{point.day:%d/%m}: {pct_text(point.value)} ({point.played} / {point.expected})"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#fff" stroke="#0b5fa5" stroke-width="2" '
                   f'data-date="{point.day.isoformat()}" data-value="{_num(point.value)}">'
                   f'<title>{escape(label)}</title></circle>')
    last = next(((p, c) for p, c in zip(reversed(points), reversed(coords), strict=True) if c), None)
    if last is not None:
        (point, (x, y)) = last
        anchor, dx = ("start", 6) if x < left + 60 else ("end", -6)  # never over the y axis labels
        out.append(f'<text x="{x + dx:.1f}" y="{max(top + 10, y - 8):.1f}" text-anchor="{anchor}" font-size="12" '
                   f'font-weight="700">{pct_text(point.value)}</text>')
    out.append("</g></svg>")
    return "".join(out)


# ------------------------------------------------------------------ bars: coverage per unit or station


@dataclass(frozen=True)
class Bar:
    code: str
    name: str
    value: float | None  # coverage % of the plays due; None when nothing was due
    played: int = 0
    expected: int = 0
    pending: int = 0
    href: str = ""


def bar_label(bar: Bar) -> str:
    """'87,5% (35 / 40)' on a day that is over; while plays are pending the played / expected comes
    first, so one play heard of 556 never reads as 100 %."""
    if bar.pending:
        return f"{bar.played} / {bar.expected} đã phát, {bar.pending} chờ phát"
    return f"{pct_text(bar.value)} ({bar.played} / {bar.expected})"


def bar_chart(bars: Sequence[Bar], *, title: str, key: str = "unit", width: int = 760) -> str:
    """Horizontal bars, one per row: the share of the expected plays played (solid) and pending
    (dotted), labelled with the coverage of the plays due and played / expected; a name links to
    `href` (the drill-down) when given. `key` names the code's data attribute (data-unit,
    data-district, data-station); data-value is the coverage % of the plays due, as in the API."""
    uid = f"bars{next(_ids)}"
    label_w, value_w, row_h, top = 230, 230, 24, 26
    plot_w = width - label_w - value_w
    height = top + row_h * max(1, len(bars)) + 8
    if bars:
        desc = f"{len(bars)} thanh. " + "; ".join(f"{b.name}: {bar_label(b)}" for b in bars[:60])
        if len(bars) > 60:
            desc += "; …"
    else:
        desc = "Không có dữ liệu."
    out = _open("bars", width, height, title, desc, uid)
    out.append(f'<defs><pattern id="{uid}-pending" width="6" height="6" patternUnits="userSpaceOnUse">'
               '<rect width="6" height="6" fill="#cbd5e1"/><circle cx="3" cy="3" r="1.2" fill="#1a1f2b"/>'
               "</pattern></defs>")
    out.append(f'<g font-size="12" fill="#1a1f2b"><text x="{label_w}" y="14">0%</text>'
               f'<text x="{label_w + plot_w}" y="14" text-anchor="end">100%</text>'
               f'<line x1="{label_w + plot_w / 2}" x2="{label_w + plot_w / 2}" y1="18" y2="{height - 6}" '
               'stroke="#c5cad3" stroke-dasharray="3 3"/>')
    if not bars:
        out.append(f'<text x="{label_w}" y="{top + 14}">Không có dữ liệu.</text>')
    for n, bar in enumerate(bars):
        y = top + n * row_h
        name = escape(bar.name if len(bar.name) <= 32 else bar.name[:31] + "…")
        text = f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{name}</text>'
        if bar.href:
            text = f'<a href="{_attr(bar.href)}" class="bar-link">{text}</a>'
        out.append(f'<g class="bar-row" data-{key}="{_attr(bar.code)}"><title>{escape(bar.name)}: '
                   f'{escape(bar_label(bar))}</title>{text}')
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="{row_h - 8}" fill="#eef0f3" '
                   'stroke="#9aa3b0" stroke-width=".5"/>')
        played_w = plot_w * bar.played / bar.expected if bar.expected else 0.0
        out.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{played_w:.1f}" height="{row_h - 8}" '
                   f'fill="#166534" data-{key}="{_attr(bar.code)}" data-value="{_num(bar.value)}" '
                   f'data-played="{bar.played}" data-expected="{bar.expected}" data-pending="{bar.pending}"/>')
        if bar.pending and bar.expected:
            out.append(f'<rect x="{label_w + played_w:.1f}" y="{y + 3}" width="{plot_w * bar.pending / bar.expected:.1f}" '
                       f'height="{row_h - 8}" fill="url(#{uid}-pending)"/>')
        out.append(f'<text x="{label_w + plot_w + 8}" y="{y + 15}" class="bar-value">{escape(bar_label(bar))}</text></g>')
    out.append("</g></svg>")
    return "".join(out)


# ------------------------------------------------------------------ split: played / failed / missed / pending


def split_chart(counts: dict[str, int], *, title: str = "Kết quả các lượt phát", width: int = 760) -> str:
    """One stacked bar of the expected plays split by outcome, each part in its colour and pattern with
    its count written in it when it fits, and a legend with count and share of the expected plays."""
    uid = f"split{next(_ids)}"
    height, bar_y, bar_h = 118, 8, 40
    expected = sum(counts.get(key, 0) for key, *_ in OUTCOMES)

    def share(n: int) -> str:
        return pct_text(100.0 * n / expected) if expected else "—"

    desc = (f"{expected} lượt kế hoạch: " + ", ".join(
        f"{label} {counts.get(key, 0)} ({share(counts.get(key, 0))})" for key, label, *_ in OUTCOMES) + "."
            if expected else "Không có lượt phát nào trong kế hoạch.")
    out = _open("split", width, height, title, desc, uid)
    out.append("<defs>")
    for key, _label, colour, pattern in OUTCOMES:
        if pattern is None:
            continue
        mark = {"hatch": '<path d="M0,8 L8,0" stroke="#fff" stroke-width="2"/>',
                "cross": '<path d="M0,0 L8,8 M0,8 L8,0" stroke="#fff" stroke-width="1.5"/>',
                "dots": '<circle cx="4" cy="4" r="1.6" fill="#1a1f2b"/>'}[pattern]
        out.append(f'<pattern id="{uid}-{key}" width="8" height="8" patternUnits="userSpaceOnUse">'
                   f'<rect width="8" height="8" fill="{colour}"/>{mark}</pattern>')
    out.append("</defs>")

    def fill(key: str, colour: str, pattern: str | None) -> str:
        return colour if pattern is None else f"url(#{uid}-{key})"

    x = 0.0
    out.append(f'<rect x="0" y="{bar_y}" width="{width}" height="{bar_h}" fill="#eef0f3" stroke="#1a1f2b" '
               'stroke-width="1"/>')
    for key, label, colour, pattern in OUTCOMES:
        n = counts.get(key, 0)
        w = width * n / expected if expected else 0
        out.append(f'<rect class="seg" x="{x:.1f}" y="{bar_y}" width="{w:.1f}" height="{bar_h}" '
                   f'fill="{fill(key, colour, pattern)}" stroke="#1a1f2b" stroke-width="{1 if n else 0}" '
                   f'data-outcome="{key}" data-value="{n}"><title>{label}: {n} ({share(n)})</title></rect>')
        if w >= 44:
            out.append(f'<text x="{x + w / 2:.1f}" y="{bar_y + bar_h / 2 + 5}" text-anchor="middle" '
                       f'font-size="13" font-weight="700" fill="#1a1f2b" stroke="#fff" stroke-width="3" '
                       f'paint-order="stroke">{n}</text>')
        x += w
    legend_y = bar_y + bar_h + 22
    for n, (key, label, colour, pattern) in enumerate(OUTCOMES):
        lx = n * (width / 4)
        count = counts.get(key, 0)
        out.append(f'<g class="legend" data-outcome="{key}"><rect x="{lx:.1f}" y="{legend_y - 12}" width="16" '
                   f'height="16" fill="{fill(key, colour, pattern)}" stroke="#1a1f2b"/>'
                   f'<text x="{lx + 22:.1f}" y="{legend_y + 1}" font-size="13" fill="#1a1f2b">{label}: '
                   f'<tspan font-weight="700">{count}</tspan> ({share(count)})</text></g>')
    out.append(f'<text x="0" y="{legend_y + 30}" font-size="12" fill="#4f5868">Tổng {expected} lượt kế hoạch.</text>')
    out.append("</svg>")
    return "".join(out)
