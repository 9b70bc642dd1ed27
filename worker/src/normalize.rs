//! Unicode and typographic normalisation of Vietnamese text.
//!
//! The canonical form: NFC; the "new" tone-mark placement in open syllables
//! ending in -oa, -oe, -uy ("hòa", "khỏe", "thủy" rather than "hoà", "khoẻ",
//! "thuỷ"); the spaces of tokenised text removed before closing punctuation and
//! after opening brackets ("11 / 2023" → "11/2023", "Đối thoại , Thượng tướng"
//! → "Đối thoại, Thượng tướng"); every Unicode space as a plain space, runs of
//! spaces collapsed, zero-width characters dropped. [`normalize`] is idempotent.

use unicode_normalization::UnicodeNormalization;

/// The five toned forms of a vowel, in the order grave, acute, hook, tilde, dot.
const TONED_A: [char; 5] = ['à', 'á', 'ả', 'ã', 'ạ'];
const TONED_CAPITAL_A: [char; 5] = ['À', 'Á', 'Ả', 'Ã', 'Ạ'];
const TONED_E: [char; 5] = ['è', 'é', 'ẻ', 'ẽ', 'ẹ'];
const TONED_CAPITAL_E: [char; 5] = ['È', 'É', 'Ẻ', 'Ẽ', 'Ẹ'];
const TONED_Y: [char; 5] = ['ỳ', 'ý', 'ỷ', 'ỹ', 'ỵ'];
const TONED_CAPITAL_Y: [char; 5] = ['Ỳ', 'Ý', 'Ỷ', 'Ỹ', 'Ỵ'];
const TONED_O: [char; 5] = ['ò', 'ó', 'ỏ', 'õ', 'ọ'];
const TONED_CAPITAL_O: [char; 5] = ['Ò', 'Ó', 'Ỏ', 'Õ', 'Ọ'];
const TONED_U: [char; 5] = ['ù', 'ú', 'ủ', 'ũ', 'ụ'];
const TONED_CAPITAL_U: [char; 5] = ['Ù', 'Ú', 'Ủ', 'Ũ', 'Ụ'];

/// The tone (0–4) and plain letter of a toned a/e/y, when it is one.
fn toned_second_vowel(character: char) -> Option<(usize, char)> {
    for (forms, plain) in [
        (&TONED_A, 'a'),
        (&TONED_CAPITAL_A, 'A'),
        (&TONED_E, 'e'),
        (&TONED_CAPITAL_E, 'E'),
        (&TONED_Y, 'y'),
        (&TONED_CAPITAL_Y, 'Y'),
    ] {
        if let Some(tone) = forms.iter().position(|form| *form == character) {
            return Some((tone, plain));
        }
    }
    None
}

/// Moves the tone mark of open -oa/-oe/-uy syllables onto the first vowel,
/// on composed (NFC) text: "hoà" → "hòa", "thuỷ" → "thủy"; "hoàn", "quý" stay.
/// Returns `None` when nothing moves (the common case: no copy is made).
fn place_tone_marks(text: &str) -> Option<String> {
    let mut output: Option<String> = None;
    let mut copied_up_to = 0;
    let mut previous: Option<char> = None;
    let mut characters = text.char_indices().peekable();
    while let Some((offset, current)) = characters.next() {
        let first_forms = match current {
            'o' => Some((&TONED_O, ['a', 'e'])),
            'O' => Some((&TONED_CAPITAL_O, ['a', 'e'])),
            'u' => Some((&TONED_U, ['y', 'y'])),
            'U' => Some((&TONED_CAPITAL_U, ['y', 'y'])),
            _ => None,
        };
        let after_q = previous.is_some_and(|c| c.eq_ignore_ascii_case(&'q'));
        previous = Some(current);
        let Some((forms, seconds)) = first_forms else {
            continue;
        };
        let Some(&(next_offset, next)) = characters.peek() else {
            continue;
        };
        let Some((tone, plain)) = toned_second_vowel(next) else {
            continue;
        };
        if !seconds.contains(&plain.to_ascii_lowercase()) || after_q {
            continue;
        }
        let after_pair = next_offset + next.len_utf8();
        let open_syllable = text[after_pair..]
            .chars()
            .next()
            .is_none_or(|after| !after.is_alphanumeric() && !is_combining(after));
        if !open_syllable {
            continue;
        }
        let buffer = output.get_or_insert_with(|| String::with_capacity(text.len()));
        buffer.push_str(&text[copied_up_to..offset]);
        buffer.push(forms[tone]);
        buffer.push(plain);
        copied_up_to = after_pair;
        characters.next();
        previous = Some(plain);
    }
    output.map(|mut buffer| {
        buffer.push_str(&text[copied_up_to..]);
        buffer
    })
}

fn is_combining(character: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&character)
}

fn is_space(character: char) -> bool {
    character.is_whitespace() && character != '\n'
}

/// The canonical form described in the module documentation.
pub fn normalize(text: &str) -> String {
    let needs_mapping = text.contains([
        '\u{200b}', '\u{200c}', '\u{200d}', '\u{feff}', '\u{ad}', '\u{d0}', '\u{f0}', '\r',
    ]);
    let mapped: std::borrow::Cow<'_, str> = if needs_mapping {
        text.chars()
            .filter(|c| {
                !matches!(
                    c,
                    '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{ad}'
                )
            })
            .map(|c| match c {
                '\u{d0}' => 'Đ',
                '\u{f0}' => 'đ',
                '\r' => '\n',
                other => other,
            })
            .collect::<String>()
            .into()
    } else {
        text.into()
    };
    let composed: std::borrow::Cow<'_, str> =
        match unicode_normalization::is_nfc_quick(mapped.chars()) {
            unicode_normalization::IsNormalized::Yes => mapped,
            _ => mapped.nfc().collect::<String>().into(),
        };
    let placed = place_tone_marks(&composed);
    let source = placed.as_deref().unwrap_or(&composed);
    let mut output = String::with_capacity(source.len());
    for (index, line) in source.split('\n').enumerate() {
        if index > 0 {
            output.push('\n');
        }
        tidy_line_into(line, &mut output);
    }
    output
}

/// Spaces within one line: collapsed, trimmed, and removed where tokenisation put them.
fn tidy_line_into(line: &str, output: &mut String) {
    let words: Vec<&str> = line
        .split(is_space)
        .filter(|word| !word.is_empty())
        .collect();
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        if index > 0 {
            let previous = words[index - 1];
            let glue_left = word
                .starts_with([',', '.', ';', ':', '!', '?', ')', ']', '…', '”', '%'])
                && !word.starts_with("...")
                || previous.ends_with(['(', '[', '“']);
            // A lone "/" between two numbers ("11 / 2023") joins them on both sides.
            let slash_between_digits = if word == "/" {
                ends_or_starts_with_digit(previous, false)
                    && words
                        .get(index + 1)
                        .is_some_and(|next| ends_or_starts_with_digit(next, true))
            } else {
                previous == "/"
                    && index >= 2
                    && ends_or_starts_with_digit(words[index - 2], false)
                    && ends_or_starts_with_digit(word, true)
            };
            if !(glue_left || slash_between_digits) {
                output.push(' ');
            }
        }
        output.push_str(word);
        index += 1;
    }
}

fn ends_or_starts_with_digit(word: &str, starts: bool) -> bool {
    let character = if starts {
        word.chars().next()
    } else {
        word.chars().last()
    };
    character.is_some_and(|c| c.is_ascii_digit())
}

/// First code point past the table of [`lowercase_keeping_offsets`] (Latin,
/// Greek, Cyrillic and the Vietnamese letters of Latin Extended Additional).
const LOWER_TABLE_END: u32 = 0x2000;

/// `char::to_lowercase` where it keeps the UTF-8 width, the character itself
/// elsewhere, for U+0080..U+2000 (computed once).
fn lower_table() -> &'static [char] {
    static TABLE: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..LOWER_TABLE_END)
            .map(|code| {
                let Some(character) = char::from_u32(code) else {
                    return '\0';
                };
                lower_same_width(character)
            })
            .collect()
    })
}

fn lower_same_width(character: char) -> char {
    let mut lowered = character.to_lowercase();
    match (lowered.next(), lowered.next()) {
        (Some(single), None) if single.len_utf8() == character.len_utf8() => single,
        _ => character,
    }
}

/// The lower case of one character when it has the same UTF-8 width, else the character.
pub fn lower_char_keeping_width(character: char) -> char {
    if character.is_ascii() {
        return character.to_ascii_lowercase();
    }
    let code = u32::from(character);
    if code < LOWER_TABLE_END {
        return lower_table()
            .get(code as usize)
            .copied()
            .unwrap_or(character);
    }
    lower_same_width(character)
}

/// Lower case, character by character where the UTF-8 width is kept, so that
/// every byte offset of `text` is a byte offset of the result (and the same
/// character boundary). Fast on Vietnamese text (one table look-up per letter).
pub fn lowercase_keeping_offsets(text: &str) -> String {
    let table = lower_table();
    let mut lowered = text.as_bytes().to_vec();
    lowered.make_ascii_lowercase();
    let mut index = 0;
    while let Some(offset) = lowered
        .get(index..)
        .and_then(|rest| rest.iter().position(|byte| !byte.is_ascii()))
    {
        index += offset;
        let Some(character) = text.get(index..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        let width = character.len_utf8();
        let code = u32::from(character);
        let lower = if code < LOWER_TABLE_END {
            table.get(code as usize).copied().unwrap_or(character)
        } else {
            lower_same_width(character)
        };
        if lower != character {
            if let Some(slot) = lowered.get_mut(index..index + width) {
                lower.encode_utf8(slot);
            }
        }
        index += width;
    }
    String::from_utf8(lowered).unwrap_or_else(|_| text.to_string())
}

/// Lower case, diacritics removed, đ → d: for accent-insensitive comparison.
pub fn fold_for_search(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_new_tone_placement_meet() {
        assert_eq!(normalize("hoà bình"), "hòa bình");
        assert_eq!(normalize("Thuỷ đạc"), "Thủy đạc");
        assert_eq!(normalize("khoẻ"), "khỏe");
        assert_eq!(normalize("HOÀ"), "HÒA");
        assert_eq!(normalize("hoàn thành"), "hoàn thành");
        assert_eq!(normalize("quý"), "quý");
        assert_eq!(normalize("hòa"), "hòa");
    }

    #[test]
    fn nfd_input_is_composed() {
        let decomposed = "Vie\u{302}\u{323}t Nam";
        assert_eq!(normalize(decomposed), "Việt Nam");
    }

    #[test]
    fn tokenised_punctuation_is_rejoined() {
        assert_eq!(normalize("tháng 11 / 2023 ."), "tháng 11/2023.");
        assert_eq!(
            normalize("Đối thoại , Thượng tướng ( Ảnh : X )"),
            "Đối thoại, Thượng tướng (Ảnh: X)"
        );
        assert_eq!(normalize("Việt Nam - Nhật Bản"), "Việt Nam - Nhật Bản");
        assert_eq!(normalize("a\u{a0}\u{a0} b"), "a b");
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for text in [
            "hoà , thuỷ",
            "tháng 11 / 2023",
            "( 84 ) 24",
            "“ bốn không ”",
            "c0 / / :x",
            "1 / / 2 / 3 :",
            "27/4 / 30/4",
        ] {
            let once = normalize(text);
            assert_eq!(normalize(&once), once);
        }
    }

    #[test]
    fn lowercasing_keeps_every_offset() {
        for text in ["ĐỐI THOẠI Việt Nam", "İstanbul KELVIN \u{212a}", "ẠẢẤ ǅ Σ"] {
            let lowered = lowercase_keeping_offsets(text);
            assert_eq!(lowered.len(), text.len());
            for (offset, _) in text.char_indices() {
                assert!(lowered.is_char_boundary(offset));
            }
        }
        assert_eq!(lowercase_keeping_offsets("ĐỐI Thoại"), "đối thoại");
    }

    #[test]
    fn folding_drops_every_diacritic() {
        assert_eq!(fold_for_search("Hoàng Xuân Chiến"), "hoang xuan chien");
        assert_eq!(fold_for_search("Đối thoại"), "doi thoai");
    }
}
