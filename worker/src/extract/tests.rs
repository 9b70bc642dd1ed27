//! The general rules on sentences written for these tests (other partners,
//! phrasings and outlets than the dev corpus), positives and negatives.

use super::*;
use crate::record::{DocumentType, Role};

fn extract(text: &str) -> Extraction {
    Extractor::new().extract(&ArticleInput {
        text,
        ..ArticleInput::default()
    })
}

fn extract_published(text: &str, published: &str) -> Extraction {
    Extractor::new().extract(&ArticleInput {
        text,
        published_at: published.parse().ok(),
        ..ArticleInput::default()
    })
}

fn primary(extraction: &Extraction) -> &DialogueEvent {
    extraction.primary().expect("a primary event")
}

#[test]
fn a_strategic_dialogue_with_russia_in_the_defence_security_form() {
    let text = "Sáng 18/4/2024, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến và Thứ trưởng Quốc phòng Nga Alexander Fomin đồng chủ trì Đối thoại Chiến lược Quốc phòng Việt Nam - Nga lần thứ 9.";
    let extraction = extract(text);
    let event = primary(&extraction);
    assert_eq!(event.kind, DialogueKind::StrategicDialogue);
    assert_eq!(event.partner.code, "RU");
    assert_eq!(event.edition, Some(9));
    assert_eq!(
        event.date.map(|date| date.to_string()).as_deref(),
        Some("2024-04-18")
    );
    assert_eq!(event.location.city.as_deref(), Some("Hà Nội"));
    let names: Vec<&str> = event
        .participants
        .iter()
        .map(|person| person.name.as_str())
        .collect();
    assert!(names.contains(&"Alexander Fomin"), "{names:?}");
    assert!(event
        .participants
        .iter()
        .all(|person| person.role == Role::CoChair));
}

#[test]
fn talks_abroad_with_a_transliterated_partner_and_capital() {
    let text = "Chiều 7/3/2023, tại Thủ đô Canberra, Đại tướng Phan Văn Giang, Bộ trưởng Bộ Quốc phòng Việt Nam hội đàm với ông Richard Marles, Phó Thủ tướng, Bộ trưởng Quốc phòng Ô-xtrây-li-a.\nHai bên nhất trí thúc đẩy hợp tác gìn giữ hòa bình, đào tạo, khắc phục hậu quả chiến tranh.";
    let extraction = extract(text);
    let event = primary(&extraction);
    assert_eq!(event.kind, DialogueKind::DefenceTalks);
    assert_eq!(event.partner.code, "AU");
    assert_eq!(event.location.country.as_deref(), Some("AU"));
    assert_eq!(event.location.city.as_deref(), Some("Canberra"));
    let marles = event
        .participants
        .iter()
        .find(|person| person.name == "Richard Marles")
        .expect("the visitor's host");
    assert_eq!(marles.side, "AU");
    let giang = event
        .participants
        .iter()
        .find(|person| person.name == "Phan Văn Giang")
        .expect("the minister");
    assert_eq!(giang.rank.as_deref(), Some("Đại tướng"));
    assert_eq!(giang.side, "VN");
    assert_eq!(
        event.areas,
        vec![Area::Peacekeeping, Area::Training, Area::WarLegacy]
    );
}

#[test]
fn a_minister_receiving_an_ambassador_is_a_courtesy_call() {
    let text = "Ngày 20/5/2024, tại Trụ sở Bộ Quốc phòng, Đại tướng Phan Văn Giang tiếp Đại sứ Hoa Kỳ tại Việt Nam Marc Knapper đến chào xã giao.";
    let extraction = extract(text);
    let event = primary(&extraction);
    assert_eq!(event.kind, DialogueKind::CourtesyCall);
    assert_eq!(event.partner.code, "US");
    assert_eq!(event.location.country.as_deref(), Some("VN"));
    let ambassador = event
        .participants
        .iter()
        .find(|person| person.name == "Marc Knapper")
        .expect("the ambassador");
    assert_eq!(
        (ambassador.side.as_str(), ambassador.role),
        ("US", Role::CoChair)
    );
}

#[test]
fn editions_in_words_and_roman_numerals() {
    let words =
        extract("Đối thoại Chính sách Quốc phòng Việt Nam - Pháp lần thứ năm diễn ra tại Paris.");
    assert_eq!(primary(&words).edition, Some(5));
    assert_eq!(primary(&words).partner.code, "FR");
    let roman = extract("Khai mạc Đối thoại Chính sách Quốc phòng Việt Nam - Hàn Quốc lần thứ XI.");
    assert_eq!(primary(&roman).edition, Some(11));
    assert_eq!(primary(&roman).partner.code, "KR");
}

#[test]
fn an_edition_of_another_mechanism_is_not_the_events() {
    let text = "Tại hội đàm với Bộ trưởng Quốc phòng Indonesia, hai bên đánh giá cao Hội nghị Nhóm Chuyên gia ADMM+ lần thứ 12 và Triển lãm Quốc phòng lần thứ hai.";
    let extraction = extract(text);
    let event = primary(&extraction);
    assert_eq!(event.kind, DialogueKind::DefenceTalks);
    assert_eq!(event.partner.code, "ID");
    assert_eq!(event.edition, None);
}

#[test]
fn a_multilateral_meeting_alone_is_not_a_bilateral_dialogue() {
    let text = "Hội nghị Bộ trưởng Quốc phòng các nước ASEAN mở rộng (ADMM+) lần thứ 10 khai mạc tại Jakarta với sự tham dự của Bộ trưởng Quốc phòng 18 nước.";
    let extraction = extract(text);
    assert!(!extraction.is_dialogue);
    assert!(extraction.reason.is_some());
}

#[test]
fn ordinary_news_is_not_a_dialogue() {
    let extraction =
        extract("Bão số 11 gây mưa lớn tại các tỉnh miền Trung; Bộ Y tế yêu cầu bảo đảm cấp cứu.");
    assert!(!extraction.is_dialogue);
    assert!(extraction.events.is_empty());
}

#[test]
fn the_year_comes_from_the_publication_date_with_the_previous_year_rule() {
    let text = "Chiều 28/12, Thượng tướng Hoàng Xuân Chiến hội đàm với Thứ trưởng Quốc phòng Lào Vông-xạ-vẳn Xay-nha-vông.";
    let january = extract_published(text, "2024-01-03");
    assert_eq!(
        primary(&january)
            .date
            .map(|date| date.to_string())
            .as_deref(),
        Some("2023-12-28")
    );
    assert_eq!(primary(&january).partner.code, "LA");
    let same_year = extract_published(text, "2024-12-30");
    assert_eq!(
        primary(&same_year)
            .date
            .map(|date| date.to_string())
            .as_deref(),
        Some("2024-12-28")
    );
}

#[test]
fn an_online_dialogue_has_no_place() {
    let text = "Sáng 10/11/2021, Đối thoại Chính sách Quốc phòng Việt Nam - Nhật Bản lần thứ 8 diễn ra theo hình thức trực tuyến.";
    let event = primary(&extract(text)).clone();
    assert_eq!(event.location.country, None);
    assert_eq!(event.location.city, None);
    assert_eq!(event.edition, Some(8));
}

#[test]
fn html_and_tokenised_text_give_the_same_event() {
    let html = "<html><body><h1>Đối thoại Chính sách Quốc phòng Việt Nam&nbsp;-&nbsp;Ấn Độ lần thứ 13</h1><p>Sáng 18/6/2024, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến và ông Giridhar Aramane, Thư ký Quốc phòng Ấn Độ đồng chủ trì đối thoại.</p><script>var a=1;</script></body></html>";
    let from_html = Extractor::new().extract(&ArticleInput {
        text: html,
        is_html: true,
        ..ArticleInput::default()
    });
    let tokenised = "Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 13\nSáng 18 / 6 / 2024 , tại Hà Nội , Thượng tướng Hoàng Xuân Chiến và ông Giridhar Aramane , Thư ký Quốc phòng Ấn Độ đồng chủ trì đối thoại .";
    let from_tokens = extract(tokenised);
    for extraction in [&from_html, &from_tokens] {
        let event = primary(extraction);
        assert_eq!(event.partner.code, "IN");
        assert_eq!(event.edition, Some(13));
        assert_eq!(
            event.date.map(|date| date.to_string()).as_deref(),
            Some("2024-06-18")
        );
        let guest = event
            .participants
            .iter()
            .find(|person| person.name == "Giridhar Aramane")
            .expect("guest");
        assert_eq!(guest.side, "IN");
    }
}

#[test]
fn the_partner_is_the_country_paired_with_vietnam_not_every_country_named() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Philippines lần thứ 4. Hai bên trao đổi về tình hình Biển Đông, trong đó có các hoạt động của Trung Quốc, và quan hệ với Hoa Kỳ, Nhật Bản.";
    assert_eq!(primary(&extract(text)).partner.code, "PH");
}

#[test]
fn people_of_a_past_visit_and_party_titles_stay_out() {
    let text = "Chiều 3/4/2024, Thượng tướng Hoàng Xuân Chiến, Ủy viên Trung ương Đảng, Thứ trưởng Bộ Quốc phòng hội đàm với Trung tướng Kim Seon-ho, Thứ trưởng Quốc phòng Hàn Quốc. Hai bên nhắc lại kết quả đã được thống nhất giữa Đại tướng Phan Văn Giang với Bộ trưởng Lee Jong-sup nhân chuyến thăm năm 2022.";
    let event = primary(&extract(text)).clone();
    let names: Vec<&str> = event
        .participants
        .iter()
        .map(|person| person.name.as_str())
        .collect();
    assert_eq!(names, ["Hoàng Xuân Chiến", "Kim Seon-ho"]);
    assert_eq!(
        event.participants[0].position.as_deref(),
        Some("Thứ trưởng Bộ Quốc phòng")
    );
    assert_eq!(event.participants[1].side, "KR");
}

#[test]
fn documents_signed_now_versus_referenced() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 15. Hai bên ký Bản ghi nhớ về hợp tác an ninh mạng. Hai bên đánh giá việc thực hiện Hiệp định hợp tác quốc phòng đã ký năm 2022.";
    let event = primary(&extract(text)).clone();
    let signed: Vec<DocumentType> = event
        .documents
        .iter()
        .filter(|document| document.signed_at_event)
        .map(|document| document.document_type)
        .collect();
    assert_eq!(signed, [DocumentType::Mou]);
    assert!(event
        .documents
        .iter()
        .any(|document| document.document_type == DocumentType::Agreement
            && !document.signed_at_event));
}

#[test]
fn a_consultation_is_its_own_kind() {
    let text =
        "Tham vấn Quốc phòng Việt Nam - Đức lần thứ 2 diễn ra tại Berlin, Cộng hòa Liên bang Đức.";
    let event = primary(&extract(text)).clone();
    assert_eq!(event.kind, DialogueKind::Consultation);
    assert_eq!(event.partner.code, "DE");
    assert_eq!(event.edition, Some(2));
}

#[test]
fn a_previous_edition_is_cited_with_its_date() {
    let text = "Đối thoại Chính sách Quốc phòng Việt Nam - Ấn Độ lần thứ 14 đã diễn ra. Kể từ Đối thoại Chính sách Quốc phòng lần thứ 13 (tháng 6/2023), hợp tác tiếp tục phát triển.";
    let event = primary(&extract(text)).clone();
    assert_eq!(event.edition, Some(14));
    let previous = event.previous.expect("a previous edition");
    assert_eq!(previous.edition, Some(13));
    assert_eq!(
        previous.date.map(|date| date.to_string()).as_deref(),
        Some("2023-06")
    );
}

#[test]
fn relationship_levels_take_the_highest_stated() {
    let text = "Hội đàm quốc phòng Việt Nam - Indonesia. Hai nước nâng cấp quan hệ từ Đối tác chiến lược lên Đối tác Chiến lược toàn diện.";
    assert_eq!(
        primary(&extract(text)).relationship,
        Some(Relationship::ComprehensiveStrategicPartnership)
    );
}
