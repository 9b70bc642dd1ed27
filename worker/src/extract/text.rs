//! Text utilities of the extractor: a lower-cased view with the same byte
//! offsets, a phrase matcher on word boundaries, sentence spans.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// The cleaned text and a lower-cased copy whose byte offsets are the same.
#[derive(Debug)]
pub struct TextView<'a> {
    /// The cleaned text.
    pub original: &'a str,
    /// Lower case, character by character where the length is kept.
    pub lower: String,
}

impl<'a> TextView<'a> {
    /// Builds the view.
    pub fn new(original: &'a str) -> Self {
        TextView {
            original,
            lower: crate::normalize::lowercase_keeping_offsets(original),
        }
    }

    /// The view with its lower case already computed (by the cleaner); computed
    /// again when `lower` does not have the same length.
    pub fn with_lower(original: &'a str, lower: String) -> Self {
        if lower.len() != original.len() {
            return TextView::new(original);
        }
        TextView { original, lower }
    }
}

/// Finds phrases (given in lower case) on word boundaries of a [`TextView`]
/// (the reference semantics of [`PhraseGroups`], one list at a time).
#[cfg(test)]
#[derive(Debug)]
pub struct PhraseMatcher<T> {
    automaton: Option<AhoCorasick>,
    values: Vec<T>,
    acronyms: Vec<bool>,
}

#[cfg(test)]
impl<T: Copy> PhraseMatcher<T> {
    /// Compiles the phrases once.
    pub fn new<'p>(phrases: impl IntoIterator<Item = (&'p str, T)>) -> Self {
        let (patterns, values): (Vec<String>, Vec<T>) = phrases
            .into_iter()
            .map(|(phrase, value)| (crate::normalize::normalize(phrase).to_lowercase(), value))
            .unzip();
        let acronyms = patterns.iter().map(|pattern| is_acronym(pattern)).collect();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok();
        PhraseMatcher {
            automaton,
            values,
            acronyms,
        }
    }

    /// Every non-overlapping match on word boundaries: (start, end, value).
    pub fn find(&self, view: &TextView) -> Vec<(usize, usize, T)> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        automaton
            .find_iter(&view.lower)
            .filter(|found| is_word_boundary(&view.lower, found.start(), found.end()))
            .filter(|found| {
                // Acronyms (DOC, COC, ADMM, GGHB) only as written in capitals.
                !self
                    .acronyms
                    .get(found.pattern().as_usize())
                    .copied()
                    .unwrap_or(false)
                    || view
                        .original
                        .get(found.start()..found.end())
                        .is_some_and(|written| written.chars().all(|c| !c.is_lowercase()))
            })
            .filter_map(|found| {
                self.values
                    .get(found.pattern().as_usize())
                    .map(|value| (found.start(), found.end(), *value))
            })
            .collect()
    }
}

/// Several phrase lists searched in one pass: every list keeps the
/// leftmost-longest, word-boundary semantics of [`PhraseMatcher`] on its own
/// (a phrase of one list never hides a phrase of another).
#[derive(Debug)]
pub struct PhraseGroups<T> {
    automaton: Option<AhoCorasick>,
    values: Vec<T>,
    groups: Vec<usize>,
    acronyms: Vec<bool>,
    group_count: usize,
    /// Groups whose every occurrence is kept, inside words and overlapping too.
    substring_groups: Vec<bool>,
}

impl<T: Copy> PhraseGroups<T> {
    /// [`PhraseGroups::new`], with the groups listed in `substring_groups` kept
    /// as plain substrings (every occurrence, as `str::contains` would see them).
    pub fn with_substring_groups(lists: Vec<Vec<(&str, T)>>, substring_groups: &[usize]) -> Self {
        let mut groups = PhraseGroups::new(lists);
        for &group in substring_groups {
            if let Some(flag) = groups.substring_groups.get_mut(group) {
                *flag = true;
            }
        }
        groups
    }

    /// Compiles the lists once; list `i` of `lists` is group `i` of [`PhraseGroups::find`].
    pub fn new(lists: Vec<Vec<(&str, T)>>) -> Self {
        let group_count = lists.len();
        let mut patterns = Vec::new();
        let mut values = Vec::new();
        let mut groups = Vec::new();
        for (group, list) in lists.into_iter().enumerate() {
            for (phrase, value) in list {
                patterns.push(crate::normalize::normalize(phrase).to_lowercase());
                values.push(value);
                groups.push(group);
            }
        }
        let acronyms = patterns.iter().map(|pattern| is_acronym(pattern)).collect();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&patterns)
            .ok();
        PhraseGroups {
            automaton,
            values,
            groups,
            acronyms,
            group_count,
            substring_groups: vec![false; group_count],
        }
    }

    /// Per group, every non-overlapping match on word boundaries: (start, end, value).
    pub fn find(&self, view: &TextView) -> Vec<Vec<(usize, usize, T)>> {
        let mut found: Vec<Vec<(usize, usize, T)>> = vec![Vec::new(); self.group_count];
        let Some(automaton) = &self.automaton else {
            return found;
        };
        // Every occurrence, then per group the leftmost-longest selection.
        let mut all: Vec<(usize, usize, usize)> = automaton
            .find_overlapping_iter(&view.lower)
            .map(|hit| (hit.start(), hit.end(), hit.pattern().as_usize()))
            .collect();
        all.sort_unstable_by(|left, right| left.0.cmp(&right.0).then(right.1.cmp(&left.1)));
        let mut covered_up_to = vec![0usize; self.group_count];
        for (start, end, pattern) in all {
            let Some(&group) = self.groups.get(pattern) else {
                continue;
            };
            if self.substring_groups.get(group).copied().unwrap_or(false) {
                if let (Some(value), Some(list)) = (self.values.get(pattern), found.get_mut(group))
                {
                    list.push((start, end, *value));
                }
                continue;
            }
            let Some(covered) = covered_up_to.get_mut(group) else {
                continue;
            };
            if start < *covered {
                continue;
            }
            *covered = end;
            if !is_word_boundary(&view.lower, start, end) {
                continue;
            }
            let acronym = self.acronyms.get(pattern).copied().unwrap_or(false);
            if acronym
                && !view
                    .original
                    .get(start..end)
                    .is_some_and(|written| written.chars().all(|c| !c.is_lowercase()))
            {
                continue;
            }
            if let (Some(value), Some(list)) = (self.values.get(pattern), found.get_mut(group)) {
                list.push((start, end, *value));
            }
        }
        found
    }
}

/// Short all-letter patterns (DOC, COC, ADMM, GGHB) match only as written in capitals.
fn is_acronym(pattern: &str) -> bool {
    pattern.len() <= 5 && pattern.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// True when `start..end` of `text` is not inside a longer word.
pub fn is_word_boundary(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).and_then(|head| head.chars().next_back());
    let after = text.get(end..).and_then(|tail| tail.chars().next());
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// True when `haystack` contains `word` as a whole word.
pub fn has_word(haystack: &str, word: &str) -> bool {
    let mut from = 0;
    while let Some(offset) = haystack.get(from..).and_then(|rest| rest.find(word)) {
        let start = from + offset;
        if is_word_boundary(haystack, start, start + word.len()) {
            return true;
        }
        from = start + word.len();
    }
    false
}

/// Sentence spans: lines, split further after `.`, `!`, `?` before a capital.
#[derive(Debug)]
pub struct Sentences {
    spans: Vec<(usize, usize)>,
    first_lines_end: usize,
}

impl Sentences {
    /// Splits `text`.
    pub fn split(text: &str) -> Self {
        let mut spans = Vec::new();
        let mut line_start = 0;
        let mut lines_seen = 0;
        let mut first_lines_end = text.len();
        for line in text.split('\n') {
            let line_end = line_start + line.len();
            let mut sentence_start = line_start;
            // The stops are ASCII: a byte scan finds them.
            let stops = line
                .bytes()
                .enumerate()
                .filter(|(_, byte)| matches!(byte, b'.' | b'!' | b'?'));
            for (offset, _) in stops {
                let rest = &line[offset + 1..];
                let next_visible = rest.trim_start().chars().next();
                if rest.starts_with(' ')
                    && next_visible.is_some_and(|c| c.is_uppercase() || c == '“' || c == '"')
                {
                    let end = line_start + offset + 1;
                    spans.push((sentence_start, end));
                    sentence_start = end;
                }
            }
            if sentence_start < line_end {
                spans.push((sentence_start, line_end));
            }
            lines_seen += 1;
            if lines_seen == 2 {
                first_lines_end = line_end;
            }
            line_start = line_end + 1;
        }
        Sentences {
            spans,
            first_lines_end,
        }
    }

    /// The sentence containing `position`.
    pub fn containing(&self, position: usize) -> (usize, usize) {
        let index = self.spans.partition_point(|span| span.1 < position);
        self.spans
            .get(index)
            .copied()
            .filter(|span| span.0 <= position)
            .unwrap_or((position, position))
    }

    /// The end of the headline and lede (the first two lines).
    pub fn lede_end(&self) -> usize {
        self.first_lines_end
    }

    /// The end of the `count`-th sentence from the one containing `position`.
    pub fn nth_end_after(&self, position: usize, count: usize) -> usize {
        let index = self.spans.partition_point(|span| span.1 < position);
        self.spans
            .get((index + count.max(1) - 1).min(self.spans.len().saturating_sub(1)))
            .map_or(position, |span| span.1)
    }
}

/// Where the phrases of a fixed list occur (substrings, overlapping), for
/// "does this sentence contain one of them" in O(log n).
#[derive(Debug, Default)]
pub struct MarkerSpans {
    spans: Vec<(usize, usize)>,
}

impl MarkerSpans {
    /// The spans given (any order).
    pub fn from_spans(mut spans: Vec<(usize, usize)>) -> Self {
        spans.sort_unstable();
        MarkerSpans { spans }
    }

    /// True when a phrase lies wholly inside `start..end`.
    pub fn any_within(&self, start: usize, end: usize) -> bool {
        let first = self.spans.partition_point(|span| span.0 < start);
        self.spans[first..]
            .iter()
            .take_while(|span| span.0 < end)
            .any(|span| span.1 <= end)
    }
}

/// An automaton of `phrases` for [`MarkerSpans`] (all occurrences).
pub fn marker_automaton(phrases: &[&str]) -> Option<AhoCorasick> {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(phrases)
        .ok()
}

/// True when the phrase at `start` sits inside an institution's name
/// ("Học viện Khoa học Quân sự", "Ủy ban Quốc gia … tìm kiếm cứu nạn").
pub fn inside_institution_name(text: &str, start: usize) -> bool {
    let window_start = floor_boundary(text, start.saturating_sub(90));
    let Some(window) = text.get(window_start..start) else {
        return false;
    };
    static HEADS: std::sync::OnceLock<Option<AhoCorasick>> = std::sync::OnceLock::new();
    static CLAUSE_WORDS: std::sync::OnceLock<Option<AhoCorasick>> = std::sync::OnceLock::new();
    let Some(heads) = HEADS
        .get_or_init(|| marker_automaton(super::lexicon::INSTITUTION_HEADS))
        .as_ref()
    else {
        return false;
    };
    // The last head on word boundaries (the first listed when two start together).
    let best = heads
        .find_overlapping_iter(window)
        .filter(|found| is_word_boundary(window, found.start(), found.end()))
        .max_by(|left, right| {
            left.start()
                .cmp(&right.start())
                .then(right.pattern().cmp(&left.pattern()))
        });
    let Some(best) = best else {
        return false;
    };
    let between = &window[best.end()..];
    if between.contains(['.', ';', ':', '(', ')']) || between.split_whitespace().count() > 10 {
        return false;
    }
    let between_lower = crate::normalize::lowercase_keeping_offsets(between);
    const CLAUSE_WORDS_LIST: [&str; 15] = [
        "hợp tác",
        "về",
        "trong",
        "với",
        "tại",
        "là",
        "đã",
        "sẽ",
        "cho",
        "như",
        "các",
        "lĩnh vực",
        "đề nghị",
        "mong muốn",
        "nhằm",
    ];
    let clause_words = CLAUSE_WORDS.get_or_init(|| marker_automaton(&CLAUSE_WORDS_LIST));
    let has_clause_word = clause_words.as_ref().is_none_or(|automaton| {
        automaton
            .find_overlapping_iter(&between_lower)
            .any(|found| is_word_boundary(&between_lower, found.start(), found.end()))
    });
    if has_clause_word {
        return false;
    }
    let first_word = between.split_whitespace().next();
    first_word.is_none()
        || first_word.is_some_and(|word| word.chars().next().is_some_and(char::is_uppercase))
}

/// `text[start..end]`, both ends moved down to char boundaries (never panics).
pub fn clip(text: &str, start: usize, end: usize) -> &str {
    let end = floor_boundary(text, end.min(text.len()));
    let start = floor_boundary(text, start.min(end));
    text.get(start..end).unwrap_or_default()
}

/// The largest char boundary of `text` at or below `index`.
pub fn floor_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lower_view_keeps_offsets() {
        let view = TextView::new("ĐỐI Thoại İx");
        assert_eq!(view.lower.len(), view.original.len());
        assert!(view.lower.starts_with("đối thoại"));
    }

    #[test]
    fn phrases_match_on_word_boundaries_only() {
        let matcher = PhraseMatcher::new([("hải quân", 1u8), ("doc", 2u8)]);
        let view = TextView::new("Hợp tác hải quân; thải quân; DOC và doc");
        let found: Vec<u8> = matcher
            .find(&view)
            .into_iter()
            .map(|(_, _, value)| value)
            .collect();
        assert_eq!(found, [1, 2]);
    }

    #[test]
    fn grouped_phrases_match_like_separate_matchers() {
        let lists = vec![
            vec![("đa phương", 1u8), ("hải quân", 2u8)],
            vec![("đa phương hóa, đa dạng hóa", 3u8), ("doc", 4u8)],
        ];
        let groups = PhraseGroups::new(lists.clone());
        let text = "Hợp tác đa phương hóa, đa dạng hóa; hải quân; DOC, doc; thải quân";
        let view = TextView::new(text);
        let found = groups.find(&view);
        for (group, list) in lists.into_iter().enumerate() {
            let single = PhraseMatcher::new(list).find(&view);
            assert_eq!(found[group], single);
        }
    }

    #[test]
    fn sentences_split_on_stops_before_capitals() {
        let text = "Câu một. Câu hai v.v. còn tiếp.\nDòng hai";
        let sentences = Sentences::split(text);
        assert_eq!(sentences.spans.len(), 3);
        let first_stop = text.find(". ").map_or(0, |index| index + 1);
        assert_eq!(sentences.containing(0), (0, first_stop));
    }

    #[test]
    fn institution_names_are_recognised() {
        let text = "tại Học viện Khoa học quân sự và hợp tác khoa học quân sự";
        let inside = text.find("Khoa học").unwrap_or_default();
        let outside = text.rfind("khoa học").unwrap_or_default();
        assert!(inside_institution_name(text, inside));
        assert!(!inside_institution_name(text, outside));
    }
}
