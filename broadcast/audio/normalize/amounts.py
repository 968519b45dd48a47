"""Amounts of money, measures with units, per-unit slashes ("đồng/người" -> "đồng một người"),
negative numbers and ranges ("6-12 tháng", "100-150 mm")."""

from __future__ import annotations

import re

from ..lexicon import PER_UNITS, UNITS
from .numbers import read_written_number
from .spans import Doc

_NUM = r"\d+(?:[.,]\d+)*"
_SIGNED = rf"(?:(?<![\w.,/)\-\ue001])-)?{_NUM}"
_PER = "|".join(re.escape(u) for u in sorted(PER_UNITS, key=len, reverse=True))
_PER_CHAIN = rf"((?:[ \t]?/[ \t]?(?:{_PER})(?![\w²³]))*)"
_CURRENCY = {"đồng": "đồng", "đ": "đồng", "VNĐ": "đồng", "VND": "đồng", "vnđ": "đồng", "USD": "đô la Mỹ",
             "usd": "đô la Mỹ"}  # fmt: skip
_SCALES = ("triệu", "nghìn", "ngàn", "tỷ", "trăm")
_AMOUNT_RE = re.compile(
    rf"(?<![\w.,/])({_SIGNED})(?:[ \t]*-[ \t]*({_NUM}))?((?:[ \t]*(?:{'|'.join(_SCALES)}))?)[ \t]*"
    rf"({'|'.join(sorted(_CURRENCY, key=len, reverse=True))})(?![\w²³])" + _PER_CHAIN
)
_UNIT_NAMES = {**UNITS, "oC": "độ xê", "° C": "độ xê", "độ C": "độ xê"}
_MEASURE_RE = re.compile(
    rf"(?<![\w.,/])({_SIGNED})(?:[ \t]*-[ \t]*({_SIGNED}))?((?:[ \t]*(?:triệu|nghìn|ngàn|tỷ)(?=[ \t]))?)[ \t]*"
    rf"({'|'.join(re.escape(u) for u in sorted(_UNIT_NAMES, key=len, reverse=True) if u not in _CURRENCY)})"
    r"(?![\w²³])" + _PER_CHAIN
)
_BARE_PER_RE = re.compile(
    rf"(?<![\w/])({'|'.join(('đồng', 'VNĐ', 'USD', *_SCALES))}|{_PER})" + _PER_CHAIN.replace("*", "+", 1)
)
_COMPOUND_UNIT_RE = re.compile(
    rf"(?<![\w/])({'|'.join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if '/' in u)})(?![\w/])"
)
_PER_PART_RE = re.compile(rf"/[ \t]?({_PER})")


def _per_words(chain: str) -> str:
    return "".join(f" một {PER_UNITS[u]}" for u in _PER_PART_RE.findall(chain))


def _range(low: str, high: str | None) -> str:
    words = read_written_number(low, quantity=True)
    return f"{words} đến {read_written_number(high, quantity=True)}" if high else words


def read_amounts(doc: Doc) -> None:
    def amount(m: re.Match[str]) -> str:
        scale = m.group(3).strip()
        spoken = _range(m.group(1), m.group(2)) + (f" {scale}" if scale else "")
        spoken += f" {_CURRENCY[m.group(4)]}{_per_words(m.group(5))}"
        return doc.protect(m, spoken, "amount")

    def measure(m: re.Match[str]) -> str:
        scale = m.group(3).strip()
        spoken = _range(m.group(1), m.group(2)) + (f" {scale}" if scale else "")
        spoken += f" {_UNIT_NAMES[m.group(4)]}{_per_words(m.group(5))}"
        return doc.protect(m, spoken, "unit")

    def bare_per(m: re.Match[str]) -> str:
        head = m.group(1)
        head = _CURRENCY.get(head) or PER_UNITS.get(head) or head
        return doc.protect(m, head + _per_words(m.group(2)), "per_unit")

    if re.search(r"\d", doc.text):
        doc.sub(_AMOUNT_RE, amount)
        doc.sub(_MEASURE_RE, measure)
    if "/" in doc.text:
        doc.sub(_BARE_PER_RE, bare_per)
        doc.sub(_COMPOUND_UNIT_RE, lambda m: doc.protect(m, UNITS[m.group(1)], "unit"))


_DEGREE_RE = re.compile(r"°[ \t]?C(?![\w])|(?<=\bđộ )C(?![\w])|°")
_DEGREE_WORDS = {"°": "độ", "C": "xê"}
_RANGE_RE = re.compile(rf"(?<![\w.,/])({_SIGNED})[ \t]*-[ \t]*({_NUM})(?![\w/]|[.,]\d)")
# Nouns that make a padded number ("03 người") a count.
_COUNTED_RE = re.compile(
    r"[ \t]+(?:người|ca|trường hợp|ngày|tháng|năm|giờ|phút|giây|tuần|lần|hộ|xe|chiếc|cái|con|điểm|vụ|đợt|"
    r"buổi|bản|bộ|cơ sở|đơn vị|đối tượng|phương tiện|học sinh|trẻ|cháu|hồ sơ|thửa|căn|phòng|tổ|nhóm|đoàn)(?!\w)"
)
_NUMBER_RE = re.compile(r"(?<![\w.,])(?:(?<![\d)\ue001])-(?=\d))?\d+(?:\.\d{3})*(?:,\d+)?(?:\.\d+)?")


def read_ranges_and_numbers(doc: Doc) -> None:
    doc.sub(_DEGREE_RE, lambda m: doc.protect(m, _DEGREE_WORDS.get(m.group(0), "độ xê"), "unit"))
    doc.sub(_RANGE_RE, lambda m: doc.protect(m, _range(m.group(1), m.group(2)), "range"))
    text = doc.text

    def number(m: re.Match[str]) -> str:
        quantity = _COUNTED_RE.match(text, m.end()) is not None
        return doc.protect(m, read_written_number(m.group(0), quantity), "number")

    doc.sub(_NUMBER_RE, number)
