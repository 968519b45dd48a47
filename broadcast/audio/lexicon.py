"""Built-in pronunciation data: administrative abbreviations, document-code parts, loanwords.

Callers (the `PronunciationEntry` table) extend or override these; entries are case-sensitive.
"""

from __future__ import annotations

# Common abbreviations in public-information bulletins (term -> spoken form).
DEFAULT_LEXICON: dict[str, str] = {
    # government bodies
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "MTTQ": "Mặt trận Tổ quốc",
    "UBMTTQ": "Ủy ban Mặt trận Tổ quốc",
    "MTTQVN": "Mặt trận Tổ quốc Việt Nam",
    "BCH": "Ban Chấp hành",
    "BCĐ": "Ban Chỉ đạo",
    "BTV": "Ban Thường vụ",
    "ĐBQH": "đại biểu Quốc hội",
    "HTX": "hợp tác xã",
    "TTYT": "Trung tâm Y tế",
    "CSGT": "Cảnh sát giao thông",
    "CAND": "Công an nhân dân",
    "QĐND": "Quân đội nhân dân",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
    "PCCC": "phòng cháy chữa cháy",
    "PCTT": "phòng chống thiên tai",
    "TKCN": "tìm kiếm cứu nạn",
    "PCTT&TKCN": "phòng chống thiên tai và tìm kiếm cứu nạn",
    "ATGT": "an toàn giao thông",
    "ATTP": "an toàn thực phẩm",
    "THCS": "trung học cơ sở",
    "THPT": "trung học phổ thông",
    "CCCD": "căn cước công dân",
    "KCN": "khu công nghiệp",
    "KT-XH": "kinh tế, xã hội",
    "TW": "Trung ương",
    "TƯ": "Trung ương",
    # departments and ministries (Sở, Bộ)
    "TT&TT": "Thông tin và Truyền thông",
    "TTTT": "Thông tin và Truyền thông",
    "GTVT": "Giao thông vận tải",
    "GD&ĐT": "Giáo dục và Đào tạo",
    "GDĐT": "Giáo dục và Đào tạo",
    "TN&MT": "Tài nguyên và Môi trường",
    "TNMT": "Tài nguyên và Môi trường",
    "NN&PTNT": "Nông nghiệp và Phát triển nông thôn",
    "LĐ-TB&XH": "Lao động, Thương binh và Xã hội",
    "LĐTBXH": "Lao động, Thương binh và Xã hội",
    "KH&ĐT": "Kế hoạch và Đầu tư",
    "KH&CN": "Khoa học và Công nghệ",
    "VH,TT&DL": "Văn hóa, Thể thao và Du lịch",
    "VHTTDL": "Văn hóa, Thể thao và Du lịch",
    "TDTT": "thể dục thể thao",
    # places
    "TP.HCM": "Thành phố Hồ Chí Minh",
    "TPHCM": "Thành phố Hồ Chí Minh",
    "TP. HCM": "Thành phố Hồ Chí Minh",
    "HCM": "Hồ Chí Minh",
    "TP.": "Thành phố",
    "Tp.": "Thành phố",
    "TP": "Thành phố",
    "TX.": "Thị xã",
    # loanwords espeak-ng would read in English
    "COVID-19": "Cô vít mười chín",
    "Covid-19": "Cô vít mười chín",
    "Zalo": "Da lô",
    "zalo": "da lô",
    "Facebook": "Phây búc",
    "facebook": "phây búc",
    "fanpage": "phan pết",
    "email": "i meo",
    "Email": "I meo",
    "website": "oép sai",
    "online": "trực tuyến",
    "VNeID": "vê en e ai đi",
}

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
