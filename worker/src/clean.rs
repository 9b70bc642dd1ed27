//! Boilerplate removal: turns a raw article (plain text or HTML) into the
//! cleaned text that every evidence span points into.
//!
//! Steps: HTML to text (tags stripped, entities decoded, script/style/noscript
//! and comments dropped, block elements as line breaks) → [`normalize`] →
//! per line: site widgets, hotlines and subscription notices, photo credits,
//! image file names and bylines removed; an embedded source line ("Nguồn
//! VietnamNet: https://…") kept aside as the URL; a teaser block ("Bài liên
//! quan", "Tin mới", …) ends the article; a paragraph printed twice in a row
//! (photo captions) kept once. Lines are joined with `\n`. Idempotent.

use crate::normalize::{lowercase_keeping_offsets, normalize};

/// The cleaned article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanedArticle {
    /// Cleaned, normalised text (paragraphs separated by `\n`).
    pub text: String,
    /// A source URL embedded in the text ("Nguồn VietnamNet: https://…"), when any.
    pub source_url: Option<String>,
}

/// Headings after which a page carries only teasers of other articles.
const TRAILER_HEADINGS: [&str; 22] = [
    "bài liên quan",
    "bài viết liên quan",
    "tin tức liên quan",
    "cùng chuyên mục",
    "tin cùng chủ đề",
    "bài cùng chủ đề",
    "tin nổi bật",
    "tin đọc nhiều",
    "đọc nhiều",
    "xem nhiều",
    "tin tiêu điểm",
    "từ khóa",
    "tags",
    "tin liên quan",
    "tin mới",
    "tin mới nhất",
    "chủ đề nóng",
    "xem thêm",
    "đọc thêm",
    "tin cùng chuyên mục",
    "tin khác",
    "có thể bạn quan tâm",
];

/// Whole lines that are site widgets.
const WIDGET_LINES: [&str; 12] = [
    "click để copy",
    "• click để copy",
    "bình luận",
    "chia sẻ",
    "in bài",
    "lưu bài",
    "gửi bình luận",
    "facebook",
    "twitter",
    "zalo",
    "quay lại",
    "đầu trang",
];

/// Fragments that mark a hotline or subscription notice line.
const NOTICE_FRAGMENTS: [&str; 7] = [
    "đường dây nóng",
    "hotline",
    "đặt mua",
    "xin trân trọng cảm ơn",
    "chúng tôi xin thông báo",
    "liên hệ quảng cáo",
    "bản quyền thuộc về",
];

/// Cleans a raw article. `is_html` selects HTML parsing; plain text is cleaned as is.
pub fn clean_article(raw: &str, is_html: bool) -> CleanedArticle {
    clean_article_with_lower(raw, is_html).0
}

/// [`clean_article`] and the lower case of the cleaned text
/// ([`lowercase_keeping_offsets`]), computed on the way at no extra pass.
pub(crate) fn clean_article_with_lower(raw: &str, is_html: bool) -> (CleanedArticle, String) {
    let text = if is_html {
        std::borrow::Cow::Owned(html_to_text(raw))
    } else {
        std::borrow::Cow::Borrowed(raw)
    };
    let normalized = normalize(&text);
    // Lower-cased once for the whole text; a line's lower case is the same byte range.
    let normalized_lower = lowercase_keeping_offsets(&normalized);
    let mut source_url = None;
    // Kept lines with their lower case.
    let mut kept: Vec<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> = Vec::new();
    let mut line_start = 0;
    for raw_line in normalized.split('\n') {
        let raw_start = line_start;
        line_start += raw_line.len() + 1;
        let trimmed = raw_line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let trimmed_start = raw_start + (raw_line.len() - raw_line.trim_start().len());
        let trimmed_lower = normalized_lower
            .get(trimmed_start..trimmed_start + trimmed.len())
            .unwrap_or_default();
        // Photo credits go first, so that every rule below sees the line as a
        // second cleaning would ("Bài liên quan (Ảnh: X)" is a teaser heading).
        let (line, lower) = if has_photo_credit(trimmed) {
            let stripped = strip_photo_credit(trimmed);
            let stripped_lower = lowercase_keeping_offsets(&stripped);
            (
                std::borrow::Cow::Owned(stripped),
                std::borrow::Cow::Owned(stripped_lower),
            )
        } else {
            (
                std::borrow::Cow::Borrowed(trimmed),
                std::borrow::Cow::Borrowed(trimmed_lower),
            )
        };
        if line.is_empty() {
            continue;
        }
        let bare = lower.trim_end_matches([':', '.']).trim();
        let tag_line = ["từ khóa:", "tags:", "tag:"]
            .iter()
            .any(|prefix| lower.starts_with(prefix));
        if TRAILER_HEADINGS.contains(&bare) || tag_line {
            break;
        }
        if WIDGET_LINES.contains(&bare)
            || NOTICE_FRAGMENTS
                .iter()
                .any(|fragment| lower.contains(fragment))
        {
            continue;
        }
        if let Some(url) = source_line_url(&line, &lower) {
            source_url.get_or_insert(url);
            continue;
        }
        if is_byline(&line, &lower) || is_file_name(&line, &lower) {
            continue;
        }
        if kept
            .last()
            .is_some_and(|(previous, _)| same_paragraph(previous, &line))
        {
            continue;
        }
        kept.push((line, lower));
    }
    // A short line in capitals at the very end is a byline ("TRẦN QUYẾT").
    while kept
        .last()
        .is_some_and(|(last, _)| is_capitalised_signature(last))
    {
        kept.pop();
    }
    let mut cleaned = String::with_capacity(normalized.len());
    let mut cleaned_lower = String::with_capacity(normalized.len());
    for (index, (line, lower)) in kept.iter().enumerate() {
        if index > 0 {
            cleaned.push('\n');
            cleaned_lower.push('\n');
        }
        cleaned.push_str(line);
        cleaned_lower.push_str(lower);
    }
    (
        CleanedArticle {
            text: cleaned,
            source_url,
        },
        cleaned_lower,
    )
}

/// True when [`strip_photo_credit`] has something to remove: every credit it
/// knows is written "Ảnh" with a capital or "(ảnh:" or "(Nguồn:" ("ảnh hưởng",
/// "hình ảnh" are not credits and need no work).
fn has_photo_credit(line: &str) -> bool {
    line.contains("Ảnh") || line.contains("(ảnh:") || line.contains("(Nguồn:")
}

fn same_paragraph(left: &str, right: &str) -> bool {
    left.trim_end_matches(['.', ' ']) == right.trim_end_matches(['.', ' '])
}

/// "Nguồn VietnamNet: https://…", "Nguồn: https://…", "Theo https://…".
fn source_line_url(line: &str, lower: &str) -> Option<String> {
    if !(lower.starts_with("nguồn") || lower.starts_with("theo ")) {
        return None;
    }
    let start = line.find("http://").or_else(|| line.find("https://"))?;
    let url: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    Some(url.trim_end_matches(['.', ',', ')']).to_string())
}

/// "Tin, ảnh: X", "Ảnh: X", "Theo X", "PV", "Nhóm PV", "Bài và ảnh: X".
fn is_byline(line: &str, lower: &str) -> bool {
    let prefixes = [
        "tin, ảnh:",
        "tin và ảnh:",
        "bài, ảnh:",
        "bài và ảnh:",
        "ảnh:",
        "video:",
        "tin:",
        "bài:",
    ];
    if prefixes.iter().any(|prefix| lower.starts_with(prefix)) && line.chars().count() < 80 {
        return true;
    }
    if lower.starts_with("theo ") && line.chars().count() < 60 && !line.contains(',') {
        return true;
    }
    matches!(lower, "pv" | "nhóm pv" | "ctv" | "pv/ttxvn")
}

fn is_file_name(line: &str, lower: &str) -> bool {
    !line.contains(' ')
        && [".jpg", ".jpeg", ".png", ".gif", ".webp"]
            .iter()
            .any(|extension| lower.ends_with(extension))
}

/// A final line of one to five words in capitals, without sentence punctuation.
fn is_capitalised_signature(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    !words.is_empty()
        && words.len() <= 5
        && line.chars().any(char::is_alphabetic)
        && line
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase)
        && !line.contains(['.', ',', ':'])
}

/// Removes "(Ảnh: …)" and trailing "Ảnh: … " credits from a caption, until
/// none is left (so that a second cleaning finds nothing more to remove).
fn strip_photo_credit(line: &str) -> String {
    let mut text = strip_photo_credit_once(line);
    // Each round that changes the line makes it shorter; the bound is a guard.
    for _ in 0..32 {
        let next = strip_photo_credit_once(&text);
        if next == text {
            break;
        }
        text = next;
    }
    text
}

fn strip_photo_credit_once(line: &str) -> String {
    let mut text = line.to_string();
    for opener in ["(Ảnh:", "(ảnh:", "(Ảnh :", "(Nguồn:", "(Ảnh minh họa"] {
        while let Some(start) = text.find(opener) {
            let end = text[start..]
                .find(')')
                .map_or(text.len(), |offset| start + offset + 1);
            text.replace_range(start..end, "");
        }
    }
    for marker in [". Ảnh: ", " Ảnh: ", ". Ảnh minh họa", " Ảnh minh họa"] {
        if let Some(start) = text.rfind(marker) {
            let credit = &text[start + marker.len()..];
            if credit.chars().count() < 60 {
                let keep_period = marker.starts_with('.');
                text.truncate(start);
                if keep_period {
                    text.push('.');
                }
            }
        }
    }
    normalize(text.trim())
}

/// HTML to plain text without recursion: a single pass over the input.
fn html_to_text(html: &str) -> String {
    let mut output = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skipping: Option<&'static str> = None;
    while let Some(open) = rest.find('<') {
        if skipping.is_none() {
            output.push_str(&decode_entities(&rest[..open]));
        }
        let after = &rest[open..];
        if after.starts_with("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(close) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[1..close].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let closing = tag.starts_with('/');
        match skipping {
            Some(skipped) => {
                if closing && name == skipped {
                    skipping = None;
                }
            }
            None => {
                if !closing
                    && matches!(name.as_str(), "script" | "style" | "noscript" | "template")
                    && !tag.ends_with('/')
                {
                    skipping = Some(match name.as_str() {
                        "script" => "script",
                        "style" => "style",
                        "noscript" => "noscript",
                        _ => "template",
                    });
                } else if matches!(
                    name.as_str(),
                    "p" | "div"
                        | "br"
                        | "li"
                        | "ul"
                        | "ol"
                        | "tr"
                        | "table"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                        | "section"
                        | "article"
                        | "header"
                        | "footer"
                        | "blockquote"
                        | "figcaption"
                        | "figure"
                        | "title"
                ) {
                    output.push('\n');
                } else if matches!(name.as_str(), "td" | "th") {
                    output.push(' ');
                }
            }
        }
        rest = &after[close + 1..];
    }
    if skipping.is_none() {
        output.push_str(&decode_entities(rest));
    }
    output
}

/// Decodes the named entities of news pages and every numeric one.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        output.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after
            .char_indices()
            .take(12)
            .find(|(_, character)| *character == ';')
            .map(|(index, _)| index);
        let decoded = end.and_then(|end| {
            let entity = &after[1..end];
            let character = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "laquo" => Some('«'),
                "raquo" => Some('»'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                "bull" => Some('•'),
                _ if latin_letter_entity(entity).is_some() => latin_letter_entity(entity),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| {
                        entity
                            .strip_prefix('#')
                            .and_then(|digits| digits.parse().ok())
                    })
                    .and_then(char::from_u32),
            };
            character.map(|c| (c, end + 1))
        });
        match decoded {
            Some((character, length)) => {
                output.push(character);
                rest = &after[length..];
            }
            None => {
                output.push('&');
                rest = &after[1..];
            }
        }
    }
    output.push_str(rest);
    output
}

/// The named entities of the Latin-1 letters used in Vietnamese
/// ("&agrave;", "&Ecirc;", "&oacute;", …): the vowel with its accent.
fn latin_letter_entity(entity: &str) -> Option<char> {
    let (letter, accent) = entity.split_at_checked(1)?;
    let letter = letter.chars().next()?;
    let composed = match (letter.to_ascii_lowercase(), accent) {
        ('a', "grave") => 'à',
        ('a', "acute") => 'á',
        ('a', "circ") => 'â',
        ('a', "tilde") => 'ã',
        ('e', "grave") => 'è',
        ('e', "acute") => 'é',
        ('e', "circ") => 'ê',
        ('i', "grave") => 'ì',
        ('i', "acute") => 'í',
        ('o', "grave") => 'ò',
        ('o', "acute") => 'ó',
        ('o', "circ") => 'ô',
        ('o', "tilde") => 'õ',
        ('u', "grave") => 'ù',
        ('u', "acute") => 'ú',
        ('y', "acute") => 'ý',
        _ => return None,
    };
    if letter.is_ascii_uppercase() {
        composed.to_uppercase().next()
    } else {
        Some(composed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teasers_widgets_and_bylines_are_removed() {
        let raw = "• Click để copy\nĐối thoại quốc phòng.\nTin, ảnh: PHƯƠNG LINH\nBài liên quan\nTin mới\nMột tin khác";
        assert_eq!(clean_article(raw, false).text, "Đối thoại quốc phòng.");
    }

    #[test]
    fn notices_captions_and_signatures_are_removed() {
        let raw = "Đường dây nóng : ( 84 ) 24 393 82413\nXin trân trọng cảm ơn !\nHai bên hội đàm . ( Ảnh : Trọng Đức )\nHai bên hội đàm.\nTRẦN QUYẾT";
        assert_eq!(clean_article(raw, false).text, "Hai bên hội đàm.");
    }

    #[test]
    fn an_embedded_source_gives_the_url() {
        let cleaned = clean_article(
            "Nội dung.\nNguồn VietnamNet: https://vietnamnet.vn/a-1.html",
            false,
        );
        assert_eq!(cleaned.text, "Nội dung.");
        assert_eq!(
            cleaned.source_url.as_deref(),
            Some("https://vietnamnet.vn/a-1.html")
        );
    }

    #[test]
    fn html_is_reduced_to_paragraphs() {
        let html = "<html><head><style>p{}</style><script>var x='<p>';</script></head><body><p>Hội&nbsp;đàm &amp; tiếp</p><!-- c --><div>Hà Nội&#44; 5/10</div></body></html>";
        assert_eq!(
            clean_article(html, true).text,
            "Hội đàm & tiếp\nHà Nội, 5/10"
        );
    }

    #[test]
    fn named_entities_of_vietnamese_vowels_are_decoded() {
        let html = "<p>Ch&iacute;nh s&aacute;ch Qu&#7889;c ph&ograve;ng, &Ecirc;-&Aacute;</p>";
        assert_eq!(clean_article(html, true).text, "Chính sách Quốc phòng, Ê-Á");
    }

    #[test]
    fn deeply_nested_html_does_not_recurse() {
        let html = "<div>".repeat(100_000) + "Văn bản" + &"</div>".repeat(100_000);
        assert_eq!(clean_article(&html, true).text, "Văn bản");
    }

    #[test]
    fn a_teaser_heading_with_a_credit_ends_the_article_on_the_first_pass() {
        let raw = "Hai bên hội đàm.\nBài liên quan (Ảnh: X)\nTin khác về Biển Đông";
        let once = clean_article(raw, false).text;
        assert_eq!(once, "Hai bên hội đàm.");
        assert_eq!(clean_article(&once, false).text, once);
    }

    #[test]
    fn credits_are_stripped_until_none_is_left() {
        let once = clean_article("Hai bên hội đàm. Ảnh: A. Ảnh: B", false).text;
        assert_eq!(once, "Hai bên hội đàm.");
        assert_eq!(clean_article(&once, false).text, once);
    }

    #[test]
    fn a_widget_or_signature_with_a_credit_is_removed() {
        let raw = "Hai bên hội đàm.\nChia sẻ (Ảnh: X)\nTRẦN QUYẾT (Ảnh: Y)";
        assert_eq!(clean_article(raw, false).text, "Hai bên hội đàm.");
    }

    #[test]
    fn tag_lines_end_the_article() {
        let raw = "Hai bên hội đàm.\nTừ khóa: quốc phòng, Hàn Quốc\nTin khác";
        assert_eq!(clean_article(raw, false).text, "Hai bên hội đàm.");
    }

    #[test]
    fn cleaning_is_idempotent() {
        let raw = "Tại đối thoại , hai bên ( Ảnh : X )\nTại đối thoại, hai bên\nTin mới";
        let once = clean_article(raw, false).text;
        assert_eq!(clean_article(&once, false).text, once);
    }
}
