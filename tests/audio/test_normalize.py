"""Speakable text. Expected strings are written from Vietnamese reading rules, not from the code."""

from __future__ import annotations

import pytest

from broadcast.audio.errors import EmptyTextError, NoSpeakableTextError, TextTooLongError
from broadcast.audio.normalize import (
    DEFAULT_LEXICON,
    read_number,
    read_text,
    speakable_text,
    split_sentences,
)


def say(text: str, lexicon: dict[str, str] | None = None) -> str:
    return speakable_text(text, lexicon)


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (0, "không"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (105, "một trăm lẻ năm"),
        (1245, "một nghìn hai trăm bốn mươi lăm"),
        (2023, "hai nghìn không trăm hai mươi ba"),
        (50000, "năm mươi nghìn"),
        (1_050_000, "một triệu không trăm năm mươi nghìn"),
        (2_500_000, "hai triệu năm trăm nghìn"),
        (1_000_005_000, "một tỷ không trăm lẻ năm nghìn"),
        (3_000_000_000_000, "ba nghìn tỷ"),
    ],
)
def test_read_number(n: int, spoken: str) -> None:
    assert read_number(n) == spoken


def test_vietnamese_separators_thousands_decimal_percent_money() -> None:
    assert say("ghi nhận 1.245 ca") == "ghi nhận một nghìn hai trăm bốn mươi lăm ca."
    assert say("khoảng 20,8 độ Vĩ Bắc") == "khoảng hai mươi phẩy tám độ Vĩ Bắc."
    assert say("Lệ phí là 50.000 đồng") == "Lệ phí là năm mươi nghìn đồng."
    assert say("tăng 35% so với năm trước") == "tăng ba mươi lăm phần trăm so với năm trước."
    assert say("giá 1.234,5 triệu") == "giá một nghìn hai trăm ba mươi tư phẩy năm triệu."
    assert say("mức phạt 2.500.000đ") == "mức phạt hai triệu năm trăm nghìn đồng."


def test_leading_zero_numbers_are_read_digit_by_digit() -> None:
    assert say("xe buýt các tuyến 02, 27 và 29") == "xe buýt các tuyến không hai, hai mươi bảy và hai mươi chín."


# --- dates and times -----------------------------------------------------------------------------


def test_date_after_ngay_is_not_doubled() -> None:
    # a generic reader says "ngày ngày hai mươi mốt ..."
    assert say("ngày 21/3/2023") == "ngày hai mươi mốt tháng ba năm hai nghìn không trăm hai mươi ba."


def test_date_without_ngay_gets_one_and_april_is_thang_tu() -> None:
    assert say("Hạn chót 15/4/2024") == "Hạn chót ngày mười lăm tháng tư năm hai nghìn không trăm hai mươi tư."


def test_date_with_leading_zero_day() -> None:
    assert say("từ ngày 01/7/2024") == "từ ngày một tháng bảy năm hai nghìn không trăm hai mươi tư."


def test_day_month_without_year_and_times() -> None:
    assert say("Từ 22h00 ngày 15/11 đến 5h00 ngày 20/11/2024") == (
        "Từ hai mươi hai giờ ngày mười lăm tháng mười một đến năm giờ "
        "ngày hai mươi tháng mười một năm hai nghìn không trăm hai mươi tư."
    )


def test_times() -> None:
    assert say("Hồi 10 giờ sáng") == "Hồi mười giờ sáng."
    assert say("lúc 7h30") == "lúc bảy giờ ba mươi phút."
    assert say("họp lúc 14:05") == "họp lúc mười bốn giờ năm phút."


def test_month_year_and_ordinals() -> None:
    assert say("trong tháng 4/2024") == "trong tháng tư năm hai nghìn không trăm hai mươi tư."
    assert say("lần thứ 1, thứ 4") == "lần thứ nhất, thứ tư."
    assert say("quý II năm nay") == "quý hai năm nay."


# --- ranges --------------------------------------------------------------------------------------


def test_year_ranges_keep_den() -> None:
    assert say("giai đoạn 2022-2025") == (
        "giai đoạn hai nghìn không trăm hai mươi hai đến hai nghìn không trăm hai mươi lăm."
    )
    # a generic reader drops "đến" here
    assert say("giai đoạn 2019 - 2020") == (
        "giai đoạn hai nghìn không trăm mười chín đến hai nghìn không trăm hai mươi."
    )


def test_number_ranges_with_units() -> None:
    assert say("sốt cao từ 2 đến 7 ngày") == "sốt cao từ hai đến bảy ngày."
    assert say("gió mạnh (150-166 km/h), giật cấp 17") == (
        "gió mạnh, một trăm năm mươi đến một trăm sáu mươi sáu ki lô mét trên giờ, giật cấp mười bảy."
    )
    assert say("giảm 3-5%") == "giảm ba đến năm phần trăm."


def test_a_range_bound_with_several_commas_is_read_not_a_crash() -> None:
    # "1,2,3" is one range bound; it used to reach int("2,3") and escape as a bare ValueError (HTTP 500).
    assert say("Từ 1,2,3-4 người") == "Từ một phẩy hai ba đến bốn người."


# --- document references and chainage ------------------------------------------------------------


def test_document_reference_with_lexicon_parts() -> None:
    assert say("văn bản số 1460/UBND-KGVX") == (
        "văn bản số một nghìn bốn trăm sáu mươi trên Ủy ban nhân dân Khoa giáo Văn xã."
    )


def test_directive_code_is_not_mangled() -> None:
    assert say("Chỉ thị số 07/CT-TTg ngày 21/3/2023") == (
        "Chỉ thị số không bảy trên Chỉ thị Thủ tướng "
        "ngày hai mươi mốt tháng ba năm hai nghìn không trăm hai mươi ba."
    )


def test_document_with_year_part_and_unknown_code_is_spelled() -> None:
    assert say("Nghị định 15/2023/NĐ-CP") == (
        "Nghị định mười lăm trên hai nghìn không trăm hai mươi ba trên Nghị định Chính phủ."
    )
    assert say("số 12/XYZ") == "số mười hai trên ích i dài dét."


def test_road_chainage() -> None:
    assert say("đoạn từ Km0+000 đến Km1+500") == (
        "đoạn từ ki lô mét không cộng không đến ki lô mét một cộng năm trăm."
    )


# --- units, phones -------------------------------------------------------------------------------


def test_units() -> None:
    assert say("nhiệt độ 35°C") == "nhiệt độ ba mươi lăm độ xê."
    assert say("xe trên 10 tấn") == "xe trên mười tấn."
    assert say("mưa 120 mm, diện tích 5 ha") == "mưa một trăm hai mươi mi li mét, diện tích năm héc ta."


def test_phone_numbers_digit_by_digit_in_groups() -> None:
    assert say("liên hệ số điện thoại 024.3825.1234") == (
        "liên hệ số điện thoại không hai bốn, ba tám hai năm, một hai ba bốn."
    )
    assert say("gọi 0912345678") == "gọi không chín một hai, ba bốn năm, sáu bảy tám."
    assert say("đường dây nóng 112") == "đường dây nóng một một hai."


# --- lexicon, acronyms ---------------------------------------------------------------------------


def test_default_lexicon_abbreviations() -> None:
    assert "UBND" in DEFAULT_LEXICON
    assert say("UBND phường, HĐND quận") == "Ủy ban nhân dân phường, Hội đồng nhân dân quận."
    # spelled letter by letter, espeak says "tê tê và tê tê"
    assert say("Sở TT&TT Hà Nội") == "Sở Thông tin và Truyền thông Hà Nội."
    assert say("Sở GTVT và TP. Hà Nội") == "Sở Giao thông vận tải và Thành phố Hà Nội."


def test_caller_lexicon_overrides_and_longest_match_wins() -> None:
    lexicon = {"UBND": "U Bê", "UBND TP": "Ủy ban Thành phố", "Loa": "Lo a"}
    assert say("UBND TP họp; UBND xã", lexicon) == "Ủy ban Thành phố họp; U Bê xã."
    # case-sensitive: "loa" is not "Loa"
    assert say("Loa và loa", lexicon) == "Lo a và loa."


def test_unknown_acronym_is_spelled_but_uppercase_vietnamese_words_are_kept() -> None:
    assert say("THÔNG BÁO KHẨN của HQX") == "THÔNG BÁO KHẨN của hát quy ích."


# --- punctuation, capitalization, determinism ----------------------------------------------------


def test_capitalization_and_prosody_punctuation_kept() -> None:
    text = "Thông báo\nNgười dân cần: đậy kín dụng cụ chứa nước; ngủ màn (kể cả ban ngày)…"
    assert say(text) == "Thông báo.\nNgười dân cần: đậy kín dụng cụ chứa nước; ngủ màn, kể cả ban ngày."


def test_quotes_are_not_read_but_addresses_are() -> None:
    assert say('Nguồn: https://congluan.vn/a-b.html "Công Luận"') == (
        "Nguồn: xê o en giê e lờ u a en chấm vê en gạch chéo a gạch ngang bê chấm hát tê em e lờ Công Luận."
    )


def test_deterministic() -> None:
    text = "UBND phường thông báo: ngày 21/3/2023, 1.245 ca, 35%, gọi 024.3825.1234."
    assert speakable_text(text) == speakable_text(text) == speakable_text(text, {})


def test_whole_sample_bulletin() -> None:
    body = (
        "THÔNG BÁO KHẨN. Hồi 10 giờ ngày 6/9/2024, vị trí tâm bão số 3 ở vào khoảng 20,8 độ Vĩ Bắc; "
        "108,2 độ Kinh Đông."
    )
    assert say(body) == (
        "THÔNG BÁO KHẨN. Hồi mười giờ ngày sáu tháng chín năm hai nghìn không trăm hai mươi tư, "
        "vị trí tâm bão số ba ở vào khoảng hai mươi phẩy tám độ Vĩ Bắc; "
        "một trăm lẻ tám phẩy hai độ Kinh Đông."
    )


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text(text: str) -> None:
    with pytest.raises(EmptyTextError) as err:
        speakable_text(text)
    assert err.value.code == "empty_text"
    assert "trống" in str(err.value)


@pytest.mark.parametrize("text", ["!!! ... ???", "*** --- ///", "🙂🙂"])
def test_no_speakable_letters(text: str) -> None:
    with pytest.raises(NoSpeakableTextError):
        speakable_text(text)


def test_too_long() -> None:
    with pytest.raises(TextTooLongError) as err:
        speakable_text("a" * 101, max_chars=100)
    assert err.value.maximum == 100 and err.value.length == 101


# --- sentences -----------------------------------------------------------------------------------


def test_split_sentences_on_punctuation_and_lines() -> None:
    text = "Câu một. Câu hai!\nTiêu đề.\nMục: nội dung; tiếp theo?"
    assert split_sentences(text) == ["Câu một.", "Câu hai!", "Tiêu đề.", "Mục:", "nội dung;", "tiếp theo?"]


def test_split_long_sentence_at_commas_then_words() -> None:
    sentence = ", ".join(["các hộ gia đình chằng chống nhà cửa"] * 10) + "."
    pieces = split_sentences(sentence, max_chars=80)
    assert all(len(p) <= 80 for p in pieces)
    assert " ".join(pieces) == sentence
    words = " ".join(["từ"] * 100) + "."
    pieces = split_sentences(words, max_chars=40)
    assert all(len(p) <= 40 for p in pieces) and " ".join(pieces) == words


# --- readings that changed the meaning of notices ------------------------------------------------


def test_amount_per_person_keeps_the_per() -> None:
    assert say("Lệ phí 50.000đ/người") == "Lệ phí năm mươi nghìn đồng một người."
    assert say("thu 20.000 đồng/hộ/tháng") == "thu hai mươi nghìn đồng một hộ một tháng."
    assert say("hỗ trợ 2 triệu/tháng") == "hỗ trợ hai triệu một tháng."
    assert say("giá 25.000 đồng/lít") == "giá hai mươi lăm nghìn đồng một lít."


def test_time_written_with_g() -> None:
    assert say("họp lúc 7g30 sáng") == "họp lúc bảy giờ ba mươi phút sáng."


def test_fraction_is_not_a_date_unless_the_context_says_so() -> None:
    assert say("1/2 số hộ đã nộp") == "một phần hai số hộ đã nộp."
    assert say("nghỉ lễ 30/4 và 1/5") == "nghỉ lễ ngày ba mươi tháng tư và ngày một tháng năm."
    assert say("từ ngày 1/2") == "từ ngày một tháng hai."


def test_web_and_email_addresses_are_read() -> None:
    assert say("Xem tại www.hanoi.gov.vn") == "Xem tại vê kép vê kép vê kép chấm hà nội chấm gờ o vê chấm vê en."
    assert say("gửi về tiep-dan@hanoi.gov.vn") == (
        "gửi về tê i e pê gạch ngang dê a en a còng hà nội chấm gờ o vê chấm vê en."
    )


def test_account_number_digit_by_digit_and_phone_label_kept() -> None:
    assert say("số tài khoản 1234567890") == "số tài khoản một hai ba bốn năm sáu bảy tám chín không."
    assert say("SĐT: 0912345678") == "số điện thoại: không chín một hai, ba bốn năm, sáu bảy tám."


def test_local_abbreviations_are_read_not_spelled() -> None:
    assert say("BQL chợ và TDP số 5, KP 3, ĐT 0243.825.1234") == (
        "Ban quản lý chợ và tổ dân phố số năm, khu phố ba, điện thoại không hai bốn ba, tám hai năm, một hai ba bốn."
    )


def test_an_editor_entry_never_breaks_a_unit() -> None:
    assert say("tốc độ 60 km/h", {"km": "ki lô mét"}) == "tốc độ sáu mươi ki lô mét trên giờ."
    assert say("tốc độ tối đa km/h", {"km": "ki lô mét"}) == "tốc độ tối đa ki lô mét trên giờ."


# --- one reading per text, spans and warnings ----------------------------------------------------


def test_one_token_is_read_one_way_everywhere_in_a_text() -> None:
    text = "KP 3 họp. Các KP3, KP-4 và (KP) cùng KP.\nHQX thông báo; HQX2 và HQX cùng họp."
    spoken = say(text)
    assert spoken.count("khu phố") == 5 and "ca pê" not in spoken
    assert spoken.count("hát quy ích") == 3
    assert "âm" not in spoken  # "KP-4" is a code, not minus four


def test_spans_give_source_offsets_spoken_form_and_rule() -> None:
    source = "Lệ phí 50.000đ/người, liên hệ SĐT 0912345678 hoặc UBND."
    reading = read_text(source, {"UBND": "Ủy ban"})
    by_source = {span.source: span for span in reading.spans}
    amount = by_source["50.000đ/người"]
    assert (amount.spoken, amount.rule) == ("năm mươi nghìn đồng một người", "amount")
    assert source[amount.start : amount.end] == "50.000đ/người"
    assert by_source["0912345678"].rule == "phone"
    assert (by_source["SĐT"].spoken, by_source["SĐT"].rule) == ("số điện thoại", "abbreviation")
    assert (by_source["UBND"].rule, by_source["UBND"].term) == ("lexicon", "UBND")
    assert reading.text == speakable_text(source, {"UBND": "Ủy ban"})
    assert reading.warnings == ()


def test_guesses_are_flagged_for_the_editor() -> None:
    reading = read_text("Đã có 2/3 hộ nộp; 1/2 đã xong; HQX sẽ báo lại HQX.")
    codes = [(w.code, w.source) for w in reading.warnings]
    assert codes == [("ambiguous_fraction", "1/2"), ("unknown_abbreviation", "HQX")]
    assert all(w.message and "“" in w.message for w in reading.warnings)


def test_a_document_code_part_nobody_listed_is_spelled_and_flagged() -> None:
    reading = read_text("Công văn 567/BHXH-TST.")
    assert reading.text == "Công văn năm trăm sáu mươi bảy trên bảo hiểm xã hội tê ét tê."
    assert [(w.code, w.source) for w in reading.warnings] == [("unknown_abbreviation", "567/BHXH-TST")]


def test_a_document_code_reads_the_same_wherever_it_stands() -> None:
    spoken = say("Quy định 144-QĐ/TW nêu rõ. Các chi bộ thực hiện 144-QĐ/TW.")
    assert spoken.count("một trăm bốn mươi tư Quy định trên Trung ương") == 2


def test_words_and_codes_read_one_way_across_the_whole_corpus() -> None:
    from tests.audio.test_reading_corpus import CASES

    reading = read_text("\n".join(text for _, text, _ in CASES))
    seen: dict[str, set[str]] = {}
    for span in reading.spans:
        if span.rule in {"abbreviation", "lexicon", "spelled", "code", "document_code", "address"}:
            seen.setdefault(span.source, set()).add(span.spoken)
    assert len(seen) > 100
    assert {source: readings for source, readings in seen.items() if len(readings) > 1} == {}
