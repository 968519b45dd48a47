"""Reading numbers the Vietnamese way: integers, written numbers with Vietnamese separators, digits,
months and ordinals. Pure functions, no third-party reader (this is the hot path of every bulletin)."""

from __future__ import annotations

import re

from ..lexicon import DIGIT_NAMES

_D = [DIGIT_NAMES[str(i)] for i in range(10)]


def _tens(value: int) -> str:
    """10..99: 'mười', 'mười lăm', 'hai mươi mốt', 'hai mươi tư', 'năm mươi'."""
    tens, units = divmod(value, 10)
    head = "mười" if tens == 1 else f"{_D[tens]} mươi"
    if units == 0:
        return head
    if units == 5:
        return f"{head} lăm"
    if tens > 1 and units == 1:
        return f"{head} mốt"
    if tens > 1 and units == 4:
        return f"{head} tư"
    return f"{head} {_D[units]}"


def _triple(value: int, full: bool) -> str:
    """0..999; ``full`` for a group after a higher one: 5 -> 'không trăm lẻ năm'."""
    hundreds, rest = divmod(value, 100)
    words = [f"{_D[hundreds]} trăm"] if hundreds or full else []
    if rest == 0:
        return " ".join(words)
    if rest < 10:
        if words:
            words.append("lẻ")
        words.append(_D[rest])
    else:
        words.append(_tens(rest))
    return " ".join(words)


def _below_billion(n: int, leading: bool) -> str:
    parts: list[str] = []
    for value, unit in ((n // 1_000_000 % 1000, "triệu"), (n // 1000 % 1000, "nghìn"), (n % 1000, "")):
        if value == 0:
            continue
        words = _triple(value, full=not (leading and not parts))
        parts.append(f"{words} {unit}".strip())
    return " ".join(parts)


def read_number(n: int) -> str:
    """Read an integer the Vietnamese way (2024 -> 'hai nghìn không trăm hai mươi tư')."""
    if n < 0:
        return "âm " + read_number(-n)
    if n == 0:
        return "không"
    billions, rest = divmod(n, 1_000_000_000)
    if billions == 0:
        return _below_billion(n, leading=True)
    words = read_number(billions) + " tỷ"
    if rest:
        words += " " + _below_billion(rest, leading=False)
    return words


def read_digits(digits: str) -> str:
    """Digit by digit: '024' -> 'không hai bốn'."""
    return " ".join(_D[int(d)] for d in digits if d.isdigit() and d.isascii())


def read_int_token(token: str) -> str:
    """An integer as written: leading zeros are read digit by digit ('07' -> 'không bảy')."""
    if len(token) > 1 and token.startswith("0"):
        return read_digits(token)
    return read_number(int(token))


def _read_decimals(digits: str) -> str:
    """After a decimal comma: '5' -> 'năm', '25' -> 'hai mươi lăm'; '05', '1234' (and a range bound's
    '2,3') digit by digit."""
    if digits.isdigit() and not digits.startswith("0") and len(digits) <= 3:
        return read_number(int(digits))
    return read_digits(digits)


_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")


def read_written_number(token: str, quantity: bool = False) -> str:
    """'1.245' -> 1245, '20,8' -> decimal, '1.234,5' -> both (Vietnamese separators); '-3' -> 'âm ba'.
    A ``quantity`` ("05 ngày", "02 km": official style pads counts) is read as a number even with a
    leading zero; otherwise a leading zero means a name ("tuyến 02") read digit by digit."""
    if token.startswith("-"):
        return "âm " + read_written_number(token[1:], quantity)
    if quantity and token.isdigit():
        return read_number(int(token))
    int_part, _, frac_part = token.partition(",")
    if _THOUSANDS_RE.fullmatch(int_part):
        words = read_number(int(int_part.replace(".", "")))
        return f"{words} phẩy {_read_decimals(frac_part)}" if frac_part else words
    if "." in int_part:
        # "1.5": not a Vietnamese thousands group, read the dot literally.
        return " chấm ".join(read_int_token(p) for p in int_part.split(".") if p)
    if frac_part:
        return f"{read_int_token(int_part) if int_part else 'không'} phẩy {_read_decimals(frac_part)}"
    return read_int_token(int_part)


def read_month(month: int) -> str:
    """April is 'tháng tư', never 'tháng bốn'."""
    return "tư" if month == 4 else read_number(month)


def read_ordinal(n: int) -> str:
    return {1: "nhất", 4: "tư"}.get(n, read_number(n))


def read_denominator(n: int) -> str:
    """'một phần tư', not 'một phần bốn'."""
    return "tư" if n == 4 else read_number(n)


def roman_value(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total, prev = 0, 0
    for ch in reversed(numeral):
        v = values[ch]
        total += -v if v < prev else v
        prev = max(prev, v)
    return total
