//! The extractor: cleaned text in, dialogue events out, every field with the
//! character span of its evidence.
//!
//! The steps, each a general rule of how these reports are written:
//! 1. **Events**: event names ("Đối thoại Chính sách Quốc phòng", "hội đàm",
//!    "tiếp xã giao", …) are found; the first named event is the primary one;
//!    an event of another kind later in the text, with people acting in its
//!    sentence, is a further event whose passage runs from its sentence on.
//! 2. **Partner**: countries vote, weighted by syntax: paired with Việt Nam
//!    ("Việt Nam - X"), owning an institution or title ("Bộ Quốc phòng X"),
//!    named in the event's sentence, elsewhere.
//! 3. **Edition** from "lần thứ N" attached to the event's name; an earlier one
//!    cited ("kể từ … lần thứ 13 (tháng 11/2022)") is `previous`.
//! 4. **Date** from the lede's day/month ("Chiều 5/10"), the year from the
//!    text (explicit, anniversary "(1973-2023)", "Năm 2023 là…") or from the
//!    publication date.
//! 5. **People**: names after ranks, honorifics and titles, with the position
//!    that follows (party titles dropped); people only mentioned in a
//!    referenced event are left out; the first person of each side heads it.
//! 6. **Location, relationship, documents, areas, topics** from their phrases,
//!    each in the passage of its event.

pub mod lexicon;
mod people;
mod render;
mod text;

pub use render::render_explanation;

use crate::clean::{clean_article, clean_article_with_lower, CleanedArticle};
use crate::dates::{find_dates, DateForm, DateMention};
use crate::gazetteer::{CountryMention, Gazetteer};
use crate::numbers::parse_number_prefix;
use crate::record::{
    Area, DialogueEvent, DialogueKind, Document, Evidence, Extraction, Location, PartialDate,
    Partner, PreviousEdition, Relationship, Topic,
};
use lexicon::CueStrength;
use std::collections::BTreeMap;
use text::{clip, floor_boundary, MarkerSpans, PhraseGroups, Sentences, TextView};

/// One article to extract.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArticleInput<'a> {
    /// The article body, plain text or HTML.
    pub text: &'a str,
    /// True when `text` is HTML.
    pub is_html: bool,
    /// The URL it was published at, when known.
    pub url: Option<&'a str>,
    /// Its publication date, used for the year when the text gives none.
    pub published_at: Option<PartialDate>,
    /// Its headline, when submitted separately from the body.
    pub title: Option<&'a str>,
}

/// The extraction together with the cleaned text its evidence points into.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The cleaned article.
    pub cleaned: CleanedArticle,
    /// What was extracted.
    pub extraction: Extraction,
}

/// The extraction engine. Build once (automata are compiled in `new`), share freely.
#[derive(Debug)]
pub struct Extractor {
    gazetteer: Gazetteer,
    /// Event names, areas, topics, documents and relationship levels: one automaton.
    cues: PhraseGroups<Cue>,
    people: people::PeopleFinder,
    /// [`lexicon::DEFENCE_CONTEXT`].
    defence_context: Option<aho_corasick::AhoCorasick>,
}

impl Default for Extractor {
    fn default() -> Self {
        Extractor::new()
    }
}

/// Fixed phrases looked up in an event's passage (place, online form, edition
/// head words), found in the cue automaton's pass instead of one search each;
/// [`lexicon::HANOI_LANDMARKS`] follow them in the same numbering.
const PASSAGE_PHRASES: &[&str] = &[
    "trực tuyến",
    "trụ sở bộ quốc phòng",
    "sự đón tiếp",
    "đón tiếp",
    "chào mừng đoàn",
    "đối thoại lần thứ",
    "hội đàm lần thứ",
    "tham vấn lần thứ",
];

/// Where each of [`PASSAGE_PHRASES`] (then [`lexicon::HANOI_LANDMARKS`]) occurs.
#[derive(Debug, Default)]
struct PhraseHits {
    starts: Vec<Vec<usize>>,
}

impl PhraseHits {
    /// Every start of `phrase` (one of the passage phrases or landmarks), in order.
    fn all(&self, phrase: &str) -> &[usize] {
        PASSAGE_PHRASES
            .iter()
            .chain(lexicon::HANOI_LANDMARKS)
            .position(|known| *known == phrase)
            .and_then(|index| self.starts.get(index))
            .map_or(&[], Vec::as_slice)
    }

    /// The first start of `phrase` lying wholly inside `from..to`.
    fn first_within(&self, phrase: &str, from: usize, to: usize) -> Option<usize> {
        let starts = self.all(phrase);
        let first = starts.partition_point(|start| *start < from);
        starts
            .get(first)
            .copied()
            .filter(|start| start + phrase.len() <= to)
    }
}

/// A cue phrase of [`lexicon`], by list.
#[derive(Debug, Clone, Copy)]
enum Cue {
    Kind(DialogueKind, CueStrength),
    Area(Area),
    Topic(Topic),
    Document(crate::record::DocumentType),
    Relationship(Relationship),
    /// [`lexicon::REFERENCE_MARKERS`] (as substrings).
    Reference,
    /// "asean" (as a substring).
    Asean,
    /// One of [`PASSAGE_PHRASES`] and [`lexicon::HANOI_LANDMARKS`] (as a substring).
    Phrase(usize),
}

/// Every cue phrase of one article, by list (one automaton pass).
#[derive(Debug, Default)]
struct CueHits {
    kinds: Vec<(usize, usize, (DialogueKind, CueStrength))>,
    areas: Vec<(usize, usize, Area)>,
    topics: Vec<(usize, usize, Topic)>,
    documents: Vec<(usize, usize, crate::record::DocumentType)>,
    relationships: Vec<(usize, usize, Relationship)>,
    references: Vec<(usize, usize)>,
    asean: Vec<(usize, usize)>,
    phrases: PhraseHits,
}

impl CueHits {
    fn find(cues: &PhraseGroups<Cue>, view: &TextView) -> Self {
        let mut hits = CueHits::default();
        hits.phrases.starts =
            vec![Vec::new(); PASSAGE_PHRASES.len() + lexicon::HANOI_LANDMARKS.len()];
        for (start, end, cue) in cues.find(view).into_iter().flatten() {
            match cue {
                Cue::Kind(kind, strength) => hits.kinds.push((start, end, (kind, strength))),
                Cue::Area(area) => hits.areas.push((start, end, area)),
                Cue::Topic(topic) => hits.topics.push((start, end, topic)),
                Cue::Document(document) => hits.documents.push((start, end, document)),
                Cue::Relationship(level) => hits.relationships.push((start, end, level)),
                Cue::Reference => hits.references.push((start, end)),
                Cue::Asean => hits.asean.push((start, end)),
                Cue::Phrase(index) => {
                    if let Some(starts) = hits.phrases.starts.get_mut(index) {
                        starts.push(start);
                    }
                }
            }
        }
        hits
    }
}

/// The sentences that report a referenced (past or other) event
/// ([`lexicon::REFERENCE_MARKERS`]), found once per article.
#[derive(Debug)]
pub(crate) struct References<'s> {
    sentences: &'s Sentences,
    markers: MarkerSpans,
}

impl References<'_> {
    /// True when the sentence containing `position` reports a referenced event.
    pub(crate) fn at(&self, position: usize) -> bool {
        let sentence = self.sentences.containing(position);
        self.markers.any_within(sentence.0, sentence.1)
    }
}

/// An event name found in the text (byte span of the lower-cased view).
#[derive(Debug, Clone, Copy)]
struct KindHit {
    start: usize,
    end: usize,
    kind: DialogueKind,
    strength: CueStrength,
}

/// An event being built: its kind, the passage it owns, its anchor.
#[derive(Debug, Clone)]
struct EventFrame {
    kind: DialogueKind,
    hit: KindHit,
    passage_start: usize,
    passage_end: usize,
}

impl Extractor {
    /// Builds the engine.
    pub fn new() -> Self {
        Extractor {
            gazetteer: Gazetteer::new(),
            cues: PhraseGroups::with_substring_groups(
                vec![
                    lexicon::KIND_CUES
                        .iter()
                        .map(|(phrase, kind, strength)| (*phrase, Cue::Kind(*kind, *strength)))
                        .collect(),
                    lexicon::AREA_CUES
                        .iter()
                        .map(|(phrase, area)| (*phrase, Cue::Area(*area)))
                        .collect(),
                    lexicon::TOPIC_CUES
                        .iter()
                        .map(|(phrase, topic)| (*phrase, Cue::Topic(*topic)))
                        .collect(),
                    lexicon::DOCUMENT_CUES
                        .iter()
                        .map(|(phrase, document)| (*phrase, Cue::Document(*document)))
                        .collect(),
                    lexicon::RELATIONSHIP_CUES
                        .iter()
                        .map(|(phrase, level)| (*phrase, Cue::Relationship(*level)))
                        .collect(),
                    lexicon::REFERENCE_MARKERS
                        .iter()
                        .map(|phrase| (*phrase, Cue::Reference))
                        .collect(),
                    vec![("asean", Cue::Asean)],
                    PASSAGE_PHRASES
                        .iter()
                        .chain(lexicon::HANOI_LANDMARKS)
                        .enumerate()
                        .map(|(index, phrase)| (*phrase, Cue::Phrase(index)))
                        .collect(),
                ],
                &[5, 6, 7],
            ),
            people: people::PeopleFinder::new(),
            defence_context: text::marker_automaton(lexicon::DEFENCE_CONTEXT),
        }
    }

    /// Extracts the dialogue events of one article.
    pub fn extract(&self, input: &ArticleInput<'_>) -> Extraction {
        self.explain(input).extraction
    }

    /// Extracts and returns the cleaned text as well (for `dialogwatch explain`, for search).
    pub fn explain(&self, input: &ArticleInput<'_>) -> Explanation {
        let (mut cleaned, mut lower) = clean_article_with_lower(input.text, input.is_html);
        if let Some(title) = input.title.map(str::trim).filter(|title| !title.is_empty()) {
            let title_clean = clean_article(title, false).text;
            if !title_clean.is_empty() && !cleaned.text.starts_with(&title_clean) {
                cleaned.text = format!("{title_clean}\n{}", cleaned.text);
                lower = crate::normalize::lowercase_keeping_offsets(&cleaned.text);
            }
        }
        let extraction = self.extract_cleaned(&cleaned, lower, input.published_at);
        Explanation {
            cleaned,
            extraction,
        }
    }

    fn extract_cleaned(
        &self,
        cleaned: &CleanedArticle,
        lower: String,
        published: Option<PartialDate>,
    ) -> Extraction {
        let text = cleaned.text.as_str();
        if text.trim().is_empty() {
            return Extraction::not_dialogue("the article has no text after cleaning");
        }
        let view = TextView::with_lower(text, lower);
        let sentences = Sentences::split(text);
        let mut cue_hits = CueHits::find(&self.cues, &view);
        let kind_hits = &cue_hits.kinds;
        let references = References {
            sentences: &sentences,
            markers: MarkerSpans::from_spans(std::mem::take(&mut cue_hits.references)),
        };
        let frames = self.find_events(&view, &sentences, kind_hits, &references);
        let about_defence = self
            .defence_context
            .as_ref()
            .is_none_or(|automaton| automaton.is_match(&view.lower));
        if !about_defence {
            return Extraction {
                source_url: cleaned.source_url.clone(),
                ..Extraction::not_dialogue(
                    "talks are named but nothing in the text is about defence",
                )
            };
        }
        if frames.is_empty() {
            return Extraction {
                source_url: cleaned.source_url.clone(),
                ..Extraction::not_dialogue("no bilateral defence event (dialogue, talks, courtesy call, consultation) is named")
            };
        }
        let countries = self.gazetteer.find_all(text);
        let pairs = Gazetteer::pairs_among(text, &countries);
        let people = self.people.find(&view, &sentences, &countries);
        let asean = MarkerSpans::from_spans(std::mem::take(&mut cue_hits.asean));
        let dates = find_dates(text);
        let context_year = context_year(&view, &dates);
        let relationship = relationship(&cue_hits.relationships);
        let (area_hits, topic_hits, document_hits) =
            (&cue_hits.areas, &cue_hits.topics, &cue_hits.documents);

        let mut events = Vec::new();
        let mut online = Vec::new();
        let mut primary_partner: Option<(&'static crate::gazetteer::Country, usize, usize)> = None;
        for (index, frame) in frames.iter().enumerate() {
            let mut evidence = Vec::new();
            let partner = self
                .partner(
                    &view,
                    &sentences,
                    frame,
                    &countries,
                    &pairs,
                    &references,
                    &asean,
                )
                .or(primary_partner);
            let Some((country, partner_start, partner_end)) = partner else {
                continue;
            };
            if index == 0 {
                primary_partner = Some((country, partner_start, partner_end));
            }
            evidence.push(evidence_for("kind", text, frame.hit.start, frame.hit.end));
            evidence.push(evidence_for("partner", text, partner_start, partner_end));
            let (edition, previous) = edition(
                text,
                &view,
                &sentences,
                frame,
                kind_hits,
                &cue_hits.phrases,
                &dates,
                &mut evidence,
            );
            let date = event_date(
                text,
                &references,
                frame,
                &dates,
                context_year,
                published,
                index,
                &mut evidence,
            );
            let location = location(
                text,
                &view,
                &sentences,
                frame,
                country.code,
                &countries,
                &references,
                &cue_hits.phrases,
                &mut evidence,
            );
            online.push(is_online(&sentences, frame, &cue_hits.phrases));
            if let Some((level, start, end)) = relationship {
                evidence.push(evidence_for("relationship", text, start, end));
                let _ = level;
            }
            let participants = people::participants(
                &people,
                frame,
                &sentences,
                &view,
                &references,
                country.code,
                text,
                &mut evidence,
            );
            let documents = documents(text, &view, &sentences, frame, document_hits, &mut evidence);
            let areas = areas(text, &view, frame, area_hits, &mut evidence);
            let topics = topics(text, frame, topic_hits, &mut evidence);
            events.push(DialogueEvent {
                primary: events.is_empty(),
                kind: frame.kind,
                partner: Partner {
                    code: country.code.to_string(),
                    name_vi: country.name_vi.to_string(),
                    name_en: country.name_en.to_string(),
                },
                edition,
                date,
                location,
                relationship: if index == 0 {
                    relationship.map(|(level, _, _)| level)
                } else {
                    None
                },
                participants,
                documents,
                areas,
                topics,
                previous,
                evidence: to_char_offsets(text, evidence),
            });
        }
        // Events of one visit share its place: a courtesy call by a Vietnamese
        // host is in Việt Nam; an event with no place of its own takes the visit's.
        for (event, frame) in events.iter_mut().zip(&frames) {
            if event.location.country.is_none()
                && frame.kind == DialogueKind::CourtesyCall
                && event.participants.iter().any(|person| {
                    person.side == "VN" && person.role == crate::record::Role::CoChair
                })
                && sentences_host_is_vietnamese(&view, &sentences, frame)
            {
                event.location.country = Some("VN".to_string());
            }
        }
        let known_place = events
            .iter()
            .find(|event| event.location.country.is_some())
            .map(|event| event.location.clone());
        if let Some(place) = known_place {
            for (event, online) in events.iter_mut().zip(&online) {
                if event.location.country.is_none() && !online {
                    event.location = Location {
                        venue: None,
                        ..place.clone()
                    };
                }
            }
        }
        if events.is_empty() {
            return Extraction {
                source_url: cleaned.source_url.clone(),
                ..Extraction::not_dialogue(
                    "an event is named but no partner country is paired with Việt Nam",
                )
            };
        }
        Extraction {
            is_dialogue: true,
            source_url: cleaned.source_url.clone(),
            reason: None,
            events,
        }
    }

    /// The events of the article: the primary one and any later one of another kind.
    fn find_events(
        &self,
        view: &TextView,
        sentences: &Sentences,
        kind_hits: &[(usize, usize, (DialogueKind, CueStrength))],
        references: &References,
    ) -> Vec<EventFrame> {
        let mut hits: Vec<KindHit> = kind_hits
            .iter()
            .copied()
            .map(|(start, end, (kind, strength))| KindHit {
                start,
                end,
                kind,
                strength,
            })
            .collect();
        hits.extend(courtesy_receptions(view));
        hits.sort_by_key(|hit| hit.start);
        let named: Vec<KindHit> = hits
            .iter()
            .copied()
            .filter(|hit| {
                hit.strength == CueStrength::Named && !in_multilateral_context(view, sentences, hit)
            })
            .collect();
        let candidates = if named.is_empty() {
            hits.iter()
                .copied()
                .filter(|hit| !in_multilateral_context(view, sentences, hit))
                .collect()
        } else {
            named
        };
        let Some(first) = candidates.first().copied() else {
            return Vec::new();
        };
        // A dialogue named in the headline/lede is the event even when talks are mentioned first.
        let lede_end = sentences.lede_end();
        let primary_hit = candidates
            .iter()
            .copied()
            .filter(|hit| hit.start < lede_end)
            .find(|hit| {
                matches!(
                    hit.kind,
                    DialogueKind::PolicyDialogue | DialogueKind::StrategicDialogue
                )
            })
            .unwrap_or(first);
        let mut frames = vec![EventFrame {
            kind: primary_hit.kind,
            hit: primary_hit,
            passage_start: 0,
            passage_end: view.lower.len(),
        }];
        for hit in candidates {
            if hit.start <= primary_hit.start || frames.iter().any(|frame| frame.kind == hit.kind) {
                continue;
            }
            let sentence = sentences.containing(hit.start);
            let has_actor = self.people.sentence_has_person(view, sentence);
            let referenced = references.at(hit.start);
            if !has_actor || referenced {
                continue;
            }
            if let Some(previous) = frames.last_mut() {
                previous.passage_end = sentence.0;
            }
            frames.push(EventFrame {
                kind: hit.kind,
                hit,
                passage_start: sentence.0,
                passage_end: view.lower.len(),
            });
        }
        frames
    }

    /// The partner of an event: the country that wins a vote weighted by syntax.
    #[allow(clippy::too_many_arguments)]
    fn partner(
        &self,
        view: &TextView,
        sentences: &Sentences,
        frame: &EventFrame,
        countries: &[CountryMention],
        pairs: &[crate::gazetteer::CountryPair],
        references: &References,
        asean: &MarkerSpans,
    ) -> Option<(&'static crate::gazetteer::Country, usize, usize)> {
        let mut votes: BTreeMap<
            &'static str,
            (u32, usize, usize, &'static crate::gazetteer::Country),
        > = BTreeMap::new();
        let event_sentence = sentences.containing(frame.hit.start);
        let mut vote = |mention: &CountryMention, weight: u32| {
            if mention.country.code == "VN" {
                return;
            }
            let entry = votes.entry(mention.country.code).or_insert((
                0,
                mention.start,
                mention.end,
                mention.country,
            ));
            entry.0 += weight;
        };
        for pair in pairs {
            let (left, right) = (pair.left, pair.right);
            let other = if left.country.code == "VN" {
                right
            } else if right.country.code == "VN" {
                left
            } else {
                continue;
            };
            let inside = other.start >= frame.passage_start && other.start < frame.passage_end;
            vote(&other, if inside { 6 } else { 3 });
        }
        for mention in countries {
            let inside = mention.start >= frame.passage_start && mention.start < frame.passage_end;
            let before = clip(&view.lower, mention.start.saturating_sub(40), mention.start);
            let owner = [
                "quốc phòng ",
                "bộ quốc phòng ",
                "quân đội ",
                "phía ",
                "đoàn ",
                "lực lượng vũ trang ",
                "hải quân ",
                "lục quân ",
                "không quân ",
                "cộng hòa ",
                "vương quốc ",
                "đại sứ ",
            ]
            .iter()
            .any(|word| before.ends_with(word));
            let in_event_sentence =
                mention.start >= event_sentence.0 && mention.start < event_sentence.1;
            let referenced = references.at(mention.start) || {
                let sentence = sentences.containing(mention.start);
                asean.any_within(sentence.0, sentence.1)
            };
            let mut weight: u32 = if inside { 2 } else { 1 };
            if owner {
                weight += 2;
            }
            if in_event_sentence {
                weight += 3;
            }
            if referenced {
                weight = weight.saturating_sub(1).max(1);
            }
            vote(mention, weight);
        }
        votes
            .into_values()
            .max_by(|left, right| left.0.cmp(&right.0).then(right.1.cmp(&left.1)))
            .map(|(_, start, end, country)| (country, start, end))
    }
}

/// The edition of the event's mechanism, and an earlier one it cites.
#[allow(clippy::too_many_arguments)]
fn edition(
    text: &str,
    view: &TextView,
    sentences: &Sentences,
    frame: &EventFrame,
    kind_hits: &[(usize, usize, (DialogueKind, CueStrength))],
    phrases: &PhraseHits,
    dates: &[DateMention],
    evidence: &mut Vec<Evidence>,
) -> (Option<u32>, Option<PreviousEdition>) {
    // "Đối thoại … lần thứ N" after the name (or the bare head word, "Đối
    // thoại lần thứ 9"): current, or cited when the clause points back.
    let classify = |name_start: usize, name_end: usize| -> Option<(bool, (u32, usize, usize))> {
        let sentence = sentences.containing(name_start);
        let window = clip(&view.lower, name_end, (name_end + 90).min(sentence.1));
        let offset = window.find("lần thứ ")?;
        let between = &window[..offset];
        let foreign_noun = ["hội nghị", "nhóm", "triển lãm", "diễn đàn", "(", ";", "."]
            .iter()
            .any(|noun| between.contains(noun));
        if foreign_noun {
            return None;
        }
        let number_start = name_end + offset + "lần thứ ".len();
        let (number, length) = text.get(number_start..).and_then(parse_number_prefix)?;
        let before = &view.lower[sentence.0..name_start];
        let is_cited = before.contains("kể từ")
            || before.ends_with("tại ")
            || before.contains("lần trước")
            || before.contains("trước đó");
        Some((is_cited, (number, name_end + offset, number_start + length)))
    };
    let mut named_found = Vec::new();
    for &(start, end, (kind, strength)) in kind_hits {
        if kind != frame.kind || strength != CueStrength::Named {
            continue;
        }
        named_found.extend(classify(start, end));
    }
    let head_word = match frame.kind {
        DialogueKind::PolicyDialogue | DialogueKind::StrategicDialogue => Some("đối thoại lần thứ"),
        DialogueKind::DefenceTalks => Some("hội đàm lần thứ"),
        DialogueKind::Consultation => Some("tham vấn lần thứ"),
        DialogueKind::CourtesyCall | DialogueKind::Other => None,
    };
    let mut bare_found = Vec::new();
    if let Some(head_word) = head_word {
        let name = head_word[..head_word.len() - "lần thứ".len()].trim_end();
        for &start in phrases.all(head_word) {
            if text::is_word_boundary(&view.lower, start, start + name.len()) {
                bare_found.extend(classify(start, start + name.len()));
            }
        }
    }
    let named_current: Vec<(u32, usize, usize)> = named_found
        .iter()
        .filter(|(is_cited, _)| !is_cited)
        .map(|(_, span)| *span)
        .collect();
    // A bare "Đối thoại lần thứ N" is the current edition only when no named one is.
    let current = if named_current.is_empty() {
        bare_found
            .iter()
            .filter(|(is_cited, _)| !is_cited)
            .map(|(_, span)| *span)
            .collect()
    } else {
        named_current
    };
    let mut cited: Vec<(u32, usize, usize)> = named_found
        .iter()
        .chain(&bare_found)
        .filter(|(is_cited, _)| *is_cited)
        .map(|(_, span)| *span)
        .collect();
    cited.sort_by_key(|(_, start, _)| *start);
    let edition = current.first().copied();
    if let Some((_, start, end)) = edition {
        evidence.push(evidence_for("edition", text, start, end));
    }
    let previous = cited
        .iter()
        .find(|(number, _, _)| edition.is_none_or(|(current, _, _)| number < &current))
        .map(|(number, start, end)| {
            let date = dates
                .iter()
                .find(|date| date.start >= *end && date.start <= end + 12)
                .and_then(DateMention::partial_date);
            evidence.push(evidence_for("previous", text, *start, *end));
            PreviousEdition {
                edition: Some(*number),
                date,
            }
        });
    (edition.map(|(number, _, _)| number), previous)
}

fn documents(
    text: &str,
    view: &TextView,
    sentences: &Sentences,
    frame: &EventFrame,
    document_hits: &[(usize, usize, crate::record::DocumentType)],
    evidence: &mut Vec<Evidence>,
) -> Vec<Document> {
    let mut documents: Vec<Document> = Vec::new();
    for &(start, end, document_type) in document_hits {
        if start < frame.passage_start || start >= frame.passage_end {
            continue;
        }
        let sentence = sentences.containing(start);
        let before = &view.lower[sentence.0..start];
        let after = &view.lower[end..sentence.1];
        let signed_before = text::has_word(before, "ký") || text::has_word(before, "ký kết");
        let referenced = signed_earlier_elsewhere(before)
            || before.contains("kể từ")
            || before.contains("các văn bản")
            || after.trim_start().starts_with("đã ký")
            || after.contains("(ký")
            || after.contains("ký năm")
            || after.contains("ký tháng")
            || after.contains("ký ngày")
            || after.contains("đã ký")
            || after.contains("đã được ký");
        let signed = signed_before && !referenced;
        let title_end = after
            .find([',', ';', '(', '.'])
            .map_or(sentence.1, |offset| end + offset)
            .min(floor_boundary(text, end + 160));
        let title = text
            .get(start..title_end)
            .map(|title| title.trim().to_string());
        let document = Document {
            document_type,
            title: title.filter(|title| title.chars().count() > 3),
            signed_at_event: signed,
        };
        if documents.iter().any(|known| {
            known.document_type == document.document_type
                && known.signed_at_event == document.signed_at_event
        }) {
            continue;
        }
        evidence.push(evidence_for(
            &format!("documents[{}]", documents.len()),
            text,
            start,
            title_end.max(end),
        ));
        documents.push(document);
    }
    documents
}

fn areas(
    text: &str,
    view: &TextView,
    frame: &EventFrame,
    area_hits: &[(usize, usize, Area)],
    evidence: &mut Vec<Evidence>,
) -> Vec<Area> {
    let mut found: Vec<Area> = Vec::new();
    for &(start, end, area) in area_hits {
        if start < frame.passage_start || start >= frame.passage_end {
            continue;
        }
        if text::inside_institution_name(text, start) {
            continue;
        }
        if area == Area::MultilateralCooperation
            && view.lower[end..].trim_start().starts_with("hóa")
        {
            continue;
        }
        if !found.contains(&area) {
            found.push(area);
            evidence.push(evidence_for(
                &format!("areas.{}", area.as_str()),
                text,
                start,
                end,
            ));
        }
    }
    found.sort_by_key(|area| area.as_str());
    found
}

fn topics(
    text: &str,
    frame: &EventFrame,
    topic_hits: &[(usize, usize, Topic)],
    evidence: &mut Vec<Evidence>,
) -> Vec<Topic> {
    let mut found: Vec<Topic> = Vec::new();
    for &(start, end, topic) in topic_hits {
        if start < frame.passage_start || start >= frame.passage_end {
            continue;
        }
        if !found.contains(&topic) {
            found.push(topic);
            evidence.push(evidence_for(
                &format!("topics.{}", topic.as_str()),
                text,
                start,
                end,
            ));
        }
    }
    found.sort_by_key(|topic| topic.as_str());
    found
}
/// "các văn bản đã ký, trong đó có Bản ghi nhớ …": a signing named before the
/// document that is not its own verb ("hai bên đã ký Bản ghi nhớ" is this
/// event's signing: "đã ký" right before the document, no comma between).
fn signed_earlier_elsewhere(before: &str) -> bool {
    let Some(position) = before.rfind("đã ký") else {
        return false;
    };
    let gap = &before[position + "đã ký".len()..];
    let governs_the_document =
        !gap.contains([',', ';', ':']) && gap.split_whitespace().count() <= 3;
    !governs_the_document
}

/// The highest relationship level stated, with its span.
fn relationship(hits: &[(usize, usize, Relationship)]) -> Option<(Relationship, usize, usize)> {
    hits.iter()
        .copied()
        .min_by_key(|(start, _, level)| (relationship_rank(*level), *start))
        .map(|(start, end, level)| (level, start, end))
}

fn relationship_rank(level: Relationship) -> u8 {
    match level {
        Relationship::ComprehensiveStrategicPartnership => 0,
        Relationship::StrategicPartnership => 1,
        Relationship::ComprehensivePartnership => 2,
    }
}

/// "X tiếp Y": a reception with a person or a delegation as the object.
fn courtesy_receptions(view: &TextView) -> Vec<KindHit> {
    let mut hits = Vec::new();
    let lower = view.lower.as_str();
    let mut search_from = 0;
    while let Some(offset) = lower[search_from..].find("tiếp ") {
        let start = search_from + offset;
        search_from = start + "tiếp ".len();
        let preceded_by_letter = lower[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        if preceded_by_letter || lower[..start].ends_with("đón ") {
            continue;
        }
        let mut rest = &view.original[start + "tiếp ".len()..];
        // "tiếp thân mật Đại sứ …", "tiếp chào xã giao Bộ trưởng …": manner words first.
        for manner in ["thân mật ", "chào xã giao ", "chào "] {
            if let Some(after) = rest.strip_prefix(manner) {
                rest = after;
                break;
            }
        }
        let next_word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
        let object_follows = next_word.chars().next().is_some_and(char::is_uppercase)
            || matches!(next_word.as_str(), "đoàn" | "ông" | "bà" | "ngài");
        if !object_follows || next_word.starts_with("Xã") {
            continue;
        }
        hits.push(KindHit {
            start,
            end: start + "tiếp".len(),
            kind: DialogueKind::CourtesyCall,
            strength: CueStrength::Named,
        });
    }
    hits
}

/// An event name at a multilateral forum ("Đối thoại Shangri-La", "ADMM") names no bilateral event.
fn in_multilateral_context(view: &TextView, sentences: &Sentences, hit: &KindHit) -> bool {
    let after = clip(&view.lower, hit.end, hit.end + 24);
    let sentence = sentences.containing(hit.start);
    let _ = sentence;
    after.trim_start().starts_with("shangri") || after.trim_start().starts_with("asean")
}

/// A year the text states for the whole report: an anniversary "(1973-2023)"
/// or a sentence opening "Năm 2023 …".
fn context_year(view: &TextView, dates: &[DateMention]) -> Option<(i32, usize, usize)> {
    let anniversary = dates
        .iter()
        .find(|date| date.form == DateForm::Anniversary)
        .and_then(|date| date.date.year.map(|year| (year, date.start, date.end)));
    if anniversary.is_some() {
        return anniversary;
    }
    dates
        .iter()
        .filter(|date| date.form == DateForm::Year)
        .find(|date| {
            let before = view.lower[..date.start].trim_end();
            before.is_empty()
                || before.ends_with(['.', '\n', ':'])
                || view.original[..date.start].ends_with('\n')
        })
        .and_then(|date| date.date.year.map(|year| (year, date.start, date.end)))
}

#[allow(clippy::too_many_arguments)]
fn event_date(
    text: &str,
    references: &References,
    frame: &EventFrame,
    dates: &[DateMention],
    context_year: Option<(i32, usize, usize)>,
    published: Option<PartialDate>,
    event_index: usize,
    evidence: &mut Vec<Evidence>,
) -> Option<PartialDate> {
    let day_forms = [
        DateForm::DayMonth,
        DateForm::DayMonthYear,
        DateForm::DayRange,
    ];
    let candidate = dates.iter().find(|date| {
        day_forms.contains(&date.form)
            && date.start >= frame.passage_start
            && date.start < frame.passage_end
            && date.cue.is_some_and(|cue| {
                cue.word.is_time_of_day()
                    || matches!(
                        cue.word,
                        crate::dates::CueWord::Day | crate::dates::CueWord::Today
                    )
            })
            && !references.at(date.start)
    });
    if let Some(date) = candidate {
        let (day, month) = (date.date.day?, date.date.month?);
        let year = date
            .date
            .year
            .or(context_year.map(|(year, _, _)| year))
            .or_else(|| crate::dates::resolve_year(day, month, published));
        let start = date.cue.map_or(date.start, |cue| cue.start.min(date.start));
        evidence.push(evidence_for("date", text, start, date.end));
        if let Some((_, year_start, year_end)) = context_year.filter(|_| date.date.year.is_none()) {
            evidence.push(evidence_for("date", text, year_start, year_end));
        }
        return year.and_then(|year| PartialDate::ymd(year, month, day));
    }
    if event_index > 0 {
        return None;
    }
    if let Some((year, start, end)) = context_year {
        evidence.push(evidence_for("date", text, start, end));
        return Some(PartialDate::year(year));
    }
    published.map(|date| PartialDate::year(date.year))
}

/// True when the event's lede says it was held online.
fn is_online(sentences: &Sentences, frame: &EventFrame, phrases: &PhraseHits) -> bool {
    let lede_end = sentences
        .nth_end_after(frame.passage_start, 3)
        .min(frame.passage_end);
    phrases
        .first_within("trực tuyến", frame.passage_start, lede_end)
        .is_some()
}

#[allow(clippy::too_many_arguments)]
fn location(
    text: &str,
    view: &TextView,
    sentences: &Sentences,
    frame: &EventFrame,
    partner_code: &'static str,
    countries: &[CountryMention],
    references: &References,
    phrases: &PhraseHits,
    evidence: &mut Vec<Evidence>,
) -> Location {
    let (passage_start, passage_end) = (frame.passage_start, frame.passage_end);
    let lede_end = sentences
        .nth_end_after(frame.passage_start, 3)
        .min(frame.passage_end);
    if let Some(start) = phrases.first_within("trực tuyến", passage_start, lede_end) {
        evidence.push(evidence_for(
            "location",
            text,
            start,
            start + "trực tuyến".len(),
        ));
        return Location::default();
    }
    let mut location = Location::default();
    if let Some(start) = phrases.first_within("trụ sở bộ quốc phòng", passage_start, passage_end)
    {
        let end = start + "trụ sở bộ quốc phòng".len();
        let owner = countries
            .iter()
            .find(|mention| mention.start >= end)
            .filter(|mention| mention.start <= end + 1)
            .map(|mention| mention.country.code);
        location.venue = Some("Trụ sở Bộ Quốc phòng".to_string());
        match owner {
            Some(code) if code != "VN" => location.country = Some(code.to_string()),
            _ => {
                location.country = Some("VN".to_string());
                location.city = Some("Hà Nội".to_string());
            }
        }
        evidence.push(evidence_for("location", text, start, end));
    }
    // The first city of the lede introduced as the place ("tại Tokyo",
    // "Thủ đô Canberra", "(Hà Nội)"), outside sentences about another event.
    static CITY_NAMES: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let cities = CITY_NAMES.get_or_init(|| {
        let names: Vec<String> = lexicon::CITIES
            .iter()
            .map(|(city, _)| {
                crate::normalize::lowercase_keeping_offsets(&crate::normalize::normalize(city))
            })
            .collect();
        aho_corasick::AhoCorasickBuilder::new()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(names)
            .ok()
    });
    let lede_lower = clip(&view.lower, frame.passage_start, lede_end);
    for found in cities
        .iter()
        .flat_map(|cities| cities.find_iter(lede_lower))
    {
        let start = frame.passage_start + found.start();
        let end = frame.passage_start + found.end();
        let Some((city, code)) = lexicon::CITIES.get(found.pattern().as_usize()) else {
            continue;
        };
        let before = view.lower[..start].trim_end();
        let introduced = before.ends_with("tại")
            || before.ends_with("(")
            || before.ends_with("thủ đô")
            || before.ends_with("ở")
            || before.ends_with("thành phố");
        let boundary = text::is_word_boundary(&view.lower, start, end);
        let capitalised = text
            .get(start..)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_uppercase()));
        if introduced && boundary && capitalised && !references.at(start) {
            location.city = Some((*city).to_string());
            location.country = Some((*code).to_string());
            evidence.push(evidence_for("location", text, start, end));
            return location;
        }
    }
    if location.country.is_some() {
        return location;
    }
    for landmark in lexicon::HANOI_LANDMARKS {
        if let Some(start) = phrases.first_within(landmark, passage_start, passage_end) {
            evidence.push(evidence_for(
                "location",
                text,
                start,
                start + landmark.len(),
            ));
            return Location {
                country: Some("VN".to_string()),
                city: Some("Hà Nội".to_string()),
                venue: None,
            };
        }
    }
    // "tại Singapore": a country named as the place in the lede.
    let in_lede = countries
        .iter()
        .filter(|mention| mention.start >= frame.passage_start && mention.end <= lede_end);
    for mention in in_lede {
        let start = mention.start;
        if view.lower[..start].trim_end().ends_with("tại") {
            evidence.push(evidence_for("location", text, start, mention.end));
            return Location {
                country: Some(mention.country.code.to_string()),
                city: None,
                venue: None,
            };
        }
    }
    // A welcome thanked for: the event took place where the hosts are.
    for marker in ["sự đón tiếp", "đón tiếp", "chào mừng đoàn"] {
        if let Some(start) = phrases.first_within(marker, passage_start, passage_end) {
            let sentence = sentences.containing(start);
            let host = countries
                .iter()
                .find(|mention| mention.start >= start && mention.end <= sentence.1)
                .map_or("VN", |mention| mention.country.code);
            evidence.push(evidence_for("location", text, start, start + marker.len()));
            return Location {
                country: Some(host.to_string()),
                city: None,
                venue: None,
            };
        }
    }
    // A Vietnamese host receiving the visitor ("Bộ trưởng … tiếp …").
    if frame.kind == DialogueKind::CourtesyCall || frame.kind == DialogueKind::DefenceTalks {
        let _ = partner_code;
    }
    location
}

/// True when the event's sentence has a Vietnamese subject receiving ("X tiếp Y" with X first).
fn sentences_host_is_vietnamese(
    view: &TextView,
    sentences: &Sentences,
    frame: &EventFrame,
) -> bool {
    let sentence = sentences.containing(frame.hit.start);
    let before = clip(view.original, sentence.0, frame.hit.start);
    lexicon::VIETNAMESE_SURNAMES
        .iter()
        .any(|surname| before.contains(&format!(" {surname} ")))
        || before.contains("Việt Nam")
}

/// An evidence record over a byte span (converted to characters at the end).
fn evidence_for(field: &str, text: &str, start: usize, end: usize) -> Evidence {
    Evidence {
        field: field.to_string(),
        start,
        end,
        text: text.get(start..end).unwrap_or_default().to_string(),
    }
}

/// Converts byte spans to character spans of `text` (one pass over the text
/// for all of them, not one per span).
fn to_char_offsets(text: &str, evidence: Vec<Evidence>) -> Vec<Evidence> {
    let valid: Vec<Evidence> = evidence
        .into_iter()
        .filter(|item| {
            text.is_char_boundary(item.start)
                && text.is_char_boundary(item.end)
                && item.start <= item.end
                && item.end <= text.len()
        })
        .collect();
    let mut offsets: Vec<usize> = valid
        .iter()
        .flat_map(|item| [item.start, item.end])
        .collect();
    offsets.sort_unstable();
    offsets.dedup();
    let mut characters_before = Vec::with_capacity(offsets.len());
    let (mut byte_position, mut characters) = (0, 0);
    for &offset in &offsets {
        characters += text
            .get(byte_position..offset)
            .map_or(0, |part| part.chars().count());
        byte_position = offset;
        characters_before.push(characters);
    }
    let to_characters = |byte: usize| {
        offsets
            .binary_search(&byte)
            .ok()
            .and_then(|index| characters_before.get(index).copied())
            .unwrap_or_default()
    };
    valid
        .into_iter()
        .map(|item| Evidence {
            start: to_characters(item.start),
            end: to_characters(item.end),
            ..item
        })
        .collect()
}

#[cfg(test)]
mod tests;
