"""The coverage charts are pure functions of their figures: SVG strings checked here without a database."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from broadcast.operations.charts import Bar, DayPoint, bar_chart, line_chart, pct_text, split_chart

NS = {"svg": "http://www.w3.org/2000/svg"}


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.get("role") == "img"
    assert root.find("svg:title", NS).text and root.find("svg:desc", NS).text
    return root


def _bars(root: ET.Element, key: str = "unit") -> list[ET.Element]:
    return [el for el in root.iter("{http://www.w3.org/2000/svg}rect") if el.get("class") == "bar" and el.get(f"data-{key}") is not None]


def test_a_bar_chart_has_one_bar_per_unit_with_its_value_and_label():
    bars = [Bar("00004", "Phường Ba Đình", 87.5, 35, 40), Bar("00091", "Phường Tây Hồ", None, 0, 0),
            Bar("", "Chưa gán xã/phường", 50.0, 1, 2)]
    root = _parse(bar_chart(bars, title="Độ phủ theo xã/phường"))
    rects = _bars(root)
    assert [(r.get("data-unit"), r.get("data-value")) for r in rects] == [("00004", "87.5"), ("00091", ""), ("", "50.0")]
    assert [(r.get("data-played"), r.get("data-expected")) for r in rects] == [("35", "40"), ("0", "0"), ("1", "2")]
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] > widths[2] > widths[1] == 0
    text = "".join(root.itertext())
    assert "87,5% (35 / 40)" in text and "— (0 / 0)" in text and "Phường Tây Hồ" in text


def test_a_bar_while_plays_are_pending_reads_played_of_expected_not_a_full_percentage():
    root = _parse(bar_chart([Bar("00301", "Phường Long Biên", 100.0, 1, 556, 555)], title="t"))
    (rect,) = _bars(root)
    assert rect.get("data-value") == "100.0" and float(rect.get("width")) < 1  # 1 of 556 drawn, not 100 %
    assert "1 / 556 đã phát, 555 chờ phát" in "".join(root.itertext())


def test_names_and_links_are_escaped():
    evil = 'Phường <script>alert("x")</script> & "Hà"'
    svg = bar_chart([Bar('a"b', evil, 10.0, 1, 10, href='?unit=a"b&x=<1>')], title="<Tiêu đề>", key="station")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;Tiêu đề&gt;" in svg
    root = _parse(svg)
    (rect,) = _bars(root, "station")
    assert rect.get("data-station") == 'a"b'
    link = root.find(".//svg:a", NS)
    assert link.get("href") == '?unit=a"b&x=<1>'


def test_empty_charts_still_render_and_say_so():
    for svg in (bar_chart([], title="Trống"), line_chart([]), split_chart({})):
        root = _parse(svg)
        assert "Không có" in root.find("svg:desc", NS).text or "Chưa có" in root.find("svg:desc", NS).text
    assert _bars(_parse(bar_chart([], title="Trống"))) == []


def test_the_line_has_a_point_per_day_with_a_value_and_a_gap_for_days_with_nothing_due():
    start = dt.date(2026, 11, 1)
    values = [90.0, 80.5, None, 70.0, 100.0]
    points = [DayPoint(start + dt.timedelta(days=n), v, n, 10) for n, v in enumerate(values)]
    root = _parse(line_chart(points))
    circles = root.findall(".//svg:circle", NS)
    assert [c.get("data-date") for c in circles] == ["2026-11-01", "2026-11-02", "2026-11-04", "2026-11-05"]
    assert [c.get("data-value") for c in circles] == ["90.0", "80.5", "70.0", "100.0"]
    assert len(root.findall(".//svg:polyline", NS)) == 2  # broken at the day with nothing due
    text = "".join(root.itertext())
    assert "01/11" in text and "05/11" in text and "Độ phủ (%)" in text and "Ngày" in text
    assert "thấp nhất 70,0% ngày 04/11" in root.find("svg:desc", NS).text
    # Higher coverage is drawn higher.
    ys = {c.get("data-date"): float(c.get("cy")) for c in circles}
    assert ys["2026-11-05"] < ys["2026-11-04"]


def test_the_split_has_a_part_per_outcome_with_pattern_legend_and_counts():
    root = _parse(split_chart({"played": 60, "failed": 10, "missed": 20, "pending": 10}))
    segs = {s.get("data-outcome"): s for s in root.iter("{http://www.w3.org/2000/svg}rect") if s.get("class") == "seg"}
    assert {k: int(s.get("data-value")) for k, s in segs.items()} == {"played": 60, "failed": 10, "missed": 20, "pending": 10}
    assert sum(float(s.get("width")) for s in segs.values()) == 760
    # Outcomes differ by pattern as well as colour (black-and-white print).
    assert segs["played"].get("fill").startswith("#") and segs["failed"].get("fill").startswith("url(#")
    assert len({s.get("fill") for s in segs.values()}) == 4
    text = "".join(root.itertext())
    for words in ("Đã phát: 60 (60,0%)", "Lỗi: 10 (10,0%)", "Bỏ lỡ: 20 (20,0%)", "Chờ phát: 10 (10,0%)"):
        assert words in text.replace("  ", " ")


def test_two_charts_on_one_page_do_not_share_ids():
    a, b = split_chart({"played": 1, "failed": 1}), split_chart({"played": 1, "failed": 1})
    ids_a = {el.get("id") for el in ET.fromstring(a).iter() if el.get("id")}
    ids_b = {el.get("id") for el in ET.fromstring(b).iter() if el.get("id")}
    assert ids_a and not ids_a & ids_b


def test_percentages_are_written_the_vietnamese_way():
    assert pct_text(87.5) == "87,5%" and pct_text(None) == "—" and pct_text(100) == "100,0%"
