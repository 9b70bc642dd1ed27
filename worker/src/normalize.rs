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
    let plain = match character {
        'à' | 'á' | 'ả' | 'ã' | 'ạ' => 'a',
        'À' | 'Á' | 'Ả' | 'Ã' | 'Ạ' => 'A',
        'è' | 'é' | 'ẻ' | 'ẽ' | 'ẹ' => 'e',
        'È' | 'É' | 'Ẻ' | 'Ẽ' | 'Ẹ' => 'E',
        'ỳ' | 'ý' | 'ỷ' | 'ỹ' | 'ỵ' => 'y',
        'Ỳ' | 'Ý' | 'Ỷ' | 'Ỹ' | 'Ỵ' => 'Y',
        _ => return None,
    };
    let forms = match plain {
        'a' => &TONED_A,
        'A' => &TONED_CAPITAL_A,
        'e' => &TONED_E,
        'E' => &TONED_CAPITAL_E,
        'y' => &TONED_Y,
        _ => &TONED_CAPITAL_Y,
    };
    let tone = forms.iter().position(|form| *form == character)?;
    Some((tone, plain))
}

/// The tone move of an open -oa/-oe/-uy syllable whose first vowel is the
/// byte at `index` (an ASCII o/O/u/U): the toned first vowel, the plain second
/// one, and the offset past the pair. `None` when nothing moves there.
fn tone_move_at(text: &str, index: usize) -> Option<(char, char, usize)> {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&second_byte)) = (bytes.get(index), bytes.get(index + 1)) else {
        return None;
    };
    let (forms, seconds) = match first {
        b'o' => (&TONED_O, ['a', 'e']),
        b'O' => (&TONED_CAPITAL_O, ['a', 'e']),
        b'u' => (&TONED_U, ['y', 'y']),
        b'U' => (&TONED_CAPITAL_U, ['y', 'y']),
        _ => return None,
    };
    if second_byte < 0xC3 {
        return None;
    }
    let after_q = index
        .checked_sub(1)
        .and_then(|before| bytes.get(before))
        .is_some_and(|byte| byte.eq_ignore_ascii_case(&b'q'));
    let next = text.get(index + 1..).and_then(|rest| rest.chars().next())?;
    let (tone, plain) = toned_second_vowel(next)?;
    let after_pair = index + 1 + next.len_utf8();
    let open_syllable = text
        .get(after_pair..)
        .and_then(|rest| rest.chars().next())
        .is_none_or(|after| !after.is_alphanumeric() && !is_combining(after));
    if !seconds.contains(&plain.to_ascii_lowercase()) || after_q || !open_syllable {
        return None;
    }
    Some((forms[tone], plain, after_pair))
}

/// Moves the tone mark of open -oa/-oe/-uy syllables onto the first vowel,
/// on composed (NFC) text: "hoà" → "hòa", "thuỷ" → "thủy"; "hoàn", "quý" stay.
/// Returns `None` when nothing moves (the common case: no copy is made).
fn place_tone_marks(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut output: Option<String> = None;
    let mut copied_up_to = 0;
    let mut index = 0;
    // Only an ASCII o/u before a non-ASCII letter is looked at closely.
    let is_o_or_u = |byte: &u8| matches!(*byte, b'o' | b'O' | b'u' | b'U');
    while let Some(offset) = bytes
        .get(index..)
        .and_then(|rest| rest.iter().position(is_o_or_u))
    {
        index += offset;
        let Some((toned, plain, after_pair)) = tone_move_at(text, index) else {
            index += 1;
            continue;
        };
        let buffer = output.get_or_insert_with(|| String::with_capacity(text.len()));
        buffer.push_str(&text[copied_up_to..index]);
        buffer.push(toned);
        buffer.push(plain);
        copied_up_to = after_pair;
        index = after_pair;
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
    normalize_cow(text).into_owned()
}

/// [`normalize`], borrowing `text` when it is already in the canonical form
/// (no copy is made then).
pub fn normalize_cow(text: &str) -> std::borrow::Cow<'_, str> {
    let surveyed = survey(text);
    let needs_mapping = surveyed.mapped;
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
    let composed: std::borrow::Cow<'_, str> = if !surveyed.maybe_not_nfc && !needs_mapping {
        mapped
    } else {
        // Letters and punctuation that are NFC starters need no table look-up;
        // leaving them out of the check can only make it more cautious.
        match unicode_normalization::is_nfc_quick(
            mapped
                .chars()
                .filter(|character| !is_composed_starter(*character)),
        ) {
            unicode_normalization::IsNormalized::Yes => mapped,
            _ => mapped.nfc().collect::<String>().into(),
        }
    };
    let may_move = surveyed.tone_pair || needs_mapping || surveyed.maybe_not_nfc;
    let placed = if may_move {
        place_tone_marks(&composed)
    } else {
        None
    };
    let source = placed.as_deref().unwrap_or(&composed);
    let Some(untidy_at) = first_untidy(source) else {
        return match placed {
            Some(placed) => placed.into(),
            None => composed,
        };
    };
    // The lines before the first untidy byte are copied as they are.
    let line_start = source
        .get(..untidy_at)
        .and_then(|head| head.rfind('\n'))
        .map_or(0, |newline| newline + 1);
    let mut output = String::with_capacity(source.len());
    output.push_str(&source[..line_start]);
    let mut words = Vec::new();
    for (index, line) in source[line_start..].split('\n').enumerate() {
        if index > 0 {
            output.push('\n');
        }
        tidy_line_into(line, &mut words, &mut output);
    }
    output.into()
}

/// What a first pass over the bytes of a text found (one pass, no decoding).
#[derive(Debug, Default, Clone, Copy)]
struct Survey {
    /// A character [`normalize`] drops or replaces: zero-width characters,
    /// soft hyphen, Icelandic eth for Vietnamese "đ", carriage return.
    mapped: bool,
    /// A character outside the ranges that are surely NFC (combining marks, …).
    maybe_not_nfc: bool,
    /// An open -oa/-oe/-uy syllable whose tone mark moves (exactly where
    /// [`place_tone_marks`] would move one in the text as it is).
    tone_pair: bool,
}

/// Surveys `text` byte by byte (UTF-8 lead bytes give each character's range).
fn survey(text: &str) -> Survey {
    let bytes = text.as_bytes();
    let mut found = Survey::default();
    let mut index = 0;
    // Plain ASCII other than CR, o and u is skipped in one scan.
    let interesting =
        |byte: &u8| *byte >= 0x80 || matches!(*byte, b'\r' | b'o' | b'O' | b'u' | b'U');
    while let Some(offset) = bytes
        .get(index..)
        .and_then(|rest| rest.iter().position(interesting))
    {
        index += offset;
        let Some(&byte) = bytes.get(index) else {
            break;
        };
        let second = bytes.get(index + 1).copied().unwrap_or(0);
        if byte < 0x80 {
            if byte == b'\r' {
                found.mapped = true;
            } else if second >= 0xC3 && !found.tone_pair {
                found.tone_pair = tone_move_at(text, index).is_some();
            }
            index += 1;
            continue;
        }
        let third = bytes.get(index + 2).copied().unwrap_or(0);
        match byte {
            // U+0080..U+02FF: Latin-1, Latin Extended-A/B (U+00AD, U+00D0, U+00F0 are mapped).
            0xC2..=0xCB => {
                found.mapped |= matches!((byte, second), (0xC2, 0xAD) | (0xC3, 0x90 | 0xB0));
                index += 2;
            }
            0xC0..=0xDF => {
                found.maybe_not_nfc = true;
                index += 2;
            }
            // U+1E00..U+1EFF: the precomposed Vietnamese letters.
            0xE1 if matches!(second, 0xB8..=0xBB) => index += 3,
            // U+2000..U+203F: punctuation (U+2000, U+2001 decompose; U+200B..U+200D are mapped).
            0xE2 if second == 0x80 => {
                found.mapped |= matches!(third, 0x8B..=0x8D);
                found.maybe_not_nfc |= matches!(third, 0x80 | 0x81);
                index += 3;
            }
            0xE0..=0xEF => {
                found.mapped |= byte == 0xEF && second == 0xBB && third == 0xBF;
                found.maybe_not_nfc = true;
                index += 3;
            }
            _ => {
                found.maybe_not_nfc = true;
                index += if byte >= 0xF0 { 4 } else { 1 };
            }
        }
    }
    found
}

/// True when [`tidy_line_into`] would change nothing in any line of `text`:
/// single ASCII spaces, none at a line's edge, none next to closing or
/// opening punctuation or a "/", no tab or Unicode space.
fn is_tidy(text: &str) -> bool {
    first_untidy(text).is_none()
}

/// The first byte where [`is_tidy`] fails, if any. Cautious: it may flag a
/// byte of a line that [`tidy_line_into`] leaves as it is (that line is then
/// tidied to itself), never the other way round.
fn first_untidy(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') {
        return Some(0);
    }

    let at = |index: usize| bytes.get(index).copied().unwrap_or(0);
    // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F: the Unicode spaces that
    // begin with 0xE2, from the bytes after it.
    let is_e2_space = |second: u8, third: u8| {
        matches!(
            (second, third),
            (0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF) | (0x81, 0x9F)
        )
    };
    let interesting = |byte: &u8| matches!(*byte, b' ' | 0x09..=0x0D | 0xC2 | 0xE1..=0xE3);
    let mut index = 0;
    while let Some(offset) = bytes
        .get(index..)
        .and_then(|rest| rest.iter().position(interesting))
    {
        index += offset;
        let Some(&byte) = bytes.get(index) else {
            break;
        };
        let previous = index
            .checked_sub(1)
            .and_then(|before| bytes.get(before))
            .copied()
            .unwrap_or(0);
        let next = at(index + 1);
        let untidy = match byte {
            b' ' => {
                let after_opening = match previous {
                    b'(' | b'[' | b'/' | b'\n' => true,
                    // “ (U+201C)
                    0x9C => index >= 3 && at(index - 3) == 0xE2 && at(index - 2) == 0x80,
                    _ => false,
                };
                let before_closing = match next {
                    b' ' | b',' | b'.' | b';' | b':' | b'!' | b'?' | b')' | b']' | b'%' | b'/'
                    | b'\n' => true,
                    // ” (U+201D), … (U+2026), or a Unicode space.
                    0xE2 => {
                        let (second, third) = (at(index + 2), at(index + 3));
                        matches!((second, third), (0x80, 0x9D | 0xA6)) || is_e2_space(second, third)
                    }
                    _ => false,
                };
                after_opening || before_closing
            }
            0x09 | 0x0B | 0x0C | 0x0D => true,
            // U+0085, U+00A0
            0xC2 => matches!(next, 0x85 | 0xA0),
            // U+1680 and U+3000 (cautiously: any character of their blocks).
            0xE1 => next == 0x9A,
            0xE2 => is_e2_space(next, at(index + 2)),
            0xE3 => next == 0x80,
            _ => false,
        };
        if untidy {
            return Some(index);
        }
        index += 1;
    }
    // A space at the very end (the scan flags one before a newline only).
    (bytes.last() == Some(&b' ')).then(|| bytes.len() - 1)
}

/// ASCII, Latin-1, Latin Extended-A/B, the Vietnamese letters of Latin
/// Extended Additional and common punctuation: NFC "yes" with combining class 0.
fn is_composed_starter(character: char) -> bool {
    matches!(u32::from(character), 0..=0x2FF | 0x1E00..=0x1EFF | 0x2010..=0x2027)
}

/// Spaces within one line: collapsed, trimmed, and removed where tokenisation put them.
fn tidy_line_into<'t>(line: &'t str, words: &mut Vec<&'t str>, output: &mut String) {
    if is_tidy(line) {
        output.push_str(line);
        return;
    }
    words.clear();
    words.extend(line.split(is_space).filter(|word| !word.is_empty()));
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
    let bytes = text.as_bytes();
    let mut lowered = String::with_capacity(text.len());
    let mut index = 0;
    while index < text.len() {
        let run_end = bytes
            .get(index..)
            .and_then(|rest| rest.iter().position(|byte| !byte.is_ascii()))
            .map_or(text.len(), |offset| index + offset);
        if run_end > index {
            let start = lowered.len();
            lowered.push_str(&text[index..run_end]);
            lowered[start..].make_ascii_lowercase();
        }
        let Some(character) = text.get(run_end..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        let code = u32::from(character);
        lowered.push(if code < LOWER_TABLE_END {
            table.get(code as usize).copied().unwrap_or(character)
        } else {
            lower_same_width(character)
        });
        index = run_end + character.len_utf8();
    }
    lowered
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

/// Feeds `piece` the words of [`normalize`]`(text)` joined by single spaces
/// (`normalize(text).split_whitespace()` joined by `" "`), in pieces, in one
/// pass over `text` and without building the normal form: what the store's
/// duplicate fingerprint hashes. Tone marks are moved and tokenised
/// punctuation is joined as [`normalize`] does.
///
/// Returns `false` as soon as it meets a character only [`normalize`]
/// handles (one it maps or drops, or one that may not be NFC, such as a
/// combining mark): `piece` has then been fed a prefix, to be discarded, and
/// the caller falls back to [`normalize`].
pub fn feed_normalized_words(text: &str, piece: impl FnMut(&[u8])) -> bool {
    let bytes = text.as_bytes();
    let mut joiner = WordJoiner {
        text,
        piece,
        fed_anything: false,
        previous: None,
        slash_waiting: false,
    };
    // The text is read in blocks of 64 bytes; in each, a bit per byte marks
    // what needs a look (see [`BlockMarks`]). The bytes between marks are
    // letters of a word: most of the text is never looked at one by one.
    let mut word_start = 0;
    let mut tone_candidate = false;
    let mut starts_line = false;
    let mut block_start = 0;
    while block_start < bytes.len() {
        let marks = BlockMarks::of(bytes, block_start);
        let mut marked = marks.space | marks.special | marks.tone;
        while marked != 0 {
            let bit = 1u64 << marked.trailing_zeros();
            let index = block_start + marked.trailing_zeros() as usize;
            marked &= marked - 1;
            let (class, length) = if marks.space & bit != 0 {
                (CharacterClass::Space, 1)
            } else if marks.special & bit != 0 {
                character_class(bytes, index)
            } else {
                // An ASCII o/u before a non-ASCII letter may carry a moved tone mark.
                tone_candidate = true;
                continue;
            };
            match class {
                CharacterClass::Word => continue,
                CharacterClass::Unsupported => return false,
                CharacterClass::Space | CharacterClass::Newline => {}
            }
            if index > word_start {
                joiner.push(
                    WordSpan {
                        start: word_start,
                        end: index,
                        tone_candidate,
                    },
                    starts_line,
                );
                starts_line = false;
            }
            tone_candidate = false;
            starts_line |= class == CharacterClass::Newline;
            word_start = index + length;
        }
        block_start += 64;
    }
    if bytes.len() > word_start {
        joiner.push(
            WordSpan {
                start: word_start,
                end: bytes.len(),
                tone_candidate,
            },
            starts_line,
        );
    }
    joiner.finish();
    true
}

/// The marks of a block of 64 bytes of a text, a bit per byte (bit 0 is the
/// block's first byte). Every marked byte starts a character.
struct BlockMarks {
    /// An ASCII space.
    space: u64,
    /// A character [`character_class`] looks at: the ASCII controls from tab
    /// to carriage return, the lead bytes of U+0080..U+00FF that may be
    /// spaces or mapped, and every lead byte from U+0300 up other than the
    /// Vietnamese letters' (U+1E00..U+1EFF).
    special: u64,
    /// An ASCII o/u before a non-ASCII byte.
    tone: u64,
}

impl BlockMarks {
    fn of(bytes: &[u8], block_start: usize) -> BlockMarks {
        // The block and the byte after it; zeros past the end of the text.
        let mut window = [0u8; 65];
        let available = bytes.len().saturating_sub(block_start).min(65);
        if let Some(source) = bytes.get(block_start..block_start + available) {
            window[..available].copy_from_slice(source);
        }
        // A byte per byte (0 or 1), computed without branches (so the loop
        // runs on vector registers), then packed into bits.
        let mut space = [0u8; 64];
        let mut special = [0u8; 64];
        let mut tone = [0u8; 64];
        for position in 0..64 {
            let byte = window[position];
            let next = window[position + 1];
            space[position] = u8::from(byte == b' ');
            special[position] = u8::from(byte.wrapping_sub(0x09) < 5)
                | u8::from(byte == 0xC2)
                | (u8::from(byte == 0xC3) & (u8::from(next == 0x90) | u8::from(next == 0xB0)))
                | (u8::from(byte >= 0xCC)
                    & (u8::from(byte != 0xE1) | u8::from(next.wrapping_sub(0xB8) > 3)));
            // ASCII o, O, u, U (the case bit set).
            tone[position] = (u8::from(byte | 0x20 == b'o') | u8::from(byte | 0x20 == b'u'))
                & u8::from(next >= 0xC3);
        }
        BlockMarks {
            space: pack_flags(&space),
            special: pack_flags(&special),
            tone: pack_flags(&tone),
        }
    }
}

/// Bit `i` set where `flags[i]` is 1 (every flag is 0 or 1).
fn pack_flags(flags: &[u8; 64]) -> u64 {
    let mut packed = 0;
    for (chunk_index, chunk) in flags.chunks_exact(8).enumerate() {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        // Byte j (0 or 1) of the word lands on bit 56 + j of the product.
        let bits = u64::from_le_bytes(eight).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        packed |= bits << (8 * chunk_index);
    }
    packed
}

/// What [`feed_normalized_words`] does with a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharacterClass {
    /// Part of a word, kept as it is.
    Word,
    /// A space, tab or Unicode space that [`normalize`] keeps within the line.
    Space,
    /// A line feed.
    Newline,
    /// What only [`normalize`] handles: a character it maps or drops, or one
    /// outside the ranges [`survey`] knows to be NFC.
    Unsupported,
}

/// The class and UTF-8 length of the character at `index`, by the same byte
/// ranges as [`survey`] and [`first_untidy`].
#[inline]
fn character_class(bytes: &[u8], index: usize) -> (CharacterClass, usize) {
    let at = |offset: usize| bytes.get(index + offset).copied().unwrap_or(0);
    match at(0) {
        b'\n' => (CharacterClass::Newline, 1),
        b' ' | b'\t' | 0x0B | 0x0C => (CharacterClass::Space, 1),
        b'\r' => (CharacterClass::Unsupported, 1),
        0x00..=0x7F => (CharacterClass::Word, 1),
        // U+0085, U+00A0 are spaces; U+00AD is dropped.
        0xC2 => match at(1) {
            0x85 | 0xA0 => (CharacterClass::Space, 2),
            0xAD => (CharacterClass::Unsupported, 2),
            _ => (CharacterClass::Word, 2),
        },
        // U+00D0, U+00F0 (eth) are mapped to Đ, đ.
        0xC3 if matches!(at(1), 0x90 | 0xB0) => (CharacterClass::Unsupported, 2),
        0xC3..=0xCB => (CharacterClass::Word, 2),
        // The precomposed Vietnamese letters.
        0xE1 if matches!(at(1), 0xB8..=0xBB) => (CharacterClass::Word, 3),
        // U+2000..U+203F: U+2000, U+2001 decompose, U+200B..U+200D are
        // dropped; U+2002..U+200A, U+2028, U+2029, U+202F are spaces.
        0xE2 if at(1) == 0x80 => match at(2) {
            0x80 | 0x81 | 0x8B..=0x8D => (CharacterClass::Unsupported, 3),
            0x82..=0x8A | 0xA8 | 0xA9 | 0xAF => (CharacterClass::Space, 3),
            _ => (CharacterClass::Word, 3),
        },
        _ => (CharacterClass::Unsupported, 1),
    }
}

/// A word of the text, as byte offsets.
#[derive(Debug, Clone, Copy)]
struct WordSpan {
    start: usize,
    end: usize,
    /// Holds an ASCII o/u before a non-ASCII byte (see [`tone_move_at`]).
    tone_candidate: bool,
}

/// Joins the words of a text as [`tidy_line_into`] joins a line's, then
/// lines with a space, feeding the result in pieces.
struct WordJoiner<'t, Piece: FnMut(&[u8])> {
    text: &'t str,
    piece: Piece,
    fed_anything: bool,
    /// The word before, on the same line.
    previous: Option<WordSpan>,
    /// A "/" after a word ending in a digit, not fed yet: it joins both
    /// sides when the next word on the line starts with a digit.
    slash_waiting: bool,
}

impl<Piece: FnMut(&[u8])> WordJoiner<'_, Piece> {
    fn push(&mut self, word: WordSpan, starts_line: bool) {
        if starts_line {
            self.feed_waiting_slash();
            self.previous = None;
        }
        let bytes = self.text.as_bytes();
        let word_bytes = &bytes[word.start..word.end];
        if std::mem::take(&mut self.slash_waiting) {
            // "11 / 2023" → "11/2023"; otherwise the slash stands apart.
            let joined = starts_with_digit(word_bytes);
            if !joined {
                (self.piece)(b" ");
            }
            (self.piece)(b"/");
            if joined || glues_left(word_bytes, b"/") {
                self.feed_word(word);
            } else {
                self.feed_spaced(word);
            }
            self.previous = Some(word);
            return;
        }
        let Some(previous) = self.previous else {
            self.feed_spaced(word);
            self.previous = Some(word);
            return;
        };
        let previous_bytes = &bytes[previous.start..previous.end];
        if word_bytes == b"/" && ends_with_digit(previous_bytes) {
            self.slash_waiting = true;
            self.previous = Some(word);
            return;
        }
        // After a "/" that did not wait, the word before the slash does not
        // end with a digit: only the punctuation rule applies.
        if glues_left(word_bytes, previous_bytes) {
            self.feed_word(word);
        } else {
            self.feed_spaced(word);
        }
        self.previous = Some(word);
    }

    fn finish(&mut self) {
        self.feed_waiting_slash();
    }

    fn feed_waiting_slash(&mut self) {
        if std::mem::take(&mut self.slash_waiting) {
            (self.piece)(b" /");
        }
    }

    /// A space (unless it is the first word), then the word.
    fn feed_spaced(&mut self, word: WordSpan) {
        if self.fed_anything {
            (self.piece)(b" ");
        }
        self.feed_word(word);
    }

    /// The word, its tone marks moved as [`place_tone_marks`] moves them.
    fn feed_word(&mut self, word: WordSpan) {
        self.fed_anything = true;
        let bytes = self.text.as_bytes();
        if !word.tone_candidate {
            (self.piece)(&bytes[word.start..word.end]);
            return;
        }
        let mut copied_up_to = word.start;
        let mut index = word.start;
        while index < word.end {
            let Some((toned, plain, after_pair)) = tone_move_at(self.text, index) else {
                index += 1;
                continue;
            };
            (self.piece)(&bytes[copied_up_to..index]);
            let mut buffer = [0; 8];
            let toned_length = toned.encode_utf8(&mut buffer).len();
            let plain_length = plain.encode_utf8(&mut buffer[toned_length..]).len();
            (self.piece)(&buffer[..toned_length + plain_length]);
            copied_up_to = after_pair;
            index = after_pair;
        }
        (self.piece)(&bytes[copied_up_to..word.end]);
    }
}

/// [`tidy_line_into`]'s rule for a word that follows `previous` with no
/// space: closing punctuation (not an ellipsis "..."), or after an opening
/// one. On the words' bytes.
#[inline]
fn glues_left(word: &[u8], previous: &[u8]) -> bool {
    let closes = match word.first() {
        Some(b',' | b';' | b':' | b'!' | b'?' | b')' | b']' | b'%') => true,
        Some(b'.') => !word.starts_with(b"..."),
        Some(0xE2) => word.starts_with("…".as_bytes()) || word.starts_with("”".as_bytes()),
        _ => false,
    };
    let opens = match previous.last() {
        Some(b'(' | b'[') => true,
        Some(0x9C) => previous.ends_with("“".as_bytes()),
        _ => false,
    };
    closes || opens
}

fn starts_with_digit(word: &[u8]) -> bool {
    word.first().is_some_and(u8::is_ascii_digit)
}

fn ends_with_digit(word: &[u8]) -> bool {
    word.last().is_some_and(u8::is_ascii_digit)
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
    fn an_untidy_line_before_a_trailing_space_is_still_tidied() {
        assert_eq!(
            normalize("Hội\u{a0}đàm\ntháng 11 / 2023 ."),
            "Hội đàm\ntháng 11/2023."
        );
        assert_eq!(normalize("a ( b\nc "), "a (b\nc");
        assert_eq!(normalize("tidy line\nx , y"), "tidy line\nx, y");
    }

    #[test]
    fn the_tidy_shortcut_agrees_with_the_full_rule() {
        assert!(is_tidy("Hai bên hội đàm, nhất trí.\nDòng hai."));
        for line in [
            "tháng 11 / 2023",
            "( Ảnh : X )",
            "“ bốn không ”",
            "a\u{a0}b",
            "a\u{2009}b",
            "a  b",
            " a",
            "a ",
            "a \nb",
            "50 %",
            "a …",
            "a/ b",
        ] {
            assert!(!is_tidy(line), "{line:?}");
        }
    }

    /// Where the shortcut finds nothing untidy, the full rule changes nothing.
    fn assert_tidy_means_unchanged(text: &str) {
        if is_tidy(text) {
            for line in text.split('\n') {
                let mut output = String::new();
                tidy_line_into(line, &mut Vec::new(), &mut output);
                assert_eq!(output, line, "{text:?}");
            }
        }
    }

    #[test]
    fn dashes_and_quotes_are_tidy_unless_spaced_inside() {
        for text in [
            "Hồng Pha – TTXVN",
            "“bốn không” và “hòa bình”",
            "Ờ ấy",
            "chờ… rồi",
            "a\u{2013}b",
        ] {
            assert!(is_tidy(text), "{text:?}");
            assert_tidy_means_unchanged(text);
        }
        for text in [
            "“ bốn không”",
            "bốn không ”",
            "chờ …",
            "a \u{2009}b",
            "a\u{2009}b",
            "a\u{205f}b",
            "a\u{202f}b",
        ] {
            assert!(!is_tidy(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_tidy_shortcut_never_passes_a_line_the_rule_changes(
            text in "[a-zỜờ0-9 ,.;:!?()\\[\\]%/\n\t\r\u{85}\u{a0}\u{1680}\u{2000}-\u{200b}\u{2013}\u{201c}\u{201d}\u{2026}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]{0,16}"
        ) {
            assert_tidy_means_unchanged(&text);
        }
    }

    #[test]
    fn the_byte_survey_finds_what_the_character_rules_would() {
        for character in [
            '\u{200b}', '\u{200d}', '\u{feff}', '\u{ad}', '\u{d0}', '\u{f0}', '\r',
        ] {
            assert!(survey(&format!("ab{character}c")).mapped, "{character:?}");
        }
        let plain = survey("Đối thoại – “hòa bình” ở Hà Nội");
        assert!(!plain.mapped && !plain.maybe_not_nfc);
        assert!(survey("Vie\u{302}\u{323}t").maybe_not_nfc);
        assert!(survey("\u{2126} \u{2000}").maybe_not_nfc);
        assert!(survey("hoà").tone_pair && survey("thuỷ").tone_pair);
        // Every character: where the survey sees nothing to do, there is nothing to do.
        for code in 0x80..0x3100u32 {
            let Some(character) = char::from_u32(code) else {
                continue;
            };
            let text = format!("a{character}b");
            let surveyed = survey(&text);
            if !surveyed.maybe_not_nfc && !surveyed.mapped {
                assert!(unicode_normalization::is_nfc(&text), "{code:x} is not NFC");
            }
        }
    }

    /// What [`normalize`] skips when the survey finds no tone pair: the
    /// survey's answer is exactly whether [`place_tone_marks`] moves a mark.
    fn assert_survey_sees_every_tone_move(text: &str) {
        let surveyed = survey(text);
        if !surveyed.mapped && !surveyed.maybe_not_nfc {
            assert_eq!(
                surveyed.tone_pair,
                place_tone_marks(text).is_some(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_survey_finds_a_tone_pair_exactly_where_a_mark_moves() {
        for text in [
            "hoà bình",
            "hoàn thành",
            "quý",
            "quả",
            "Thuỷ",
            "thuỷ.",
            "HOÀ",
            "khoẻ",
            "hoàb",
            "oà",
            "uý",
            "qoà",
            "Quà",
            "o",
            "hoà\u{301}",
            "thuyền",
            "uỷ ban",
        ] {
            assert_survey_sees_every_tone_move(text);
        }
        assert!(survey("hoà").tone_pair && !survey("quý hoàn").tone_pair);
    }

    proptest::proptest! {
        #[test]
        fn the_survey_agrees_with_the_tone_placement(
            text in "[oOuUqQyYaAeEnN àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸỳýỷỹỵỲÝỶỸỴ.,1]{0,24}"
        ) {
            assert_survey_sees_every_tone_move(&text);
            let borrowed = normalize_cow(&text);
            proptest::prop_assert_eq!(borrowed.as_ref(), normalize(&text));
        }
    }

    /// The words of the normal form joined by single spaces, by the full normaliser.
    fn normalized_words(text: &str) -> String {
        normalize(text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// What [`feed_normalized_words`] feeds, when it takes the text.
    fn fed_words(text: &str) -> Option<String> {
        let mut fed = Vec::new();
        let taken = feed_normalized_words(text, |piece| fed.extend_from_slice(piece));
        taken.then(|| String::from_utf8(fed).expect("pieces of valid UTF-8"))
    }

    /// It takes exactly the texts the survey finds nothing to map or
    /// compose in, and feeds what the full normaliser gives.
    fn assert_feeds_the_normalized_words(text: &str) {
        let surveyed = survey(text);
        let fed = fed_words(text);
        assert_eq!(
            fed.is_some(),
            !surveyed.mapped && !surveyed.maybe_not_nfc,
            "{text:?}"
        );
        if let Some(fed) = fed {
            assert_eq!(fed, normalized_words(text), "{text:?}");
        }
    }

    #[test]
    fn the_words_are_fed_as_the_normaliser_joins_them() {
        for text in [
            "",
            " \n\t ",
            "hoà bình , thuỷ",
            "tháng 11 / 2023 .",
            "Đối thoại , Thượng tướng ( Ảnh : X )",
            "a\u{a0}\u{a0} b\n\n c \u{2009}d\u{2028}e",
            "“ bốn không ” và … ...",
            "( 84 ) 24\n/ 5",
            "27/4 / 30/4",
            "1 / / 2 / 3 :",
            "5 /\n6",
            "5 / x",
            "5 / ,",
            "c0 / / :x",
            "50 % [ a ]",
            "Quà hoàn quý HOÀ khoẻ uỷ ban thuyền",
        ] {
            assert_feeds_the_normalized_words(text);
        }
        assert_eq!(
            fed_words("tháng 11 / 2023 .").as_deref(),
            Some("tháng 11/2023.")
        );
        for unsupported in [
            "a\rb",
            "Vie\u{302}t",
            "a\u{200b}b",
            "\u{d0}",
            "\u{2000}",
            "€",
        ] {
            assert_eq!(fed_words(unsupported), None, "{unsupported:?}");
        }
    }

    #[test]
    fn the_dev_articles_are_fed_without_the_full_normaliser() {
        let directory =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/dev");
        let mut articles = 0;
        for entry in std::fs::read_dir(&directory).expect("the dev corpus") {
            let path = entry.expect("a corpus entry").path();
            if path.extension().is_some_and(|extension| extension == "txt") {
                let text = std::fs::read_to_string(&path).expect("an article");
                assert_eq!(
                    fed_words(&text).as_deref(),
                    Some(normalized_words(&text).as_str()),
                    "{path:?}"
                );
                articles += 1;
            }
        }
        assert!(articles >= 5, "{articles} articles in {directory:?}");
    }

    proptest::proptest! {
        #[test]
        fn the_fed_words_are_the_normalized_words(
            text in "[a-zOUỜờ0-9 ,.;:!?()\\[\\]%/\n\t\r\x0b\x0c\u{85}\u{a0}\u{ad}\u{d0}\u{1680}\u{205f}\u{3000}\u{feff}\u{2000}-\u{200b}\u{2013}\u{201c}\u{201d}\u{2026}\u{2028}\u{2029}\u{202f}àáảãạèéẻẽẹỳýỷỹỵ\u{301}]{0,24}"
        ) {
            assert_feeds_the_normalized_words(&text);
        }
    }

    #[test]
    fn folding_drops_every_diacritic() {
        assert_eq!(fold_for_search("Hoàng Xuân Chiến"), "hoang xuan chien");
        assert_eq!(fold_for_search("Đối thoại"), "doi thoai");
    }
}
