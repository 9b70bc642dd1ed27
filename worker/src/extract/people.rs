//! People: names after ranks, honorifics and titles; their positions; which
//! side they are on; who heads each side.

use super::lexicon;
use super::text::{floor_boundary, Sentences, TextView};
use super::{evidence_for, EventFrame};
use crate::gazetteer::CountryMention;
use crate::record::{Evidence, Participant, Role};

/// One mention of a person.
#[derive(Debug, Clone)]
pub struct PersonMention {
    /// The name as written.
    pub name: String,
    /// Byte span of the name.
    pub start: usize,
    /// End of the name.
    pub end: usize,
    /// Start of the whole mention (rank or honorific or title).
    pub anchor: usize,
    /// Rank, when written.
    pub rank: Option<String>,
    /// Position, when written next to the name.
    pub position: Option<String>,
    /// Country of the position ("Bộ Quốc phòng Singapore"), when named.
    pub country: Option<&'static str>,
}

/// Finds people; phrase lists prepared once.
#[derive(Debug)]
pub struct PeopleFinder {
    triggers: Option<aho_corasick::AhoCorasick>,
    ranks: Vec<&'static str>,
    foreign_ranks: Vec<(&'static str, &'static str)>,
    honorifics: Vec<&'static str>,
    heads: Vec<&'static str>,
    /// The list of each trigger pattern.
    trigger_kinds: Vec<Trigger>,
}

/// Which list a trigger phrase comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Rank,
    Honorific,
    Title,
}

impl PeopleFinder {
    /// Prepares the lists (longest first, so "Phó Đô đốc" wins over "Đô đốc").
    pub fn new() -> Self {
        let longest_first = |list: &[&'static str]| {
            let mut sorted = list.to_vec();
            sorted.sort_by_key(|phrase| std::cmp::Reverse(phrase.len()));
            sorted
        };
        let triggers = aho_corasick::AhoCorasickBuilder::new()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(
                lexicon::RANKS
                    .iter()
                    .chain(lexicon::HONORIFICS)
                    .chain(lexicon::POSITION_HEADS)
                    .chain(lexicon::FOREIGN_RANKS.iter().map(|(written, _)| written)),
            )
            .ok();
        PeopleFinder {
            triggers,
            ranks: longest_first(lexicon::RANKS),
            foreign_ranks: {
                let mut sorted = lexicon::FOREIGN_RANKS.to_vec();
                sorted.sort_by_key(|(written, _)| std::cmp::Reverse(written.len()));
                sorted
            },
            honorifics: longest_first(lexicon::HONORIFICS),
            heads: longest_first(lexicon::POSITION_HEADS),
            trigger_kinds: lexicon::RANKS
                .iter()
                .map(|_| Trigger::Rank)
                .chain(lexicon::HONORIFICS.iter().map(|_| Trigger::Honorific))
                .chain(lexicon::POSITION_HEADS.iter().map(|_| Trigger::Title))
                .chain(lexicon::FOREIGN_RANKS.iter().map(|_| Trigger::Rank))
                .collect(),
        }
    }

    /// True when the sentence names a person.
    pub fn sentence_has_person(&self, view: &TextView, sentence: (usize, usize)) -> bool {
        let Some(text) = view.original.get(sentence.0..sentence.1) else {
            return false;
        };
        let sub_view = TextView::new(text);
        let sentences = Sentences::split(text);
        !self.scan(&sub_view, &sentences, None).is_empty()
    }

    /// Every person mention in the text.
    pub fn find(
        &self,
        view: &TextView,
        sentences: &Sentences,
        countries: &[CountryMention],
    ) -> Vec<PersonMention> {
        self.scan(view, sentences, Some(countries))
    }

    fn scan(
        &self,
        view: &TextView,
        sentences: &Sentences,
        countries: Option<&[CountryMention]>,
    ) -> Vec<PersonMention> {
        let text = view.original;
        let mut mentions: Vec<PersonMention> = Vec::new();
        // Only where a rank, honorific or title starts (one automaton pass).
        let mut covered_up_to = 0;
        if let Some(triggers) = &self.triggers {
            for trigger in triggers.find_iter(text) {
                let position = trigger.start();
                let at_word_start = text[..position]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                if position < covered_up_to || !at_word_start {
                    continue;
                }
                let kind = self
                    .trigger_kinds
                    .get(trigger.pattern().as_usize())
                    .copied()
                    .unwrap_or(Trigger::Title);
                if let Some(found) = self.mention_at(text, position, countries.is_some(), kind) {
                    covered_up_to = found.end;
                    mentions.push(found);
                }
            }
        }
        if let Some(countries) = countries {
            for mention in &mut mentions {
                let (position_text, country) =
                    position_of(text, sentences, mention, countries, &self.heads);
                mention.position = position_text;
                mention.country = country;
            }
            mentions.extend(title_country_name(text, countries, &self.heads, &mentions));
        }
        mentions
    }

    /// A rank, honorific or title at `position` followed by a name.
    fn mention_at(
        &self,
        text: &str,
        position: usize,
        full: bool,
        trigger: Trigger,
    ) -> Option<PersonMention> {
        let rest = &text[position..];
        // The longest phrase at `position` tells which list to read (a rank
        // never starts like an honorific or a title).
        let written_rank = if trigger == Trigger::Rank {
            self.ranks
                .iter()
                .map(|rank| (*rank, *rank))
                .chain(self.foreign_ranks.iter().copied())
                .find(|(written, _)| starts_with_word(rest, written))
        } else {
            None
        };
        if let Some((written, rank)) = written_rank {
            {
                let mut after = position + written.len();
                for service in lexicon::SERVICES {
                    if starts_with_word(text[after..].trim_start(), service) {
                        after = skip_spaces(text, after) + service.len();
                        break;
                    }
                }
                let (start, end) = name_at(text, skip_spaces(text, after))?;
                return Some(PersonMention {
                    name: text[start..end].to_string(),
                    start,
                    end,
                    anchor: position,
                    rank: Some((*rank).to_string()),
                    position: None,
                    country: None,
                });
            }
        }
        let honorifics: &[&str] = if trigger == Trigger::Honorific {
            &self.honorifics
        } else {
            &[]
        };
        for honorific in honorifics {
            if starts_with_word(rest, honorific) {
                let (start, end) = name_at(text, skip_spaces(text, position + honorific.len()))?;
                return Some(PersonMention {
                    name: text[start..end].to_string(),
                    start,
                    end,
                    anchor: position,
                    rank: None,
                    position: None,
                    country: None,
                });
            }
        }
        // "Bộ trưởng Phan Văn Giang": a title right before a Vietnamese name.
        let heads: &[&str] = if trigger == Trigger::Title {
            &self.heads
        } else {
            &[]
        };
        for head in heads {
            if starts_with_word(rest, head) {
                let name_start = skip_spaces(text, position + head.len());
                let first_word: String = text[name_start..]
                    .chars()
                    .take_while(|c| c.is_alphabetic())
                    .collect();
                if lexicon::VIETNAMESE_SURNAMES.contains(&first_word.as_str()) && full {
                    let (start, end) = name_at(text, name_start)?;
                    if text[start..end].split_whitespace().count() >= 2 {
                        return Some(PersonMention {
                            name: text[start..end].to_string(),
                            start,
                            end,
                            anchor: position,
                            rank: None,
                            position: Some((*head).to_string()),
                            country: None,
                        });
                    }
                }
            }
        }
        None
    }
}

fn skip_spaces(text: &str, mut index: usize) -> usize {
    while text[index..].starts_with(' ') {
        index += 1;
    }
    index
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.starts_with(word)
        && !text[word.len()..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
}

/// Words that open a title: a name stops before one followed by a lower-case word.
const TITLE_STARTS: &[&str] = &[
    "Thứ",
    "Bộ",
    "Ủy",
    "Tổng",
    "Phó",
    "Chủ",
    "Tư",
    "Cục",
    "Giám",
    "Thư",
    "Đại",
    "Trưởng",
    "Tham",
    "Chính",
    "Bí",
    "Quốc",
    "Tùy",
    "Chánh",
    "Viện",
    "Hiệu",
    "Người",
    "Nữ",
    "Nam",
];

/// Second words of the titles that [`TITLE_STARTS`] open ("Thứ trưởng",
/// "Chính ủy", "Đại sứ"): "Phạm Minh Chính hội đàm" keeps "Chính" in the name.
const TITLE_SECOND_WORDS: &[&str] = &[
    "trưởng",
    "viên",
    "ban",
    "tham",
    "cục",
    "thư",
    "bí",
    "lãnh",
    "giám",
    "thủ",
    "tổng",
    "chủ",
    "tư",
    "đô",
    "bộ",
    "chánh",
    "chính",
    "đại",
    "viện",
    "nhiệm",
    "tịch",
    "lệnh",
    "đốc",
    "ký",
    "sứ",
    "tá",
    "tướng",
    "úy",
    "biện",
    "diện",
    "phòng",
    "đoàn",
    "mưu",
    "ủy",
    "trị",
    "vụ",
    "văn",
    "án",
    "thanh",
    "phát",
    "nam",
    "hoàng",
    "tước",
    "quân",
    "hải",
    "khanh",
    "quốc",
    "thường",
    "tổng",
];

/// The capitalised words of a name starting at `start`: (start, end).
fn name_at(text: &str, start: usize) -> Option<(usize, usize)> {
    let mut end = start;
    let mut words = 0;
    let mut cursor = start;
    loop {
        let rest = &text[cursor..];
        let word_length = rest.find([' ', '\n']).unwrap_or(rest.len());
        if word_length == 0 {
            break;
        }
        let raw_word = &rest[..word_length];
        let word = raw_word.trim_end_matches([',', '.', ';', ':', ')', '”', '"', '!', '?', '…']);
        let next_capitalised = rest[word_length..]
            .trim_start_matches(' ')
            .chars()
            .next()
            .is_some_and(char::is_uppercase);
        // A middle initial ("Charles Q. Brown") does not end the name.
        let initial = raw_word.len() == 2
            && raw_word.ends_with('.')
            && raw_word.starts_with(|c: char| c.is_ascii_uppercase())
            && words > 0
            && next_capitalised;
        let word = if initial { raw_word } else { word };
        let punctuated = word.len() < raw_word.len();
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        if !capitalised || word == "Việt" {
            break;
        }
        let next_rest = rest[word_length..].trim_start_matches(' ');
        let next_lower = next_rest.chars().next().is_some_and(char::is_lowercase);
        let next_word = next_rest
            .split([' ', ',', '.', ';', ':'])
            .next()
            .unwrap_or_default();
        if TITLE_STARTS.contains(&word)
            && next_lower
            && !punctuated
            && TITLE_SECOND_WORDS.contains(&next_word)
        {
            break;
        }
        end = cursor + word.len();
        words += 1;
        if punctuated
            || words >= 6
            || rest[word_length..].starts_with('\n')
            || rest.len() == word_length
        {
            break;
        }
        cursor += word_length + 1;
    }
    let name = &text[start..end];
    let enough = words >= 2 || (words == 1 && name.contains('-'));
    enough.then_some((start, end))
}

/// The position written next to a mention, without party titles, and its country.
fn position_of(
    text: &str,
    sentences: &Sentences,
    mention: &PersonMention,
    countries: &[CountryMention],
    heads: &[&'static str],
) -> (Option<String>, Option<&'static str>) {
    let sentence = sentences.containing(mention.start);
    let after = text.get(mention.end..sentence.1).unwrap_or_default();
    let mut found = None;
    if let Some(list) = after.strip_prefix(", ") {
        for segment in list.split(", ") {
            let segment = segment.trim();
            if lexicon::PARTY_TITLES
                .iter()
                .any(|title| segment.starts_with(title))
            {
                continue;
            }
            if heads.iter().any(|head| segment.starts_with(head)) {
                found = Some(cut_position(segment));
            }
            break;
        }
    }
    if found.is_none() {
        // "Thứ trưởng … Bê-la-rút, Thiếu tướng X": the title before the name.
        let before = text
            .get(sentence.0..mention.anchor)
            .unwrap_or_default()
            .trim_end();
        if let Some(head_part) = before.strip_suffix(',') {
            let segment = head_part
                .rsplit([',', ';'])
                .next()
                .unwrap_or(head_part)
                .trim();
            let segment = segment.rsplit(". ").next().unwrap_or(segment);
            if let Some(index) = heads.iter().filter_map(|head| segment.find(head)).min() {
                found = Some(cut_position(&segment[index..]));
            }
        }
    }
    if found.is_none() {
        found.clone_from(&mention.position);
    }
    let country = found
        .as_deref()
        .and_then(|position| country_of_phrase(text, sentence, position, countries));
    (found, country)
}

/// A position phrase up to the verb or the next person.
fn cut_position(segment: &str) -> String {
    /// Verbs and prepositions that end a position phrase.
    const MARKERS: [&str; 23] = [
        " đã ",
        " đồng chủ trì",
        " khẳng định",
        " nhấn mạnh",
        " cho biết",
        " đánh giá",
        " bày tỏ",
        " tiếp ",
        " chủ trì",
        " dẫn đầu",
        " thăm ",
        " hội đàm",
        " tham dự",
        " phát biểu",
        " chúc mừng",
        " cảm ơn",
        " trao ",
        " tại ",
        " chụp ảnh",
        " đón ",
        " mời ",
        " nêu ",
        " vui mừng",
    ];
    static AUTOMATON: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let automaton = AUTOMATON.get_or_init(|| {
        aho_corasick::AhoCorasickBuilder::new()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(MARKERS)
            .ok()
    });
    // The earliest marker (leftmost-first reports the leftmost start).
    let mut end = automaton
        .as_ref()
        .and_then(|automaton| automaton.find(segment))
        .map_or(segment.len(), |found| found.start());
    let mut search = 0;
    while let Some(index) = segment[search..].find(" và ") {
        let at = search + index;
        if lexicon::RANKS
            .iter()
            .chain(lexicon::HONORIFICS)
            .any(|word| segment[at + 5..].starts_with(word))
        {
            end = end.min(at);
            break;
        }
        search = at + 5;
    }
    segment[..end]
        .trim()
        .trim_end_matches(['.', ','])
        .to_string()
}

/// "Thứ trưởng Quốc phòng Nhật Bản Serizawa Kiyoshi": title, country, name.
fn title_country_name(
    text: &str,
    countries: &[CountryMention],
    heads: &[&'static str],
    known: &[PersonMention],
) -> Vec<PersonMention> {
    let mut found = Vec::new();
    for country in countries {
        // Cheapest test first: most countries are not followed by a name.
        let Some((start, end)) = name_at(text, skip_spaces(text, country.end)) else {
            continue;
        };
        let window_start = floor_boundary(text, country.start.saturating_sub(60));
        let before = &text[window_start..country.start];
        let Some(head_index) = heads.iter().filter_map(|head| before.rfind(head)).max() else {
            continue;
        };
        if before[head_index..].contains([',', '.', ';']) {
            continue;
        }
        if known.iter().any(|mention| mention.start == start) {
            continue;
        }
        let position = text[window_start + head_index..country.end].to_string();
        // "Đại sứ Hoa Kỳ tại Việt Nam X", "Đại sứ Việt Nam tại Nhật Bản Y": the
        // title's own country (the first one not introduced by "tại"), not the host's.
        let position_start = window_start + head_index;
        let owner = countries
            .iter()
            .filter(|mention| mention.start >= position_start && mention.end <= country.end)
            .find(|mention| {
                !text
                    .get(position_start..mention.start)
                    .unwrap_or_default()
                    .trim_end()
                    .ends_with("tại")
            })
            .map_or(country.country.code, |mention| mention.country.code);
        found.push(PersonMention {
            name: text[start..end].to_string(),
            start,
            end,
            anchor: window_start + head_index,
            rank: None,
            position: Some(position),
            country: Some(owner),
        });
    }
    found
}

fn folded(name: &str) -> String {
    name.to_lowercase()
}

/// True when the name reads as Vietnamese (a Vietnamese family name first, no hyphen).
fn looks_vietnamese(name: &str) -> bool {
    let first = name.split_whitespace().next().unwrap_or_default();
    !name.contains('-')
        && name.split_whitespace().count() >= 2
        && lexicon::VIETNAMESE_SURNAMES.contains(&first)
}

/// The participants of one event.
#[allow(clippy::too_many_arguments)]
pub fn participants(
    people: &[PersonMention],
    frame: &EventFrame,
    sentences: &Sentences,
    view: &TextView,
    references: &super::References,
    partner: &'static str,
    text: &str,
    evidence: &mut Vec<Evidence>,
) -> Vec<Participant> {
    let in_reference = |mention: &PersonMention| references.at(mention.start);
    let mut order: Vec<String> = Vec::new();
    let mut chosen: Vec<(Participant, usize, usize)> = Vec::new();
    for mention in people {
        if mention.start < frame.passage_start
            || mention.start >= frame.passage_end
            || in_reference(mention)
        {
            continue;
        }
        let key = folded(&mention.name);
        if order.contains(&key) || commemorative(view, mention.anchor) {
            continue;
        }
        // Every mention of the same person, anywhere, can supply rank and position.
        let all: Vec<&PersonMention> = people
            .iter()
            .filter(|other| folded(&other.name) == key)
            .collect();
        let rank = all.iter().find_map(|other| other.rank.clone());
        let local_position = all
            .iter()
            .filter(|other| other.start >= frame.passage_start && other.start < frame.passage_end)
            .find_map(|other| other.position.clone());
        let position =
            local_position.or_else(|| all.iter().find_map(|other| other.position.clone()));
        let country = all
            .iter()
            .filter(|other| other.start >= frame.passage_start && other.start < frame.passage_end)
            .find_map(|other| other.country)
            .or_else(|| all.iter().find_map(|other| other.country));
        let side = match country {
            Some(code) if code == "VN" || code == partner => code,
            Some(_) => continue,
            None if looks_vietnamese(&mention.name) => "VN",
            None => partner,
        };
        order.push(key);
        chosen.push((
            Participant {
                name: mention.name.clone(),
                rank,
                position: position.map(|position| strip_party_titles(&position)),
                side: side.to_string(),
                role: Role::Participant,
            },
            mention.start,
            mention.end,
        ));
    }
    // The heads of the sides: those in the event's own sentence, else the first of each side.
    let event_sentence = sentences.containing(frame.hit.start);
    for side in ["VN", partner] {
        let in_sentence = chosen.iter().position(|(person, start, _)| {
            person.side == side
                && people.iter().any(|mention| {
                    folded(&mention.name) == folded(&person.name)
                        && mention.start >= event_sentence.0
                        && mention.start < event_sentence.1
                })
                && *start >= frame.passage_start
        });
        let head =
            in_sentence.or_else(|| chosen.iter().position(|(person, _, _)| person.side == side));
        if let Some(index) = head {
            if let Some((person, _, _)) = chosen.get_mut(index) {
                person.role = Role::CoChair;
            }
        }
    }
    for (index, (_, start, end)) in chosen.iter().enumerate() {
        evidence.push(evidence_for(
            &format!("participants[{index}]"),
            text,
            *start,
            *end,
        ));
    }
    chosen.into_iter().map(|(person, _, _)| person).collect()
}

fn strip_party_titles(position: &str) -> String {
    position
        .split(", ")
        .filter(|segment| {
            !lexicon::PARTY_TITLES
                .iter()
                .any(|title| segment.starts_with(title))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A name honoured rather than present: after "viếng", "Lăng", "tưởng niệm",
/// "tư tưởng", "mang tên", "thành phố" (a mausoleum, a city, a doctrine).
fn commemorative(view: &TextView, anchor: usize) -> bool {
    let before = super::text::clip(&view.lower, anchor.saturating_sub(24), anchor);
    [
        "viếng",
        "lăng",
        "tưởng niệm",
        "tư tưởng",
        "mang tên",
        "thành phố",
        "tượng đài",
        "bảo tàng",
    ]
    .iter()
    .any(|word| super::text::has_word(before, word))
}

/// The country a phrase of `sentence` names (other than Việt Nam when it names
/// both), from the mentions already found in the whole text.
fn country_of_phrase(
    text: &str,
    sentence: (usize, usize),
    phrase: &str,
    countries: &[CountryMention],
) -> Option<&'static str> {
    let offset = super::text::clip(text, sentence.0, sentence.1).find(phrase)?;
    let (start, end) = (sentence.0 + offset, sentence.0 + offset + phrase.len());
    // The mentions are in text order: those inside start after `start`.
    let first = countries.partition_point(|mention| mention.start < start);
    let inside: Vec<&CountryMention> = countries[first..]
        .iter()
        .take_while(|mention| mention.start < end)
        .filter(|mention| mention.end <= end)
        .collect();
    inside
        .iter()
        .find(|mention| mention.country.code != "VN")
        .or(inside.first())
        .map(|mention| mention.country.code)
}
