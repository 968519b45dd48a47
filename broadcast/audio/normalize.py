"""Bulletin text -> speakable text: what a Vietnamese speech engine should read aloud.

Pipeline (deterministic, pure functions):
1. our own pre-pass: Unicode/punctuation clean-up, URLs out, the pronunciation lexicon (protected
   by placeholders so later passes never touch a spoken form), document references
   ("số 1460/UBND-KGVX", "07/CT-TTg"), road chainage (Km0+000), phone numbers, dates, times,
   ranges and units -- the cases where `vietnormalizer` is measurably wrong (doubled "ngày",
   letter-by-letter "TT&TT", mangled document codes, lost "đến", "°C", lowercasing);
2. `vietnormalizer` where it is right: reading integers below one million;
3. our own fixes: numbers from a million up (the library drops "không trăm" and reads 10^12 digit
   by digit), "tháng tư", "thứ nhất/thứ tư", leading zeros, acronym spelling, prosody punctuation.
The editor's capitalization is kept; punctuation is kept where it makes the engine pause.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from .errors import EmptyTextError, NoSpeakableTextError, TextTooLongError
from .lexicon import DEFAULT_LEXICON, DIGIT_NAMES, DOC_CODE_LEXICON, LETTER_NAMES, UNITS

__all__ = [
    "DEFAULT_LEXICON",
    "DEFAULT_MAX_SENTENCE_CHARS",
    "pack_words",
    "read_number",
    "read_digits",
    "speakable_text",
    "split_sentences",
]

DEFAULT_MAX_SENTENCE_CHARS = 300

# Placeholders protect already-spoken text from later passes. Private-use characters are neither
# word characters nor digits, so no later regex matches inside them.
_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"
_PH_BASE = 0xE100
_PH_RE = re.compile(f"{_PH_OPEN}(.){_PH_CLOSE}")
_UPPER = "A-ZĐÀ-ỸẠ-Ỹ"  # only used inside character classes together with isupper() checks


# --------------------------------------------------------------------------------------------------
# numbers


@lru_cache(maxsize=1)
def _library_processor():  # noqa: ANN202 - third-party type
    from vietnormalizer import VietnameseTextProcessor

    return VietnameseTextProcessor()


def _read_triple_full(value: int) -> str:
    """A 3-digit group after a higher group: 5 -> 'không trăm lẻ năm', 50 -> 'không trăm năm mươi'."""
    hundreds, rest = divmod(value, 100)
    words = f"{DIGIT_NAMES[str(hundreds)]} trăm"
    if rest == 0:
        return words
    if rest < 10:
        return f"{words} lẻ {DIGIT_NAMES[str(rest)]}"
    return f"{words} {_library_processor().number_to_words(str(rest))}"


def _read_below_billion(n: int, leading: bool) -> str:
    parts: list[str] = []
    for value, unit in ((n // 1_000_000 % 1000, "triệu"), (n // 1000 % 1000, "nghìn"), (n % 1000, "")):
        if value == 0:
            continue
        if leading and not parts:
            words = _library_processor().number_to_words(str(value))
        else:
            words = _read_triple_full(value)
        parts.append(f"{words} {unit}".strip())
    return " ".join(parts)


def read_number(n: int) -> str:
    """Read a non-negative integer the Vietnamese way (2024 -> 'hai nghìn không trăm hai mươi tư')."""
    if n < 0:
        return "âm " + read_number(-n)
    if n < 1_000_000:
        # vietnormalizer is right here: mốt/tư/lăm, 'lẻ', 'không trăm' inside thousands.
        return _library_processor().number_to_words(str(n))
    billions, rest = divmod(n, 1_000_000_000)
    if billions == 0:
        return _read_below_billion(n, leading=True)
    words = read_number(billions) + " tỷ"
    if rest:
        words += " " + _read_below_billion(rest, leading=False)
    return words


def read_digits(digits: str) -> str:
    """Digit by digit: '024' -> 'không hai bốn'."""
    return " ".join(DIGIT_NAMES[d] for d in digits if d.isdigit())


def _read_int_token(token: str) -> str:
    """An integer as written: leading zeros are read digit by digit ('07' -> 'không bảy')."""
    if len(token) > 1 and token.startswith("0"):
        return read_digits(token)
    return read_number(int(token))


def _read_fraction(digits: str) -> str:
    """After a decimal comma: '5' -> 'năm', '25' -> 'hai mươi lăm'; '05', '1234' (and a range bound's
    '2,3') digit by digit."""
    if digits.isdigit() and not digits.startswith("0") and len(digits) <= 3:
        return read_number(int(digits))
    return read_digits(digits)


def _read_written_number(token: str) -> str:
    """'1.245' -> 1245, '20,8' -> decimal, '1.234,5' -> both (Vietnamese separators)."""
    int_part, _, frac_part = token.partition(",")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", int_part):
        words = read_number(int(int_part.replace(".", "")))
        return f"{words} phẩy {_read_fraction(frac_part)}" if frac_part else words
    if "." in int_part:
        # "1.5": not a Vietnamese thousands group, read the dot literally.
        return " chấm ".join(_read_int_token(p) for p in int_part.split(".") if p)
    if frac_part:
        return f"{_read_int_token(int_part) if int_part else 'không'} phẩy {_read_fraction(frac_part)}"
    return _read_int_token(int_part)


_MONTH_WORDS = {4: "tư"}  # April is "tháng tư", never "tháng bốn"


def _read_month(month: int) -> str:
    return _MONTH_WORDS.get(month, read_number(month))


def _read_ordinal(n: int) -> str:
    return {1: "nhất", 4: "tư"}.get(n, read_number(n))


# --------------------------------------------------------------------------------------------------
# syllables and acronyms


def _strip_marks(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "g", "h",
           "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")  # fmt: skip
_RIME_RE = re.compile(r"[aeiouy]{1,3}(?:ng|nh|ch|c|m|n|p|t)?")


def is_vietnamese_syllable(word: str) -> bool:
    """True if the letters form a possible Vietnamese syllable ("KHẨN" yes, "UBND" no)."""
    base = _strip_marks(word)
    if not base.isalpha() or not base.isascii():
        return False
    for onset in _ONSETS:
        if base.startswith(onset) and _RIME_RE.fullmatch(base[len(onset) :]):
            return True
    return False


def _spell_letters(letters: str) -> str:
    out = []
    for ch in letters:
        name = LETTER_NAMES.get(ch.upper())
        out.append(name if name else ch)
    return " ".join(out)


# --------------------------------------------------------------------------------------------------
# the pipeline


class _Protector:
    """Keeps spoken forms out of reach of later passes."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def __call__(self, spoken: str) -> str:
        self.items.append(spoken)
        return f"{_PH_OPEN}{chr(_PH_BASE + len(self.items) - 1)}{_PH_CLOSE}"

    def restore(self, text: str) -> str:
        # Nested placeholders (a lexicon entry inside a document code) need several rounds.
        for _ in range(3):
            if _PH_OPEN not in text:
                break
            text = _PH_RE.sub(lambda m: f" {self.items[ord(m.group(1)) - _PH_BASE]} ", text)
        return text


def _term_pattern(term: str) -> str:
    pattern = re.escape(term)
    if term[0].isalnum():
        pattern = r"(?<![\w])" + pattern
    if term[-1].isalnum():
        pattern += r"(?![\w])"
    elif term.endswith("."):
        # "TP." is an abbreviation only when a word follows; at the end it is a full stop.
        pattern += r"(?=[ \t]*\w)"
    return pattern


@lru_cache(maxsize=64)
def _compile_lexicon(items: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    table = dict(items)
    terms = sorted((t for t in table if t), key=lambda t: (-len(t), t))  # longest match first
    if not terms:
        return None, table
    return re.compile("|".join(_term_pattern(t) for t in terms)), table


def _merged_lexicon(lexicon: Mapping[str, str] | None) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    merged = dict(DEFAULT_LEXICON)
    if lexicon:
        for term, spoken in lexicon.items():
            term = unicodedata.normalize("NFC", str(term)).strip()
            if term:
                merged[term] = unicodedata.normalize("NFC", str(spoken)).strip()
    return _compile_lexicon(tuple(sorted(merged.items())))


_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+")
_QUOTES_RE = re.compile(r"[\"“”„‟«»]|(?<!\w)['‘’]|['‘’](?!\w)")
_ELLIPSIS_RE = re.compile(r"(?:\.{3,}|…)(?=(\s*)(.?))")
_SEG = rf"(?:[{_UPPER}][A-Za-z{_UPPER}đà-ỹ0-9&]*|{_PH_OPEN}.{_PH_CLOSE})"
_DOC_REF_RE = re.compile(rf"(?<![\w/])(\d+(?:/\d+)*)/({_SEG}(?:-{_SEG})*)(?![\w/])")
_KM_RE = re.compile(r"(?<!\w)Km\s?(\d+)(?:\s?\+\s?(\d+))?(?![\w])")
_PHONE_RE = re.compile(
    r"(?<![\w.,/+])(\+84|0)(\d{1,4}(?:[ .\-]\d{2,4}){1,4}|\d{8,10})(?![\w/]|[.,]\d)"
)
_SERVICE_PHONE_RE = re.compile(r"(?<![\w.,])(1[89]00)[ .]?(\d{3,4})(?:[ .]?(\d{2,4}))?(?![\w]|[.,]\d)")
_HOTLINE_RE = re.compile(
    r"(?i)((?:đường dây nóng|số điện thoại|điện thoại|hotline|số máy|tổng đài|gọi(?: số)?|sđt|đt)"
    r"\s*:?\s*)(\d{3,5})(?![\w]|[.,]\d)"
)
_DATE_RANGE_RE = re.compile(
    r"(?<![\w/])((?:[Nn]gày|[Mm]ùng|[Mm]ồng)\s+)?(\d{1,2})\s*[-–]\s*(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?![\w/])"
)
_DATE_FULL_RE = re.compile(r"(?<![\w/.,])((?:[Nn]gày|[Mm]ùng|[Mm]ồng)\s+)?(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?![\w/])")
_MONTH_YEAR_RE = re.compile(r"(?<![\w/.,])([Tt]háng\s+)?(\d{1,2})/(\d{4})(?![\w/])")
_DAY_MONTH_RE = re.compile(r"(?<![\w/.,])((?:[Nn]gày|[Mm]ùng|[Mm]ồng)\s+)?(\d{1,2})/(\d{1,2})(?![\w/]|[.,]\d)")
_TIME_H_RE = re.compile(r"(?<![\w.,:])(\d{1,2})[hH](\d{2})?(?![\w])")
_TIME_COLON_RE = re.compile(r"(?<![\w.,:])(\d{1,2}):(\d{2})(?![\d:])")
_UNIT_RE = re.compile(
    r"(\d)[ \t]*("
    + "|".join(re.escape(u) for u in sorted([*UNITS, "oC"], key=len, reverse=True))
    + r")(?![\w²³/])"
)
_DEGREE_RE = re.compile(r"°\s?C(?![\w])|(?<=\bđộ )C(?![\w])")
_CODE_TOKEN_RE = re.compile(rf"(?<![\w])(?=[\w]*[{_UPPER}])(?=[\w]*\d)[A-Za-z{_UPPER}đà-ỹ0-9]+(?![\w])")
_NEGATIVE_RE = re.compile(r"(?<![\w.,])-(?=\d)")
_NUM = r"\d+(?:[.,]\d+)*"
_RANGE_RE = re.compile(rf"(?<![\w.,/])({_NUM})\s*[-–]\s*({_NUM})(?![\w/]|[.,]\d)")
_ORDINAL_RE = re.compile(r"(?<![\w])([Tt]hứ)\s+(\d+)(?![\w/]|[.,]\d)")
_MONTH_RE = re.compile(r"(?<![\w])([Tt]háng)\s+(\d{1,2})(?![\w/]|[.,]\d)")
_DAY_ZERO_RE = re.compile(r"(?<![\w])((?:[Nn]gày|[Mm]ùng|[Mm]ồng)\s+)0(\d)(?![\w/]|[.,]\d)")
_ROMAN_RE = re.compile(
    r"(?<![\w])((?:[Qq]uý|[Kk]hóa|[Kk]hoá|[Kk]ỳ|[Tt]hế kỷ|[Pp]hần|[Cc]hương|[Đđ]ại hội|[Gg]iai đoạn|[Ll]ần thứ)\s+)"
    r"([IVXLC]+)(?![\w])"
)
_NUMBER_RE = re.compile(r"(?<![\w])\d+(?:\.\d{3})*(?:,\d+)?(?:\.\d+)?")
_ACRONYM_RE = re.compile(r"(?<![\w])[^\W\d_]{2,}(?![\w])")
_PUNCT_RUN_RE = re.compile(r"[,.;:!?](?:\s*[,.;:!?])+")
_PUNCT_RANK = {"?": 6, "!": 5, ".": 4, ";": 3, ":": 2, ",": 1}


def _valid_day_month(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _sub_doc_ref(m: re.Match[str], table: Mapping[str, str], protect: _Protector) -> str:
    numbers = " trên ".join(_read_int_token(n) for n in m.group(1).split("/"))
    segments = []
    for seg in m.group(2).split("-"):
        if _PH_OPEN in seg:
            segments.append(seg)
            continue
        spoken = table.get(seg) or DOC_CODE_LEXICON.get(seg)
        if spoken is None:
            parts = []
            for run in re.findall(r"\d+|[^\d]+", seg):
                if run.isdigit():
                    parts.append(_read_int_token(run))
                else:
                    parts.append(
                        table.get(run) or DOC_CODE_LEXICON.get(run)
                        or (run if is_vietnamese_syllable(run) else _spell_letters(run.replace("&", "")))
                    )
            spoken = " ".join(parts)
        segments.append(spoken)
    return protect(f"{numbers} trên {' '.join(segments)}")


def _group_phone(digits: str, written_groups: list[str]) -> list[str]:
    if len(written_groups) > 1:
        return written_groups
    if len(digits) == 11 and digits.startswith("02"):
        sizes = (3, 4, 4)
    elif len(digits) == 10:
        sizes = (4, 3, 3)
    else:
        sizes = (4, 3, len(digits) - 7)
    groups, pos = [], 0
    for size in sizes:
        groups.append(digits[pos : pos + size])
        pos += size
    return [g for g in groups if g]


def _sub_phone(m: re.Match[str], protect: _Protector) -> str:
    prefix, body = m.group(1), m.group(2)
    groups = [g for g in re.split(r"[ .\-]", body) if g]
    digits = "".join(groups)
    if prefix == "0":
        total = 1 + len(digits)
        if total not in (10, 11):
            return m.group(0)
        groups[0] = "0" + groups[0]
        spoken = ", ".join(read_digits(g) for g in _group_phone("0" + digits, groups))
    else:
        if len(digits) not in (9, 10):
            return m.group(0)
        spoken = "cộng tám tư, " + ", ".join(read_digits(g) for g in _group_phone(digits, groups))
    return protect(spoken)


def _sub_date_full(m: re.Match[str]) -> str:
    prefix, day, month, year = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    if not _valid_day_month(day, month):
        return m.group(0)
    head = prefix or "ngày "
    return f"{head}{read_number(day)} tháng {_read_month(month)} năm {read_number(int(year))}"


def _sub_date_range(m: re.Match[str]) -> str:
    prefix, d1, d2, month = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
    if not (_valid_day_month(d1, month) and _valid_day_month(d2, month) and d1 < d2):
        return m.group(0)
    head = prefix or "ngày "
    out = f"{head}{read_number(d1)} đến ngày {read_number(d2)} tháng {_read_month(month)}"
    if m.group(5):
        out += f" năm {read_number(int(m.group(5)))}"
    return out


def _sub_month_year(m: re.Match[str]) -> str:
    month, year = int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12:
        return m.group(0)
    return f"{m.group(1) or 'tháng '}{_read_month(month)} năm {read_number(year)}"


def _sub_day_month(m: re.Match[str]) -> str:
    prefix, day, month = m.group(1), int(m.group(2)), int(m.group(3))
    if not _valid_day_month(day, month):
        # Not a date (e.g. 45/60): read the slash.
        return f"{prefix or ''}{_read_int_token(m.group(2))} trên {_read_int_token(m.group(3))}"
    head = prefix or "ngày "
    return f"{head}{read_number(day)} tháng {_read_month(month)}"


def _sub_time(m: re.Match[str]) -> str:
    hour = int(m.group(1))
    minute = int(m.group(2)) if m.group(2) else 0
    if hour > 24 or minute > 59:
        return m.group(0)
    out = f"{read_number(hour)} giờ"
    if minute:
        out += f" {read_number(minute)} phút"
    return out


def _sub_code_token(m: re.Match[str], table: Mapping[str, str]) -> str:
    parts = []
    for run in re.findall(r"\d+|[^\d]+", m.group(0)):
        if run.isdigit():
            parts.append(_read_int_token(run))
        elif run in table:
            parts.append(table[run])
        elif is_vietnamese_syllable(run) and not run.isupper():
            parts.append(run)
        else:
            parts.append(_spell_letters(run))
    return " ".join(parts)


def _roman_value(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total, prev = 0, 0
    for ch in reversed(numeral):
        v = values[ch]
        total += -v if v < prev else v
        prev = max(prev, v)
    return total


def _sub_roman(m: re.Match[str]) -> str:
    value = _roman_value(m.group(2))
    if not 0 < value < 400:
        return m.group(0)
    keyword = m.group(1)
    spoken = _read_ordinal(value) if keyword.strip().lower().endswith("thứ") else read_number(value)
    return f"{keyword}{spoken}"


def _sub_acronym(m: re.Match[str]) -> str:
    word = m.group(0)
    uppers = sum(1 for c in word if c.isupper())
    if uppers < 2 or is_vietnamese_syllable(word):
        return word
    return _spell_letters(word)


def _sub_ellipsis(m: re.Match[str]) -> str:
    following = m.group(2)
    # "a, b, c..." inside a sentence is a list pause; before a capital or the end, a full stop.
    if following == "" or following.isupper() or following == "\n":
        return "."
    return ","


def _collapse_punct(m: re.Match[str]) -> str:
    marks = [c for c in m.group(0) if c in _PUNCT_RANK]
    return max(marks, key=lambda c: _PUNCT_RANK[c])


def _finish_line(line: str) -> str:
    line = re.sub(r"^[\s\-•*+·,.;:]+", "", line)  # list bullets and stray leading marks
    line = re.sub(r"[ \t]+", " ", line).strip()
    line = re.sub(r"\s+([,.;:!?])", r"\1", line)
    line = _PUNCT_RUN_RE.sub(_collapse_punct, line)
    line = re.sub(r"([,.;:!?])(?=[^\s\d])", r"\1 ", line)
    line = line.strip()
    if not any(c.isalpha() for c in line):
        return ""
    if line[-1] in ",;:":
        line = line[:-1] + "."
    elif line[-1] not in ".!?":
        line += "."  # headings and titles: end with a pause
    return line


def speakable_text(text: str, lexicon: Mapping[str, str] | None = None, *, max_chars: int | None = None) -> str:
    """Return what a speech engine should read for ``text``.

    ``lexicon`` maps terms (case-sensitive) to spoken forms; it extends and overrides
    ``DEFAULT_LEXICON``; the longest matching term wins. ``max_chars`` limits the input length.
    Raises ``EmptyTextError``, ``NoSpeakableTextError`` or ``TextTooLongError``.
    """
    if text is None or not str(text).strip():
        raise EmptyTextError()
    text = unicodedata.normalize("NFC", str(text))
    if max_chars is not None and len(text) > max_chars:
        raise TextTooLongError(len(text), max_chars)

    protect = _Protector()
    pattern, table = _merged_lexicon(lexicon)

    # --- pre-pass: characters
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u200b", "")
    text = _PH_RE.sub("", text.replace(_PH_OPEN, "").replace(_PH_CLOSE, ""))
    text = _URL_RE.sub(" ", text)
    text = _QUOTES_RE.sub("", text)
    text = _ELLIPSIS_RE.sub(_sub_ellipsis, text)
    text = re.sub(r"[–—−]", "-", text)

    # --- lexicon first, so editors' entries win over every rule below
    if pattern is not None:
        text = pattern.sub(lambda m: protect(table[m.group(0)]), text)

    # --- structured tokens that must be recognised before plain numbers
    text = _DOC_REF_RE.sub(lambda m: _sub_doc_ref(m, table, protect), text)
    text = _KM_RE.sub(
        lambda m: protect(
            "ki lô mét " + _read_int_token(m.group(1)).strip()
            + (f" cộng {read_number(int(m.group(2)))}" if m.group(2) else "")
        ),
        text,
    )
    text = _PHONE_RE.sub(lambda m: _sub_phone(m, protect), text)
    text = _SERVICE_PHONE_RE.sub(
        lambda m: protect(", ".join(read_digits(g) for g in m.groups() if g)), text
    )
    text = _HOTLINE_RE.sub(lambda m: m.group(1) + protect(read_digits(m.group(2))), text)
    text = _DATE_RANGE_RE.sub(_sub_date_range, text)
    text = _DATE_FULL_RE.sub(_sub_date_full, text)
    text = _MONTH_YEAR_RE.sub(_sub_month_year, text)
    text = _DAY_MONTH_RE.sub(_sub_day_month, text)
    text = _TIME_H_RE.sub(_sub_time, text)
    text = _TIME_COLON_RE.sub(_sub_time, text)
    text = _UNIT_RE.sub(lambda m: f"{m.group(1)} {UNITS.get(m.group(2), 'độ xê')}", text)
    text = _DEGREE_RE.sub(" độ xê", text).replace("°", " độ ")
    text = _CODE_TOKEN_RE.sub(lambda m: _sub_code_token(m, table), text)
    text = _RANGE_RE.sub(lambda m: f"{_read_written_number(m.group(1))} đến {_read_written_number(m.group(2))}", text)
    text = _NEGATIVE_RE.sub("âm ", text)
    text = _DAY_ZERO_RE.sub(r"\1\2", text)
    text = _ORDINAL_RE.sub(lambda m: f"{m.group(1)} {_read_ordinal(int(m.group(2)))}", text)
    text = _MONTH_RE.sub(
        lambda m: f"{m.group(1)} {_read_month(int(m.group(2)))}" if 1 <= int(m.group(2)) <= 12 else m.group(0),
        text,
    )
    text = _ROMAN_RE.sub(_sub_roman, text)

    # --- remaining numbers (library reading below a million, ours above)
    text = _NUMBER_RE.sub(lambda m: _read_written_number(m.group(0)), text)

    # --- acronyms nobody listed: spell them rather than let the engine guess English
    text = _ACRONYM_RE.sub(_sub_acronym, text)

    # --- symbols and prosody
    text = text.replace("&", " và ").replace("+", " cộng ").replace("@", " a còng ")
    text = re.sub(r"[()\[\]{}]", ",", text)
    text = re.sub(r"\s+-+\s+|\s+-+|-+\s+", ", ", text)  # spaced dash: a pause
    text = text.replace("-", " ").replace("/", ", ")
    text = re.sub(r"[*#_~^|<>=\\`]", " ", text)
    text = protect.restore(text)

    lines = [_finish_line(line) for line in text.split("\n")]
    result = "\n".join(line for line in lines if line)
    if not any(c.isalpha() for c in result):
        raise NoSpeakableTextError()
    return result


# --------------------------------------------------------------------------------------------------
# sentences

_SENTENCE_END_RE = re.compile(r"(?<=[.!?;:])\s+")


def pack_words(parts: list[str], max_chars: int) -> list[str]:
    """Join consecutive parts with spaces into pieces of at most ``max_chars`` (a part that is longer
    on its own stays whole)."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} {part}".strip()
        if current and len(candidate) > max_chars:
            pieces.append(current)
            current = part
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _split_long(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    # Prefer commas (a natural pause), then spaces; never cut inside a word.
    parts: list[str] = []
    for clause in re.split(r"(?<=,)\s+", sentence):
        parts.extend(pack_words(clause.split(" "), max_chars) if len(clause) > max_chars else [clause])
    return pack_words(parts, max_chars)


def split_sentences(speakable: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS) -> list[str]:
    """Split speakable text into sentence-sized pieces (at . ! ? ; : and line ends).

    Pieces longer than ``max_chars`` are cut at commas, then between words. Pieces without any
    letter are dropped. Joining the result with spaces gives back the words in order.
    """
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    out: list[str] = []
    for line in speakable.split("\n"):
        for sentence in _SENTENCE_END_RE.split(line.strip()):
            sentence = sentence.strip()
            if not sentence or not any(c.isalpha() for c in sentence):
                continue
            out.extend(_split_long(sentence, max_chars))
    return out
