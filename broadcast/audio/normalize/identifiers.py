"""Things read character by character or by a fixed scheme: web and e-mail addresses, document codes
("15/QĐ-TTg"), road chainage, account/ID/code numbers, telephone numbers, letter-digit codes."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..lexicon import ADDRESS_WORDS, DOC_CODE_LEXICON
from .abbreviations import is_vietnamese_syllable, read_letters, spell_letters
from .numbers import read_digits, read_int_token, read_number
from .spans import Doc

_UPPER = "A-ZĐÀ-ỸẠ-Ỹ"
_END = r"(?=[.,;:!?)\]]*(?:\s|$))"  # trailing punctuation belongs to the sentence
_ADDRESS_RE = re.compile(
    r"(?<![\w@.])(?:"
    r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"  # e-mail
    r"|(?:https?://)?(?:www\.)?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.(?:vn|com|net|org|gov|edu|info)"
    r"(?:\.vn)?(?::\d+)?(?:/[^\s]*?)?"
    r"|(?:https?://|www\.)[^\s]+?"
    rf"){_END}",
    re.IGNORECASE,
)
_SEPARATORS = {".": "chấm", "@": "a còng", "-": "gạch ngang", "_": "gạch dưới", "/": "gạch chéo",
               ":": "hai chấm", "?": "dấu hỏi", "=": "bằng", "&": "và", "+": "cộng", "#": "thăng"}  # fmt: skip
_ADDRESS_PART_RE = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]")


def _read_address(address: str) -> str:
    body = re.sub(r"(?i)^https?://", "", address).rstrip("/")
    words = []
    for part in _ADDRESS_PART_RE.findall(body):
        low = part.lower()
        if low in ADDRESS_WORDS:
            words.append(ADDRESS_WORDS[low])
        elif part.isdigit():
            words.append(read_digits(part))
        elif part.isalpha():
            words.append(spell_letters(part))
        else:
            words.append(_SEPARATORS.get(part, part))
    return " ".join(w for w in words if w)


def read_addresses(doc: Doc) -> None:
    if "@" not in doc.text and "." not in doc.text:
        return
    doc.sub(_ADDRESS_RE, lambda m: doc.protect(m, _read_address(m.group(0)), "address"))


_SEG = rf"[{_UPPER}][A-Za-z{_UPPER}đà-ỹ0-9&]*"
_DOC_REF_RE = re.compile(rf"(?<![\w/])(\d+(?:/\d+)*)/({_SEG}(?:-{_SEG})*)(?![\w/])")


# A code part that stands for either of two document kinds: the word written before the code decides.
_PART_ALTERNATIVES = {"QĐ": ("Quyết định", "Quy định")}


def _code_part(seg: str, before: str, table: Mapping[str, tuple[str, bool]]) -> str | None:
    for kind in _PART_ALTERNATIVES.get(seg, ()):
        if re.search(rf"(?i){kind}\s+(?:số\s+)?$", before):  # "Quy định số 144-QĐ/TW"
            return kind
    return DOC_CODE_LEXICON.get(seg) or (table[seg][0] if seg in table else None)


def _read_code_parts(doc: Doc, m: re.Match[str], code: str, before: str,
                     table: Mapping[str, tuple[str, bool]], separator: str = "-") -> str:
    segments, spelled = [], []
    for seg in code.split(separator):
        spoken = _code_part(seg, before, table)
        if spoken is None:
            parts = []
            for run in re.findall(r"\d+|[^\d]+", seg):
                if run.isdigit():
                    parts.append(read_int_token(run))
                else:
                    known = DOC_CODE_LEXICON.get(run) or (table[run][0] if run in table else None)
                    if known is None and not is_vietnamese_syllable(run):
                        known = spell_letters(run.replace("&", ""))
                        if len(run) > 1:
                            spelled.append(run)
                    parts.append(known or run)
            spoken = " ".join(parts)
        segments.append(spoken)
    if spelled:
        doc.warn(m, "unknown_abbreviation",
                 f"Ký hiệu văn bản “{m.group(0)}” có phần chưa có trong từ điển ({', '.join(spelled)}), "
                 "sẽ được đánh vần.")
    return " ".join(segments)


# Party documents: "57-NQ/TW", "144-QĐ/TW" -- number, kind, then the issuing body after the slash.
_PARTY_REF_RE = re.compile(rf"(?<![\w/-])(\d+)-({_SEG})/({_SEG}(?:-{_SEG})*)(?![\w/])")


def read_doc_codes(doc: Doc, table: Mapping[str, tuple[str, bool]]) -> None:
    text = doc.text

    def state(m: re.Match[str]) -> str:
        if m.group(0) in doc.memo:  # a code is read the same way every time in one text
            return doc.protect(m, doc.memo[m.group(0)], "document_code")
        numbers = " trên ".join(read_int_token(n) for n in m.group(1).split("/"))
        before = text[max(0, m.start() - 24) : m.start()]
        spoken = doc.memo[m.group(0)] = f"{numbers} trên {_read_code_parts(doc, m, m.group(2), before, table)}"
        return doc.protect(m, spoken, "document_code")

    def party(m: re.Match[str]) -> str:
        if m.group(0) not in doc.memo:
            before = text[max(0, m.start() - 24) : m.start()]
            kind = _read_code_parts(doc, m, m.group(2), before, table)
            body = _read_code_parts(doc, m, m.group(3), before, table)
            doc.memo[m.group(0)] = f"{read_int_token(m.group(1))} {kind} trên {body}"
        return doc.protect(m, doc.memo[m.group(0)], "document_code")

    doc.sub(_DOC_REF_RE, state)
    text = doc.text
    doc.sub(_PARTY_REF_RE, party)


_KM_RE = re.compile(r"(?<!\w)Km\s?(\d+)(?:\s?\+\s?(\d+))?(?![\w])")


def read_chainage(doc: Doc) -> None:
    if "Km" not in doc.text:
        return
    doc.sub(_KM_RE, lambda m: doc.protect(
        m, "ki lô mét " + read_int_token(m.group(1)) + (f" cộng {read_number(int(m.group(2)))}" if m.group(2) else ""),
        "chainage"))


_ID_LABEL_RE = re.compile(
    r"((?:(?i:số tài khoản|tài khoản số|tài khoản|số định danh(?: cá nhân)?|(?P<id>căn cước(?: công dân)?"
    r"|chứng minh nhân dân)|mã số thuế|(?P<code>mã số|mã hồ sơ|mã bưu chính|mã)|số hồ sơ|số biên nhận"
    r"|số sê ri|số seri|số hiệu|số thẻ(?: bảo hiểm y tế)?)|STK|TK|(?P<card>CCCD|CMND|CMT)|MST)"
    r"(?:[ \t]+[A-ZĐ]{2,6})?[ \t]*(?:(?i:số|là)[ \t]*)?:?[ \t]*)"
    r"(?P<digits>\d+(?:[ .\-]\d+)*)(?![\w]|[.,]\d)"
)


def _read_grouped(digits: str) -> str:
    return ", ".join(read_digits(g) for g in re.split(r"[ .\-]", digits) if g)


def read_identifiers(doc: Doc) -> None:
    """Account, ID card, tax and file numbers after their label: digit by digit, grouped as written."""

    def sub(m: re.Match[str]) -> str:
        # An ID card number has 9 or 12 digits, a code may be short, the rest at least six: below that
        # it is a year or a count ("Luật Căn cước 2023").
        least = 9 if m.group("id") or m.group("card") else 4 if m.group("code") else 6
        if sum(c.isdigit() for c in m.group("digits")) < least:
            return m.group(0)
        return m.group(1) + doc.protect(m, _read_grouped(m.group("digits")), "identifier", group="digits")

    doc.sub(_ID_LABEL_RE, sub)


_PHONE_RE = re.compile(
    r"(?<![\w.,/+])(\+84[ .]?|0)(\d{1,4}(?:[ .\-]\d{2,4}){1,4}|\d{8,10})(?![\w/]|[.,]\d)"
)
_AREA_PHONE_RE = re.compile(r"\((0\d{2,3})\)[ \t]?(\d{3,4})[ .]?(\d{3,4})(?![\w]|[.,]\d)")
_SERVICE_PHONE_RE = re.compile(r"(?<![\w.,])(1[89]00)[ .]?(\d{3,4})(?:[ .]?(\d{2,4}))?(?![\w]|[.,]\d)")
_HOTLINE_RE = re.compile(
    r"((?i:đường dây nóng|số điện thoại|điện thoại|hotline|số máy|tổng đài|gọi(?: số)?|sđt|đt|cứu hỏa|cấp cứu"
    r"|khẩn cấp|cứu nạn|quay số|đầu số)"
    r"(?:[ \t]*:[ \t]*|[ \t]+))(\d{3,5})(?![\w]|[.,]\d)"
)
_LONG_DIGITS_RE = re.compile(r"(?<![\w.,/])\d{9,}(?![\w]|[.,]\d)")


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


def _sub_phone(m: re.Match[str], doc: Doc) -> str:
    prefix, body = m.group(1), m.group(2)
    groups = [g for g in re.split(r"[ .\-]", body) if g]
    digits = "".join(groups)
    if prefix == "0":
        if 1 + len(digits) not in (10, 11):
            return m.group(0)
        groups[0] = "0" + groups[0]
        spoken = ", ".join(read_digits(g) for g in _group_phone("0" + digits, groups))
    else:
        if len(digits) not in (9, 10):
            return m.group(0)
        spoken = "cộng tám tư, " + ", ".join(read_digits(g) for g in _group_phone(digits, groups))
    return doc.protect(m, spoken, "phone")


def read_phones(doc: Doc) -> None:
    doc.sub(_AREA_PHONE_RE, lambda m: doc.protect(m, ", ".join(read_digits(g) for g in m.groups()), "phone"))
    doc.sub(_PHONE_RE, lambda m: _sub_phone(m, doc))
    doc.sub(_SERVICE_PHONE_RE, lambda m: doc.protect(
        m, ", ".join(read_digits(g) for g in m.groups() if g), "phone"))
    doc.sub(_HOTLINE_RE, lambda m: m.group(1) + doc.protect(m, read_digits(m.group(2)), "phone", group=2))
    # Nine digits or more without thousands dots is a number to note down, not a quantity.
    doc.sub(_LONG_DIGITS_RE, lambda m: doc.protect(m, read_digits(m.group(0)), "identifier"))


_ROAD_PREFIXES = {"ĐT": "đường tỉnh", "TL": "tỉnh lộ", "ĐH": "đường huyện", "HL": "hương lộ"}
_CODE_TOKEN_RE = re.compile(rf"(?<![\w])(?=[\w]*[{_UPPER}])(?=[\w]*\d)[A-Za-z{_UPPER}đà-ỹ0-9]+(?![\w])")


def read_code_tokens(doc: Doc, table: Mapping[str, tuple[str, bool]]) -> None:
    """Letters and digits in one word ("KP3", "H5N1", "QL1A"): letters as the table says, else spelled;
    digits as a number."""

    def sub(m: re.Match[str]) -> str:
        parts, guessed = [], []
        runs = re.findall(r"\d+|[^\d]+", m.group(0))
        if len(runs) >= 2 and runs[0] in _ROAD_PREFIXES and runs[1].isdigit():
            parts.append(_ROAD_PREFIXES[runs[0]])  # "ĐT741" is a provincial road, not a telephone
            runs = runs[1:]
        for run in runs:
            if run.isdigit():
                parts.append(read_int_token(run))
            else:
                spoken, guess = read_letters(doc, run, table)
                parts.append(spoken)
                if guess:
                    guessed.append(run)
        if guessed:
            doc.warn(m, "unknown_abbreviation",
                     f"Mã “{m.group(0)}” có chữ viết tắt chưa có trong từ điển ({', '.join(guessed)}), "
                     "sẽ được đánh vần.")
        return doc.protect(m, " ".join(parts), "code")

    doc.sub(_CODE_TOKEN_RE, sub)
