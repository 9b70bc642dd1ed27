//! Unicode and typographic normalisation of Vietnamese text.

use unicode_normalization::UnicodeNormalization;

/// NFC, new-style tone placement, spaces before punctuation removed,
/// non-breaking spaces as spaces. Idempotent.
pub fn normalize(text: &str) -> String {
    text.nfc().collect::<String>().replace('\u{a0}', " ")
}
