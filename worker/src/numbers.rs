//! Vietnamese ordinal/cardinal number words and Roman numerals.
//!
//! Three notations are read, each only as a whole token:
//!
//! * **Digits**: "14". A run of digits followed by a decimal or thousands
//!   separator and another digit ("1.5", "1,500") or glued to a letter ("5G",
//!   "14a") is not a number here.
//! * **Vietnamese number words**, case- and tone-placement-insensitive:
//!   "nhất" (ordinal 1), "một" … "chín", "tư" (4), "mười", "mười một" … "mười
//!   chín" (with "lăm"/"nhăm" for 15 and "tư" for 14), "hai mươi", "hai mươi
//!   mốt", "hai mươi tư", "hai mươi lăm", colloquial "hai mốt", "ba lăm", and
//!   hundreds ("một trăm", "một trăm linh năm", "một trăm hai mươi").
//! * **Roman numerals** in capitals only ("IV", "XIV"), canonical form, followed
//!   by a word boundary.
//!
//! ## "năm": five or year?
//!
//! "năm" is both "five" and "year". The rule: after digits, reading never
//! continues into words ("lần thứ 2 năm 2023" reads 2 and stops before "năm").
//! Inside a number-word phrase, "năm" after "mười" or "mươi" is the noun "year"
//! and is not consumed ("mười năm" = ten years → 10; "hai mươi năm" → 20); the
//! unit five in those positions is written "lăm"/"nhăm". "năm" at the start of
//! a phrase is five ("lần thứ năm" → 5, "năm mươi" → 50), and after "linh"/"lẻ"
//! it is five ("một trăm linh năm" → 105).

use crate::gazetteer::fold_key;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Reads an edition number written as digits, a Vietnamese number word
/// ("nhất", "hai", "tư", "mười một") or a Roman numeral ("IV"). The whole
/// (trimmed) string must be the number.
pub fn parse_edition_number(word: &str) -> Option<u32> {
    let trimmed = word.trim();
    let (value, consumed) = parse_number_prefix(trimmed)?;
    (consumed == trimmed.len()).then_some(value)
}

/// Reads a number at the very start of `text` (no leading spaces are skipped)
/// and returns it with the number of BYTES consumed (trailing spaces are not
/// consumed). Digits, Vietnamese number words and Roman numerals are read as
/// described in the module documentation.
pub fn parse_number_prefix(text: &str) -> Option<(u32, usize)> {
    let first = text.chars().next()?;
    if first.is_ascii_digit() {
        return parse_digits(text);
    }
    if matches!(first, 'I' | 'V' | 'X' | 'L' | 'C' | 'D' | 'M') {
        if let Some(found) = parse_roman_prefix(text) {
            return Some(found);
        }
    }
    parse_words(text)
}

/// Reads a whole Roman numeral in capitals ("XIV" → 14), canonical form only.
pub fn parse_roman_numeral(numeral: &str) -> Option<u32> {
    if numeral.is_empty() || !numeral.bytes().all(|byte| b"IVXLCDM".contains(&byte)) {
        return None;
    }
    if numeral.len() > 15 {
        return None;
    }
    let values: Vec<i64> = numeral
        .bytes()
        .map(|byte| i64::from(roman_digit(byte)))
        .collect();
    let mut total: i64 = 0;
    for (index, value) in values.iter().enumerate() {
        match values.get(index + 1) {
            Some(next) if next > value => total -= value,
            _ => total += value,
        }
    }
    // Only the canonical spelling is accepted ("IIII", "VX", "IC" are not numerals).
    let total = u32::try_from(total)
        .ok()
        .filter(|total| (1..=3999).contains(total))?;
    (to_roman(total) == numeral).then_some(total)
}

/// Digits at the start of `text`.
fn parse_digits(text: &str) -> Option<(u32, usize)> {
    let length = text.bytes().take_while(u8::is_ascii_digit).count();
    if length == 0 || length > 9 {
        return None;
    }
    let rest = text.get(length..)?;
    let mut following = rest.chars();
    match (following.next(), following.next()) {
        (Some('.' | ','), Some(digit)) if digit.is_ascii_digit() => return None,
        (Some(character), _) if is_word_char(character) => return None,
        _ => {}
    }
    let value: u32 = text.get(..length)?.parse().ok()?;
    Some((value, length))
}

/// A Roman numeral at the start of `text`, followed by a word boundary.
fn parse_roman_prefix(text: &str) -> Option<(u32, usize)> {
    let length = text
        .bytes()
        .take_while(|byte| b"IVXLCDM".contains(byte))
        .count();
    let rest = text.get(length..)?;
    if rest.chars().next().is_some_and(is_word_char) {
        return None;
    }
    let value = parse_roman_numeral(text.get(..length)?)?;
    Some((value, length))
}

fn roman_digit(byte: u8) -> u32 {
    match byte {
        b'I' => 1,
        b'V' => 5,
        b'X' => 10,
        b'L' => 50,
        b'C' => 100,
        b'D' => 500,
        b'M' => 1000,
        _ => 0,
    }
}

fn to_roman(mut value: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut numeral = String::new();
    for (amount, letters) in TABLE {
        while value >= amount {
            numeral.push_str(letters);
            value -= amount;
        }
    }
    numeral
}

/// The role of one number word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberWord {
    /// "một" … "chín" (and "năm" = 5 where it is a unit).
    Unit(u32),
    /// "tư": 4 alone ("thứ tư") and after "mười"/"mươi".
    Tu,
    /// "mốt": 1 after a tens word.
    Mot,
    /// "lăm", "nhăm": 5 after a tens word.
    Lam,
    /// "nhất": the ordinal first.
    Nhat,
    /// "mười": ten.
    Ten,
    /// "mươi": the tens multiplier.
    Tens,
    /// "trăm": hundred.
    Hundred,
    /// "linh", "lẻ": zero tens in 101–109.
    Linh,
}

fn number_words() -> &'static HashMap<String, NumberWord> {
    static WORDS: OnceLock<HashMap<String, NumberWord>> = OnceLock::new();
    WORDS.get_or_init(|| {
        [
            ("một", NumberWord::Unit(1)),
            ("hai", NumberWord::Unit(2)),
            ("ba", NumberWord::Unit(3)),
            ("bốn", NumberWord::Unit(4)),
            ("năm", NumberWord::Unit(5)),
            ("sáu", NumberWord::Unit(6)),
            ("bảy", NumberWord::Unit(7)),
            ("bẩy", NumberWord::Unit(7)),
            ("tám", NumberWord::Unit(8)),
            ("chín", NumberWord::Unit(9)),
            ("tư", NumberWord::Tu),
            ("mốt", NumberWord::Mot),
            ("lăm", NumberWord::Lam),
            ("nhăm", NumberWord::Lam),
            ("nhất", NumberWord::Nhat),
            ("mười", NumberWord::Ten),
            ("mươi", NumberWord::Tens),
            ("trăm", NumberWord::Hundred),
            ("linh", NumberWord::Linh),
            ("lẻ", NumberWord::Linh),
        ]
        .into_iter()
        .map(|(word, role)| (fold_key(word), role))
        .collect()
    })
}

/// Number words at the start of `text`.
fn parse_words(text: &str) -> Option<(u32, usize)> {
    let tokens = leading_words(text, 6);
    let (value, count) = parse_hundreds(&tokens)?;
    let end = tokens.get(count.checked_sub(1)?)?.1;
    Some((value, end))
}

/// Up to `limit` leading syllables of `text` (separated by spaces only), each
/// as (role, byte end); stops at the first syllable that is not a number word.
fn leading_words(text: &str, limit: usize) -> Vec<(NumberWord, usize)> {
    let words = number_words();
    let mut tokens = Vec::new();
    let mut position = 0;
    while tokens.len() < limit {
        let Some(rest) = text.get(position..) else {
            break;
        };
        let length: usize = rest
            .chars()
            .take_while(|&character| is_word_char(character))
            .map(char::len_utf8)
            .sum();
        if length == 0 {
            break;
        }
        let Some(role) = rest
            .get(..length)
            .and_then(|word| words.get(&fold_key(word)))
        else {
            break;
        };
        let end = position + length;
        tokens.push((*role, end));
        let Some(after) = text.get(end..) else {
            break;
        };
        let spaces: usize = after
            .chars()
            .take_while(|&character| matches!(character, ' ' | '\t' | '\u{a0}'))
            .map(char::len_utf8)
            .sum();
        if spaces == 0 {
            break;
        }
        position = end + spaces;
    }
    tokens
}

/// Hundreds, then tens: returns (value, tokens consumed).
fn parse_hundreds(tokens: &[(NumberWord, usize)]) -> Option<(u32, usize)> {
    let roles: Vec<NumberWord> = tokens.iter().map(|(role, _)| *role).collect();
    if let [NumberWord::Unit(hundreds), NumberWord::Hundred, rest @ ..] = roles.as_slice() {
        let base = hundreds * 100;
        return match rest {
            [NumberWord::Linh, NumberWord::Unit(unit), ..] => Some((base + unit, 4)),
            [NumberWord::Linh, NumberWord::Tu, ..] => Some((base + 4, 4)),
            _ => match parse_tens(rest) {
                // After "trăm" only a tens phrase continues ("một trăm hai mươi").
                Some((tens, count)) if tens >= 10 => Some((base + tens, 2 + count)),
                _ => Some((base, 2)),
            },
        };
    }
    parse_tens(&roles)
}

/// Numbers below one hundred: returns (value, tokens consumed).
fn parse_tens(roles: &[NumberWord]) -> Option<(u32, usize)> {
    match roles {
        [NumberWord::Nhat, ..] => Some((1, 1)),
        [NumberWord::Tu, ..] => Some((4, 1)),
        [NumberWord::Ten, next, ..] => match next {
            // "mười năm" is "ten years": "năm" is not consumed.
            NumberWord::Unit(5) => Some((10, 1)),
            NumberWord::Unit(unit) => Some((10 + unit, 2)),
            NumberWord::Tu => Some((14, 2)),
            NumberWord::Lam => Some((15, 2)),
            _ => Some((10, 1)),
        },
        [NumberWord::Ten] => Some((10, 1)),
        [NumberWord::Unit(tens), NumberWord::Tens, rest @ ..] if *tens >= 2 => {
            let base = tens * 10;
            match rest.first() {
                Some(NumberWord::Unit(5)) | None => Some((base, 2)),
                Some(NumberWord::Unit(unit)) => Some((base + unit, 3)),
                Some(NumberWord::Mot) => Some((base + 1, 3)),
                Some(NumberWord::Tu) => Some((base + 4, 3)),
                Some(NumberWord::Lam) => Some((base + 5, 3)),
                Some(_) => Some((base, 2)),
            }
        }
        // Colloquial "hai mốt" (21), "ba lăm" (35).
        [NumberWord::Unit(tens), NumberWord::Mot, ..] if *tens >= 2 => Some((tens * 10 + 1, 2)),
        [NumberWord::Unit(tens), NumberWord::Lam, ..] if *tens >= 2 => Some((tens * 10 + 5, 2)),
        [NumberWord::Unit(unit), ..] => Some((*unit, 1)),
        _ => None,
    }
}

/// Letters, digits and combining marks.
fn is_word_char(character: char) -> bool {
    character.is_alphanumeric() || unicode_normalization::char::is_combining_mark(character)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        assert_eq!(parse_number_prefix("14"), Some((14, 2)));
        assert_eq!(parse_number_prefix("14 vừa kết thúc"), Some((14, 2)));
        assert_eq!(parse_number_prefix("2."), Some((2, 1)));
        assert_eq!(parse_number_prefix("13 (tháng 11/2022)"), Some((13, 2)));
        assert_eq!(parse_number_prefix("007"), Some((7, 3)));
    }

    #[test]
    fn digits_never_continue_into_words() {
        assert_eq!(parse_number_prefix("2 năm 2023"), Some((2, 1)));
        assert_eq!(parse_number_prefix("2 mươi"), Some((2, 1)));
    }

    #[test]
    fn digits_rejected() {
        assert_eq!(parse_number_prefix("1.5 triệu"), None);
        assert_eq!(parse_number_prefix("1,500"), None);
        assert_eq!(parse_number_prefix("5G"), None);
        assert_eq!(parse_number_prefix("14a"), None);
        assert_eq!(parse_number_prefix("12345678901"), None);
        assert_eq!(parse_number_prefix(" 14"), None);
    }

    #[test]
    fn single_words() {
        for (word, value) in [
            ("nhất", 1),
            ("một", 1),
            ("hai", 2),
            ("ba", 3),
            ("bốn", 4),
            ("tư", 4),
            ("năm", 5),
            ("sáu", 6),
            ("bảy", 7),
            ("bẩy", 7),
            ("tám", 8),
            ("chín", 9),
            ("mười", 10),
        ] {
            assert_eq!(parse_edition_number(word), Some(value), "{word}");
        }
    }

    #[test]
    fn compound_words() {
        for (phrase, value) in [
            ("mười một", 11),
            ("mười hai", 12),
            ("mười bốn", 14),
            ("mười tư", 14),
            ("mười lăm", 15),
            ("mười nhăm", 15),
            ("mười chín", 19),
            ("hai mươi", 20),
            ("hai mươi mốt", 21),
            ("hai mươi một", 21),
            ("hai mươi tư", 24),
            ("hai mươi lăm", 25),
            ("ba mươi", 30),
            ("năm mươi", 50),
            ("chín mươi chín", 99),
            ("hai mốt", 21),
            ("ba lăm", 35),
            ("một trăm", 100),
            ("một trăm linh năm", 105),
            ("một trăm lẻ một", 101),
            ("một trăm hai mươi", 120),
            ("hai trăm mười lăm", 215),
        ] {
            assert_eq!(parse_edition_number(phrase), Some(value), "{phrase}");
        }
    }

    #[test]
    fn case_tone_placement_and_normal_form() {
        assert_eq!(parse_edition_number("Hai"), Some(2));
        assert_eq!(parse_edition_number("MƯỜI MỘT"), Some(11));
        assert_eq!(parse_edition_number("Nhất"), Some(1));
        assert_eq!(
            parse_edition_number("mu\u{31b}\u{300}o\u{31b}i mo\u{302}\u{323}t"),
            Some(11)
        );
        assert_eq!(parse_edition_number("  ba  "), Some(3));
    }

    #[test]
    fn nam_after_tens_is_the_year() {
        assert_eq!(
            parse_number_prefix("mười năm qua"),
            Some((10, "mười".len()))
        );
        assert_eq!(
            parse_number_prefix("hai mươi năm"),
            Some((20, "hai mươi".len()))
        );
        assert_eq!(parse_number_prefix("năm 2023"), Some((5, "năm".len())));
        assert_eq!(
            parse_number_prefix("năm mươi năm thiết lập"),
            Some((50, "năm mươi".len()))
        );
    }

    #[test]
    fn prefix_lengths_are_bytes() {
        assert_eq!(
            parse_number_prefix("hai mươi tư tại Hà Nội"),
            Some((24, "hai mươi tư".len()))
        );
        assert_eq!(parse_number_prefix("thứ hai"), None);
        assert_eq!(parse_number_prefix("hai, ba"), Some((2, 3)));
        assert_eq!(
            parse_number_prefix("hai  mươi"),
            Some((20, "hai  mươi".len()))
        );
    }

    #[test]
    fn not_numbers() {
        for text in [
            "",
            "haiphong",
            "bamươi",
            "lần",
            "mốt",
            "lăm",
            "mươi",
            "trăm",
            "Hà Nội",
            "-1",
        ] {
            assert_eq!(parse_number_prefix(text), None, "{text}");
        }
        assert_eq!(parse_edition_number("hai lần"), None);
        assert_eq!(parse_edition_number("14 lần"), None);
    }

    #[test]
    fn roman_numerals() {
        for (numeral, value) in [
            ("I", 1),
            ("IV", 4),
            ("IX", 9),
            ("XIV", 14),
            ("XL", 40),
            ("VIII", 8),
            ("MCMXC", 1990),
        ] {
            assert_eq!(parse_edition_number(numeral), Some(value), "{numeral}");
            assert_eq!(parse_roman_numeral(numeral), Some(value), "{numeral}");
        }
        assert_eq!(parse_number_prefix("VIII, nhiệm kỳ"), Some((8, 4)));
        assert_eq!(parse_number_prefix("IV."), Some((4, 2)));
        assert_eq!(parse_roman_numeral("IIII"), None);
        assert_eq!(parse_roman_numeral("VX"), None);
        assert_eq!(parse_roman_numeral("iv"), None);
        assert_eq!(parse_number_prefix("iv"), None);
        assert_eq!(parse_number_prefix("IVa"), None);
        assert_eq!(parse_number_prefix("MIG-21"), None);
        assert_eq!(parse_number_prefix("DC"), Some((600, 2)));
        assert_eq!(parse_number_prefix("Cộng"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_lengths_are_char_boundaries(text in "\\PC{0,30}") {
            if let Some((_, consumed)) = parse_number_prefix(&text) {
                proptest::prop_assert!(consumed > 0 && consumed <= text.len());
                proptest::prop_assert!(text.is_char_boundary(consumed));
            }
            let _ = parse_edition_number(&text);
            let _ = parse_roman_numeral(&text);
        }

        #[test]
        fn digits_roundtrip(value in 0u32..1_000_000) {
            let text = format!("{value} lần");
            proptest::prop_assert_eq!(parse_number_prefix(&text), Some((value, value.to_string().len())));
        }

        #[test]
        fn roman_roundtrip(value in 1u32..4000) {
            let numeral = to_roman(value);
            proptest::prop_assert_eq!(parse_roman_numeral(&numeral), Some(value));
        }
    }
}
