//! A lexer of Vietnamese date expressions.
//!
//! [`find_dates`] finds, with BYTE spans, the date forms of Vietnamese news
//! text, raw or tokenised ("11 / 2023"):
//!
//! | form | examples |
//! |---|---|
//! | [`DateForm::DayMonth`] | "Chiều 5/10", "Sáng 4-10", "ngày 29-3", "ngày 8.6", "hôm nay (5/10)", "ngày 29 tháng 3" |
//! | [`DateForm::DayMonthYear`] | "ngày 5/10/2023", "5-10-2023", "ngày 29 tháng 3 năm 2023" |
//! | [`DateForm::DayRange`] | "29.9-2.10", "27/4-30/4", "ngày 12 và 13/9", "12-13/9" (first day in `date`, last in `range_end`) |
//! | [`DateForm::MonthYear`] | "tháng 11/2022", "(tháng 2/2022)", "tháng 7-2021", "tháng 12 / 2024", "tháng 3 năm 2023", "11 / 2023" |
//! | [`DateForm::Month`] | "tháng 11" |
//! | [`DateForm::Year`] | "năm 2023", "Năm 2023 là…" |
//! | [`DateForm::Anniversary`] | "50 năm … (1973-2023)", "kỷ niệm … 1973 - 2023" (`date.year` = the later year, `founded` = the earlier) |
//! | [`DateForm::Period`] | "giai đoạn 2023-2025", "nhiệm kỳ 2025 - 2030" (`date.year` = first, `range_end` = last year) |
//!
//! Precision rules:
//! * A day/month without a year must be introduced: by a time-of-day or day
//!   word ("Sáng", "Chiều", "Tối", "Trưa", "Đêm", "ngày", "hôm nay"), a weekday
//!   ("thứ Năm,"), a preposition ("vào", "từ", "đến", "trước", "sau"…), or stand
//!   in parentheses ("(5/10)"). Bare "24/7", "1/3 dân số", "1.5", "thắng 3-1"
//!   are not dates. Ranges with slashes ("27/4-30/4") need no introduction.
//! * Day and month are validated with [`days_in_month`] (the year when given,
//!   else a leap year so that 29/2 stays possible).
//! * A bare year is never a date ("UNCLOS 1982", "Việt Nam 2024"): only "năm
//!   YYYY", a year after a month, or a year range. Years are 1800–2100.
//! * Numbers glued to a word or to a longer numeric chain are skipped
//!   ("COVID-19", "1.500.000", "Nghị định 11/2023/NĐ-CP", "192.168.1.1"), as are
//!   numbers followed by a unit ("1/3 dân số", "5.5-6.5%").
//! * Phone numbers ("( 84 ) 24 393 82413") have no date separators and never match.
//!
//! [`resolve_year`] implements the SPEC rule for a day/month without a year: it
//! belongs to the publication year, or to the year before when it falls after
//! the publication date.

use crate::gazetteer::fold_key;
use crate::record::{days_in_month, PartialDate};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The shape of a date expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateForm {
    /// "5/10", "ngày 29-3", "ngày 29 tháng 3".
    DayMonth,
    /// "5/10/2023", "ngày 29 tháng 3 năm 2023".
    DayMonthYear,
    /// "29.9-2.10", "12 và 13/9": `date` is the first day, `range_end` the last.
    DayRange,
    /// "tháng 11/2022", "tháng 3 năm 2023", "11 / 2023".
    MonthYear,
    /// "tháng 11" without a year.
    Month,
    /// "năm 2023".
    Year,
    /// A commemorated span "(1973-2023)": `date.year` is the anniversary year
    /// (the later one), `founded` the earlier.
    Anniversary,
    /// A period "giai đoạn 2023-2025": not an event date; `date.year` is the
    /// first year, `range_end` the last.
    Period,
}

/// The word that introduces a date ("Chiều 5/10"): lets the extractor prefer the lede's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CueWord {
    /// "Sáng", "sáng nay", "rạng sáng".
    Morning,
    /// "Trưa".
    Noon,
    /// "Chiều".
    Afternoon,
    /// "Tối".
    Evening,
    /// "Đêm".
    Night,
    /// "ngày".
    Day,
    /// "hôm nay", "hôm".
    Today,
    /// "hôm qua".
    Yesterday,
    /// "thứ Năm", "Chủ nhật".
    Weekday,
    /// "vào", "từ", "đến", "tới", "trước", "sau", "lúc"…
    Preposition,
}

impl CueWord {
    /// True for the words that open a news lede ("Chiều 5/10", "Sáng nay", "Ngày 4/10", "Hôm nay").
    pub fn is_time_of_day(self) -> bool {
        !matches!(self, CueWord::Preposition | CueWord::Weekday)
    }
}

/// The introducing word(s) of a date, with their BYTE span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateCue {
    /// Which word.
    pub word: CueWord,
    /// Byte offset of the cue ("Chiều" in "Chiều ngày 5/10").
    pub start: usize,
    /// Byte end of the cue.
    pub end: usize,
}

/// The parts of a date as far as the text gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DateParts {
    /// Day of month.
    pub day: Option<u8>,
    /// Month 1–12.
    pub month: Option<u8>,
    /// Year.
    pub year: Option<i32>,
}

/// One date expression found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateMention {
    /// Byte offset of the expression (without its cue word; "tháng"/"năm" included).
    pub start: usize,
    /// Byte end of the expression.
    pub end: usize,
    /// Its shape.
    pub form: DateForm,
    /// The date it points at (the first day of a range, the anniversary year).
    pub date: DateParts,
    /// The last day of a [`DateForm::DayRange`], the last year of a [`DateForm::Period`].
    pub range_end: Option<DateParts>,
    /// The earlier year of a [`DateForm::Anniversary`].
    pub founded: Option<i32>,
    /// The word that introduces it, when any.
    pub cue: Option<DateCue>,
}

impl DateMention {
    /// True for the forms that can date an event (not a [`DateForm::Period`]).
    pub fn is_event_date(&self) -> bool {
        self.form != DateForm::Period
    }

    /// The date as a [`PartialDate`] when the text gives its year.
    pub fn partial_date(&self) -> Option<PartialDate> {
        let year = self.date.year?;
        to_partial_date(year, self.date.month, self.date.day)
    }

    /// The date with its year: the text's, else [`resolve_year`] /
    /// [`resolve_month_year`] from the publication date.
    pub fn resolve(&self, published: Option<PartialDate>) -> Option<PartialDate> {
        if let Some(date) = self.partial_date() {
            return Some(date);
        }
        let month = self.date.month?;
        let year = match self.date.day {
            Some(day) => resolve_year(day, month, published)?,
            None => resolve_month_year(month, published)?,
        };
        to_partial_date(year, Some(month), self.date.day)
    }
}

fn to_partial_date(year: i32, month: Option<u8>, day: Option<u8>) -> Option<PartialDate> {
    match (month, day) {
        (Some(month), Some(day)) => PartialDate::ymd(year, month, day),
        (Some(month), None) => PartialDate::ym(year, month),
        _ => Some(PartialDate::year(year)),
    }
}

/// The year of a day/month the text gives without one (SPEC §2): the year of
/// `published`, or the year before when day/month falls after the publication
/// date. `None` without a publication date.
pub fn resolve_year(day: u8, month: u8, published: Option<PartialDate>) -> Option<i32> {
    let published = published?;
    let after = match (published.month, published.day) {
        (Some(published_month), Some(published_day)) => {
            (month, day) > (published_month, published_day)
        }
        (Some(published_month), None) => month > published_month,
        _ => false,
    };
    Some(if after {
        published.year - 1
    } else {
        published.year
    })
}

/// The year of a month the text gives without one: as [`resolve_year`], by month.
pub fn resolve_month_year(month: u8, published: Option<PartialDate>) -> Option<i32> {
    let published = published?;
    let after = published
        .month
        .is_some_and(|published_month| month > published_month);
    Some(if after {
        published.year - 1
    } else {
        published.year
    })
}

/// Bytes of context kept on each side of a number: every form's words
/// ("Chiều ngày", "kỷ niệm 50 năm", "giai đoạn") sit within it.
const CONTEXT_BYTES: usize = 64;

/// Every date expression in `text`, in order, non-overlapping.
///
/// Dates need digits, so only the stretches of text around numbers are
/// tokenised (merged windows cut at whitespace): the rest of an article is skipped.
pub fn find_dates(text: &str) -> Vec<DateMention> {
    let bytes = text.as_bytes();
    let mut windows: Vec<(usize, usize)> = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if !bytes[index].is_ascii_digit() {
            index += 1;
            continue;
        }
        let digits_start = index;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            index += 1;
        }
        let start = window_edge(text, digits_start.saturating_sub(CONTEXT_BYTES), false);
        let end = window_edge(text, (index + CONTEXT_BYTES).min(text.len()), true);
        match windows.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => windows.push((start, end)),
        }
    }
    let mut mentions = Vec::new();
    for (start, end) in windows {
        let Some(window) = text.get(start..end) else {
            continue;
        };
        for mut mention in find_dates_in(window) {
            mention.start += start;
            mention.end += start;
            if let Some(cue) = mention.cue.as_mut() {
                cue.start += start;
                cue.end += start;
            }
            mentions.push(mention);
        }
    }
    mentions
}

/// A whitespace (or text edge) near `index`: searching backwards for a window's
/// start, forwards for its end; always a char boundary.
fn window_edge(text: &str, index: usize, forwards: bool) -> usize {
    let bytes = text.as_bytes();
    let mut position = index.min(text.len());
    if forwards {
        while position < bytes.len() && !bytes[position].is_ascii_whitespace() {
            position += 1;
        }
    } else {
        while position > 0 && !bytes[position - 1].is_ascii_whitespace() {
            position -= 1;
        }
    }
    while !text.is_char_boundary(position) {
        position -= 1;
    }
    position
}

/// [`find_dates`] on one stretch of text.
fn find_dates_in(text: &str) -> Vec<DateMention> {
    let tokens = tokenize(text);
    let lexicon = lexicon();
    let scanner = Scanner {
        tokens: &tokens,
        lexicon,
    };
    let mut mentions = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        match scanner.parse_at(index) {
            Some((mention, next_index)) => {
                mentions.push(mention);
                index = next_index.max(index + 1);
            }
            None => index += 1,
        }
    }
    mentions
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    /// ASCII digits: value (saturated) and digit count.
    Number(u32, usize),
    /// A word, folded.
    Word(String),
    /// Any other single character.
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
    /// Whitespace separates it from the previous token.
    spaced: bool,
    /// A line break separates it from the previous token.
    new_line: bool,
}

fn is_word_char(character: char) -> bool {
    character.is_alphanumeric() || unicode_normalization::char::is_combining_mark(character)
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut spaced = false;
    let mut new_line = false;
    let mut characters = text.char_indices().peekable();
    while let Some((start, character)) = characters.next() {
        if character.is_whitespace() {
            spaced = true;
            new_line |= character == '\n' || character == '\r';
            continue;
        }
        let mut end = start + character.len_utf8();
        let kind = if is_word_char(character) {
            while let Some(&(next_start, next)) = characters.peek() {
                if !is_word_char(next) {
                    break;
                }
                end = next_start + next.len_utf8();
                characters.next();
            }
            let word = text.get(start..end).unwrap_or("");
            if word.bytes().all(|byte| byte.is_ascii_digit()) {
                let value = word.bytes().fold(0u32, |value, digit| {
                    value
                        .saturating_mul(10)
                        .saturating_add(u32::from(digit - b'0'))
                });
                TokenKind::Number(value, word.len())
            } else {
                TokenKind::Word(fold_key(word))
            }
        } else {
            TokenKind::Punct(character)
        };
        tokens.push(Token {
            kind,
            start,
            end,
            spaced,
            new_line,
        });
        spaced = false;
        new_line = false;
    }
    tokens
}

// ---------------------------------------------------------------------------
// Lexicon
// ---------------------------------------------------------------------------

struct Lexicon {
    day: String,
    month: String,
    year: String,
    today: String,
    yesterday: String,
    days_ago: String,
    weekday_marker: String,
    sunday_first: String,
    sunday_second: String,
    and: String,
    anniversary_first: String,
    anniversary_second: String,
    time_of_day: Vec<(String, CueWord)>,
    weekdays: HashSet<String>,
    prepositions: HashSet<String>,
    range_words: HashSet<String>,
    period_words: HashSet<String>,
    units: HashSet<String>,
    number_markers: HashSet<String>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let set = |words: &[&str]| {
            words
                .iter()
                .map(|word| fold_key(word))
                .collect::<HashSet<String>>()
        };
        Lexicon {
            day: fold_key("ngày"),
            month: fold_key("tháng"),
            year: fold_key("năm"),
            today: fold_key("nay"),
            yesterday: fold_key("qua"),
            days_ago: fold_key("hôm"),
            weekday_marker: fold_key("thứ"),
            sunday_first: fold_key("chủ"),
            sunday_second: fold_key("nhật"),
            and: fold_key("và"),
            anniversary_first: fold_key("kỷ"),
            anniversary_second: fold_key("niệm"),
            time_of_day: [
                ("sáng", CueWord::Morning),
                ("trưa", CueWord::Noon),
                ("chiều", CueWord::Afternoon),
                ("tối", CueWord::Evening),
                ("đêm", CueWord::Night),
            ]
            .into_iter()
            .map(|(word, cue)| (fold_key(word), cue))
            .collect(),
            weekdays: set(&["hai", "ba", "tư", "năm", "sáu", "bảy"]),
            prepositions: set(&[
                "vào", "từ", "đến", "tới", "trước", "sau", "lúc", "hết", "kể", "dịp", "hạn", "đầu",
                "cuối", "giữa", "trong", "tại", "nhằm",
            ]),
            range_words: set(&["đến", "tới"]),
            period_words: set(&[
                "đoạn", "kỳ", "hoạch", "lược", "khóa", "mùa", "từ", "khoá", "trình", "niên",
            ]),
            units: set(&[
                "triệu", "tỷ", "tỉ", "nghìn", "ngàn", "vạn", "km", "kg", "m", "cm", "mm", "ha",
                "tấn", "usd", "đồng", "người", "lần", "số", "giờ", "phút", "giây", "điểm", "độ",
                "lít", "dân", "h",
            ]),
            number_markers: set(&[
                "số", "no", "hiệu", "mã", "phiên", "bản", "điều", "khoản", "mục", "quyết",
            ]),
        }
    })
}

// ---------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------

const DATE_SEPARATORS: [char; 3] = ['/', '-', '.'];
const RANGE_DASHES: [char; 3] = ['-', '–', '—'];

struct Scanner<'a> {
    tokens: &'a [Token],
    lexicon: &'a Lexicon,
}

/// A parsed day/month shape before it becomes a mention.
struct Parsed {
    form: DateForm,
    date: DateParts,
    range_end: Option<DateParts>,
    founded: Option<i32>,
    first: usize,
    last: usize,
    needs_context: bool,
}

impl Scanner<'_> {
    fn token(&self, index: usize) -> Option<&Token> {
        self.tokens.get(index)
    }

    fn number(&self, index: usize) -> Option<(u32, usize)> {
        match self.token(index)?.kind {
            TokenKind::Number(value, digits) => Some((value, digits)),
            _ => None,
        }
    }

    fn day_or_month(&self, index: usize) -> Option<u8> {
        let (value, digits) = self.number(index)?;
        (digits <= 2 && (1..=31).contains(&value)).then(|| u8::try_from(value).ok())?
    }

    fn year(&self, index: usize) -> Option<i32> {
        let (value, digits) = self.number(index)?;
        (digits == 4 && (1800..=2100).contains(&value)).then(|| i32::try_from(value).ok())?
    }

    fn punct(&self, index: usize) -> Option<char> {
        match self.token(index)?.kind {
            TokenKind::Punct(character) => Some(character),
            _ => None,
        }
    }

    fn word(&self, index: usize) -> Option<&str> {
        match &self.token(index)?.kind {
            TokenKind::Word(word) => Some(word.as_str()),
            _ => None,
        }
    }

    fn is_word(&self, index: usize, expected: &str) -> bool {
        self.word(index) == Some(expected)
    }

    fn spaced(&self, index: usize) -> bool {
        self.token(index).is_none_or(|token| token.spaced)
    }

    /// A date separator at `index` ("/", "-", ".").
    fn separator(&self, index: usize) -> Option<char> {
        self.punct(index)
            .filter(|character| DATE_SEPARATORS.contains(character))
    }

    /// The number at `index` is glued to a preceding word or numeric chain.
    fn glued_before(&self, index: usize) -> bool {
        if self.spaced(index) || index == 0 {
            return false;
        }
        let Some(previous) = index
            .checked_sub(1)
            .and_then(|previous| self.token(previous))
        else {
            return false;
        };
        match previous.kind {
            TokenKind::Word(_) | TokenKind::Number(..) => true,
            TokenKind::Punct(character) if "-/.,:+–".contains(character) => {
                !previous.spaced
                    && index
                        .checked_sub(2)
                        .and_then(|before| self.token(before))
                        .is_some_and(|before| {
                            matches!(before.kind, TokenKind::Word(_) | TokenKind::Number(..))
                        })
            }
            _ => false,
        }
    }

    /// The expression ending at `last` continues as a longer numeric chain or
    /// carries a unit: not a date.
    fn blocked_after(&self, last: usize) -> bool {
        let next = last + 1;
        let Some(token) = self.token(next) else {
            return false;
        };
        match &token.kind {
            TokenKind::Punct('%') => true,
            TokenKind::Punct(character) if !token.spaced && "/.-:,".contains(*character) => {
                self.token(next + 1).is_some_and(|after| {
                    !after.spaced
                        && matches!(after.kind, TokenKind::Number(..) | TokenKind::Word(_))
                })
            }
            TokenKind::Word(word) => {
                !token.spaced || (!token.new_line && self.lexicon.units.contains(word))
            }
            TokenKind::Number(..) => !token.spaced,
            _ => false,
        }
    }

    /// The cue before the token at `first`, and whether the context introduces a date.
    fn cue_before(&self, first: usize) -> (Option<DateCue>, bool) {
        let mut index = first;
        let mut parenthesised = false;
        let step_back = |index: usize| index.checked_sub(1);
        let Some(mut previous) = step_back(index) else {
            return (None, false);
        };
        if self.token(index).is_some_and(|token| token.new_line) {
            return (None, false);
        }
        if self.punct(previous) == Some('(') {
            parenthesised = true;
            index = previous;
            let Some(before) = step_back(index) else {
                return (None, true);
            };
            previous = before;
        }
        if self.punct(previous) == Some(',') {
            // "thứ Năm, 5/10"
            index = previous;
            let Some(before) = step_back(index) else {
                return (None, parenthesised);
            };
            previous = before;
        }
        if self.token(index).is_some_and(|token| token.new_line) {
            return (None, parenthesised);
        }
        let lexicon = self.lexicon;
        let Some(word) = self.word(previous) else {
            return (None, parenthesised);
        };
        let span = |from: usize, to: usize, cue: CueWord| -> Option<DateCue> {
            Some(DateCue {
                word: cue,
                start: self.token(from)?.start,
                end: self.token(to)?.end,
            })
        };
        let time_of_day = |index: usize| -> Option<CueWord> {
            let word = self.word(index)?;
            lexicon
                .time_of_day
                .iter()
                .find(|(candidate, _)| candidate == word)
                .map(|(_, cue)| *cue)
        };
        if let Some(cue) = time_of_day(previous) {
            return (span(previous, previous, cue), true);
        }
        if word == lexicon.day || word == lexicon.days_ago {
            let own = if word == lexicon.day {
                CueWord::Day
            } else {
                CueWord::Today
            };
            if let Some(before) = step_back(previous) {
                if let Some(cue) = time_of_day(before) {
                    return (span(before, previous, cue), true);
                }
            }
            return (span(previous, previous, own), true);
        }
        if word == lexicon.today || word == lexicon.yesterday {
            let relative = if word == lexicon.today {
                CueWord::Today
            } else {
                CueWord::Yesterday
            };
            if let Some(before) = step_back(previous) {
                if let Some(cue) = time_of_day(before) {
                    return (span(before, previous, cue), true);
                }
                if self.is_word(before, &lexicon.days_ago) {
                    return (span(before, previous, relative), true);
                }
            }
            return (None, parenthesised);
        }
        if lexicon.weekdays.contains(word) {
            if let Some(before) = step_back(previous) {
                if self.is_word(before, &lexicon.weekday_marker) {
                    return (span(before, previous, CueWord::Weekday), true);
                }
            }
        }
        if word == lexicon.sunday_second {
            if let Some(before) = step_back(previous) {
                if self.is_word(before, &lexicon.sunday_first) {
                    return (span(before, previous, CueWord::Weekday), true);
                }
            }
        }
        if lexicon.prepositions.contains(word) {
            return (span(previous, previous, CueWord::Preposition), true);
        }
        (None, parenthesised)
    }

    /// Tries every form at `index`; returns the mention and the next index.
    fn parse_at(&self, index: usize) -> Option<(DateMention, usize)> {
        let lexicon = self.lexicon;
        if self.is_word(index, &lexicon.month) {
            return self.month_form(index);
        }
        if self.is_word(index, &lexicon.year) {
            return self.year_form(index);
        }
        self.number(index)?;
        if self.glued_before(index) {
            return None;
        }
        let parsed = self
            .year_range(index)
            .or_else(|| self.day_month_year(index))
            .or_else(|| self.day_month_range(index))
            .or_else(|| self.day_list_range(index))
            .or_else(|| self.day_month_words(index))
            .or_else(|| self.day_month(index))
            .or_else(|| self.month_year(index))?;
        if self.blocked_after(parsed.last) {
            return None;
        }
        let (cue, introduced) = self.cue_before(parsed.first);
        if parsed.needs_context && !introduced {
            return None;
        }
        let mention = DateMention {
            start: self.token(parsed.first)?.start,
            end: self.token(parsed.last)?.end,
            form: parsed.form,
            date: parsed.date,
            range_end: parsed.range_end,
            founded: parsed.founded,
            cue,
        };
        Some((mention, parsed.last + 1))
    }

    /// "tháng 11", "tháng 11/2022", "tháng 7-2021", "tháng 3 năm 2023".
    fn month_form(&self, index: usize) -> Option<(DateMention, usize)> {
        let month = self.day_or_month(index + 1).filter(|month| *month <= 12)?;
        let year_and_last = if self.separator(index + 2).is_some() {
            self.year(index + 3).map(|year| (year, index + 3))
        } else if self.is_word(index + 2, &self.lexicon.year) {
            self.year(index + 3).map(|year| (year, index + 3))
        } else {
            None
        };
        let (form, year, last) = match year_and_last {
            Some((year, last)) => (DateForm::MonthYear, Some(year), last),
            None => (DateForm::Month, None, index + 1),
        };
        if self.blocked_after(last) {
            return None;
        }
        let mention = DateMention {
            start: self.token(index)?.start,
            end: self.token(last)?.end,
            form,
            date: DateParts {
                day: None,
                month: Some(month),
                year,
            },
            range_end: None,
            founded: None,
            cue: None,
        };
        Some((mention, last + 1))
    }

    /// "năm 2023", "năm 2023-2025".
    fn year_form(&self, index: usize) -> Option<(DateMention, usize)> {
        let year = self.year(index + 1)?;
        let range_end = self
            .punct(index + 2)
            .filter(|dash| RANGE_DASHES.contains(dash))
            .and_then(|_| self.year(index + 3))
            .filter(|end_year| *end_year > year);
        let (form, last, range) = match range_end {
            Some(end_year) => (
                DateForm::Period,
                index + 3,
                Some(DateParts {
                    year: Some(end_year),
                    ..DateParts::default()
                }),
            ),
            None => (DateForm::Year, index + 1, None),
        };
        if self.blocked_after(last) {
            return None;
        }
        let mention = DateMention {
            start: self.token(index)?.start,
            end: self.token(last)?.end,
            form,
            date: DateParts {
                year: Some(year),
                ..DateParts::default()
            },
            range_end: range,
            founded: None,
            cue: None,
        };
        Some((mention, last + 1))
    }

    /// "1973-2023", "(1973 - 2023)", "2023-2025".
    fn year_range(&self, index: usize) -> Option<Parsed> {
        let first_year = self.year(index)?;
        self.punct(index + 1)
            .filter(|dash| RANGE_DASHES.contains(dash))?;
        let last_year = self.year(index + 2).filter(|year| *year > first_year)?;
        let anniversary = self.is_anniversary(index, first_year, last_year);
        let (form, date, range_end, founded) = if anniversary {
            (
                DateForm::Anniversary,
                DateParts {
                    year: Some(last_year),
                    ..DateParts::default()
                },
                None,
                Some(first_year),
            )
        } else {
            (
                DateForm::Period,
                DateParts {
                    year: Some(first_year),
                    ..DateParts::default()
                },
                Some(DateParts {
                    year: Some(last_year),
                    ..DateParts::default()
                }),
                None,
            )
        };
        Some(Parsed {
            form,
            date,
            range_end,
            founded,
            first: index,
            last: index + 2,
            needs_context: false,
        })
    }

    /// A year range commemorates when the sentence counts its years ("50 năm …
    /// (1973-2023)") or says "kỷ niệm"; a period word before it ("giai đoạn",
    /// "nhiệm kỳ", "kế hoạch") makes it a period; otherwise a parenthesised span
    /// of a round number of years (10, 15, 20…) is an anniversary.
    fn is_anniversary(&self, index: usize, first_year: i32, last_year: i32) -> bool {
        let span = last_year - first_year;
        let lexicon = self.lexicon;
        let mut parenthesised = false;
        let mut previous_word_index = index.checked_sub(1);
        if let Some(previous) = previous_word_index {
            if self.punct(previous) == Some('(') {
                parenthesised = true;
                previous_word_index = previous.checked_sub(1);
            }
        }
        if let Some(word) = previous_word_index.and_then(|previous| self.word(previous)) {
            if lexicon.period_words.contains(word) {
                return false;
            }
        }
        let window_start = index.saturating_sub(25);
        for back in (window_start..index).rev() {
            let Some(token) = self.token(back) else {
                break;
            };
            if matches!(token.kind, TokenKind::Punct('.' | '!' | '?' | ';')) || token.new_line {
                break;
            }
            if self.is_word(back + 1, &lexicon.year) {
                if let Some((count, _)) = self.number(back) {
                    if i64::from(count) == i64::from(span) {
                        return true;
                    }
                }
            }
            if self.is_word(back, &lexicon.anniversary_first)
                && self.is_word(back + 1, &lexicon.anniversary_second)
            {
                return true;
            }
        }
        parenthesised && span >= 10 && span % 5 == 0
    }

    /// "5/10/2023", "5-10-2023", "5.10.2023".
    fn day_month_year(&self, index: usize) -> Option<Parsed> {
        let day = self.day_or_month(index)?;
        let first_separator = self.separator(index + 1)?;
        let month = self.day_or_month(index + 2)?;
        let second_separator = self.separator(index + 3)?;
        let compatible = first_separator == second_separator
            || (first_separator != '.' && second_separator != '.');
        if !compatible {
            return None;
        }
        let year = self.year(index + 4)?;
        valid_day(year, month, day)?;
        Some(Parsed {
            form: DateForm::DayMonthYear,
            date: DateParts {
                day: Some(day),
                month: Some(month),
                year: Some(year),
            },
            range_end: None,
            founded: None,
            first: index,
            last: index + 4,
            needs_context: false,
        })
    }

    /// "29.9-2.10", "27/4-30/4", "27/4 - 30/4/2023", "27/4 đến 30/4".
    fn day_month_range(&self, index: usize) -> Option<Parsed> {
        let first_day = self.day_or_month(index)?;
        let separator = self
            .separator(index + 1)
            .filter(|separator| *separator != '-')?;
        let first_month = self.day_or_month(index + 2)?;
        let joined = self
            .punct(index + 3)
            .is_some_and(|dash| RANGE_DASHES.contains(&dash))
            || self
                .word(index + 3)
                .is_some_and(|word| self.lexicon.range_words.contains(word));
        if !joined {
            return None;
        }
        let last_day = self.day_or_month(index + 4)?;
        self.separator(index + 5)
            .filter(|second| *second == separator)?;
        let last_month = self.day_or_month(index + 6)?;
        let (year, last) = match self
            .separator(index + 7)
            .filter(|second| *second == separator)
        {
            Some(_) => (Some(self.year(index + 8)?), index + 8),
            None => (None, index + 6),
        };
        let check_year = year.unwrap_or(2024);
        valid_day(check_year, first_month, first_day)?;
        valid_day(check_year, last_month, last_day)?;
        let ordered = (last_month, last_day) > (first_month, first_day)
            || (first_month == 12 && last_month == 1);
        if !ordered {
            return None;
        }
        Some(Parsed {
            form: DateForm::DayRange,
            date: DateParts {
                day: Some(first_day),
                month: Some(first_month),
                year,
            },
            range_end: Some(DateParts {
                day: Some(last_day),
                month: Some(last_month),
                year,
            }),
            founded: None,
            first: index,
            last,
            needs_context: separator == '.' && year.is_none(),
        })
    }

    /// "12-13/9", "12 và 13/9", "12, 13/9", "12 đến 14/9/2023".
    fn day_list_range(&self, index: usize) -> Option<Parsed> {
        let first_day = self.day_or_month(index)?;
        let joined_by_word = self.is_word(index + 1, &self.lexicon.and)
            || self
                .word(index + 1)
                .is_some_and(|word| self.lexicon.range_words.contains(word));
        let joined_by_mark = self
            .punct(index + 1)
            .is_some_and(|mark| RANGE_DASHES.contains(&mark) || mark == ',');
        if !joined_by_word && !joined_by_mark {
            return None;
        }
        let last_day = self.day_or_month(index + 2)?;
        let separator = self.separator(index + 3)?;
        if separator == '-' && !joined_by_word {
            return None;
        }
        let month = self.day_or_month(index + 4).filter(|month| *month <= 12)?;
        let (year, last) = match self
            .separator(index + 5)
            .filter(|second| *second == separator)
        {
            Some(_) => (Some(self.year(index + 6)?), index + 6),
            None => (None, index + 4),
        };
        if last_day <= first_day {
            return None;
        }
        let check_year = year.unwrap_or(2024);
        valid_day(check_year, month, first_day)?;
        valid_day(check_year, month, last_day)?;
        Some(Parsed {
            form: DateForm::DayRange,
            date: DateParts {
                day: Some(first_day),
                month: Some(month),
                year,
            },
            range_end: Some(DateParts {
                day: Some(last_day),
                month: Some(month),
                year,
            }),
            founded: None,
            first: index,
            last,
            needs_context: year.is_none(),
        })
    }

    /// "29 tháng 3", "29 tháng 3 năm 2023" (introduced, usually by "ngày").
    fn day_month_words(&self, index: usize) -> Option<Parsed> {
        let day = self.day_or_month(index)?;
        if !self.is_word(index + 1, &self.lexicon.month) {
            return None;
        }
        let month = self.day_or_month(index + 2).filter(|month| *month <= 12)?;
        let year = if self.is_word(index + 3, &self.lexicon.year) {
            self.year(index + 4)
        } else {
            None
        };
        valid_day(year.unwrap_or(2024), month, day)?;
        let (form, last) = match year {
            Some(_) => (DateForm::DayMonthYear, index + 4),
            None => (DateForm::DayMonth, index + 2),
        };
        Some(Parsed {
            form,
            date: DateParts {
                day: Some(day),
                month: Some(month),
                year,
            },
            range_end: None,
            founded: None,
            first: index,
            last,
            needs_context: true,
        })
    }

    /// "5/10", "4-10", "8.6" (introduced).
    fn day_month(&self, index: usize) -> Option<Parsed> {
        let day = self.day_or_month(index)?;
        self.separator(index + 1)?;
        let month = self.day_or_month(index + 2).filter(|month| *month <= 12)?;
        valid_day(2024, month, day)?;
        Some(Parsed {
            form: DateForm::DayMonth,
            date: DateParts {
                day: Some(day),
                month: Some(month),
                year: None,
            },
            range_end: None,
            founded: None,
            first: index,
            last: index + 2,
            needs_context: true,
        })
    }

    /// "11/2023", "11 / 2023", "7-2021" without "tháng".
    fn month_year(&self, index: usize) -> Option<Parsed> {
        let month = self.day_or_month(index).filter(|month| *month <= 12)?;
        self.separator(index + 1)?;
        let year = self.year(index + 2)?;
        let after_number_marker = index
            .checked_sub(1)
            .and_then(|previous| self.word(previous))
            .is_some_and(|word| self.lexicon.number_markers.contains(word));
        if after_number_marker {
            return None;
        }
        Some(Parsed {
            form: DateForm::MonthYear,
            date: DateParts {
                day: None,
                month: Some(month),
                year: Some(year),
            },
            range_end: None,
            founded: None,
            first: index,
            last: index + 2,
            needs_context: false,
        })
    }
}

/// `Some(())` when the day exists in that month.
fn valid_day(year: i32, month: u8, day: u8) -> Option<()> {
    (1..=days_in_month(year, month))
        .contains(&day)
        .then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(text: &str) -> Vec<(String, DateForm, DateParts)> {
        find_dates(text)
            .into_iter()
            .map(|mention| {
                (
                    text[mention.start..mention.end].to_string(),
                    mention.form,
                    mention.date,
                )
            })
            .collect()
    }

    fn one(text: &str) -> DateMention {
        let found = find_dates(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        found[0]
    }

    fn parts(day: Option<u8>, month: Option<u8>, year: Option<i32>) -> DateParts {
        DateParts { day, month, year }
    }

    #[test]
    fn lede_day_month_with_cue() {
        for (text, day, month, cue) in [
            ("Chiều 5/10, tại trụ sở", 5, 10, CueWord::Afternoon),
            ("Sáng 4-10, Đại hội", 4, 10, CueWord::Morning),
            ("Tối 12/3 tại Hà Nội", 12, 3, CueWord::Evening),
            ("Trưa 1/6", 1, 6, CueWord::Noon),
            ("Đêm 30/4", 30, 4, CueWord::Night),
            ("ngày 29-3 vừa qua", 29, 3, CueWord::Day),
            ("Ngày 8.6, Bộ trưởng", 8, 6, CueWord::Day),
            ("hôm nay (5/10)", 5, 10, CueWord::Today),
            ("Chiều ngày 29-3", 29, 3, CueWord::Afternoon),
            ("Sáng nay (4/10)", 4, 10, CueWord::Morning),
            ("Thứ Năm, 5/10", 5, 10, CueWord::Weekday),
            ("Chủ nhật (8/9)", 8, 9, CueWord::Weekday),
            ("vào 20/11 tới", 20, 11, CueWord::Preposition),
        ] {
            let mention = one(text);
            assert_eq!(mention.form, DateForm::DayMonth, "{text}");
            assert_eq!(mention.date, parts(Some(day), Some(month), None), "{text}");
            assert_eq!(mention.cue.map(|cue| cue.word), Some(cue), "{text}");
        }
    }

    #[test]
    fn cue_spans() {
        let text = "Chiều ngày 29-3, hai bên";
        let mention = one(text);
        let cue = mention.cue.unwrap();
        assert_eq!(&text[cue.start..cue.end], "Chiều ngày");
        assert_eq!(&text[mention.start..mention.end], "29-3");
        assert!(cue.word.is_time_of_day());
        assert!(!CueWord::Preposition.is_time_of_day());
    }

    #[test]
    fn parenthesised_day_month_needs_no_word() {
        let mention = one("Hội nghị (5/10) đã");
        assert_eq!(mention.date, parts(Some(5), Some(10), None));
        assert_eq!(mention.cue, None);
    }

    #[test]
    fn full_dates() {
        assert_eq!(
            one("ngày 5/10/2023").date,
            parts(Some(5), Some(10), Some(2023))
        );
        assert_eq!(
            one("ký 5-10-2023 tại").date,
            parts(Some(5), Some(10), Some(2023))
        );
        assert_eq!(
            one("ký 5.10.2023 tại").date,
            parts(Some(5), Some(10), Some(2023))
        );
        assert_eq!(
            one("5 / 10 / 2023").date,
            parts(Some(5), Some(10), Some(2023))
        );
        let mention = one("ngày 29 tháng 3 năm 2023");
        assert_eq!(mention.form, DateForm::DayMonthYear);
        assert_eq!(mention.date, parts(Some(29), Some(3), Some(2023)));
        let mention = one("Ngày 29 tháng 3, hai bên");
        assert_eq!(mention.form, DateForm::DayMonth);
        assert_eq!(mention.date, parts(Some(29), Some(3), None));
        assert_eq!(
            one("ngày 29/2/2024").date,
            parts(Some(29), Some(2), Some(2024))
        );
        assert!(find_dates("ngày 29/2/2023").is_empty());
    }

    #[test]
    fn ranges_keep_the_first_day() {
        for (text, first, last) in [
            ("từ ngày 29.9-2.10", (29, 9), (2, 10)),
            ("27/4-30/4", (27, 4), (30, 4)),
            ("diễn ra 27/4 - 30/4", (27, 4), (30, 4)),
            ("ngày 12 và 13/9", (12, 9), (13, 9)),
            ("ngày 12-13/9", (12, 9), (13, 9)),
            ("trong hai ngày 12, 13/9", (12, 9), (13, 9)),
            ("từ ngày 12 đến 14/9", (12, 9), (14, 9)),
            ("30/12-2/1", (30, 12), (2, 1)),
        ] {
            let mention = one(text);
            assert_eq!(mention.form, DateForm::DayRange, "{text}");
            assert_eq!(
                mention.date,
                parts(Some(first.0), Some(first.1), None),
                "{text}"
            );
            assert_eq!(
                mention.range_end,
                Some(parts(Some(last.0), Some(last.1), None)),
                "{text}"
            );
        }
        let mention = one("27/4-30/4/2023");
        assert_eq!(mention.date.year, Some(2023));
    }

    #[test]
    fn month_year_forms() {
        for text in [
            "tháng 11/2022",
            "(tháng 11/2022)",
            "tháng 11-2022",
            "tháng 11 / 2022",
            "tháng 11 năm 2022",
            "vào 11 / 2022",
            "Tháng 11/2022",
        ] {
            let mention = one(text);
            assert_eq!(mention.form, DateForm::MonthYear, "{text}");
            assert_eq!(mention.date, parts(None, Some(11), Some(2022)), "{text}");
        }
        let text = "Việt Nam vào tháng 7-2021.";
        let mention = one(text);
        assert_eq!(&text[mention.start..mention.end], "tháng 7-2021");
        let mention = one("vào tháng 11 tới");
        assert_eq!(mention.form, DateForm::Month);
        assert_eq!(mention.date, parts(None, Some(11), None));
        assert!(find_dates("tháng 13/2022").is_empty());
    }

    #[test]
    fn years() {
        let mention = one("Năm 2023 là một năm có ý nghĩa");
        assert_eq!(mention.form, DateForm::Year);
        assert_eq!(mention.date.year, Some(2023));
        assert_eq!(one("ký năm 2017, cùng").date.year, Some(2017));
        assert!(find_dates("Triển lãm Quốc phòng Quốc tế Việt Nam 2024").is_empty());
        assert!(find_dates("Công ước (UNCLOS) 1982 và UNCLOS 1982").is_empty());
        assert!(find_dates("năm nay, năm ngoái, 50 năm, năm 12345").is_empty());
    }

    #[test]
    fn anniversaries_and_periods() {
        let text = "kỷ niệm 50 năm thiết lập quan hệ ngoại giao (1973-2023), quan hệ";
        let mention = one(text);
        assert_eq!(mention.form, DateForm::Anniversary);
        assert_eq!(mention.date.year, Some(2023));
        assert_eq!(mention.founded, Some(1973));
        assert_eq!(&text[mention.start..mention.end], "1973-2023");

        let mention = one("hai nước đang kỷ niệm 30 năm quan hệ 1993 - 2023");
        assert_eq!(mention.form, DateForm::Anniversary);
        assert_eq!(
            one("quan hệ (1992-2022) tốt đẹp").form,
            DateForm::Anniversary
        );

        for (text, first_year) in [
            ("Kế hoạch hợp tác giai đoạn 2023-2025", 2023),
            ("nhiệm kỳ 2025 - 2030", 2025),
            ("2023-2025", 2023),
            ("năm 2023-2025", 2023),
        ] {
            let mention = one(text);
            assert_eq!(mention.form, DateForm::Period, "{text}");
            assert_eq!(mention.date.year, Some(first_year), "{text}");
            assert!(!mention.is_event_date());
            assert!(mention.range_end.is_some());
        }
        let mention = one("giai đoạn (2021-2031)");
        assert_eq!(mention.form, DateForm::Period);
    }

    #[test]
    fn false_positives() {
        for text in [
            "đại dịch COVID-19 đã tác động",
            "Đường dây nóng : ( 84 ) 24 393 82413",
            "bão số 11 (MATMO)",
            "tăng 1.5 lần",
            "giá 3.5 triệu đồng",
            "thắng 3-1 trước",
            "phục vụ 24/7",
            "chiếm 1/3 dân số",
            "ADMM+ và ADMM +",
            "Nghị định số 11/2023/NĐ-CP",
            "số 11/2023",
            "Công nghiệp 4.0",
            "tăng 5.5-6.5%",
            "1.500.000 người",
            "192.168.1.1",
            "ngày 31/4",
            "ngày 32/1",
            "ngày 0/5",
            "ngày 5/10km",
            "MiG-21 và Su-30",
            "tỷ số 2-2",
            "lúc 14h30",
        ] {
            assert!(
                find_dates(text).is_empty(),
                "{text}: {:?}",
                find_dates(text)
            );
        }
    }

    #[test]
    fn dev_corpus_sentences() {
        let text = "Chiều 5/10, tại trụ sở Bộ Quốc phòng (Hà Nội), ... lần thứ 13 (tháng 11/2022), đồng thời";
        let found = dates(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "5/10");
        assert_eq!(found[1].0, "tháng 11/2022");
        let text = "Kế hoạch hợp tác giai đoạn 2023-2025 (tháng 11/2022).";
        let forms: Vec<DateForm> = dates(text).into_iter().map(|(_, form, _)| form).collect();
        assert_eq!(forms, vec![DateForm::Period, DateForm::MonthYear]);
        let text = "Sáng 4-10, Đại hội đại biểu Đảng bộ Công an Trung ương lần thứ VIII, nhiệm kỳ 2025 - 2030 đã khai mạc";
        let forms: Vec<DateForm> = dates(text).into_iter().map(|(_, form, _)| form).collect();
        assert_eq!(forms, vec![DateForm::DayMonth, DateForm::Period]);
        let text = "vào tháng 11 / 2023 . ( ký tháng 4 / 2018 ) . tháng 1 / 2024 vừa qua";
        let years: Vec<Option<i32>> = dates(text)
            .into_iter()
            .map(|(_, _, date)| date.year)
            .collect();
        assert_eq!(years, vec![Some(2023), Some(2018), Some(2024)]);
    }

    #[test]
    fn nfd_and_case() {
        let text = "CHIE\u{302}\u{300}U 5/10";
        assert_eq!(one(text).cue.map(|cue| cue.word), Some(CueWord::Afternoon));
        assert_eq!(one("NGÀY 5/10").date, parts(Some(5), Some(10), None));
    }

    #[test]
    fn resolve_year_rule() {
        let published = "2023-10-06".parse::<PartialDate>().ok();
        assert_eq!(resolve_year(5, 10, published), Some(2023));
        assert_eq!(resolve_year(6, 10, published), Some(2023));
        assert_eq!(resolve_year(7, 10, published), Some(2022));
        assert_eq!(resolve_year(29, 12, published), Some(2022));
        assert_eq!(resolve_year(1, 1, published), Some(2023));
        assert_eq!(resolve_year(5, 10, None), None);
        let month_only = "2023-10".parse::<PartialDate>().ok();
        assert_eq!(resolve_year(31, 10, month_only), Some(2023));
        assert_eq!(resolve_year(1, 11, month_only), Some(2022));
        assert_eq!(
            resolve_year(1, 11, Some(PartialDate::year(2023))),
            Some(2023)
        );
        assert_eq!(resolve_month_year(11, published), Some(2022));
        assert_eq!(resolve_month_year(10, published), Some(2023));
    }

    #[test]
    fn mention_resolution() {
        let published = "2023-10-06".parse::<PartialDate>().ok();
        let mention = one("Chiều 5/10, tại");
        assert_eq!(mention.partial_date(), None);
        assert_eq!(
            mention.resolve(published).map(|date| date.to_string()),
            Some("2023-10-05".to_string())
        );
        let mention = one("ngày 29/2");
        assert_eq!(mention.resolve("2023-05-01".parse().ok()), None);
        assert_eq!(
            mention
                .resolve("2024-05-01".parse().ok())
                .map(|date| date.to_string()),
            Some("2024-02-29".to_string())
        );
        assert_eq!(
            one("tháng 11/2022")
                .partial_date()
                .map(|date| date.to_string()),
            Some("2022-11".to_string())
        );
        assert_eq!(
            one("năm 2023").partial_date().map(|date| date.to_string()),
            Some("2023".to_string())
        );
        assert_eq!(
            one("(1973-2023)")
                .partial_date()
                .map(|date| date.to_string()),
            Some("2023".to_string())
        );
        assert_eq!(
            one("vào tháng 12")
                .resolve(published)
                .map(|date| date.to_string()),
            Some("2022-12".to_string())
        );
    }

    #[test]
    fn several_dates_in_order() {
        let text = "Sáng 4/10 và chiều 5/10, năm 2023; ký ngày 1/9/2022";
        let found = dates(text);
        let spans: Vec<&str> = found.iter().map(|(span, _, _)| span.as_str()).collect();
        assert_eq!(spans, vec!["4/10", "5/10", "năm 2023", "1/9/2022"]);
    }

    #[test]
    fn empty_and_odd_input() {
        assert!(find_dates("").is_empty());
        assert!(find_dates("(").is_empty());
        assert!(find_dates("ngày").is_empty());
        assert!(find_dates("ngày 5/").is_empty());
        assert!(find_dates("tháng").is_empty());
        assert!(find_dates("năm").is_empty());
        assert!(find_dates("99999999999999999999/12").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_spans_are_char_boundaries(text in "\\PC{0,60}") {
            for mention in find_dates(&text) {
                proptest::prop_assert!(text.is_char_boundary(mention.start));
                proptest::prop_assert!(text.is_char_boundary(mention.end));
                proptest::prop_assert!(mention.start < mention.end);
                if let Some(cue) = mention.cue {
                    proptest::prop_assert!(text.is_char_boundary(cue.start) && text.is_char_boundary(cue.end));
                }
            }
        }

        #[test]
        fn date_like_text(text in "(ngày |Chiều |tháng |năm |\\(|\\)|[0-9]{1,4}|/|-|\\.|,| |và |–){0,14}") {
            let mut previous_end = 0;
            for mention in find_dates(&text) {
                proptest::prop_assert!(mention.start >= previous_end);
                previous_end = mention.end;
                if let (Some(day), Some(month)) = (mention.date.day, mention.date.month) {
                    proptest::prop_assert!((1..=12).contains(&month));
                    proptest::prop_assert!((1..=days_in_month(mention.date.year.unwrap_or(2024), month)).contains(&day));
                }
            }
        }
    }
}
