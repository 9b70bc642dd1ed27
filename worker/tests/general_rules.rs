//! The general rules of the extractor on sentences written for these tests:
//! other partners, kinds, editions, dates, ranks, outlets' boilerplate than
//! the dev corpus, positives and negatives. Each test is one rule.

use dialogwatch_worker::record::{DialogueEvent, DialogueKind, Role};
use dialogwatch_worker::{ArticleInput, Extraction, Extractor, PartialDate};
use std::sync::OnceLock;

fn extractor() -> &'static Extractor {
    static EXTRACTOR: OnceLock<Extractor> = OnceLock::new();
    EXTRACTOR.get_or_init(Extractor::new)
}

fn extract(text: &str) -> Extraction {
    extractor().extract(&ArticleInput {
        text,
        ..ArticleInput::default()
    })
}

fn extract_published(text: &str, published: &str) -> Extraction {
    extractor().extract(&ArticleInput {
        text,
        published_at: published.parse::<PartialDate>().ok(),
        ..ArticleInput::default()
    })
}

fn primary(text: &str) -> DialogueEvent {
    let extraction = extract(text);
    extraction
        .primary()
        .cloned()
        .unwrap_or_else(|| panic!("no event in {text:?}: {:?}", extraction.reason))
}

fn date_of(event: &DialogueEvent) -> Option<String> {
    event.date.map(|date| date.to_string())
}

fn names(event: &DialogueEvent) -> Vec<&str> {
    event
        .participants
        .iter()
        .map(|person| person.name.as_str())
        .collect()
}

fn person<'e>(event: &'e DialogueEvent, name: &str) -> &'e dialogwatch_worker::record::Participant {
    event
        .participants
        .iter()
        .find(|person| person.name == name)
        .unwrap_or_else(|| panic!("{name} not among {:?}", names(event)))
}

// ---------------------------------------------------------------------------
// Partners: every spelling, one code
// ---------------------------------------------------------------------------

fn partner_of(text: &str) -> String {
    primary(text).partner.code
}

#[test]
fn partner_united_states_as_hoa_ky_and_my() {
    assert_eq!(
        partner_of(
            "Đối thoại Chính sách Quốc phòng Việt Nam - Hoa Kỳ lần thứ 11 diễn ra tại Washington."
        ),
        "US"
    );
    assert_eq!(
        partner_of(
            "Thứ trưởng Hoàng Xuân Chiến hội đàm với Trợ lý Bộ trưởng Quốc phòng Mỹ Ely Ratner."
        ),
        "US"
    );
}

#[test]
fn partner_australia_as_uc_and_transliteration() {
    assert_eq!(
        partner_of("Đối thoại Chiến lược Quốc phòng Việt Nam - Ô-xtrây-li-a lần thứ 5 diễn ra tại Canberra."),
        "AU"
    );
    assert_eq!(
        partner_of("Chiều 12/3, Thượng tướng Hoàng Xuân Chiến hội đàm với Tư lệnh Lực lượng Quốc phòng Úc, Đô đốc David Johnston."),
        "AU"
    );
}

#[test]
fn partner_united_kingdom_in_its_long_form() {
    assert_eq!(
        partner_of("Đối thoại Chính sách Quốc phòng Việt Nam - Vương quốc Liên hiệp Anh và Bắc Ireland lần thứ 5."),
        "GB"
    );
}

#[test]
fn partner_russia_as_lien_bang_nga() {
    assert_eq!(
        partner_of("Đối thoại Chiến lược Quốc phòng Việt Nam - Liên bang Nga lần thứ 10 diễn ra tại Mát-xcơ-va."),
        "RU"
    );
}

#[test]
fn partner_china_japan_korea_india() {
    for (text, code) in [
        (
            "Đối thoại Chiến lược Quốc phòng Việt Nam - Trung Quốc lần thứ 8 diễn ra tại Bắc Kinh.",
            "CN",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 10 diễn ra tại Tokyo.",
            "JP",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Hàn Quốc lần thứ 9 diễn ra tại Seoul.",
            "KR",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 12 diễn ra tại New Delhi.",
            "IN",
        ),
    ] {
        assert_eq!(partner_of(text), code, "{text}");
    }
}

#[test]
fn partner_asean_neighbours() {
    for (text, code) in [
        ("Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Bộ Quốc phòng Lào.", "LA"),
        ("Đại tướng Phan Văn Giang hội đàm với Phó Thủ tướng, Bộ trưởng Quốc phòng Campuchia Tea Seiha.", "KH"),
        ("Đối thoại Chính sách Quốc phòng Việt Nam - Thái Lan lần thứ 7 diễn ra tại Bangkok.", "TH"),
        ("Đối thoại Chính sách Quốc phòng Việt Nam - In-đô-nê-xi-a lần thứ 3 diễn ra tại Jakarta.", "ID"),
        ("Đối thoại Chính sách Quốc phòng Việt Nam - Philippines lần thứ 5 diễn ra tại Manila.", "PH"),
        ("Đối thoại Chính sách Quốc phòng Việt Nam - Xin-ga-po lần thứ 15 diễn ra tại Hà Nội.", "SG"),
    ] {
        assert_eq!(partner_of(text), code, "{text}");
    }
}

#[test]
fn partner_israel_italy_belarus_cuba_new_zealand_france() {
    for (text, code) in [
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Ixraen lần thứ 3.",
            "IL",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - I-ta-li-a lần thứ 2.",
            "IT",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Italia lần thứ 2.",
            "IT",
        ),
        (
            "Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Bê-la-rút Khơ-ren-nin.",
            "BY",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Cu-ba lần thứ 4 tại La Habana.",
            "CU",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Niu Di-lân lần thứ 2 tại Wellington.",
            "NZ",
        ),
        (
            "Đối thoại Chính sách Quốc phòng Việt Nam - Pháp lần thứ 4 tại Paris.",
            "FR",
        ),
    ] {
        assert_eq!(partner_of(text), code, "{text}");
    }
}

#[test]
fn a_third_country_named_in_the_talks_is_not_the_partner() {
    let text = "Chiều 8/9, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Nhật Bản. Hai bên trao đổi về tình hình Biển Đông, bán đảo Triều Tiên và quan hệ với Trung Quốc, Hoa Kỳ, Nga.";
    assert_eq!(partner_of(text), "JP");
}

// ---------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------

fn kind_of(text: &str) -> DialogueKind {
    primary(text).kind
}

#[test]
fn kind_policy_dialogue_named() {
    assert_eq!(
        kind_of("Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 12 diễn ra tại Hà Nội."),
        DialogueKind::PolicyDialogue
    );
}

#[test]
fn kind_strategic_dialogue_named() {
    assert_eq!(
        kind_of(
            "Đối thoại Chiến lược Quốc phòng Việt Nam - Trung Quốc lần thứ 9 diễn ra tại Hà Nội."
        ),
        DialogueKind::StrategicDialogue
    );
}

#[test]
fn kind_defence_security_dialogue_with_an_en_dash() {
    assert_eq!(
        kind_of(
            "Đối thoại Quốc phòng – An ninh Việt Nam – Hoa Kỳ lần thứ 3 diễn ra tại Washington."
        ),
        DialogueKind::StrategicDialogue
    );
}

#[test]
fn kind_generic_defence_dialogue_is_a_policy_dialogue() {
    assert_eq!(
        kind_of("Sáng 6/11, tại Hà Nội đã diễn ra đối thoại quốc phòng Việt Nam - Ô-xtrây-li-a."),
        DialogueKind::PolicyDialogue
    );
}

#[test]
fn kind_defence_talks() {
    assert_eq!(
        kind_of("Chiều 14/5, Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Pháp Sébastien Lecornu."),
        DialogueKind::DefenceTalks
    );
}

#[test]
fn kind_courtesy_call_forms() {
    for text in [
        "Đại tướng Phan Văn Giang tiếp xã giao Đại sứ Nhật Bản tại Việt Nam Ito Naoki.",
        "Đại tướng Phan Văn Giang tiếp Đại sứ Ấn Độ tại Việt Nam Sandeep Arya đến chào.",
        "Đại tướng Phan Văn Giang tiếp Tư lệnh Bộ Tư lệnh Ấn Độ - Thái Bình Dương Hoa Kỳ, Đô đốc John Aquilino.",
        "Thủ tướng Phạm Minh Chính hội kiến Bộ trưởng Quốc phòng Hàn Quốc Shin Won-sik.",
    ] {
        assert_eq!(kind_of(text), DialogueKind::CourtesyCall, "{text}");
    }
}

#[test]
fn kind_consultation() {
    assert_eq!(
        kind_of("Tham vấn quốc phòng Việt Nam - Niu Di-lân lần thứ 4 diễn ra tại Wellington."),
        DialogueKind::Consultation
    );
}

#[test]
fn a_welcome_ceremony_before_the_talks_makes_the_talks_primary() {
    let text = "Sáng 20/6, tại Trụ sở Bộ Quốc phòng, Đại tướng Phan Văn Giang chủ trì lễ đón Bộ trưởng Quốc phòng Lào, Đại tướng Chan-xa-mon Chăn-nha-lạt. Sau lễ đón, hai Bộ trưởng đã hội đàm.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::DefenceTalks);
    assert_eq!(event.partner.code, "LA");
    assert_eq!(extract(text).events.len(), 1);
}

#[test]
fn the_dialogue_in_the_headline_is_primary_when_talks_come_first_in_the_body() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Hàn Quốc lần thứ 10\nTrước Đối thoại, Thượng tướng Hoàng Xuân Chiến hội đàm riêng với Thứ trưởng Quốc phòng Hàn Quốc.";
    assert_eq!(kind_of(text), DialogueKind::PolicyDialogue);
}

#[test]
fn a_courtesy_call_after_the_talks_is_a_second_event() {
    let text = "Sáng 10/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Trung tướng Kim Seon-ho, Thứ trưởng Quốc phòng Hàn Quốc.\nCùng ngày, Đại tướng Phan Văn Giang tiếp xã giao Trung tướng Kim Seon-ho.";
    let extraction = extract(text);
    let kinds: Vec<DialogueKind> = extraction.events.iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds,
        [DialogueKind::DefenceTalks, DialogueKind::CourtesyCall]
    );
    assert!(extraction
        .events
        .iter()
        .all(|event| event.partner.code == "KR"));
}

// ---------------------------------------------------------------------------
// Multilateral and non-defence news
// ---------------------------------------------------------------------------

#[test]
fn shangri_la_dialogue_alone_is_not_bilateral() {
    let extraction = extract(
        "Đại tướng Phan Văn Giang phát biểu tại Đối thoại Shangri-La lần thứ 20 ở Singapore.",
    );
    assert!(!extraction.is_dialogue);
}

#[test]
fn admm_plus_alone_is_not_bilateral() {
    let extraction = extract("Hội nghị Bộ trưởng Quốc phòng các nước ASEAN (ADMM) lần thứ 17 và ADMM+ lần thứ 10 diễn ra tại Jakarta.");
    assert!(!extraction.is_dialogue);
}

#[test]
fn a_bilateral_meeting_on_the_sidelines_of_admm_is_a_dialogue() {
    let text = "Nhân dịp tham dự ADMM+ tại Jakarta, chiều 16/11, Đại tướng Phan Văn Giang đã hội đàm với Bộ trưởng Quốc phòng Ấn Độ Rajnath Singh.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::DefenceTalks);
    assert_eq!(event.partner.code, "IN");
}

#[test]
fn an_asean_japan_meeting_is_not_a_bilateral_dialogue() {
    let extraction =
        extract("Hội nghị Thứ trưởng Quốc phòng ASEAN - Nhật Bản lần thứ 14 diễn ra tại Tokyo.");
    assert!(!extraction.is_dialogue);
}

#[test]
fn talks_between_two_ministries_of_health_name_no_defence_event() {
    let extraction =
        extract("Bộ trưởng Bộ Y tế tiếp đoàn công tác của Tổ chức Y tế Thế giới (WHO) tại Hà Nội.");
    assert!(!extraction.is_dialogue, "{:?}", extraction.events);
}

// ---------------------------------------------------------------------------
// Editions
// ---------------------------------------------------------------------------

fn edition_of(text: &str) -> Option<u32> {
    primary(text).edition
}

#[test]
fn edition_in_digits() {
    assert_eq!(
        edition_of(
            "Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 10 diễn ra tại Tokyo."
        ),
        Some(10)
    );
}

#[test]
fn edition_in_vietnamese_number_words() {
    for (words, number) in [
        ("nhất", 1),
        ("hai", 2),
        ("ba", 3),
        ("tư", 4),
        ("năm", 5),
        ("sáu", 6),
        ("bảy", 7),
        ("tám", 8),
        ("chín", 9),
        ("mười", 10),
        ("mười một", 11),
        ("mười hai", 12),
        ("mười bốn", 14),
        ("mười lăm", 15),
        ("hai mươi", 20),
        ("hai mươi mốt", 21),
    ] {
        let text = format!(
            "Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ {words} diễn ra tại Hà Nội."
        );
        assert_eq!(edition_of(&text), Some(number), "{words}");
    }
}

#[test]
fn edition_in_roman_numerals() {
    for (roman, number) in [("II", 2), ("IV", 4), ("IX", 9), ("XIV", 14)] {
        let text = format!(
            "Đối thoại Chiến lược Quốc phòng Việt Nam - Trung Quốc lần thứ {roman} tại Bắc Kinh."
        );
        assert_eq!(edition_of(&text), Some(number), "{roman}");
    }
}

#[test]
fn edition_of_a_working_group_is_not_taken() {
    let text = "Hội đàm Việt Nam - Ấn Độ. Hai bên đánh giá cao kết quả cuộc họp Nhóm công tác hỗn hợp lần thứ 12 về hợp tác quốc phòng.";
    assert_eq!(edition_of(text), None);
}

#[test]
fn edition_of_an_asean_forum_in_the_same_text_is_not_taken() {
    let text = "Chiều 7/6, Đối thoại Chính sách Quốc phòng Việt Nam - Xin-ga-po được tổ chức bên lề Diễn đàn ASEAN lần thứ 30.";
    assert_eq!(edition_of(text), None);
}

#[test]
fn edition_with_the_partner_between_name_and_number() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Ô-xtrây-li-a lần thứ 6 được tổ chức tại Hà Nội.";
    assert_eq!(edition_of(text), Some(6));
}

#[test]
fn a_previous_edition_is_cited_not_taken() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 10 diễn ra tại Tokyo. Kể từ Đối thoại lần thứ 9 tại Hà Nội (tháng 11/2023), hai bên đã triển khai nhiều hoạt động.";
    let event = primary(text);
    assert_eq!(event.edition, Some(10));
    let previous = event.previous.expect("the earlier edition");
    assert_eq!(previous.edition, Some(9));
}

#[test]
fn an_edition_stated_only_for_the_previous_meeting_is_previous() {
    let text = "Chiều 2/10, Đối thoại Chính sách Quốc phòng Việt Nam - Hàn Quốc diễn ra tại Seoul. Hai bên đánh giá kết quả thực hiện các nội dung đã thống nhất tại Đối thoại Chính sách Quốc phòng lần thứ 9.";
    let event = primary(text);
    assert_eq!(event.edition, None);
    assert_eq!(
        event.previous.and_then(|previous| previous.edition),
        Some(9)
    );
}

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

#[test]
fn date_afternoon_day_slash_month_with_the_year_of_publication() {
    let text =
        "Chiều 5/10, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Nhật Bản.";
    let event = extract_published(text, "2023-10-06")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2023-10-05"));
}

#[test]
fn date_morning_day_dash_month() {
    let text = "Sáng 12-3, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Ấn Độ.";
    let event = extract_published(text, "2024-03-12")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2024-03-12"));
}

#[test]
fn date_ngay_day_dash_month() {
    let text = "Ngày 29-3, tại Hà Nội, đã diễn ra Đối thoại Chính sách Quốc phòng Việt Nam - Anh lần thứ 4.";
    let event = extract_published(text, "2023-03-30")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2023-03-29"));
}

#[test]
fn date_with_a_dot_between_day_and_month() {
    let text =
        "Chiều 8.6, Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Úc Richard Marles.";
    let event = extract_published(text, "2024-06-09")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2024-06-08"));
}

#[test]
fn date_range_with_slashes_takes_the_first_day() {
    let text = "Từ ngày 27/4-30/4, Đối thoại Chính sách Quốc phòng Việt Nam - Philippines lần thứ 5 diễn ra tại Manila.";
    let event = extract_published(text, "2024-05-01")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2024-04-27"));
}

#[test]
fn date_range_with_dots_takes_the_first_day() {
    let text = "Từ ngày 29.9-2.10, Đối thoại Chiến lược Quốc phòng Việt Nam - Ô-xtrây-li-a lần thứ 4 diễn ra tại Canberra.";
    let event = extract_published(text, "2023-10-03")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2023-09-29"));
}

#[test]
fn date_full_with_year() {
    let text = "Sáng 18/6/2024, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến hội đàm với Thư ký Quốc phòng Ấn Độ.";
    assert_eq!(date_of(&primary(text)).as_deref(), Some("2024-06-18"));
}

#[test]
fn date_year_from_an_anniversary() {
    let text = "Chiều 22/9, Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản diễn ra tại Tokyo trong dịp hai nước kỷ niệm 50 năm thiết lập quan hệ ngoại giao (1973-2023).";
    assert_eq!(date_of(&primary(text)).as_deref(), Some("2023-09-22"));
}

#[test]
fn date_in_december_published_in_january_is_the_previous_year() {
    let text =
        "Chiều 28/12, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Campuchia.";
    let event = extract_published(text, "2025-01-02")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2024-12-28"));
}

#[test]
fn date_without_day_takes_the_year_of_publication() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 14 đã diễn ra thành công.";
    let event = extract_published(text, "2024-06-20")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2024"));
}

#[test]
fn date_unknown_without_any_year() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 14 đã diễn ra thành công.";
    assert_eq!(date_of(&primary(text)), None);
}

#[test]
fn the_date_of_a_referenced_visit_is_not_the_events() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Hàn Quốc lần thứ 10 diễn ra tại Hà Nội. Hai bên nhắc lại kết quả chuyến thăm chính thức của Bộ trưởng ngày 12/6/2022.";
    assert_eq!(date_of(&primary(text)), None);
}

// ---------------------------------------------------------------------------
// People: ranks, honorifics, positions, sides, roles
// ---------------------------------------------------------------------------

#[test]
fn ranks_before_vietnamese_names() {
    for rank in [
        "Đại tướng",
        "Thượng tướng",
        "Trung tướng",
        "Thiếu tướng",
        "Đại tá",
        "Thượng tá",
        "Trung tá",
        "Thiếu tá",
    ] {
        let text =
            format!("Chiều 4/4, {rank} Nguyễn Văn Hiền hội đàm với Thứ trưởng Quốc phòng Lào.");
        let event = primary(&text);
        let found = person(&event, "Nguyễn Văn Hiền");
        assert_eq!(found.rank.as_deref(), Some(rank), "{rank}");
        assert_eq!(found.side, "VN");
    }
}

#[test]
fn naval_ranks_longest_first() {
    for rank in ["Đô đốc", "Phó Đô đốc", "Chuẩn Đô đốc"] {
        let text = format!("Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với {rank} Dinesh Kumar Tripathi, Tham mưu trưởng Hải quân Ấn Độ.");
        let event = primary(&text);
        let found = person(&event, "Dinesh Kumar Tripathi");
        assert_eq!(found.rank.as_deref(), Some(rank));
        assert_eq!(found.side, "IN");
    }
}

#[test]
fn a_rank_with_a_service_keeps_the_rank_only() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Trung tướng Không quân Thomas Haider, Phó Tư lệnh Bộ Chỉ huy Ấn Độ - Thái Bình Dương Hoa Kỳ.";
    let event = primary(text);
    let found = person(&event, "Thomas Haider");
    assert_eq!(found.rank.as_deref(), Some("Trung tướng"));
    assert_eq!(found.side, "US");
}

#[test]
fn english_ranks_are_read_as_the_vietnamese_ones() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Lieutenant General Angus Campbell, Tư lệnh Lực lượng Quốc phòng Ô-xtrây-li-a.";
    let event = primary(text);
    let found = person(&event, "Angus Campbell");
    assert_eq!(found.rank.as_deref(), Some("Trung tướng"));
    assert_eq!(found.side, "AU");
    let general = "Chiều 4/4, Đại tướng Phan Văn Giang hội đàm với General Charles Q. Brown, Chủ tịch Hội đồng Tham mưu trưởng Liên quân Hoa Kỳ.";
    let event = primary(general);
    assert!(
        event
            .participants
            .iter()
            .any(|person| person.name.contains("Brown")
                && person.rank.as_deref() == Some("Đại tướng")),
        "{:?}",
        event.participants
    );
}

#[test]
fn honorifics_ong_ba_ngai() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với bà Maria Rossi, Thứ trưởng Quốc phòng I-ta-li-a và Ngài Giorgio Bianchi, Đại sứ I-ta-li-a tại Việt Nam.";
    let event = primary(text);
    assert_eq!(person(&event, "Maria Rossi").side, "IT");
    assert_eq!(person(&event, "Giorgio Bianchi").side, "IT");
    assert_eq!(person(&event, "Maria Rossi").rank, None);
}

#[test]
fn honorific_baroness_and_doctor() {
    let text = "Chiều 29/3, Thượng tướng Hoàng Xuân Chiến và Nữ Nam tước Annabel Goldie, Quốc vụ khanh Quốc phòng Anh đồng chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - Anh lần thứ 4.\nTiến sĩ Peter Nguyen, Giám đốc Trung tâm nghiên cứu, tham dự.";
    let event = primary(text);
    assert!(
        names(&event).iter().any(|name| name.contains("Goldie")),
        "{:?}",
        names(&event)
    );
    assert_eq!(person(&event, "Annabel Goldie").side, "GB");
}

#[test]
fn the_first_place_of_the_lede_wins_over_a_place_of_a_past_meeting() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 10 diễn ra tại Tokyo. Kể từ Đối thoại lần thứ 9 tại Hà Nội, hợp tác phát triển.";
    let event = primary(text);
    assert_eq!(event.location.city.as_deref(), Some("Tokyo"));
    assert_eq!(event.location.country.as_deref(), Some("JP"));
}

#[test]
fn a_courtesy_call_by_a_vietnamese_host_is_in_vietnam() {
    let text = "Chiều 12/7, Đại tướng Phan Văn Giang tiếp xã giao Đại sứ Thái Lan tại Việt Nam Urawadee Sriphiromya.";
    let event = primary(text);
    assert_eq!(event.partner.code, "TH");
    assert_eq!(event.location.country.as_deref(), Some("VN"));
    assert_eq!(person(&event, "Urawadee Sriphiromya").side, "TH");
}

#[test]
fn a_middle_initial_stays_in_the_name() {
    let text = "Chiều 4/4, Đại tướng Phan Văn Giang hội đàm với ông Lloyd J. Austin, Bộ trưởng Quốc phòng Hoa Kỳ.";
    let event = primary(text);
    assert_eq!(person(&event, "Lloyd J. Austin").side, "US");
}

#[test]
fn the_year_stated_in_the_text_wins_over_publication() {
    let text = "Năm 2024 đánh dấu 30 năm quan hệ. Chiều 3/2, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Lào.";
    let event = extract_published(text, "2025-02-04")
        .primary()
        .cloned()
        .expect("event");
    assert_eq!(date_of(&event).as_deref(), Some("2024-02-03"));
}

#[test]
fn the_position_follows_the_name_without_party_titles() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến, Ủy viên Trung ương Đảng, Ủy viên Quân ủy Trung ương, Thứ trưởng Bộ Quốc phòng hội đàm với Thứ trưởng Quốc phòng Nhật Bản Serizawa Kiyoshi.";
    let event = primary(text);
    let chien = person(&event, "Hoàng Xuân Chiến");
    assert_eq!(chien.position.as_deref(), Some("Thứ trưởng Bộ Quốc phòng"));
    assert_eq!(chien.rank.as_deref(), Some("Thượng tướng"));
}

#[test]
fn the_position_before_the_name_of_a_foreign_guest() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Nhật Bản Serizawa Kiyoshi.";
    let event = primary(text);
    let guest = person(&event, "Serizawa Kiyoshi");
    assert_eq!(guest.side, "JP");
    assert_eq!(
        guest.position.as_deref(),
        Some("Thứ trưởng Quốc phòng Nhật Bản")
    );
}

#[test]
fn co_chairs_are_the_heads_and_others_participants() {
    let text = "Sáng 5/10, Thượng tướng Hoàng Xuân Chiến và ông Chan Heng Kee, Thư ký Thường trực Bộ Quốc phòng Singapore đồng chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 14.\nTham dự có Thiếu tướng Nguyễn Văn Kiên, Cục trưởng Cục Đối ngoại.";
    let event = primary(text);
    assert_eq!(person(&event, "Hoàng Xuân Chiến").role, Role::CoChair);
    assert_eq!(person(&event, "Chan Heng Kee").role, Role::CoChair);
    assert_eq!(person(&event, "Chan Heng Kee").side, "SG");
    let kien = person(&event, "Nguyễn Văn Kiên");
    assert_eq!((kien.role, kien.side.as_str()), (Role::Participant, "VN"));
}

#[test]
fn people_of_a_past_visit_are_not_participants() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Trung tướng Kim Seon-ho, Thứ trưởng Quốc phòng Hàn Quốc. Hai bên nhắc lại chuyến thăm chính thức Hàn Quốc của Đại tướng Phan Văn Giang năm 2022.";
    let event = primary(text);
    assert_eq!(names(&event), ["Hoàng Xuân Chiến", "Kim Seon-ho"]);
}

#[test]
fn a_photographer_and_a_byline_are_not_participants() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Trung tướng Kim Seon-ho, Thứ trưởng Quốc phòng Hàn Quốc.\nHai bên chụp ảnh lưu niệm. Ảnh: Trọng Đức\nTin, ảnh: NGỌC ANH\nMINH CHÂU";
    let event = primary(text);
    assert_eq!(names(&event), ["Hoàng Xuân Chiến", "Kim Seon-ho"]);
}

#[test]
fn a_head_of_delegation_received_is_the_visitor() {
    let text = "Sáng 12/5, tại Trụ sở Bộ Quốc phòng, Đại tướng Phan Văn Giang tiếp đoàn đại biểu Bộ Quốc phòng Cu-ba do Trung tướng Jorge Castro, Thứ trưởng Bộ Các lực lượng vũ trang cách mạng Cu-ba dẫn đầu.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::CourtesyCall);
    assert_eq!(event.partner.code, "CU");
    let visitor = person(&event, "Jorge Castro");
    assert_eq!((visitor.side.as_str(), visitor.role), ("CU", Role::CoChair));
}

#[test]
fn a_hyphenated_transliterated_name_is_one_person() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Thiếu tướng Pa-ven Mu-ra-vây-cô, Tổng Tham mưu trưởng Các lực lượng vũ trang Bê-la-rút.";
    let event = primary(text);
    assert_eq!(person(&event, "Pa-ven Mu-ra-vây-cô").side, "BY");
}

// ---------------------------------------------------------------------------
// Location, relationship, areas, topics, documents
// ---------------------------------------------------------------------------

#[test]
fn location_at_the_ministry_headquarters_is_hanoi() {
    let event = primary("Sáng 5/10, tại Trụ sở Bộ Quốc phòng, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Lào.");
    assert_eq!(event.location.country.as_deref(), Some("VN"));
    assert_eq!(event.location.city.as_deref(), Some("Hà Nội"));
}

#[test]
fn location_in_the_partners_capital() {
    let event = primary("Chiều 4/4, tại Thủ đô Tokyo, Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 10 đã diễn ra.");
    assert_eq!(event.location.country.as_deref(), Some("JP"));
    assert_eq!(event.location.city.as_deref(), Some("Tokyo"));
}

#[test]
fn an_online_dialogue_has_no_country_or_city() {
    let event = primary("Sáng 24/11, Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 11 được tổ chức theo hình thức trực tuyến.");
    assert_eq!(event.location.country, None);
    assert_eq!(event.location.city, None);
}

#[test]
fn relationship_levels() {
    let comprehensive =
        primary("Hội đàm quốc phòng Việt Nam - Hoa Kỳ. Hai nước là Đối tác Chiến lược toàn diện.");
    assert_eq!(
        comprehensive.relationship,
        Some(dialogwatch_worker::record::Relationship::ComprehensiveStrategicPartnership)
    );
    let partnership =
        primary("Hội đàm quốc phòng Việt Nam - Ô-xtrây-li-a. Hai nước là Đối tác toàn diện.");
    assert_eq!(
        partnership.relationship,
        Some(dialogwatch_worker::record::Relationship::ComprehensivePartnership)
    );
}

#[test]
fn areas_of_cooperation_by_their_phrases() {
    use dialogwatch_worker::record::Area;
    let event = primary("Đối thoại Chính sách Quốc phòng Việt Nam - Hàn Quốc lần thứ 10. Hai bên nhất trí tăng cường hợp tác trong các lĩnh vực đào tạo, công nghiệp quốc phòng, an ninh mạng, gìn giữ hòa bình Liên hợp quốc, tìm kiếm cứu nạn, quân y và khắc phục hậu quả chiến tranh.");
    for area in [
        Area::Training,
        Area::DefenceIndustry,
        Area::CyberSecurity,
        Area::Peacekeeping,
        Area::SearchAndRescue,
        Area::MilitaryMedicine,
        Area::WarLegacy,
    ] {
        assert!(
            event.areas.contains(&area),
            "{area:?} missing in {:?}",
            event.areas
        );
    }
}

#[test]
fn topics_of_policy_by_their_phrases() {
    use dialogwatch_worker::record::Topic;
    let event = primary("Đối thoại Chính sách Quốc phòng Việt Nam - Philippines lần thứ 5. Về vấn đề Biển Đông, hai bên nhất trí giải quyết tranh chấp bằng biện pháp hòa bình, trên cơ sở luật pháp quốc tế, nhất là Công ước Liên hợp quốc về Luật Biển năm 1982 (UNCLOS), sớm hoàn tất Bộ Quy tắc ứng xử (COC). Việt Nam kiên trì chính sách quốc phòng \"bốn không\".");
    for topic in [
        Topic::SouthChinaSea,
        Topic::PeacefulResolution,
        Topic::InternationalLaw,
        Topic::Unclos,
        Topic::DocCoc,
        Topic::FourNos,
    ] {
        assert!(
            event.topics.contains(&topic),
            "{topic:?} missing in {:?}",
            event.topics
        );
    }
}

#[test]
fn a_memorandum_signed_at_the_event_versus_one_referenced() {
    use dialogwatch_worker::record::DocumentType;
    let event = primary("Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 13. Sau đối thoại, hai bên đã ký Bản ghi nhớ về hợp tác gìn giữ hòa bình. Hai bên đánh giá cao việc triển khai Tuyên bố tầm nhìn chung đã ký năm 2022.");
    let signed: Vec<DocumentType> = event
        .documents
        .iter()
        .filter(|document| document.signed_at_event)
        .map(|document| document.document_type)
        .collect();
    assert_eq!(signed, [DocumentType::Mou]);
}

// ---------------------------------------------------------------------------
// Boilerplate of Vietnamese news sites
// ---------------------------------------------------------------------------

const REPORT: &str = "Chiều 5/10/2023, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến hội đàm với Trung tướng Kim Seon-ho, Thứ trưởng Quốc phòng Hàn Quốc. Hai bên nhất trí hợp tác đào tạo.";

fn with_boilerplate(before: &str, after: &str) -> DialogueEvent {
    let text = format!("{before}\n{REPORT}\n{after}");
    primary(&text)
}

fn assert_unchanged_by_boilerplate(before: &str, after: &str) {
    let clean = primary(REPORT);
    let noisy = with_boilerplate(before, after);
    assert_eq!(noisy.partner, clean.partner);
    assert_eq!(noisy.kind, clean.kind);
    assert_eq!(noisy.date, clean.date);
    assert_eq!(names(&noisy), names(&clean), "{before:?} / {after:?}");
    assert_eq!(noisy.areas, clean.areas, "{before:?} / {after:?}");
    assert_eq!(noisy.topics, clean.topics, "{before:?} / {after:?}");
}

#[test]
fn boilerplate_qdnd() {
    assert_unchanged_by_boilerplate(
        "Báo Quân đội nhân dân\nTrang chủ",
        "Tin, ảnh: PHƯƠNG LINH\nBài liên quan\nĐại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Mỹ về hợp tác an ninh mạng\nTin mới",
    );
}

#[test]
fn boilerplate_vietnamplus_and_vnexpress() {
    assert_unchanged_by_boilerplate(
        "Click để copy",
        "(TTXVN/Vietnam+)\nTin liên quan\nViệt Nam - Nhật Bản hợp tác gìn giữ hòa bình",
    );
    assert_unchanged_by_boilerplate(
        "Chia sẻ\nFacebook\nZalo",
        "Xem thêm\nThủ tướng tiếp Đại sứ Pháp",
    );
}

#[test]
fn boilerplate_tuoi_tre_thanh_nien_bao_chinh_phu() {
    assert_unchanged_by_boilerplate(
        "Đường dây nóng: 0918.033.133",
        "Tin cùng chuyên mục\nQuân đội Úc diễn tập tìm kiếm cứu nạn",
    );
    assert_unchanged_by_boilerplate("", "Có thể bạn quan tâm\nBiển Đông và luật pháp quốc tế");
}

#[test]
fn boilerplate_vov_nhan_dan_dan_tri_tien_phong_vietnamnet_cand() {
    assert_unchanged_by_boilerplate(
        "Bản quyền thuộc về Báo Nhân Dân",
        "Nguồn VietnamNet: https://vietnamnet.vn/viet-nam-han-quoc-2198429.html\nĐọc thêm\nBộ Công an hợp tác phòng chống mua bán người",
    );
    assert_unchanged_by_boilerplate("", "Tin khác\nHải quân Ấn Độ thăm Cam Ranh");
}

#[test]
fn boilerplate_mod_portal_photo_captions_printed_twice() {
    let caption =
        "Thượng tướng Hoàng Xuân Chiến và Trung tướng Kim Seon-ho tại hội đàm. (Ảnh: Trọng Đức)";
    assert_unchanged_by_boilerplate(caption, &format!("{caption}\n{caption}"));
}

// ---------------------------------------------------------------------------
// Input forms: HTML, NFD, old tone marks
// ---------------------------------------------------------------------------

#[test]
fn html_input_gives_the_same_event_as_text() {
    let html = format!(
        "<html><head><title>x</title><script>var a='<p>hội đàm</p>';</script></head><body><div class=\"menu\">Trang chủ</div><article><p>{}</p></article><footer>Bài liên quan</footer></body></html>",
        REPORT.replace('á', "&aacute;")
    );
    let from_html = extractor().extract(&ArticleInput {
        text: &html,
        is_html: true,
        ..ArticleInput::default()
    });
    let event = from_html.primary().cloned().expect("event");
    let clean = primary(REPORT);
    assert_eq!(event.partner, clean.partner);
    assert_eq!(names(&event), names(&clean));
}

#[test]
fn nfd_input_gives_the_same_record() {
    use unicode_normalization::UnicodeNormalization;
    let decomposed: String = REPORT.nfd().collect();
    assert_eq!(extract(&decomposed), extract(REPORT));
}

#[test]
fn old_tone_placement_gives_the_same_areas() {
    let new_style = "Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 10. Hai bên hợp tác gìn giữ hòa bình, thủy đạc.";
    let old_style = new_style.replace("hòa", "hoà").replace("thủy", "thuỷ");
    assert_eq!(primary(&old_style).areas, primary(new_style).areas);
}

// ---------------------------------------------------------------------------
// Harder layouts
// ---------------------------------------------------------------------------

#[test]
fn a_headline_in_capitals_names_the_event() {
    let text = "VIỆT NAM - ẤN ĐỘ ĐỐI THOẠI CHÍNH SÁCH QUỐC PHÒNG LẦN THỨ 12\nSáng 18/6/2024, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến và ông Giridhar Aramane, Thư ký Quốc phòng Ấn Độ đồng chủ trì đối thoại.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::PolicyDialogue);
    assert_eq!(event.partner.code, "IN");
    assert_eq!(event.edition, Some(12));
}

#[test]
fn the_partner_after_giua_viet_nam_va() {
    let text =
        "Đối thoại Chính sách Quốc phòng lần thứ 3 giữa Việt Nam và Ixraen diễn ra tại Hà Nội.";
    let event = primary(text);
    assert_eq!(event.partner.code, "IL");
    assert_eq!(event.edition, Some(3));
}

#[test]
fn date_written_with_month_words() {
    let text = "Ngày 15 tháng 10 năm 2024, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Cu-ba.";
    assert_eq!(date_of(&primary(text)).as_deref(), Some("2024-10-15"));
}

#[test]
fn party_titles_of_the_minister_stay_out_of_the_position() {
    let text = "Chiều 4/4, Đại tướng Phan Văn Giang, Ủy viên Bộ Chính trị, Phó Bí thư Quân ủy Trung ương, Bộ trưởng Bộ Quốc phòng hội đàm với Bộ trưởng Quốc phòng Nhật Bản Kihara Minoru.";
    let event = primary(text);
    let giang = person(&event, "Phan Văn Giang");
    assert_eq!(giang.position.as_deref(), Some("Bộ trưởng Bộ Quốc phòng"));
    assert_eq!(person(&event, "Kihara Minoru").side, "JP");
}

#[test]
fn a_vietnamese_ambassador_abroad_is_on_the_vietnamese_side() {
    let text = "Chiều 4/4, tại Tokyo, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Nhật Bản Masuda Kazuo. Tham dự có Đại sứ Việt Nam tại Nhật Bản Phạm Quang Hiệu.";
    let event = primary(text);
    assert_eq!(person(&event, "Phạm Quang Hiệu").side, "VN");
    assert_eq!(person(&event, "Phạm Quang Hiệu").role, Role::Participant);
}

#[test]
fn a_political_defence_consultation() {
    let text =
        "Tham vấn Chính trị - Quốc phòng Việt Nam - Ô-xtrây-li-a lần thứ 2 diễn ra tại Canberra.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::Consultation);
    assert_eq!(event.partner.code, "AU");
    assert_eq!(event.edition, Some(2));
}

#[test]
fn a_strategic_defence_security_dialogue_with_an_en_dash() {
    let text =
        "Đối thoại Chiến lược Quốc phòng – An ninh Việt Nam – Anh lần thứ 3 diễn ra tại Luân Đôn.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::StrategicDialogue);
    assert_eq!(event.partner.code, "GB");
    assert_eq!(event.edition, Some(3));
}

#[test]
fn talks_between_heads_of_government_are_not_defence_events() {
    let extraction = extract("Thủ tướng Phạm Minh Chính hội đàm với Thủ tướng Nhật Bản Ishiba Shigeru về hợp tác kinh tế, thương mại và đầu tư.");
    assert!(!extraction.is_dialogue, "{:?}", extraction.events);
}

#[test]
fn a_policy_dialogue_with_businesses_is_not_a_defence_dialogue() {
    let extraction = extract(
        "Bộ Tài chính tổ chức đối thoại chính sách thuế với doanh nghiệp Hàn Quốc tại Hà Nội.",
    );
    assert!(!extraction.is_dialogue, "{:?}", extraction.events);
}

#[test]
fn boilerplate_tags_and_most_read_do_not_leak() {
    assert_unchanged_by_boilerplate(
        "Trang chủ\nThời sự",
        "Từ khóa: hợp tác quốc phòng, Hàn Quốc\nĐọc nhiều\nHải quân Mỹ tập trận an ninh hàng hải",
    );
    assert_unchanged_by_boilerplate(
        "",
        "Tin nổi bật\nĐại tướng tiếp xã giao Đại sứ Pháp về gìn giữ hòa bình",
    );
}

#[test]
fn source_credits_of_wire_services_are_not_people() {
    let text = format!("{REPORT}\nTheo TTXVN\nPV/TTXVN");
    let event = primary(&text);
    assert_eq!(names(&event), ["Hoàng Xuân Chiến", "Kim Seon-ho"]);
}

#[test]
fn an_article_with_only_a_visit_reported_is_not_a_talk() {
    let extraction =
        extract("Tàu Hải quân Ấn Độ cập cảng Cam Ranh, bắt đầu chuyến thăm hữu nghị Việt Nam.");
    assert!(!extraction.is_dialogue, "{:?}", extraction.events);
}

#[test]
fn the_courtesy_call_on_the_delegation_head_gets_the_delegations_country() {
    let text = "Chiều 21/8, tại Hà Nội, Thượng tướng Nguyễn Tân Cương, Tổng Tham mưu trưởng tiếp đoàn đại biểu Lực lượng Phòng vệ Nhật Bản do Đại tướng Yoshida Yoshihide dẫn đầu.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::CourtesyCall);
    assert_eq!(event.partner.code, "JP");
    assert_eq!(person(&event, "Yoshida Yoshihide").side, "JP");
    assert_eq!(person(&event, "Nguyễn Tân Cương").side, "VN");
}

// ---------------------------------------------------------------------------
// More partners, places, areas, topics, documents
// ---------------------------------------------------------------------------

#[test]
fn talks_on_the_sidelines_of_shangri_la_are_bilateral() {
    let text = "Bên lề Đối thoại Shangri-La lần thứ 21 tại Singapore, chiều 1/6, Đại tướng Phan Văn Giang đã hội đàm với Bộ trưởng Quốc phòng Hoa Kỳ Lloyd Austin.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::DefenceTalks);
    assert_eq!(event.partner.code, "US");
    assert_eq!(event.edition, None);
}

#[test]
fn the_mausoleum_of_president_ho_chi_minh_is_no_participant() {
    let text = "Sáng 5/10, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Lào. Trước đó, đoàn đã vào Lăng viếng Chủ tịch Hồ Chí Minh.";
    let event = primary(text);
    assert!(
        !names(&event)
            .iter()
            .any(|name| name.contains("Hồ Chí Minh")),
        "{:?}",
        names(&event)
    );
    assert_eq!(event.location.city.as_deref(), Some("Hà Nội"));
}

#[test]
fn a_position_after_a_colonel() {
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Lào. Tham dự có Đại tá Nguyễn Văn Minh, Phó Cục trưởng Cục Đối ngoại.";
    let event = primary(text);
    let minh = person(&event, "Nguyễn Văn Minh");
    assert_eq!(minh.rank.as_deref(), Some("Đại tá"));
    assert_eq!(
        minh.position.as_deref(),
        Some("Phó Cục trưởng Cục Đối ngoại")
    );
}

#[test]
fn maritime_areas_coast_guard_and_border_defence() {
    use dialogwatch_worker::record::Area;
    let event = primary("Hội đàm quốc phòng Việt Nam - Philippines. Hai bên nhất trí tăng cường hợp tác an ninh biển, thực thi pháp luật trên biển, hợp tác giữa lực lượng cảnh sát biển và biên phòng, hỗ trợ nhân đạo, cứu trợ thảm họa.");
    for area in [
        Area::MaritimeSecurity,
        Area::CoastGuard,
        Area::BorderDefence,
        Area::Hadr,
    ] {
        assert!(
            event.areas.contains(&area),
            "{area:?} missing in {:?}",
            event.areas
        );
    }
}

#[test]
fn multilateralisation_of_foreign_policy_is_a_topic_not_an_area() {
    use dialogwatch_worker::record::{Area, Topic};
    let event = primary("Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 13. Việt Nam nhất quán thực hiện đường lối đối ngoại độc lập, tự chủ, đa phương hóa, đa dạng hóa quan hệ.");
    assert!(
        event.topics.contains(&Topic::IndependentForeignPolicy),
        "{:?}",
        event.topics
    );
    assert!(
        !event.areas.contains(&Area::MultilateralCooperation),
        "{:?}",
        event.areas
    );
}

#[test]
fn asean_centrality_and_the_un_charter() {
    use dialogwatch_worker::record::Topic;
    let event = primary("Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 10. Hai bên ủng hộ vai trò trung tâm của ASEAN và tôn trọng Hiến chương Liên hợp quốc.");
    assert!(
        event.topics.contains(&Topic::AseanCentrality),
        "{:?}",
        event.topics
    );
    assert!(
        event.topics.contains(&Topic::InternationalLaw),
        "{:?}",
        event.topics
    );
}

#[test]
fn minutes_and_a_letter_of_intent_signed_at_the_event() {
    use dialogwatch_worker::record::DocumentType;
    let event = primary("Đối thoại Chính sách Quốc phòng Việt Nam - Ixraen lần thứ 2. Kết thúc đối thoại, hai bên đã ký Biên bản Đối thoại và Thư ý định về hợp tác an ninh mạng.");
    let signed: Vec<DocumentType> = event
        .documents
        .iter()
        .filter(|document| document.signed_at_event)
        .map(|document| document.document_type)
        .collect();
    assert!(signed.contains(&DocumentType::Minutes), "{signed:?}");
}

#[test]
fn a_strategic_partnership_is_recognised() {
    let event = primary("Đối thoại Chính sách Quốc phòng Việt Nam - Anh lần thứ 4. Hai nước là Đối tác Chiến lược từ năm 2010.");
    assert_eq!(
        event.relationship,
        Some(dialogwatch_worker::record::Relationship::StrategicPartnership)
    );
}

#[test]
fn capitals_of_laos_and_cambodia_in_vietnamese_spelling() {
    let laos = primary("Chiều 2/3, tại Thủ đô Viêng Chăn, Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Lào.");
    assert_eq!(laos.location.country.as_deref(), Some("LA"));
    assert_eq!(laos.location.city.as_deref(), Some("Viêng Chăn"));
    let cambodia = primary("Chiều 2/3, tại Phnôm Pênh, Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Campuchia.");
    assert_eq!(cambodia.location.country.as_deref(), Some("KH"));
}

#[test]
fn a_headline_given_apart_from_the_body_names_the_event() {
    let extraction = extractor().extract(&ArticleInput {
        text: "Sáng 6/5, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến và Trung tướng Vông-xạ-vẳn, Thứ trưởng Bộ Quốc phòng Lào đồng chủ trì đối thoại.",
        title: Some("Đối thoại Chính sách Quốc phòng Việt Nam - Lào lần thứ 5"),
        ..ArticleInput::default()
    });
    let event = extraction.primary().cloned().expect("event");
    assert_eq!(event.kind, DialogueKind::PolicyDialogue);
    assert_eq!(event.edition, Some(5));
    assert_eq!(event.partner.code, "LA");
}

#[test]
fn html_entities_of_vietnamese_letters_are_decoded() {
    let html = "<p>&#272;&#7889;i tho&#7841;i Ch&iacute;nh s&aacute;ch Qu&#7889;c ph&ograve;ng Vi&#7879;t Nam - Nh&#7853;t B&#7843;n l&#7847;n th&#7913; 10</p>";
    let extraction = extractor().extract(&ArticleInput {
        text: html,
        is_html: true,
        ..ArticleInput::default()
    });
    let event = extraction.primary().cloned().expect("event");
    assert_eq!(event.partner.code, "JP");
    assert_eq!(event.edition, Some(10));
}

#[test]
fn nfd_transliterated_names_and_partner() {
    use unicode_normalization::UnicodeNormalization;
    let text = "Chiều 4/4, Thượng tướng Hoàng Xuân Chiến hội đàm với Thiếu tướng Pa-ven Mu-ra-vây-cô, Thứ trưởng Quốc phòng Bê-la-rút.";
    let decomposed: String = text.nfd().collect();
    let event = primary(&decomposed);
    assert_eq!(event.partner.code, "BY");
    assert!(
        names(&event).iter().any(|name| name.starts_with("Pa-ven")),
        "{:?}",
        names(&event)
    );
}

#[test]
fn a_friendly_reception_is_a_courtesy_call() {
    let text = "Chiều 9/9, tại Trụ sở Bộ Quốc phòng, Đại tướng Phan Văn Giang tiếp thân mật Đại sứ Cu-ba tại Việt Nam Orlando Hernández Guillén.";
    let event = primary(text);
    assert_eq!(event.kind, DialogueKind::CourtesyCall);
    assert_eq!(event.partner.code, "CU");
}

#[test]
fn continuing_and_receiving_are_not_receptions() {
    let extraction =
        extract("Bộ Quốc phòng tiếp tục tiếp nhận hồ sơ tuyển sinh và tiếp cận các nguồn vốn.");
    assert!(!extraction.is_dialogue, "{:?}", extraction.events);
}
