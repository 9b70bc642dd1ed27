//! Countries with their ISO codes and every Vietnamese spelling.

/// One country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: &'static str,
    /// Vietnamese name (the canonical form).
    pub name_vi: &'static str,
    /// English short name.
    pub name_en: &'static str,
    /// Other spellings: transliterations, short and old forms (matched case- and tone-mark-insensitively).
    pub aliases: &'static [&'static str],
}

/// Every known country.
pub static COUNTRIES: &[Country] = &[Country {
    code: "VN",
    name_vi: "Việt Nam",
    name_en: "Viet Nam",
    aliases: &["Vietnam"],
}];

/// A country named in a text, with its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryMention {
    /// Byte offset of the start of the name.
    pub start: usize,
    /// Byte offset of the end of the name.
    pub end: usize,
    /// The country named.
    pub country: &'static Country,
}

/// Finds country names in text; built once, shared.
#[derive(Debug, Default)]
pub struct Gazetteer {}

impl Gazetteer {
    /// Builds the matcher over [`COUNTRIES`].
    pub fn new() -> Self {
        Gazetteer {}
    }

    /// Every non-overlapping country mention in `text`, leftmost-longest, on word boundaries.
    pub fn find_all(&self, text: &str) -> Vec<CountryMention> {
        let _ = text;
        Vec::new()
    }

    /// The country with this ISO code.
    pub fn by_code(&self, code: &str) -> Option<&'static Country> {
        COUNTRIES
            .iter()
            .find(|country| country.code.eq_ignore_ascii_case(code))
    }
}
