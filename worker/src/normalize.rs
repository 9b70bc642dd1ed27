//! Unicode and typographic normalisation of Vietnamese text.
//!
//! The canonical form: NFC; the "new" tone-mark placement in open syllables
//! ending in -oa, -oe, -uy ("hòa", "khỏe", "thủy" rather than "hoà", "khoẻ",
//! "thuỷ"); the spaces of tokenised text removed before closing punctuation and
//! after opening brackets ("11 / 2023" → "11/2023", "Đối thoại , Thượng tướng"
//! → "Đối thoại, Thượng tướng"); every Unicode space as a plain space, runs of
//! spaces collapsed, zero-width characters dropped. [`normalize`] is idempotent.

use unicode_normalization::UnicodeNormalization;

/// Tone marks as combining characters (after NFD).
const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{309}', '\u{303}', '\u{323}'];

fn is_tone_mark(character: char) -> bool {
    TONE_MARKS.contains(&character)
}

/// Moves the tone mark of open -oa/-oe/-uy syllables onto the first vowel, on
/// NFD text (base letters and combining marks as separate chars).
fn place_tone_marks(decomposed: &[char]) -> Vec<char> {
    let mut output: Vec<char> = Vec::with_capacity(decomposed.len());
    let mut index = 0;
    while index < decomposed.len() {
        let current = decomposed[index];
        let lower = current.to_ascii_lowercase();
        let second = decomposed.get(index + 1).copied();
        let pair_second = match (lower, second.map(|c| c.to_ascii_lowercase())) {
            ('o', Some('a')) | ('o', Some('e')) | ('u', Some('y')) => second,
            _ => None,
        };
        if let Some(second_vowel) = pair_second {
            let tone = decomposed
                .get(index + 2)
                .copied()
                .filter(|c| is_tone_mark(*c));
            let after = decomposed
                .get(index + if tone.is_some() { 3 } else { 2 })
                .copied();
            let open_syllable =
                after.is_none_or(|next| !next.is_alphanumeric() && !is_combining(next));
            let preceded_by_q = output
                .iter()
                .rev()
                .find(|c| !is_combining(**c))
                .is_some_and(|c| c.eq_ignore_ascii_case(&'q'));
            if let (Some(tone_mark), true, false) = (tone, open_syllable, preceded_by_q) {
                output.push(current);
                output.push(tone_mark);
                output.push(second_vowel);
                index += 3;
                continue;
            }
        }
        output.push(current);
        index += 1;
    }
    output
}

fn is_combining(character: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&character)
}

fn is_space(character: char) -> bool {
    character.is_whitespace() && character != '\n'
}

/// The canonical form described in the module documentation.
pub fn normalize(text: &str) -> String {
    let decomposed: Vec<char> = text
        .chars()
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
        .nfd()
        .collect();
    let placed: String = place_tone_marks(&decomposed).into_iter().collect();
    let composed: String = placed.nfc().collect();
    let lines: Vec<String> = composed.split('\n').map(tidy_line).collect();
    lines.join("\n")
}

/// Spaces within one line: collapsed, trimmed, and removed where tokenisation put them.
fn tidy_line(line: &str) -> String {
    let words: Vec<&str> = line
        .split(is_space)
        .filter(|word| !word.is_empty())
        .collect();
    let mut output = String::with_capacity(line.len());
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        if index > 0 {
            let previous = words[index - 1];
            let glue_left = word
                .starts_with([',', '.', ';', ':', '!', '?', ')', ']', '…', '”', '%'])
                && !word.starts_with("...")
                || previous.ends_with(['(', '[', '“']);
            let slash_between_digits = (word == "/" || previous == "/")
                && ends_or_starts_with_digit(previous, false)
                && words
                    .get(if word == "/" { index + 1 } else { index })
                    .is_some_and(|next| ends_or_starts_with_digit(next, true));
            if !(glue_left || slash_between_digits) {
                output.push(' ');
            }
        }
        output.push_str(word);
        index += 1;
    }
    output
}

fn ends_or_starts_with_digit(word: &str, starts: bool) -> bool {
    let character = if starts {
        word.chars().next()
    } else {
        word.chars().last()
    };
    character.is_some_and(|c| c.is_ascii_digit() || c == '/')
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
        ] {
            let once = normalize(text);
            assert_eq!(normalize(&once), once);
        }
    }

    #[test]
    fn folding_drops_every_diacritic() {
        assert_eq!(fold_for_search("Hoàng Xuân Chiến"), "hoang xuan chien");
        assert_eq!(fold_for_search("Đối thoại"), "doi thoai");
    }
}
