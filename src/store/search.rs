//! Vietnamese-aware full-text search: pure tokenising, postings, query
//! parsing, BM25 scoring and snippets. The store keeps the inverted index.
//!
//! Text is normalised (NFC, one tone-mark placement) and cut into syllable
//! tokens (runs of letters and digits); each token is folded (diacritics
//! dropped, đ → d, lower case), so "hoang xuan chien", "Hoàng Xuân Chiến" and
//! "hoàng xuân chiến" meet, and old/new tone placement ("hoà"/"hòa") too.
//!
//! Postings are positions per section (section 0: the record's fields;
//! section i ≥ 1: the cleaned text of its i-th source). The store writes
//! them in segments, one key per token per batch of records (see
//! [`super::search_index`]); this module only builds and encodes them.

use crate::domain::DialogueRecord;
use dialogwatch_worker::normalize::{fold_for_search, normalize};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalisation.
const B: f64 = 0.75;
/// Longest query accepted (characters).
pub const MAX_QUERY_CHARS: usize = 512;
/// Most clauses (words and phrases) in one query.
pub const MAX_CLAUSES: usize = 32;

/// A token of a text: folded form and byte span in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Folded form.
    pub folded: String,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset after its last character.
    pub end: usize,
}

fn is_token_char(character: char) -> bool {
    if character.is_ascii() {
        return character.is_ascii_alphanumeric();
    }
    let code = u32::from(character);
    if code < FOLD_TABLE_END {
        // From a table: `char::is_alphanumeric` looks most letters up slowly.
        let words = token_char_table();
        return words
            .get((code / 64) as usize)
            .is_some_and(|word| word & (1 << (code % 64)) != 0);
    }
    is_token_char_by_rule(character)
}

/// Letters, digits and the combining marks U+0300–U+036F.
fn is_token_char_by_rule(character: char) -> bool {
    character.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&character)
}

/// [`is_token_char_by_rule`] of every character below [`FOLD_TABLE_END`], a bit each.
fn token_char_table() -> &'static [u64] {
    static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..FOLD_TABLE_END / 64)
            .map(|word| {
                (0..64).fold(0u64, |bits, bit| {
                    let is_token =
                        char::from_u32(word * 64 + bit).is_some_and(is_token_char_by_rule);
                    bits | (u64::from(is_token) << bit)
                })
            })
            .collect()
    })
}

/// The tokens of `text` (already normalised), with byte spans into `text`.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    for_each_token_span(text, |start, end| {
        let folded = fold_for_search(&text[start..end]);
        if !folded.is_empty() {
            tokens.push(Token { folded, start, end });
        }
    });
    tokens
}

/// Calls `found(start, end)` with the byte span of every run of token
/// characters of `text`, in order (before folding: a run may fold to nothing).
fn for_each_token_span(text: &str, mut found: impl FnMut(usize, usize)) {
    let mut start = None;
    for (offset, character) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (is_token_char(character), start) {
            (true, None) => start = Some(offset),
            (false, Some(begin)) => {
                found(begin, offset);
                start = None;
            }
            _ => {}
        }
    }
}

/// What the index keeps per record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchDoc {
    /// Tokens over every section.
    pub length: u64,
    /// The stamp of its current postings; its entries with another stamp are stale.
    pub stamp: u64,
}

/// Positions of one token in one record: (section, positions).
pub type Postings = Vec<(u32, Vec<u32>)>;

/// The searchable text of a record's own fields (section 0).
pub fn fields_text(record: &DialogueRecord) -> String {
    let event = &record.event;
    let mut parts: Vec<String> = vec![
        event.partner.name_vi.clone(),
        event.partner.name_en.clone(),
        event.partner.code.clone(),
        event.kind.as_str().replace('_', " "),
    ];
    if let Some(edition) = event.edition {
        parts.push(format!("lần thứ {edition}"));
    }
    for value in [
        &event.location.city,
        &event.location.venue,
        &event.location.country,
    ]
    .into_iter()
    .flatten()
    {
        parts.push(value.clone());
    }
    for person in &event.participants {
        parts.extend(
            [&person.rank, &Some(person.name.clone()), &person.position]
                .into_iter()
                .flatten()
                .cloned(),
        );
    }
    for document in &event.documents {
        if let Some(title) = &document.title {
            parts.push(title.clone());
        }
    }
    parts.extend(
        event
            .areas
            .iter()
            .map(|area| area.as_str().replace('_', " ")),
    );
    parts.extend(
        event
            .topics
            .iter()
            .map(|topic| topic.as_str().replace('_', " ")),
    );
    normalize(&parts.join(" . "))
}

/// [`fold_for_search`] of one token into `folded` (cleared first), character
/// by character: its canonical decomposition without the combining marks
/// U+0300–U+036F, đ → d, lower case. That is the same as folding the whole
/// token (NFD decomposes each character on its own and only reorders
/// combining marks, which are dropped); a token with any other combining
/// mark, whose order NFD could change, is folded whole. Characters below
/// [`FOLD_TABLE_END`] are folded from a table computed once.
pub fn fold_token_into(token: &str, folded: &mut String) {
    folded.clear();
    let table = fold_table();
    for character in token.chars() {
        if character.is_ascii() {
            folded.push(character.to_ascii_lowercase());
            continue;
        }
        let code = u32::from(character);
        if code < FOLD_TABLE_END {
            match table.get(code as usize).copied() {
                Some(FOLDS_TO_NOTHING) => continue,
                Some(FOLDED_BY_HAND) | None => {}
                Some(single) => {
                    if let Some(single) = char::from_u32(single) {
                        folded.push(single);
                        continue;
                    }
                }
            }
        }
        if fold_character_into(character, folded) {
            *folded = fold_for_search(token);
            return;
        }
    }
}

/// First code point past the table of [`fold_table`] (Latin, Greek,
/// Cyrillic and the Vietnamese letters of Latin Extended Additional).
const FOLD_TABLE_END: u32 = 0x2000;
/// A [`fold_table`] entry: the character folds to nothing (a combining mark).
const FOLDS_TO_NOTHING: u32 = 0;
/// A [`fold_table`] entry: the character folds to more than one character, or
/// has a combining mark NFD could reorder: [`fold_character_into`] folds it.
const FOLDED_BY_HAND: u32 = u32::MAX;

/// The fold of every character below [`FOLD_TABLE_END`] on its own, as one
/// code point (or [`FOLDS_TO_NOTHING`], [`FOLDED_BY_HAND`]).
fn fold_table() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut folded = String::new();
        (0..FOLD_TABLE_END)
            .map(|code| {
                let Some(character) = char::from_u32(code) else {
                    return FOLDED_BY_HAND;
                };
                folded.clear();
                if fold_character_into(character, &mut folded) {
                    return FOLDED_BY_HAND;
                }
                let mut characters = folded.chars();
                match (characters.next(), characters.next()) {
                    (None, _) => FOLDS_TO_NOTHING,
                    (Some(single), None) => u32::from(single),
                    _ => FOLDED_BY_HAND,
                }
            })
            .collect()
    })
}

/// Appends the fold of one non-ASCII character to `folded`; true when it
/// holds a combining mark that NFD could reorder (the token is then folded whole).
fn fold_character_into(character: char, folded: &mut String) -> bool {
    let mut reorderable = false;
    unicode_normalization::char::decompose_canonical(character, |part| {
        if ('\u{300}'..='\u{36f}').contains(&part) {
            return;
        }
        if unicode_normalization::char::canonical_combining_class(part) != 0 {
            reorderable = true;
        }
        match part {
            'đ' | 'Đ' => folded.push('d'),
            other => folded.extend(other.to_lowercase()),
        }
    });
    reorderable
}

/// A record's postings, encoded: each token's [`encode_postings`] bytes,
/// all in one buffer (a string per token and a buffer per record, where a
/// map of postings took a string and two vectors per token).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedPostings {
    /// Tokens over every section.
    pub length: u64,
    /// Each token with the range of `bytes` holding its postings, in token order.
    tokens: Vec<(String, std::ops::Range<usize>)>,
    bytes: Vec<u8>,
}

impl EncodedPostings {
    /// Each token with its encoded postings, in token order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.tokens.iter().map(|(token, range)| {
            (
                token.as_str(),
                self.bytes.get(range.clone()).unwrap_or_default(),
            )
        })
    }
}

/// One occurrence of a token: (token number, section, position).
type Occurrence = (u32, u32, u32);

/// The postings of a record whose sections are `sections` (section 0 first),
/// encoded, and its length in tokens: its occurrences, in text order, placed
/// token by token and encoded.
pub fn build_encoded_postings(sections: &[String]) -> EncodedPostings {
    let (numbers, occurrences) = occurrences_of(sections);
    let (starts, placed) = place_by_token(&occurrences, numbers.len());
    let mut bytes = Vec::with_capacity(occurrences.len() * 2);
    let mut ranges = Vec::with_capacity(numbers.len());
    for bounds in starts.windows(2) {
        let begin = bytes.len();
        let token_occurrences = placed.get(bounds[0]..bounds[1]).unwrap_or_default();
        for run in token_occurrences.chunk_by(|first, second| first.0 == second.0) {
            let section = run.first().map_or(0, |(section, _)| *section);
            encode_section(
                section,
                run.iter().map(|(_, position)| *position),
                &mut bytes,
            );
        }
        ranges.push(begin..bytes.len());
    }
    let mut tokens: Vec<(String, std::ops::Range<usize>)> = numbers
        .into_iter()
        .map(|(token, number)| {
            let range = ranges.get(number as usize).cloned().unwrap_or(0..0);
            (token, range)
        })
        .collect();
    tokens.sort_unstable_by(|first, second| first.0.cmp(&second.0));
    EncodedPostings {
        length: occurrences.len() as u64,
        tokens,
        bytes,
    }
}

/// The folded tokens of `sections`, numbered in order of first occurrence,
/// and every occurrence in text order.
fn occurrences_of(sections: &[String]) -> (HashMap<String, u32>, Vec<Occurrence>) {
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let mut occurrences: Vec<Occurrence> = Vec::new();
    let mut folded = String::new();
    for (section, text) in sections.iter().enumerate() {
        let section = u32::try_from(section).unwrap_or(u32::MAX);
        let mut position = 0u32;
        for_each_token_span(text, |start, end| {
            fold_token_into(&text[start..end], &mut folded);
            if folded.is_empty() {
                return;
            }
            let number = match numbers.get(folded.as_str()) {
                Some(number) => *number,
                None => {
                    let number = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
                    numbers.insert(folded.clone(), number);
                    number
                }
            };
            occurrences.push((number, section, position));
            position = position.saturating_add(1);
        });
    }
    (numbers, occurrences)
}

/// `occurrences` (of `token_count` tokens) as (section, position), token by
/// token, each token's in the order given (a counting sort), and where each
/// token's start (`token_count + 1` bounds).
fn place_by_token(occurrences: &[Occurrence], token_count: usize) -> (Vec<usize>, Vec<(u32, u32)>) {
    let mut starts = vec![0usize; token_count + 1];
    for (number, _, _) in occurrences {
        if let Some(count) = starts.get_mut(*number as usize + 1) {
            *count += 1;
        }
    }
    for index in 1..starts.len() {
        starts[index] += starts[index - 1];
    }
    let mut placed = vec![(0u32, 0u32); occurrences.len()];
    let mut next = starts.clone();
    for (number, section, position) in occurrences {
        if let Some(slot) = next.get_mut(*number as usize) {
            if let Some(place) = placed.get_mut(*slot) {
                *place = (*section, *position);
            }
            *slot += 1;
        }
    }
    (starts, placed)
}

/// The postings of a record whose sections are `sections` (section 0 first),
/// decoded, and its length in tokens (what [`build_encoded_postings`] encodes).
#[cfg(test)]
pub fn build_postings(sections: &[String]) -> (u64, BTreeMap<String, Postings>) {
    let encoded = build_encoded_postings(sections);
    let postings = encoded
        .iter()
        .map(|(token, bytes)| {
            (
                token.to_string(),
                decode_postings(bytes).unwrap_or_default(),
            )
        })
        .collect();
    (encoded.length, postings)
}

/// `token | 0x00 | segment (u64 BE)`: the key of a token's entries in one segment.
pub fn segment_key(token: &str, segment: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(token.len() + 9);
    key.extend_from_slice(token.as_bytes());
    key.push(0);
    key.extend_from_slice(&segment.to_be_bytes());
    key
}

/// `token | 0x00`: the prefix of every segment key of a token.
pub fn segment_prefix(token: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(token.len() + 1);
    prefix.extend_from_slice(token.as_bytes());
    prefix.push(0);
    prefix
}

/// The segment number at the end of a [`segment_key`].
pub fn segment_of_key(key: &[u8]) -> Option<u64> {
    let (_, tail) = key.split_last_chunk::<8>()?;
    Some(u64::from_be_bytes(*tail))
}

/// Appends one record's entry to a segment value: record id length (u16 BE),
/// record id, stamp (u64 BE), postings length (u32 BE), [`encode_postings`] bytes.
pub fn push_segment_entry(value: &mut Vec<u8>, record_id: &[u8], stamp: u64, postings: &Postings) {
    push_raw_segment_entry(value, record_id, stamp, &encode_postings(postings));
}

/// [`push_segment_entry`] of postings already encoded.
pub fn push_raw_segment_entry(value: &mut Vec<u8>, record_id: &[u8], stamp: u64, encoded: &[u8]) {
    let id_length = u16::try_from(record_id.len()).unwrap_or(u16::MAX);
    value.extend_from_slice(&id_length.to_be_bytes());
    value.extend_from_slice(record_id.get(..usize::from(id_length)).unwrap_or(record_id));
    value.extend_from_slice(&stamp.to_be_bytes());
    value.extend_from_slice(&u32::try_from(encoded.len()).unwrap_or(0).to_be_bytes());
    value.extend_from_slice(encoded);
}

/// One entry of a segment value: record id, stamp, encoded postings.
pub type SegmentEntry<'a> = (&'a [u8], u64, &'a [u8]);

/// Reads a segment value into its entries; `None` when malformed.
pub fn segment_entries(value: &[u8]) -> Option<Vec<SegmentEntry<'_>>> {
    let mut entries = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let (id_length, tail) = rest.split_first_chunk::<2>()?;
        let id_length = usize::from(u16::from_be_bytes(*id_length));
        let (id, tail) = tail.split_at_checked(id_length)?;
        let (stamp, tail) = tail.split_first_chunk::<8>()?;
        let (postings_length, tail) = tail.split_first_chunk::<4>()?;
        let postings_length = usize::try_from(u32::from_be_bytes(*postings_length)).ok()?;
        let (postings, tail) = tail.split_at_checked(postings_length)?;
        entries.push((id, u64::from_be_bytes(*stamp), postings));
        rest = tail;
    }
    Some(entries)
}

/// Compact binary form of postings: per section, as LEB128 varints, the
/// section, the count of positions, then the positions as gaps (the first
/// from 0; positions only grow within a section). Most tokens occur a few
/// times per record, so an occurrence costs one byte or two, not four.
pub fn encode_postings(postings: &Postings) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(postings.len() * 3 + 2);
    for (section, positions) in postings {
        encode_section(*section, positions.iter().copied(), &mut bytes);
    }
    bytes
}

/// Appends one section of a token's postings to `bytes`, as
/// [`encode_postings`] lays it out: the section, the count, the gaps.
fn encode_section(
    section: u32,
    positions: impl ExactSizeIterator<Item = u32>,
    bytes: &mut Vec<u8>,
) {
    prost::encoding::encode_varint(u64::from(section), bytes);
    prost::encoding::encode_varint(positions.len() as u64, bytes);
    let mut previous = 0u32;
    for position in positions {
        prost::encoding::encode_varint(u64::from(position.wrapping_sub(previous)), bytes);
        previous = position;
    }
}

/// Reads [`encode_postings`]; `None` when malformed.
pub fn decode_postings(bytes: &[u8]) -> Option<Postings> {
    let mut postings = Vec::new();
    let mut rest = bytes;
    let take = |rest: &mut &[u8]| -> Option<u32> {
        u32::try_from(prost::encoding::decode_varint(rest).ok()?).ok()
    };
    while !rest.is_empty() {
        let section = take(&mut rest)?;
        let count = take(&mut rest)?;
        // Each position takes at least a byte: a count past what is left is corrupt.
        if usize::try_from(count).ok()? > rest.len() {
            return None;
        }
        let mut positions = Vec::with_capacity(usize::try_from(count).ok()?);
        let mut previous = 0u32;
        for _ in 0..count {
            previous = previous.checked_add(take(&mut rest)?)?;
            positions.push(previous);
        }
        postings.push((section, positions));
    }
    Some(postings)
}

/// One required part of a query: a word, or a quoted phrase of consecutive words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// One folded token.
    Term(String),
    /// Folded tokens that must be adjacent, in order, in one section.
    Phrase(Vec<String>),
}

impl Clause {
    /// Its tokens.
    pub fn tokens(&self) -> Vec<&str> {
        match self {
            Clause::Term(token) => vec![token.as_str()],
            Clause::Phrase(tokens) => tokens.iter().map(String::as_str).collect(),
        }
    }
}

/// Why a query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing searchable in it.
    #[error("the query has no words")]
    Empty,
    /// Over the length or clause limit.
    #[error("the query is too long (at most {MAX_QUERY_CHARS} characters and {MAX_CLAUSES} words or phrases)")]
    TooLong,
    /// A quote is not closed.
    #[error("unbalanced quote")]
    UnbalancedQuote,
}

/// Parses a query: words, and "quoted phrases"; every clause is required.
pub fn parse_query(query: &str) -> Result<Vec<Clause>, QueryError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let normalized = normalize(&query.replace(['“', '”', '„'], "\""));
    if normalized.matches('"').count() % 2 != 0 {
        return Err(QueryError::UnbalancedQuote);
    }
    let mut clauses = Vec::new();
    for (index, part) in normalized.split('"').enumerate() {
        let tokens: Vec<String> = tokenize(part)
            .into_iter()
            .map(|token| token.folded)
            .collect();
        if index % 2 == 1 {
            match tokens.len() {
                0 => {}
                1 => clauses.extend(tokens.into_iter().map(Clause::Term)),
                _ => clauses.push(Clause::Phrase(tokens)),
            }
        } else {
            clauses.extend(tokens.into_iter().map(Clause::Term));
        }
    }
    clauses.dedup();
    if clauses.is_empty() {
        return Err(QueryError::Empty);
    }
    if clauses.len() > MAX_CLAUSES {
        return Err(QueryError::TooLong);
    }
    Ok(clauses)
}

/// Occurrences of a clause per section of one record, from the postings of
/// its tokens (`postings[token]`). Positions are those of the clause's first token.
pub fn clause_hits(
    clause: &Clause,
    postings: &BTreeMap<&str, Postings>,
) -> BTreeMap<u32, Vec<u32>> {
    let tokens = clause.tokens();
    let mut hits = BTreeMap::new();
    let Some(first) = tokens.first().and_then(|token| postings.get(token)) else {
        return hits;
    };
    for (section, positions) in first {
        let matching: Vec<u32> = positions
            .iter()
            .copied()
            .filter(|start| {
                tokens.iter().enumerate().skip(1).all(|(offset, token)| {
                    postings.get(token).is_some_and(|other| {
                        other.iter().any(|(other_section, other_positions)| {
                            other_section == section
                                && other_positions
                                    .binary_search(&(start + offset as u32))
                                    .is_ok()
                        })
                    })
                })
            })
            .collect();
        if !matching.is_empty() {
            hits.insert(*section, matching);
        }
    }
    hits
}

/// BM25 weight of a clause seen `frequency` times in a record of `length`
/// tokens, whose tokens occur in `document_frequencies` of `documents` records.
pub fn bm25(
    frequency: usize,
    length: u64,
    average_length: f64,
    documents: u64,
    document_frequencies: &[u64],
) -> f64 {
    let frequency = frequency as f64;
    let idf: f64 = document_frequencies
        .iter()
        .map(|df| {
            let df = *df as f64;
            (1.0 + (documents as f64 - df + 0.5) / (df + 0.5)).ln()
        })
        .sum();
    let norm = K1 * (1.0 - B + B * length as f64 / average_length.max(1.0));
    idf * frequency * (K1 + 1.0) / (frequency + norm)
}

/// Words of context kept on each side of the first match in a snippet.
const CONTEXT_BEFORE: usize = 8;
const CONTEXT_AFTER: usize = 16;

/// A passage of `text` around the first of `matched` token positions, with
/// every matched token inside it marked «like this». `phrase_lengths` gives,
/// per matched start position, how many tokens it covers.
pub fn snippet(text: &str, matched: &BTreeMap<u32, usize>) -> Option<String> {
    let tokens = tokenize(text);
    let (&first, _) = matched.iter().next()?;
    let first = usize::try_from(first).ok()?;
    let from = first.saturating_sub(CONTEXT_BEFORE);
    let to = (first + CONTEXT_AFTER).min(tokens.len().saturating_sub(1));
    let start_byte = tokens.get(from)?.start;
    let end_byte = tokens.get(to)?.end;
    let mut marked_spans: Vec<(usize, usize)> = Vec::new();
    for (&position, &length) in matched {
        let position = usize::try_from(position).ok()?;
        if position < from || position > to {
            continue;
        }
        let last = (position + length.max(1) - 1).min(to);
        if let (Some(begin), Some(end)) = (tokens.get(position), tokens.get(last)) {
            marked_spans.push((begin.start, end.end));
        }
    }
    let mut output = String::new();
    if from > 0 {
        output.push('…');
    }
    let mut cursor = start_byte;
    for (begin, end) in marked_spans {
        if begin < cursor {
            continue;
        }
        output.push_str(text.get(cursor..begin)?);
        output.push('«');
        output.push_str(text.get(begin..end)?);
        output.push('»');
        cursor = end;
    }
    output.push_str(text.get(cursor..end_byte)?);
    if to + 1 < tokens.len() {
        output.push('…');
    }
    Some(output.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_diacritics_and_d_bar_and_tone_placement() {
        let folded: Vec<String> = tokenize(&normalize("Đại tướng Hoàng Xuân Chiến, hoà bình"))
            .into_iter()
            .map(|token| token.folded)
            .collect();
        assert_eq!(
            folded,
            ["dai", "tuong", "hoang", "xuan", "chien", "hoa", "binh"]
        );
        let old_style: Vec<String> = tokenize(&normalize("hòa bình thuỷ"))
            .into_iter()
            .map(|token| token.folded)
            .collect();
        assert_eq!(old_style, ["hoa", "binh", "thuy"]);
    }

    #[test]
    fn queries_have_words_and_phrases() {
        assert_eq!(
            parse_query("Biển Đông \"hoang xuan chien\"").expect("query"),
            [
                Clause::Term("bien".into()),
                Clause::Term("dong".into()),
                Clause::Phrase(vec!["hoang".into(), "xuan".into(), "chien".into()])
            ]
        );
        assert_eq!(parse_query("  ,, "), Err(QueryError::Empty));
        assert_eq!(parse_query("\"open"), Err(QueryError::UnbalancedQuote));
    }

    #[test]
    fn phrases_need_adjacent_tokens_in_one_section() {
        let (_, postings) = build_postings(&[
            "fields".to_string(),
            "Thượng tướng Hoàng Xuân Chiến tiếp".to_string(),
            "Chiến Xuân Hoàng".to_string(),
        ]);
        let lookup: BTreeMap<&str, Postings> = postings
            .iter()
            .map(|(token, postings)| (token.as_str(), postings.clone()))
            .collect();
        let phrase = Clause::Phrase(vec!["hoang".into(), "xuan".into(), "chien".into()]);
        let hits = clause_hits(&phrase, &lookup);
        assert_eq!(hits.keys().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(
            decode_postings(&encode_postings(&postings["chien"])),
            Some(postings["chien"].clone())
        );
    }

    /// The tables give what the rules give, for every character they cover
    /// (and a little past them).
    #[test]
    fn the_token_and_fold_tables_agree_with_the_rules() {
        for code in 0..FOLD_TABLE_END + 0x100 {
            let Some(character) = char::from_u32(code) else {
                continue;
            };
            assert_eq!(
                is_token_char(character),
                is_token_char_by_rule(character),
                "U+{code:04X}"
            );
            for token in [character.to_string(), format!("a{character}b")] {
                let mut folded = String::new();
                fold_token_into(&token, &mut folded);
                assert_eq!(folded, fold_for_search(&token), "U+{code:04X} in {token:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn postings_round_trip_and_a_cut_encoding_never_reads_as_others(
            sections in proptest::collection::btree_map(
                0u32..6,
                proptest::collection::btree_set(proptest::prelude::any::<u32>(), 1..20),
                0..4,
            )
        ) {
            let postings: Postings = sections
                .into_iter()
                .map(|(section, positions)| (section, positions.into_iter().collect()))
                .collect();
            let encoded = encode_postings(&postings);
            proptest::prop_assert_eq!(decode_postings(&encoded), Some(postings.clone()));
            for cut in 0..encoded.len() {
                // A cut encoding fails, or (cut at a section boundary) reads as a prefix.
                if let Some(decoded) = decode_postings(&encoded[..cut]) {
                    proptest::prop_assert!(postings.starts_with(&decoded));
                }
            }
        }

        #[test]
        fn folding_a_token_by_character_is_folding_it_whole(token in "\\PC{0,12}") {
            let mut folded = String::new();
            fold_token_into(&token, &mut folded);
            proptest::prop_assert_eq!(folded, fold_for_search(&token));
        }

        #[test]
        fn postings_positions_are_those_of_tokenize(text in "[a-zA-ZàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđĐ ,.]{0,80}") {
            let (length, postings) = build_postings(&["x".to_string(), text.clone()]);
            let tokens = tokenize(&text);
            proptest::prop_assert_eq!(length, tokens.len() as u64 + 1);
            for (position, token) in tokens.iter().enumerate() {
                let found = postings.get(&token.folded).and_then(|entry| {
                    entry.iter().find(|(section, _)| *section == 1)
                });
                proptest::prop_assert!(found.is_some_and(|(_, positions)| positions.contains(&(position as u32))));
            }
        }
    }

    /// The postings the straightforward way: a map of tokens to their
    /// sections' positions, filled in text order (the model of
    /// [`build_encoded_postings`]).
    fn postings_by_map(sections: &[String]) -> (u64, BTreeMap<String, Postings>) {
        let mut postings: BTreeMap<String, Postings> = BTreeMap::new();
        let mut length = 0u64;
        for (section, text) in sections.iter().enumerate() {
            let section = u32::try_from(section).expect("few sections");
            for (position, token) in tokenize(text).into_iter().enumerate() {
                length += 1;
                let entry = postings.entry(token.folded).or_default();
                let position = u32::try_from(position).expect("short text");
                match entry.last_mut() {
                    Some((last, positions)) if *last == section => positions.push(position),
                    _ => entry.push((section, vec![position])),
                }
            }
        }
        (length, postings)
    }

    proptest::proptest! {
        #[test]
        fn encoded_postings_are_those_of_a_map_filled_in_text_order(
            sections in proptest::collection::vec("[a-zA-ZàáạảãâầấậẩẫăằắặẳẵđĐ ,.]{0,60}", 0..5)
        ) {
            let encoded = build_encoded_postings(&sections);
            let (length, expected) = postings_by_map(&sections);
            proptest::prop_assert_eq!(encoded.length, length);
            let tokens: Vec<&str> = encoded.iter().map(|(token, _)| token).collect();
            let expected_tokens: Vec<&str> = expected.keys().map(String::as_str).collect();
            proptest::prop_assert_eq!(tokens, expected_tokens);
            for (token, bytes) in encoded.iter() {
                let expected_bytes = encode_postings(&expected[token]);
                proptest::prop_assert_eq!(bytes, expected_bytes.as_slice());
            }
        }
    }

    #[test]
    fn segment_values_hold_entries_of_several_records() {
        let (_, first) = build_postings(&["Hoàng Xuân Chiến".to_string()]);
        let (_, second) = build_postings(&["xuân".to_string(), "Xuân Chiến".to_string()]);
        let mut value = Vec::new();
        push_segment_entry(&mut value, b"dlg-1", 7, &first["xuan"]);
        push_segment_entry(&mut value, b"dlg-22", 9, &second["xuan"]);
        let entries = segment_entries(&value).expect("well formed");
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].0, entries[0].1), (b"dlg-1".as_slice(), 7));
        assert_eq!(decode_postings(entries[0].2), Some(first["xuan"].clone()));
        assert_eq!((entries[1].0, entries[1].1), (b"dlg-22".as_slice(), 9));
        assert_eq!(decode_postings(entries[1].2), Some(second["xuan"].clone()));
        assert_eq!(segment_entries(&value[..value.len() - 1]), None);
        assert_eq!(segment_of_key(&segment_key("xuan", 7)), Some(7));
        assert!(segment_key("xuan", 7).starts_with(&segment_prefix("xuan")));
        assert!(!segment_key("xuanh", 7).starts_with(&segment_prefix("xuan")));
    }

    #[test]
    fn snippets_mark_the_accented_original() {
        let text = "Chiều 5/10, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến đã tiếp đoàn.";
        let tokens = tokenize(text);
        let position = tokens
            .iter()
            .position(|token| token.folded == "hoang")
            .expect("token");
        let matched = BTreeMap::from([(position as u32, 3usize)]);
        let snippet = snippet(text, &matched).expect("snippet");
        assert!(snippet.contains("«Hoàng Xuân Chiến»"), "{snippet}");
    }
}
