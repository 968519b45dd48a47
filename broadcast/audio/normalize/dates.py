"""Times ("7g30", "7h", "19:30"), dates ("21/3/2023", "15-20/11", "tháng 4/2024") and the fraction
that looks like a date ("1/2 số hộ"), decided from the words around it as a reader would."""

from __future__ import annotations

import re

from .numbers import read_denominator, read_int_token, read_month, read_number, read_ordinal, roman_value
from .spans import PH, Doc

_DAY_WORD = r"(?:[Nn]gày|[Mm]ùng|[Mm]ồng)"

# --- times

_TIME_RE = re.compile(
    r"(?<![\w.,:/])(\d{1,2})(?:([hHg])(\d{2})?|:(\d{2}))(?![\w:]|[.,]\d)"
)
_TIME_CONTEXT_BEFORE_RE = re.compile(r"(?i)(?:lúc|từ|đến|tới|khoảng|trước|sau|vào|đầu|cuối|-)\s*$")
_TIME_CONTEXT_AFTER_RE = re.compile(r"(?i)\s*(?:sáng|trưa|chiều|tối|đêm|ngày|hôm|hằng|hàng|-\s*\d)")


def _time_words(hour: int, minute: int) -> str:
    out = f"{read_number(hour)} giờ"
    if minute:
        out += f" {read_number(minute)} phút"
    return out


def read_times(doc: Doc) -> None:
    text = doc.text

    def sub(m: re.Match[str]) -> str:
        hour = int(m.group(1))
        minute_text = m.group(3) or m.group(4)
        minute = int(minute_text) if minute_text else 0
        if hour > 24 or minute > 59:
            return m.group(0)
        if m.group(2) == "g" and not minute_text:
            # "7g" is 7 grams unless the words around make it a time.
            before = text[max(0, m.start() - 12) : m.start()]
            after = text[m.end() : m.end() + 12]
            if not (_TIME_CONTEXT_BEFORE_RE.search(before) or _TIME_CONTEXT_AFTER_RE.match(after)):
                return m.group(0)
        return doc.protect(m, _time_words(hour, minute), "time")

    doc.sub(_TIME_RE, sub)


_HOUR_WORD_RE = re.compile(
    r"(?<![\w.,:/\-])(\d{1,2})[ \t]*giờ(?:[ \t]+(\d{1,2})(?![\w.,:/])([ \t]*phút(?!\w))?)?(?!\w)"
)


def read_hour_words(doc: Doc) -> None:
    """'08 giờ 00 phút' is 'tám giờ'; '9 giờ 15' keeps its minutes as written."""

    def sub(m: re.Match[str]) -> str:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if hour > 24 or minute > 59:
            return m.group(0)
        spoken = f"{read_number(hour)} giờ"
        if minute:
            spoken += f" {read_number(minute)}" + (" phút" if m.group(3) else "")
        return doc.protect(m, spoken, "time")

    if "giờ" in doc.text:
        doc.sub(_HOUR_WORD_RE, sub)


_BETWEEN_RE = re.compile(rf"({PH})([ \t]*-[ \t]*)({PH})")


def read_dashes_between(doc: Doc, rules: frozenset[str] = frozenset({"time", "date"})) -> None:
    """'7h-11h', '30/4 - 1/5': the dash between two times or dates is 'đến'."""

    def sub(m: re.Match[str]) -> str:
        if doc.rule_of(m.group(1)) in rules and doc.rule_of(m.group(3)) in rules:
            return m.group(1) + doc.protect(m, "đến", "range", group=2) + m.group(3)
        return m.group(0)

    if "-" in doc.text:
        doc.sub(_BETWEEN_RE, sub)


# --- dates

_DATE_RANGE_RE = re.compile(
    rf"(?<![\w/])({_DAY_WORD}\s+)?(\d{{1,2}})\s*-\s*(\d{{1,2}})/(\d{{1,2}})(?:/(\d{{4}}))?(?![\w/])"
)
_DATE_FULL_RE = re.compile(rf"(?<![\w/.,])({_DAY_WORD}\s+)?(\d{{1,2}})([/.-])(\d{{1,2}})\3(\d{{4}})(?![\w/])")
_MONTH_YEAR_RE = re.compile(r"(?<![\w/.,])([Tt]háng\s+)?(\d{1,2})/(\d{4})(?![\w/])")
_DAY_MONTH_RE = re.compile(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)")
_DAY_BEFORE_RE = re.compile(rf"{_DAY_WORD}\s+(?:\d{{1,2}}\s*(?:,|và|hoặc)\s*)*$")  # "các ngày 15 và 16/3"
_HOUSE_NUMBER_RE = re.compile(r"(?i)(?:ngõ|ngách|hẻm|kiệt|số nhà|nhà số|số)\s+$")
_DATE_CONTEXT_RE = re.compile(
    r"(?i)(?:ngày|mùng|mồng|hôm|sáng|trưa|chiều|tối|đêm|rạng sáng|dịp|lễ|tết|từ|hạn|hết|trước|sau|"
    r"kể từ|khai giảng|quốc khánh|vào|đến hết)\s+$"
)
_FRACTION_BEFORE_RE = re.compile(
    r"(?i)(?:chiếm|khoảng|gần|hơn|bằng|còn|mất|được|giảm|tăng|thêm|đạt|tới|trên|dưới|quá|tối đa|tối thiểu|"
    r"chỉ|có)\s+$"
)
_FRACTION_AFTER_RE = re.compile(
    r"(?i)\s+(?:số|tổng|diện tích|dân số|lượng|giá|chi phí|kinh phí|thời gian|quãng|khối lượng|"
    r"trong số|hộ|người|phần)\b"
)
_LINK_RE = re.compile(r"(?i)\s*(?:,|và|hoặc|đến|tới|-|;)?\s*(?:ngày\s+)?$")


def _valid(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _date_words(day: int, month: int, year: str | None = None) -> str:
    out = f"{read_number(day)} tháng {read_month(month)}"
    return f"{out} năm {read_number(int(year))}" if year else out


def read_dates(doc: Doc) -> None:
    def sub_range(m: re.Match[str]) -> str:
        d1, d2, month = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if not (_valid(d1, month) and _valid(d2, month) and d1 < d2):
            return m.group(0)
        out = f"{read_number(d1)} đến ngày {_date_words(d2, month, m.group(5))}"
        if m.group(1):
            return _keep_prefix(m, out)
        return doc.protect(m, "ngày " + out, "date")

    def _keep_prefix(m: re.Match[str], out: str) -> str:
        # The day word stays as written ("mùng"); the span covers the numbers.
        start = m.start(2)
        doc_start, doc_end = doc.src(start), doc.src(m.end())
        return m.group(1) + doc.place(doc_start, doc_end, out, "date")

    def sub_full(m: re.Match[str]) -> str:
        day, month = int(m.group(2)), int(m.group(4))
        if not _valid(day, month):
            return m.group(0)
        out = _date_words(day, month, m.group(5))
        return _keep_prefix(m, out) if m.group(1) else doc.protect(m, "ngày " + out, "date")

    def sub_month_year(m: re.Match[str]) -> str:
        month = int(m.group(2))
        if not 1 <= month <= 12:
            return m.group(0)
        out = f"{read_month(month)} năm {read_number(int(m.group(3)))}"
        if m.group(1):
            return _keep_prefix(m, out)
        return doc.protect(m, "tháng " + out, "date")

    doc.sub(_DATE_RANGE_RE, sub_range)
    doc.sub(_DATE_FULL_RE, sub_full)
    doc.sub(_MONTH_YEAR_RE, sub_month_year)
    _read_day_months(doc)


def _read_day_months(doc: Doc) -> None:
    """'d/m' without a year: a date or a fraction, from the context; a guess is flagged."""
    text = doc.text
    previous: tuple[int, str] | None = None  # end of the last one and what it was read as

    def sub(m: re.Match[str]) -> str:
        nonlocal previous
        num, den = int(m.group(1)), int(m.group(2))
        before = text[max(0, m.start() - 20) : m.start()]
        after = text[m.end() : m.end() + 16]
        date_ok = _valid(num, den)
        kind, guess = None, False
        if not date_ok or _HOUSE_NUMBER_RE.search(before) or (num, den) == (24, 7):
            kind = "slash"
        elif _DAY_BEFORE_RE.search(before):
            kind = "date"
        elif _FRACTION_AFTER_RE.match(after):  # "1/2 số hộ", "sau 1/2 thời gian"
            kind = "fraction"
        elif _DATE_CONTEXT_RE.search(before):
            kind = "date"
        elif _FRACTION_BEFORE_RE.search(before):
            kind = "fraction"
        elif previous is not None and _LINK_RE.fullmatch(text[previous[0] : m.start()]):
            kind = previous[1]
        elif num < den <= 4:
            kind, guess = "fraction", True
        else:
            kind, guess = "date", num < den
        previous = (m.end(), kind)
        if kind == "date":
            spoken = _date_words(num, den)
            if not _DAY_BEFORE_RE.search(before):
                spoken = "ngày " + spoken
            if guess:
                doc.warn(m, "ambiguous_date",
                         f"“{m.group(0)}” được đọc là ngày “{spoken}”. Nếu là phân số, hãy viết rõ "
                         f"(ví dụ “{num} phần {den}”).")
            return doc.protect(m, spoken, "date")
        if kind == "fraction" and den <= 10:
            spoken = f"{read_int_token(m.group(1))} phần {read_denominator(den)}"
        else:
            spoken = f"{read_int_token(m.group(1))} trên {read_int_token(m.group(2))}"
        if guess:
            doc.warn(m, "ambiguous_fraction",
                     f"“{m.group(0)}” được đọc là phân số “{spoken}”. Nếu là ngày, hãy viết “ngày {m.group(0)}”.")
        return doc.protect(m, spoken, "fraction")

    if "/" in text:
        doc.sub(_DAY_MONTH_RE, sub)


# --- words that take a number after them

_ORDINAL_RE = re.compile(r"(?<![\w])([Tt]hứ\s+)(\d+)(?![\w/]|[.,]\d)")
_MONTH_RE = re.compile(r"(?<![\w])([Tt]háng\s+)(\d{1,2})(?![\w/]|[.,]\d)")
_DAY_ZERO_RE = re.compile(rf"(?<![\w])({_DAY_WORD}\s+)(0\d)(?![\w/]|[.,]\d)")
_ROMAN_RE = re.compile(
    r"(?<![\w])((?:[Qq]uý|[Kk]hóa|[Kk]hoá|[Kk]ỳ|[Tt]hế kỷ|[Pp]hần|[Cc]hương|[Đđ]ại hội|[Gg]iai đoạn|[Ll]ần thứ)\s+)"
    r"([IVXLC]+)(?:/(\d{4}))?(?![\w/])"
)


def read_counted_words(doc: Doc) -> None:
    doc.sub(_DAY_ZERO_RE, lambda m: m.group(1) + doc.protect(m, read_number(int(m.group(2))), "date", group=2))
    doc.sub(_ORDINAL_RE, lambda m: m.group(1) + doc.protect(m, read_ordinal(int(m.group(2))), "ordinal", group=2))
    doc.sub(_MONTH_RE, lambda m: m.group(1) + doc.protect(m, read_month(int(m.group(2))), "date", group=2)
            if 1 <= int(m.group(2)) <= 12 else m.group(0))

    def roman(m: re.Match[str]) -> str:
        value = roman_value(m.group(2))
        if not 0 < value < 400:
            return m.group(0)
        keyword = m.group(1)
        spoken = read_ordinal(value) if keyword.strip().lower().endswith("thứ") else read_number(value)
        if m.group(3):  # "quý I/2025"
            spoken += f" năm {read_number(int(m.group(3)))}"
        return keyword + doc.place(doc.src(m.start(2)), doc.src(m.end()), spoken, "roman")

    doc.sub(_ROMAN_RE, roman)
