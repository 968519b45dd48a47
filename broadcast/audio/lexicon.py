"""Built-in pronunciation data: administrative abbreviations, document-code parts, loanwords.

Callers (the `PronunciationEntry` table) extend or override these; entries are case-sensitive.
"""

from __future__ import annotations

from pathlib import Path


def _load_abbreviations() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in Path(__file__).with_name("abbreviations.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            term, spoken, _kind = line.split("\t")
            table[term] = spoken
    return table


# Common abbreviations in public-information bulletins (term -> spoken form), central and local:
# the table is abbreviations.tsv beside this module.
DEFAULT_LEXICON: dict[str, str] = _load_abbreviations()

# Parts of official document codes ("số 07/CT-TTg", "125/KH-UBND", "15/2023/NĐ-CP"). They are read
# only inside such a code: "CT" alone in running text is not necessarily "Chỉ thị".
DOC_CODE_LEXICON: dict[str, str] = {
    "CT": "Chỉ thị",
    "TTg": "Thủ tướng",
    "KH": "Kế hoạch",
    "QĐ": "Quyết định",
    "NĐ": "Nghị định",
    "CP": "Chính phủ",
    "NQ": "Nghị quyết",
    "TT": "Thông tư",
    "TB": "Thông báo",
    "CV": "Công văn",
    "BC": "Báo cáo",
    "HD": "Hướng dẫn",
    "QH": "Quốc hội",
    "TU": "Thành ủy",
    "VP": "Văn phòng",
    "BTC": "Bộ Tài chính",
    "BYT": "Bộ Y tế",
    "KGVX": "Khoa giáo Văn xã",
    "KT": "Kinh tế",
    "ĐT": "Đô thị",
    "NC": "Nội chính",
    "SYT": "Sở Y tế",
    "STTTT": "Sở Thông tin và Truyền thông",
    "CĐ": "Công điện",
    "KL": "Kết luận",
    "TTLT": "Thông tư liên tịch",
    "VBHN": "Văn bản hợp nhất",
    "VPQH": "Văn phòng Quốc hội",
    "UBTVQH": "Ủy ban Thường vụ Quốc hội",
    "BCA": "Bộ Công an",
    "BQP": "Bộ Quốc phòng",
    "BNV": "Bộ Nội vụ",
    "BTP": "Bộ Tư pháp",
    "BXD": "Bộ Xây dựng",
    "BCT": "Bộ Công Thương",
    "BGDĐT": "Bộ Giáo dục và Đào tạo",
    "BGTVT": "Bộ Giao thông vận tải",
    "BTNMT": "Bộ Tài nguyên và Môi trường",
    "BTTTT": "Bộ Thông tin và Truyền thông",
    "BLĐTBXH": "Bộ Lao động, Thương binh và Xã hội",
    "BNNPTNT": "Bộ Nông nghiệp và Phát triển nông thôn",
    "BKHĐT": "Bộ Kế hoạch và Đầu tư",
    "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch",
    "SGDĐT": "Sở Giáo dục và Đào tạo",
    "SGTVT": "Sở Giao thông vận tải",
    "STNMT": "Sở Tài nguyên và Môi trường",
    "SXD": "Sở Xây dựng",
    "STC": "Sở Tài chính",
    "SNV": "Sở Nội vụ",
    "NVY": "Nghiệp vụ Y",
}

# Vietnamese names of Latin letters, used to spell acronyms that are not in any lexicon.
LETTER_NAMES: dict[str, str] = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "Ê": "ê",
    "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em",
    "N": "en", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy", "R": "e rờ", "S": "ét",
    "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép", "X": "ích", "Y": "i dài", "Z": "dét",
}  # fmt: skip

DIGIT_NAMES: dict[str, str] = {
    "0": "không", "1": "một", "2": "hai", "3": "ba", "4": "bốn",
    "5": "năm", "6": "sáu", "7": "bảy", "8": "tám", "9": "chín",
}  # fmt: skip

# Units read after a number (longest first is applied by the caller).
UNITS: dict[str, str] = {
    "km/h": "ki lô mét trên giờ",
    "km/giờ": "ki lô mét trên giờ",
    "m/s": "mét trên giây",
    "m3/s": "mét khối trên giây",
    "m³/s": "mét khối trên giây",
    "mg/l": "mi li gam trên lít",
    "mg/L": "mi li gam trên lít",
    "mg": "mi li gam",
    "mm/h": "mi li mét trên giờ",
    "km²": "ki lô mét vuông",
    "km2": "ki lô mét vuông",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "km": "ki lô mét",
    "cm": "xăng ti mét",
    "mm": "mi li mét",
    "m": "mét",
    "ha": "héc ta",
    "kg": "ki lô gam",
    "g": "gam",
    "kWh": "ki lô oát giờ",
    "kW": "ki lô oát",
    "MW": "mê ga oát",
    "ml": "mi li lít",
    "°C": "độ xê",
    "°F": "độ ép",
    "%": "phần trăm",
    "đ": "đồng",
    "VNĐ": "đồng",
    "VND": "đồng",
    "vnđ": "đồng",
    "USD": "đô la Mỹ",
}

# What may follow an amount or a unit after a slash: "50.000đ/người" is read "... đồng một người".
PER_UNITS: dict[str, str] = {
    "người": "người", "hộ": "hộ", "tháng": "tháng", "năm": "năm", "ngày": "ngày", "tuần": "tuần",
    "giờ": "giờ", "lít": "lít", "viên": "viên", "trang": "trang", "kg": "ki lô gam", "m2": "mét vuông", "m²": "mét vuông", "m3": "mét khối",
    "m³": "mét khối", "tấn": "tấn", "lượt": "lượt", "suất": "suất", "xe": "xe", "học sinh": "học sinh",
    "cháu": "cháu", "trẻ": "trẻ", "con": "con", "bình": "bình", "khẩu": "khẩu", "buổi": "buổi", "lần": "lần",
    "chuyến": "chuyến", "ca": "ca", "cái": "cái", "chiếc": "chiếc", "kWh": "ki lô oát giờ", "km": "ki lô mét",
    "ha": "héc ta", "sào": "sào", "gói": "gói", "hộp": "hộp", "liều": "liều", "m": "mét", "bao": "bao",
    "khách": "khách", "vé": "vé", "phòng": "phòng", "đêm": "đêm", "tiết": "tiết", "khóa": "khóa",
    "hồ sơ": "hồ sơ", "thửa": "thửa", "lô": "lô", "cây": "cây", "m3 nước": "mét khối nước",
}  # fmt: skip

# Parts of web and e-mail addresses read as words; anything else is spelled letter by letter.
ADDRESS_WORDS: dict[str, str] = {
    "www": "vê kép vê kép vê kép", "gov": "gờ o vê", "vn": "vê en", "com": "com", "net": "nét",
    "org": "o rờ gờ", "edu": "e đu", "info": "in phô", "gmail": "gờ meo", "yahoo": "da hu",
    "hanoi": "hà nội", "tiepdan": "tiếp dân", "lienhe": "liên hệ", "hotro": "hỗ trợ",
    "dichvucong": "dịch vụ công", "congan": "công an", "chinhphu": "chính phủ", "baohiemxahoi": "bảo hiểm xã hội",
    "thudo": "thủ đô", "suckhoe": "sức khỏe", "tiemchung": "tiêm chủng", "phuong": "phường", "xa": "xã",
    "quan": "quận", "huyen": "huyện", "mail": "meo", "email": "i meo", "zalo": "da lô", "facebook": "phây búc",
}  # fmt: skip
