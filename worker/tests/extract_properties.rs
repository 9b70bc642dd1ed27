//! Properties of cleaning and extraction on arbitrary input: no panic;
//! cleaning is idempotent; NFC and NFD input, and old and new tone-mark
//! placement, give the same record; evidence spans index the cleaned text.

use dialogwatch_worker::clean::clean_article;
use dialogwatch_worker::{ArticleInput, Extractor};
use proptest::prelude::*;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

fn extractor() -> &'static Extractor {
    static EXTRACTOR: OnceLock<Extractor> = OnceLock::new();
    EXTRACTOR.get_or_init(Extractor::new)
}

/// Pieces of real reports, glued in random order with random noise.
const PIECES: &[&str] = &[
    "Chiều 5/10, tại Trụ sở Bộ Quốc phòng (Hà Nội), ",
    "Thượng tướng Hoàng Xuân Chiến, Thứ trưởng Bộ Quốc phòng ",
    "và ông Chan Heng Kee, Thư ký Thường trực Bộ Quốc phòng Singapore ",
    "đồng chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 14. ",
    "Sau hội đàm, Đại tướng Phan Văn Giang tiếp xã giao Thiếu tướng Pa-ven Mu-ra-vây-cô. ",
    "Hai bên nhất trí hợp tác đào tạo, quân y, gìn giữ hoà bình, thuỷ đạc. ",
    "Về vấn đề Biển Đông, giải quyết bất đồng bằng biện pháp hòa bình, UNCLOS 1982. ",
    "Năm 2023 là năm kỷ niệm 50 năm (1973-2023). ",
    "ký Biên bản ghi nhớ về hợp tác. ",
    "\nBài liên quan\n",
    "<p>Hội&nbsp;đàm</p><script>x</script>",
    "Nguồn VietnamNet: https://vietnamnet.vn/a.html\n",
    " , ( Ảnh : Trọng Đức ) ",
];

fn article() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => proptest::sample::select(PIECES).prop_map(str::to_string),
            1 => any::<String>(),
            1 => "[\\p{L}\\p{M} ,.:;()\\-/0-9\n]{0,40}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

/// Whole lines that the cleaner's line rules act on (teaser headings, widgets,
/// credits, bylines, captions, tokenised punctuation), to be combined so that
/// one rule's output meets another rule in a second cleaning.
const LINES: &[&str] = &[
    "Bài liên quan",
    "Bài liên quan (Ảnh: X)",
    "Tin mới (Ảnh: Trọng Đức)",
    "Click để copy (Ảnh: X)",
    "• Click để copy",
    "Hai bên hội đàm. Ảnh: A. Ảnh: B",
    "Hai bên hội đàm. (Ảnh: A) Ảnh: B",
    "Hai bên hội đàm.",
    "Hai bên hội đàm",
    "Hai bên hội đàm. (Ảnh: TTXVN)",
    "TRẦN QUYẾT",
    "TRẦN QUYẾT (Ảnh: Y)",
    "Tin, ảnh: PHƯƠNG LINH",
    "Ảnh: TTXVN",
    "Theo VOV",
    "PV",
    "Từ khóa: quốc phòng",
    "Nguồn VietnamNet: https://vietnamnet.vn/a.html",
    "Đường dây nóng : ( 84 ) 24",
    "anh.jpg",
    "( Ảnh : Trọng Đức )",
    "tháng 11 / 2023 .",
    "1 / / 2 / 3",
    "“ bốn không ”",
    "a . . .",
    "Chia sẻ",
    "",
    "   ",
    "hoà bình , thuỷ đạc",
];

fn line_article() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::sample::select(LINES).prop_map(str::to_string),
            1 => "[\\p{L} ,.:;()\\-/0-9]{0,24}",
        ],
        0..10,
    )
    .prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn cleaning_whole_lines_is_idempotent(text in line_article()) {
        let once = clean_article(&text, false);
        let twice = clean_article(&once.text, false);
        prop_assert_eq!(&twice.text, &once.text);
        // The source URL is taken out on the first pass; nothing is left to take.
        prop_assert!(twice.source_url.is_none() || twice.source_url == once.source_url);
    }

    #[test]
    fn cleaning_html_paragraphs_is_idempotent(text in line_article()) {
        let html: String = text.split('\n').map(|line| format!("<p>{line}</p>")).collect();
        let once = clean_article(&html, true).text;
        prop_assert_eq!(clean_article(&once, false).text, once.clone());
        prop_assert_eq!(clean_article(&once, true).text, once);
    }

    #[test]
    fn normalising_is_idempotent(text in "[\\p{L}\\p{M} ,.:;!?()\\[\\]“”…%/\\-0-9\n\u{a0}\u{2009}\t]{0,60}") {
        let once = dialogwatch_worker::normalize::normalize(&text);
        prop_assert_eq!(dialogwatch_worker::normalize::normalize(&once), once);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn extraction_never_panics_and_evidence_indexes_the_text(text in article(), is_html in any::<bool>()) {
        let explanation = extractor().explain(&ArticleInput { text: &text, is_html, ..ArticleInput::default() });
        let characters: Vec<char> = explanation.cleaned.text.chars().collect();
        for event in &explanation.extraction.events {
            for evidence in &event.evidence {
                let span: Option<String> = characters.get(evidence.start..evidence.end).map(|chars| chars.iter().collect());
                prop_assert_eq!(span.as_deref(), Some(evidence.text.as_str()));
            }
        }
        prop_assert_eq!(explanation.extraction.is_dialogue, !explanation.extraction.events.is_empty());
    }

    #[test]
    fn cleaning_is_idempotent(text in article(), is_html in any::<bool>()) {
        let once = clean_article(&text, is_html).text;
        let twice = clean_article(&once, false).text;
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn nfc_and_nfd_give_the_same_record(text in article()) {
        let composed: String = text.nfc().collect();
        let decomposed: String = text.nfd().collect();
        let left = extractor().extract(&ArticleInput { text: &composed, ..ArticleInput::default() });
        let right = extractor().extract(&ArticleInput { text: &decomposed, ..ArticleInput::default() });
        prop_assert_eq!(left, right);
    }
}

#[test]
fn old_and_new_tone_placement_give_the_same_record() {
    let new_style = "Chiều 5/10, Thượng tướng Hoàng Xuân Chiến và ông Chan Heng Kee đồng chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 14. Hai bên hợp tác thủy đạc, gìn giữ hòa bình.";
    let old_style = new_style.replace("thủy", "thuỷ").replace("hòa", "hoà");
    let left = extractor().extract(&ArticleInput {
        text: new_style,
        ..ArticleInput::default()
    });
    let right = extractor().extract(&ArticleInput {
        text: &old_style,
        ..ArticleInput::default()
    });
    assert_eq!(left, right);
    assert!(left.is_dialogue);
}
