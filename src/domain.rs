//! Domain types the handlers, the store and the feed speak. gRPC messages are
//! converted into these at the edge (`convert`), never passed further in.

use dialogwatch_worker::record::{
    Area, DialogueEvent, DialogueKind, DocumentType, Evidence, PartialDate, Relationship, Topic,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An article's id: a number shown as `art-<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ArticleId(pub u64);

impl fmt::Display for ArticleId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "art-{}", self.0)
    }
}

/// A string that is not an article id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed article id {0:?}: expected art-<number>")]
pub struct MalformedArticleId(pub String);

impl FromStr for ArticleId {
    type Err = MalformedArticleId;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix("art-")
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .map(ArticleId)
            .ok_or_else(|| MalformedArticleId(text.to_string()))
    }
}

/// An article as accepted at the edge: validated, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewArticle {
    /// Client-chosen idempotency key, when given.
    pub request_id: Option<String>,
    /// The body (valid UTF-8, not blank, within the size limit).
    pub content: String,
    /// True when `content` is HTML.
    pub is_html: bool,
    /// Absolute http(s) URL.
    pub url: Option<String>,
    /// Outlet name.
    pub outlet: Option<String>,
    /// Publication date.
    pub published_at: Option<PartialDate>,
    /// Headline.
    pub title: Option<String>,
}

/// What a submission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmitOutcome {
    /// The stored article (new or existing).
    pub article_id: ArticleId,
    /// False when the article was already stored.
    pub created: bool,
}

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArticleState {
    /// Waiting for a worker (or for its retry time).
    Queued,
    /// Leased by a worker.
    Processing,
    /// Extracted and merged into the records.
    Done,
    /// Failed more often than the retry bound allows.
    DeadLettered,
}

/// An article and its processing state, as `GetArticle` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleStatus {
    /// Its id.
    pub id: ArticleId,
    /// Its state.
    pub state: ArticleState,
    /// Submitted URL, or the one found in its text once processed.
    pub url: Option<String>,
    /// Outlet.
    pub outlet: Option<String>,
    /// Publication date.
    pub published_at: Option<PartialDate>,
    /// Headline.
    pub title: Option<String>,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The latest failure.
    pub last_error: Option<String>,
    /// Records it contributed to.
    pub dialogue_ids: Vec<String>,
    /// Set once processed.
    pub is_dialogue: Option<bool>,
    /// Why it is not a dialogue.
    pub reason: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub submitted_at_ms: u64,
    /// Milliseconds since the Unix epoch.
    pub updated_at_ms: u64,
}

/// An article leased to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedArticle {
    /// The job the worker loop runs (ids as strings).
    pub job: dialogwatch_worker::runner::Job,
    /// Lease deadline, milliseconds since the Unix epoch.
    pub deadline_ms: u64,
}

/// What a failure report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOutcome {
    /// True when the retry bound was reached.
    pub dead_lettered: bool,
    /// When it will be offered again, when not dead-lettered.
    pub retry_at_ms: Option<u64>,
}

/// One article that reported a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// The article.
    pub article_id: ArticleId,
    /// Its URL.
    pub url: Option<String>,
    /// Its outlet.
    pub outlet: Option<String>,
    /// Its publication date.
    pub published_at: Option<PartialDate>,
    /// This source's evidence spans (character offsets into its cleaned text).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// One event merged from every report of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogueRecord {
    /// Stable id (`dlg-<16 hex>`).
    pub id: String,
    /// 1 when created, +1 per change.
    pub revision: u64,
    /// Feed sequence of its latest change.
    pub sequence: u64,
    /// The merged event.
    pub event: DialogueEvent,
    /// Every article that reported it, by article id.
    pub sources: Vec<Source>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Milliseconds since the Unix epoch.
    pub updated_at_ms: u64,
}

/// Whether a feed event created or changed a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedEventType {
    /// A new record.
    Created,
    /// A changed record.
    Updated,
}

/// One entry of the feed log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEvent {
    /// Its position in the feed, from 1, without gaps.
    pub sequence: u64,
    /// Created or updated.
    pub event_type: FeedEventType,
    /// The whole record as of this event.
    pub record: DialogueRecord,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// Filters of ListDialogues, SearchDialogues and WatchDialogues: the set
/// fields combine with AND; the values of one field with OR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialogueFilter {
    /// ISO codes, upper case; any matches.
    pub partners: Vec<String>,
    /// Kinds; any matches.
    pub kinds: Vec<DialogueKind>,
    /// Inclusive lower bound on the event date.
    pub date_from: Option<PartialDate>,
    /// Inclusive upper bound on the event date.
    pub date_to: Option<PartialDate>,
    /// Exact edition.
    pub edition: Option<u32>,
    /// Participant names, folded with [`fold_key`] (diacritic- and case-insensitive); any matches.
    pub participants: Vec<String>,
    /// Participant ranks, folded with [`fold_key`]; any matches.
    pub ranks: Vec<String>,
    /// Cooperation areas; any matches.
    pub areas: Vec<Area>,
    /// Policy topics; any matches.
    pub topics: Vec<Topic>,
    /// Types of the documents of the event; any matches.
    pub document_types: Vec<DocumentType>,
    /// Relationship levels; any matches.
    pub relationships: Vec<Relationship>,
}

/// The comparison form of a name or rank: NFC, tone marks normalised, diacritics
/// dropped (đ → d), lower case, single spaces ("Hoàng  Xuân Chiến" → "hoang xuan chien").
pub fn fold_key(text: &str) -> String {
    let folded = dialogwatch_worker::normalize::fold_for_search(
        &dialogwatch_worker::normalize::normalize(text),
    );
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl DialogueFilter {
    /// True when the record passes every set condition. A record without a
    /// date fails any date bound.
    pub fn matches(&self, record: &DialogueRecord) -> bool {
        let event = &record.event;
        if !self.partners.is_empty() && !self.partners.contains(&event.partner.code) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&event.kind) {
            return false;
        }
        if let Some(edition) = self.edition {
            if event.edition != Some(edition) {
                return false;
            }
        }
        if !self.participants.is_empty()
            && !event
                .participants
                .iter()
                .any(|person| self.participants.contains(&fold_key(&person.name)))
        {
            return false;
        }
        if !self.ranks.is_empty()
            && !event.participants.iter().any(|person| {
                person
                    .rank
                    .as_deref()
                    .is_some_and(|rank| self.ranks.contains(&fold_key(rank)))
            })
        {
            return false;
        }
        if !self.areas.is_empty() && !event.areas.iter().any(|area| self.areas.contains(area)) {
            return false;
        }
        if !self.topics.is_empty() && !event.topics.iter().any(|topic| self.topics.contains(topic))
        {
            return false;
        }
        if !self.document_types.is_empty()
            && !event
                .documents
                .iter()
                .any(|document| self.document_types.contains(&document.document_type))
        {
            return false;
        }
        if !self.relationships.is_empty()
            && !event
                .relationship
                .is_some_and(|relationship| self.relationships.contains(&relationship))
        {
            return false;
        }
        self.matches_date(event.date)
    }

    /// True when `date` is within the date bounds (always, when none is set).
    pub fn matches_date(&self, date: Option<PartialDate>) -> bool {
        if self.date_from.is_none() && self.date_to.is_none() {
            return true;
        }
        let Some(date) = date else {
            return false;
        };
        let after_start = self
            .date_from
            .is_none_or(|from| !date_ends_before(date, from));
        let before_end = self.date_to.is_none_or(|to| !date_starts_after(date, to));
        after_start && before_end
    }
}

/// The order of ListDialogues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ListOrder {
    /// Newest event date first; undated records last (the default).
    #[default]
    DateDesc,
    /// By feed sequence of the latest change, oldest first (for synchronising).
    SequenceAsc,
}

/// One SearchDialogues hit.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The record.
    pub record: DialogueRecord,
    /// Relevance (BM25); higher is better.
    pub score: f64,
    /// Passages of the record's text with the matched words marked «like this».
    pub snippets: Vec<Snippet>,
}

/// A passage of matched text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The source article whose cleaned text it is from; `None` for the record's own fields.
    pub article_id: Option<ArticleId>,
    /// The passage, matched words between « and ».
    pub text: String,
}

/// Records counted for one partner, year and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRow {
    /// Partner ISO code.
    pub partner: String,
    /// Year of the event date; `None` for undated records.
    pub year: Option<i32>,
    /// Kind.
    pub kind: DialogueKind,
    /// Number of records.
    pub count: u64,
}

/// What a re-extraction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReindexOutcome {
    /// Articles extracted again.
    pub articles: u64,
    /// Records that did not exist before.
    pub created: u64,
    /// Records whose content changed (one UPDATED event each).
    pub updated: u64,
    /// Records touched whose content did not change (no event).
    pub unchanged: u64,
    /// Records left without any report, deleted.
    pub removed: u64,
}

/// True when every day `date` covers is before every day `bound` covers.
fn date_ends_before(date: PartialDate, bound: PartialDate) -> bool {
    compare_prefix(date, bound) == std::cmp::Ordering::Less
}

/// True when every day `date` covers is after every day `bound` covers.
fn date_starts_after(date: PartialDate, bound: PartialDate) -> bool {
    compare_prefix(date, bound) == std::cmp::Ordering::Greater
}

/// Compares two partial dates on the precision both have ("2023" equals "2023-05").
fn compare_prefix(left: PartialDate, right: PartialDate) -> std::cmp::Ordering {
    left.year
        .cmp(&right.year)
        .then_with(|| match (left.month, right.month) {
            (Some(left_month), Some(right_month)) => {
                left_month
                    .cmp(&right_month)
                    .then_with(|| match (left.day, right.day) {
                        (Some(left_day), Some(right_day)) => left_day.cmp(&right_day),
                        _ => std::cmp::Ordering::Equal,
                    })
            }
            _ => std::cmp::Ordering::Equal,
        })
}

/// A page of results with the token of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Opaque token of the next page; `None` on the last.
    pub next_page_token: Option<String>,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_ids_round_trip_and_refuse_garbage() {
        let id = ArticleId(42);
        assert_eq!(id.to_string(), "art-42");
        assert_eq!("art-42".parse::<ArticleId>(), Ok(id));
        for bad in [
            "",
            "art-",
            "42",
            "art-x1",
            "art--1",
            "art-99999999999999999999999",
        ] {
            assert!(bad.parse::<ArticleId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn partial_dates_compare_on_shared_precision() {
        let year: PartialDate = "2023".parse().expect("date");
        let day: PartialDate = "2023-05-04".parse().expect("date");
        assert_eq!(compare_prefix(year, day), std::cmp::Ordering::Equal);
        let later: PartialDate = "2024-01".parse().expect("date");
        assert!(date_ends_before(day, later));
        assert!(date_starts_after(later, day));
    }
}
