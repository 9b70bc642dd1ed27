//! Dialogue records: placing reports, recomputing records from every report,
//! maintaining the indexes, and the read paths over them (list, search,
//! stats). Everything here runs on the blocking pool; writers hold the
//! writer lock, and each verb's writes go into one record of the
//! write-ahead log (see [`super::wal`]).

use super::index;
use super::merge::{self, Report};
use super::search::{self, Clause, SearchDoc};
use super::search_index;
use super::wal::{DeferredChanges, WriteAheadLog};
use super::{be, decode, encode, pair_key, read_u64, Inner, StoreError};
use crate::domain::{
    now_millis, ArticleId, ArticleState, ArticleStatus, DialogueFilter, DialogueRecord, FeedEvent,
    FeedEventType, ListOrder, ReindexOutcome, SearchHit, Snippet, Source, StatsRow,
};
use dialogwatch_worker::record::{DialogueEvent, DialogueKind, Extraction};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const META_FEED_HEAD: &[u8] = super::META_FEED_HEAD;

/// The trees (named in write-ahead log records by their byte: never renumber).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TreeId {
    Articles = 0,
    Leases = 1,
    LeaseDeadlines = 2,
    Dialogues = 3,
    DialogueKeys = 4,
    Feed = 5,
    FeedWire = 6,
    Meta = 7,
    Reports = 8,
    Cleaned = 9,
    Index = 10,
    SearchPending = 11,
    Stats = 12,
    ArticleBodies = 13,
    ArticleKeys = 14,
    Queue = 15,
    DeadLetters = 16,
    SearchSegments = 17,
    SearchDocs = 18,
}

impl TreeId {
    pub(super) const ALL: [TreeId; 19] = [
        TreeId::Articles,
        TreeId::Leases,
        TreeId::LeaseDeadlines,
        TreeId::Dialogues,
        TreeId::DialogueKeys,
        TreeId::Feed,
        TreeId::FeedWire,
        TreeId::Meta,
        TreeId::Reports,
        TreeId::Cleaned,
        TreeId::Index,
        TreeId::SearchPending,
        TreeId::Stats,
        TreeId::ArticleBodies,
        TreeId::ArticleKeys,
        TreeId::Queue,
        TreeId::DeadLetters,
        TreeId::SearchSegments,
        TreeId::SearchDocs,
    ];

    /// Trees whose values are records, reports, feed events or search
    /// segments (kilobytes to megabytes, written once or rarely): their large
    /// values go to the value log (see [`super::wal`]), and their reads
    /// resolve references. A search segment merged by a compaction weighs
    /// megabytes for a frequent token; kept in sled, every leaf holding one
    /// was written as a separate blob file each time sled rewrote the leaf,
    /// and the old blobs stayed on disk: 32 GB of blob files at 1,000,000
    /// records of 300-byte articles.
    pub(super) fn separates_values(self) -> bool {
        matches!(
            self,
            TreeId::Dialogues
                | TreeId::Reports
                | TreeId::Feed
                | TreeId::FeedWire
                | TreeId::SearchSegments
        )
    }

    /// Trees no verb reads under the writer lock (the ListDialogues index:
    /// read by queries only, written from the records' old and new
    /// values): a completion's changes to them are applied after it lets
    /// go of the lock (see [`super::wal`]'s deferred changes).
    pub(super) fn applies_after_the_lock(self) -> bool {
        self == TreeId::Index
    }

    /// The tree a log record names by `byte`.
    pub(super) fn from_byte(byte: u8) -> Option<TreeId> {
        TreeId::ALL.into_iter().find(|tree| *tree as u8 == byte)
    }
}

/// A verb's writes, worked out under its lock and made as one record of the
/// write-ahead log, in order.
#[derive(Debug, Default)]
pub(super) struct Writes {
    ops: Vec<super::wal::Change>,
    /// The feed events among them, kept decoded (with their wire forms,
    /// when the store has an encoder) for live subscribers.
    feed_events: Vec<(FeedEvent, Option<bytes::Bytes>)>,
}

impl Writes {
    /// The number of changes so far.
    pub(super) fn len(&self) -> usize {
        self.ops.len()
    }

    pub(super) fn insert(
        &mut self,
        tree: TreeId,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) {
        self.ops.push((tree, key.into(), Some(value.into())));
    }

    pub(super) fn remove(&mut self, tree: TreeId, key: impl Into<Vec<u8>>) {
        self.ops.push((tree, key.into(), None));
    }
}

/// An article read for its completion: its stored status, decoded, and its
/// cleaned text.
pub(super) struct ReadArticle {
    status_bytes: sled::IVec,
    status: ArticleStatus,
    cleaned: String,
}

/// Cleaned texts written by the current verb, by article.
pub(super) type Fresh = BTreeMap<ArticleId, String>;

/// The records one verb recomputes, and the cleaned texts it writes.
#[derive(Default)]
struct Batch {
    pending: BTreeMap<String, Pending>,
    fresh: Fresh,
}

/// A record being recomputed by one verb.
struct Pending {
    /// The record as stored before, when it existed.
    before: Option<DialogueRecord>,
    /// Every report it now has.
    reports: Vec<Report>,
    /// The identity key to file it under, when it is new.
    new_key: Option<String>,
    /// Its merged event as of the reports so far (for placing further
    /// reports); worked out by [`Inner::place`], when `stale`.
    current: Option<DialogueEvent>,
    /// True when `reports` changed since `current` was worked out (so a
    /// report placed last is merged once, by [`Inner::finish`], not also
    /// when it is placed).
    stale: bool,
}

impl Pending {
    /// The event further reports are compared with.
    fn event(&self) -> Option<&DialogueEvent> {
        self.current
            .as_ref()
            .or(self.before.as_ref().map(|record| &record.event))
    }
}

/// One range of `dialogue_index` a plan scans: start key, end key (exclusive),
/// and the length of the prefix before the sort key.
type ScanRange = (Vec<u8>, Vec<u8>, usize);

/// Per clause, the positions of its matches by section.
type ClauseHits = Vec<BTreeMap<u32, Vec<u32>>>;

/// `record id | 0x00 | article id | event index`.
fn report_key(record_id: &str, article: ArticleId, index: u32) -> Vec<u8> {
    let mut key = report_prefix(record_id, Some(article));
    key.extend_from_slice(&index.to_be_bytes());
    key
}

fn report_prefix(record_id: &str, article: Option<ArticleId>) -> Vec<u8> {
    let mut key = record_id.as_bytes().to_vec();
    key.push(0);
    if let Some(article) = article {
        key.extend_from_slice(&be(article.0));
    }
    key
}

/// `stem|@ day | record id`: records by partner, kind and day.
fn day_key_prefix(stem: &str, day: i64) -> Vec<u8> {
    let mut key = format!("{stem}|@").into_bytes();
    key.extend_from_slice(&(day.wrapping_add(1 << 40) as u64).to_be_bytes());
    key
}

fn day_key(record: &DialogueRecord) -> Option<Vec<u8>> {
    let day = merge::day_of(record.event.date)?;
    let mut key = day_key_prefix(&merge::stem(&record.event), day);
    key.extend_from_slice(record.id.as_bytes());
    Some(key)
}

/// Jaccard similarity of word 3-shingles from which two texts are one report.
pub(super) const NEAR_DUPLICATE: f64 = 0.5;

/// `stem|~year|`: records without an edition or a day, by partner, kind and year.
fn loose_key_prefix(event: &DialogueEvent) -> Vec<u8> {
    let year = event
        .date
        .map_or_else(|| "-".to_string(), |date| date.year.to_string());
    format!("{}|~{year}|", merge::stem(event)).into_bytes()
}

/// Every index entry of a record (each key holds the id, so no two records
/// share one): its loose and day identity keys, which map to its id, and its
/// ListDialogues index keys, which map to nothing (see [`index_entry_value`]).
pub(super) fn index_entries(record: &DialogueRecord) -> Vec<(TreeId, Vec<u8>)> {
    let mut entries: Vec<(TreeId, Vec<u8>)> = loose_key(record)
        .into_iter()
        .chain(day_key(record))
        .map(|key| (TreeId::DialogueKeys, key))
        .collect();
    entries.extend(
        index::index_keys(record)
            .into_iter()
            .map(|key| (TreeId::Index, key)),
    );
    entries
}

/// The value of an index entry of `record`: the record id in
/// `dialogue_keys` (read to find a key's owner), nothing in `dialogue_index`
/// (its keys end with the id, see [`index::record_id_in_sort_key`]).
fn index_entry_value(tree: TreeId, record: &DialogueRecord) -> Vec<u8> {
    match tree {
        TreeId::Index => Vec::new(),
        _ => record.id.as_bytes().to_vec(),
    }
}

fn loose_key(record: &DialogueRecord) -> Option<Vec<u8>> {
    let event = &record.event;
    if event.edition.is_some() || merge::day_of(event.date).is_some() {
        return None;
    }
    let mut key = loose_key_prefix(event);
    key.extend_from_slice(record.id.as_bytes());
    Some(key)
}

/// The word 3-shingles of a text (folded tokens), hashed.
fn shingles(text: &str) -> BTreeSet<u64> {
    let tokens: Vec<String> = search::tokenize(text)
        .into_iter()
        .map(|token| token.folded)
        .collect();
    tokens
        .windows(3)
        .map(|window| merge::stable_hash(window.join(" ").as_bytes()))
        .collect()
}

/// `partner | 0 | year | 0 | kind` of the stats tree.
fn stats_key(record: &DialogueRecord) -> Vec<u8> {
    let year = record
        .event
        .date
        .map_or_else(|| "-".to_string(), |date| format!("{:04}", date.year));
    format!(
        "{}\0{year}\0{}",
        record.event.partner.code,
        record.event.kind.as_str()
    )
    .into_bytes()
}

/// The cleaned text the extractor's evidence points into (title first when
/// submitted separately), as `Extractor::explain` builds it: an in-process
/// worker hands that over with its completion instead (a test holds the two
/// equal over the dev corpus).
pub(super) fn clean_text(content: &str, is_html: bool, title: Option<&str>) -> String {
    let mut cleaned = dialogwatch_worker::clean::clean_article(content, is_html).text;
    if let Some(title) = title.map(str::trim).filter(|title| !title.is_empty()) {
        let title_clean = dialogwatch_worker::clean::clean_article(title, false).text;
        if !title_clean.is_empty() && !cleaned.starts_with(&title_clean) {
            cleaned = format!("{title_clean}\n{cleaned}");
        }
    }
    cleaned
}

impl Inner {
    /// Makes `writes` one record of the write-ahead log and applies them;
    /// durable after the next flush.
    pub(super) fn commit(&self, writes: &Writes) -> Result<(), StoreError> {
        self.wal.write(&self.trees, &writes.ops)
    }

    /// [`Inner::commit`], telling `watcher` once the record is in the log
    /// file, before sled takes the changes, and as they go in (see
    /// [`super::wal::WriteAheadLog::write_watched`]).
    pub(super) fn commit_watched(
        &self,
        writes: &Writes,
        watcher: &mut dyn super::wal::WriteWatcher,
    ) -> Result<(), StoreError> {
        self.wal.write_watched(&self.trees, &writes.ops, watcher)
    }

    /// [`Inner::commit`] of writes no reader needs to see whole (see
    /// [`super::wal::WriteAheadLog::write_unseen`]).
    pub(super) fn commit_unseen(&self, writes: &Writes) -> Result<(), StoreError> {
        self.wal.write_unseen(&self.trees, &writes.ops)
    }

    /// Commits `writes` (and wakes the search indexer when they marked
    /// records, and tells live subscribers of their feed events).
    pub(super) fn apply(&self, writes: &mut Writes) -> Result<(), StoreError> {
        match self.apply_deferring(writes)? {
            Some(deferred) => deferred.apply(&self.trees, &writes.ops),
            None => Ok(()),
        }
    }

    /// [`Inner::apply`], but the changes to the ListDialogues index are
    /// left for the caller to apply once it lets go of the writer lock (see
    /// [`super::wal`]'s deferred changes).
    fn apply_deferring(
        &self,
        writes: &mut Writes,
    ) -> Result<Option<DeferredChanges<'_>>, StoreError> {
        let marks_records = writes
            .ops
            .iter()
            .any(|(tree, _, _)| *tree == TreeId::SearchPending);
        let deferred = self.wal.write_deferring(&self.trees, &writes.ops)?;
        if marks_records {
            self.indexer.wake();
        }
        self.recent_feed
            .remember(std::mem::take(&mut writes.feed_events));
        Ok(deferred)
    }

    /// The cleaned text of a stored article (computed, not read).
    pub(super) fn cleaned_for(&self, article_id: ArticleId) -> Result<String, StoreError> {
        Ok(self.read_for_completion(article_id, None)?.cleaned)
    }

    /// What a completion needs of its article, read before the writer lock:
    /// the stored status, its decoding and the cleaned text (`cleaned_text`
    /// when the caller has it: an in-process worker's extractor made the
    /// same from the same article, see [`clean_text`]).
    pub(super) fn read_for_completion(
        &self,
        article_id: ArticleId,
        cleaned_text: Option<String>,
    ) -> Result<ReadArticle, StoreError> {
        let Some(status_bytes) = self.trees.articles.get(be(article_id.0))? else {
            return Err(super::articles::article_not_found(article_id));
        };
        let status: ArticleStatus = decode(&status_bytes)?;
        let cleaned = match cleaned_text {
            Some(cleaned) => cleaned,
            None => {
                let body = self.article_body(article_id)?;
                clean_text(&body.content, body.is_html, status.title.as_deref())
            }
        };
        Ok(ReadArticle {
            status_bytes,
            status,
            cleaned,
        })
    }

    fn stored_head(&self) -> Result<u64, StoreError> {
        self.meta_counter(META_FEED_HEAD)
    }

    pub(super) fn lock_writer(&self) -> Result<std::sync::MutexGuard<'_, ()>, StoreError> {
        self.writer
            .lock()
            .map_err(|_| StoreError::Task("writer lock poisoned".into()))
    }

    /// The completion: the article's events become reports, the records they
    /// touch are recomputed, the lease ends, all in one log record. Returns
    /// the record ids and, when feed events were appended, the new head.
    pub(super) fn complete_now(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        extraction: &Extraction,
        read: ReadArticle,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let writer = self.lock_writer()?;
        // The status as read before the lock, unless it changed meanwhile:
        // then decoded again (the text never changes).
        let current = self.trees.articles.get(be(article_id.0))?;
        let mut status = match current {
            Some(bytes) if bytes == read.status_bytes => read.status,
            Some(bytes) => decode(&bytes)?,
            None => self.article_status(article_id)?,
        };
        let cleaned = read.cleaned.as_str();
        if status.state == ArticleState::Done {
            return Ok((status.dialogue_ids, None));
        }
        let lease = self.held_lease(article_id, lease_id)?;
        let mut writes = Writes::default();
        writes.remove(TreeId::Leases, be(article_id.0));
        writes.remove(
            TreeId::LeaseDeadlines,
            pair_key(lease.deadline_ms, article_id.0),
        );
        status.state = ArticleState::Done;
        let (_, new_head) = self.apply_reports(&mut status, extraction, cleaned, &mut writes)?;
        // The index entries (most of a new record's inserts) go into sled
        // while the next completion is worked out under the lock.
        let deferred = self.apply_deferring(&mut writes)?;
        drop(writer);
        if let Some(deferred) = deferred {
            deferred.apply(&self.trees, &writes.ops)?;
        }
        Ok((status.dialogue_ids, new_head))
    }

    /// Replaces the article's reports by the events of `extraction`,
    /// recomputes every record touched and queues the writes: records, their
    /// index entries, search postings, stats, feed events for the records
    /// whose content changed, the cleaned text and the article's status.
    fn apply_reports(
        &self,
        status: &mut ArticleStatus,
        extraction: &Extraction,
        cleaned: &str,
        writes: &mut Writes,
    ) -> Result<(ReindexOutcome, Option<u64>), StoreError> {
        let mut batch = Batch::default();
        self.stage(&mut batch, status, extraction, cleaned, writes)?;
        writes.insert(
            TreeId::Articles,
            be(status.id.0).to_vec(),
            encode(&*status)?,
        );
        self.finish(batch, writes)
    }

    /// Re-extraction of several done articles as one change: every record
    /// they touch is recomputed once (one event per changed record).
    pub(super) fn reextract_batch(
        &self,
        articles: &[(ArticleId, Extraction, String)],
    ) -> Result<(ReindexOutcome, Option<u64>), StoreError> {
        let _writer = self.lock_writer()?;
        let mut writes = Writes::default();
        let mut batch = Batch::default();
        let mut staged = 0u64;
        for (article_id, extraction, cleaned) in articles {
            let mut status = self.article_status(*article_id)?;
            if status.state != ArticleState::Done {
                continue;
            }
            self.stage(&mut batch, &mut status, extraction, cleaned, &mut writes)?;
            writes.insert(
                TreeId::Articles,
                be(article_id.0).to_vec(),
                encode(&status)?,
            );
            staged += 1;
        }
        let (mut outcome, head) = self.finish(batch, &mut writes)?;
        self.apply(&mut writes)?;
        outcome.articles = staged;
        Ok((outcome, head))
    }

    /// Takes an article's previous reports out of the records and places its
    /// new ones; updates its status (not yet written).
    fn stage(
        &self,
        batch: &mut Batch,
        status: &mut ArticleStatus,
        extraction: &Extraction,
        cleaned: &str,
        writes: &mut Writes,
    ) -> Result<(), StoreError> {
        let article_id = status.id;
        if status.url.is_none() {
            status.url.clone_from(&extraction.source_url);
        }
        let source = Source {
            article_id,
            url: status.url.clone(),
            outlet: status.outlet.clone(),
            published_at: status.published_at,
            evidence: Vec::new(),
        };
        batch.fresh.insert(article_id, cleaned.to_string());
        let Batch { pending, fresh } = batch;
        // The article's previous reports go.
        for record_id in &status.dialogue_ids {
            for key in self
                .trees
                .reports
                .scan_prefix(report_prefix(record_id, Some(article_id)))
                .keys()
            {
                writes.remove(TreeId::Reports, key?.to_vec());
            }
            match pending.get_mut(record_id) {
                Some(entry) => {
                    entry
                        .reports
                        .retain(|report| report.source.article_id != article_id);
                    entry.stale = true;
                }
                None => self.load_pending(pending, record_id, article_id)?,
            }
        }
        // Its new reports are placed.
        let events = if extraction.is_dialogue {
            extraction.events.as_slice()
        } else {
            &[]
        };
        let mut record_ids = BTreeSet::new();
        for (index, event) in events.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let record_id = self.place(event, article_id, index, pending, fresh)?;
            let report = Report {
                source: source.clone(),
                index,
                event: event.clone(),
            };
            writes.insert(
                TreeId::Reports,
                report_key(&record_id, article_id, index),
                encode(&report)?,
            );
            if let Some(entry) = pending.get_mut(&record_id) {
                entry.reports.push(report);
                entry.stale = true;
            }
            record_ids.insert(record_id);
        }
        writes.insert(
            TreeId::Cleaned,
            be(article_id.0).to_vec(),
            self.log_cleaned_text(cleaned)?,
        );
        status.dialogue_ids = record_ids.into_iter().collect();
        status.is_dialogue = Some(extraction.is_dialogue && !extraction.events.is_empty());
        status.reason.clone_from(&extraction.reason);
        status.updated_at_ms = now_millis();
        Ok(())
    }

    /// Recomputes every record of the batch from all its reports and queues
    /// the writes; returns what changed and the new feed head, if any.
    fn finish(
        &self,
        batch: Batch,
        writes: &mut Writes,
    ) -> Result<(ReindexOutcome, Option<u64>), StoreError> {
        let now = now_millis();
        let head = self.stored_head()?;
        let Batch { pending, .. } = batch;
        // Every touched record is recomputed from all its reports.
        let mut outcome = ReindexOutcome::default();
        let mut sequence = head;
        let mut stats: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
        let mut claimed: BTreeSet<String> = BTreeSet::new();
        for (id, entry) in pending {
            let combined = merge::combine(&entry.reports);
            match (entry.before, combined) {
                (None, None) => {}
                (Some(before), None) => {
                    writes.remove(TreeId::Dialogues, id.as_bytes().to_vec());
                    self.unindex(&before, writes, &mut stats);
                    self.mark_for_search(&id, writes)?;
                    outcome.removed += 1;
                }
                (before, Some((event, sources))) => {
                    let changed = before
                        .as_ref()
                        .is_none_or(|old| old.event != event || old.sources != sources);
                    let record = match (&before, changed) {
                        (Some(old), false) => old.clone(),
                        _ => {
                            sequence += 1;
                            DialogueRecord {
                                id: id.clone(),
                                revision: before.as_ref().map_or(1, |old| old.revision + 1),
                                sequence,
                                event,
                                sources,
                                created_at_ms: before.as_ref().map_or(now, |old| old.created_at_ms),
                                updated_at_ms: now,
                            }
                        }
                    };
                    if changed {
                        if let Some(old) = &before {
                            self.reindex(old, &record, writes, &mut stats);
                            outcome.updated += 1;
                        } else {
                            self.index(&record, writes, &mut stats);
                            outcome.created += 1;
                        }
                        writes.insert(TreeId::Dialogues, id.as_bytes().to_vec(), encode(&record)?);
                        let feed_event = FeedEvent {
                            sequence: record.sequence,
                            event_type: if before.is_some() {
                                FeedEventType::Updated
                            } else {
                                FeedEventType::Created
                            },
                            record: record.clone(),
                            at_ms: now,
                        };
                        writes.insert(
                            TreeId::Feed,
                            be(record.sequence).to_vec(),
                            encode(&feed_event)?,
                        );
                        let wire = self.feed_wire.get().map(|encoder| {
                            let wire = bytes::Bytes::from(encoder(&feed_event));
                            writes.insert(
                                TreeId::FeedWire,
                                be(record.sequence).to_vec(),
                                wire.to_vec(),
                            );
                            wire
                        });
                        writes.feed_events.push((feed_event, wire));
                    } else {
                        outcome.unchanged += 1;
                    }
                    let mut keys: Vec<String> = entry.new_key.into_iter().collect();
                    if let Some(edition) = record.event.edition {
                        keys.push(format!("{}|edition:{edition}", merge::stem(&record.event)));
                    }
                    for key in keys {
                        if !claimed.contains(&key) && self.key_is_free(&key, &id)? {
                            writes.insert(
                                TreeId::DialogueKeys,
                                key.as_bytes().to_vec(),
                                id.as_bytes().to_vec(),
                            );
                            claimed.insert(key);
                        }
                    }
                    // Marked even when unchanged: a source's cleaned text may differ.
                    self.mark_for_search(&id, writes)?;
                }
            }
        }
        for (key, delta) in stats {
            let current = match self.trees.stats.get(&key)? {
                Some(bytes) => read_u64(&bytes)?,
                None => 0,
            };
            let next = i64::try_from(current).unwrap_or(i64::MAX) + delta;
            if next <= 0 {
                writes.remove(TreeId::Stats, key);
            } else {
                writes.insert(
                    TreeId::Stats,
                    key,
                    be(u64::try_from(next).unwrap_or(0)).to_vec(),
                );
            }
        }
        if sequence > head {
            writes.insert(TreeId::Meta, META_FEED_HEAD.to_vec(), be(sequence).to_vec());
        }
        Ok((outcome, (sequence > head).then_some(sequence)))
    }

    /// True when `key` names no live record other than `id`.
    fn key_is_free(&self, key: &str, id: &str) -> Result<bool, StoreError> {
        match self.trees.dialogue_keys.get(key.as_bytes())? {
            None => Ok(true),
            Some(owner) if owner.as_ref() == id.as_bytes() => Ok(false),
            Some(owner) => Ok(!self.trees.dialogues.contains_key(owner)?),
        }
    }

    /// Loads a record and its reports (but those of `except`) into `pending`.
    fn load_pending(
        &self,
        pending: &mut BTreeMap<String, Pending>,
        record_id: &str,
        except: ArticleId,
    ) -> Result<(), StoreError> {
        if pending.contains_key(record_id) {
            return Ok(());
        }
        let before = match self.trees.dialogues.get(record_id.as_bytes())? {
            Some(bytes) => Some(decode::<DialogueRecord>(&self.wal.resolve(bytes)?)?),
            None => None,
        };
        let mut reports = Vec::new();
        for value in self
            .trees
            .reports
            .scan_prefix(report_prefix(record_id, None))
            .values()
        {
            let report: Report = decode(&self.wal.resolve(value?)?)?;
            if report.source.article_id != except {
                reports.push(report);
            }
        }
        pending.insert(
            record_id.to_string(),
            Pending {
                before,
                reports,
                new_key: None,
                current: None,
                stale: true,
            },
        );
        Ok(())
    }

    /// The record a new report of `event` belongs to: the best-fitting
    /// existing record (same edition, else the same day ±1), or a new one
    /// filed under the event's identity key.
    fn place(
        &self,
        event: &DialogueEvent,
        article_id: ArticleId,
        index: u32,
        pending: &mut BTreeMap<String, Pending>,
        fresh: &Fresh,
    ) -> Result<String, StoreError> {
        let stem = merge::stem(event);
        let mut best: Option<(i64, String)> = None;
        let consider = |rank: i64, id: &str, best: &mut Option<(i64, String)>| {
            let better = best
                .as_ref()
                .is_none_or(|(best_rank, best_id)| (rank, id) < (*best_rank, best_id.as_str()));
            if better {
                *best = Some((rank, id.to_string()));
            }
        };
        for entry in pending.values_mut().filter(|entry| entry.stale) {
            entry.current = merge::combine(&entry.reports).map(|(event, _)| event);
            entry.stale = false;
        }
        for (id, entry) in pending.iter() {
            if let Some(rank) = entry.event().and_then(|current| merge::fit(current, event)) {
                consider(rank, id, &mut best);
            }
        }
        let mut candidates: BTreeSet<Vec<u8>> = BTreeSet::new();
        if let Some(edition) = event.edition {
            let key = format!("{stem}|edition:{edition}");
            if let Some(id) = self.trees.dialogue_keys.get(key.as_bytes())? {
                candidates.insert(id.to_vec());
            }
            for entry in self.trees.dialogue_keys.scan_prefix(format!("{key}|")) {
                candidates.insert(entry?.1.to_vec());
            }
        }
        if let Some(day) = merge::day_of(event.date) {
            for neighbour in day - 1..=day + 1 {
                for entry in self
                    .trees
                    .dialogue_keys
                    .scan_prefix(day_key_prefix(&stem, neighbour))
                {
                    candidates.insert(entry?.1.to_vec());
                }
            }
        }
        for id in candidates {
            let id = String::from_utf8_lossy(&id).into_owned();
            if pending.contains_key(&id) {
                continue;
            }
            let Some(bytes) = self.trees.dialogues.get(id.as_bytes())? else {
                continue;
            };
            let record: DialogueRecord = decode(&self.wal.resolve(bytes)?)?;
            if let Some(rank) = merge::fit(&record.event, event) {
                consider(rank, &id, &mut best);
            }
        }
        if best.is_none() {
            best = self.near_duplicate(event, article_id, pending, fresh)?;
        }
        if let Some((_, id)) = best {
            self.load_pending(pending, &id, article_id)?;
            return Ok(id);
        }
        // A new record: its identity key, made unique when an unrelated record holds it.
        let base = merge::identity(event, article_id).key;
        let session = event
            .date
            .map_or_else(|| format!("{article_id}"), |date| date.to_string());
        for key in [
            base.clone(),
            format!("{base}|session:{session}"),
            format!("{base}|{article_id}.{index}"),
        ] {
            let id = merge::record_id(&key);
            // A record this verb emptied is the same event filed again (reindex).
            if pending
                .get(&id)
                .is_some_and(|entry| entry.reports.is_empty() && entry.before.is_some())
            {
                return Ok(id);
            }
            let taken =
                pending.contains_key(&id) || self.trees.dialogues.contains_key(id.as_bytes())?;
            if !taken {
                pending.insert(
                    id.clone(),
                    Pending {
                        before: None,
                        reports: Vec::new(),
                        new_key: Some(key),
                        current: None,
                        stale: false,
                    },
                );
                return Ok(id);
            }
        }
        Err(StoreError::Corrupt(format!(
            "no free identity for {base} of {article_id}"
        )))
    }

    /// The last identity rule (SPEC §1): an event with neither an edition nor
    /// a day-precise date belongs to a record of the same partner, kind and
    /// year (and no day either) reported by a near-duplicate text: word
    /// 3-shingles with a Jaccard similarity of at least [`NEAR_DUPLICATE`].
    fn near_duplicate(
        &self,
        event: &DialogueEvent,
        article_id: ArticleId,
        pending: &BTreeMap<String, Pending>,
        fresh: &Fresh,
    ) -> Result<Option<(i64, String)>, StoreError> {
        if event.edition.is_some() || merge::day_of(event.date).is_some() {
            return Ok(None);
        }
        let Some(text) = fresh.get(&article_id) else {
            return Ok(None);
        };
        let mine = shingles(text);
        if mine.is_empty() {
            return Ok(None);
        }
        let prefix = loose_key_prefix(event);
        let mut candidates: BTreeMap<String, Vec<ArticleId>> = BTreeMap::new();
        for (id, entry) in pending {
            if entry
                .event()
                .is_some_and(|current| loose_key_prefix(current) == prefix)
            {
                candidates.insert(
                    id.clone(),
                    entry
                        .reports
                        .iter()
                        .map(|report| report.source.article_id)
                        .collect(),
                );
            }
        }
        for entry in self.trees.dialogue_keys.scan_prefix(&prefix) {
            let id = String::from_utf8_lossy(&entry?.1).into_owned();
            if candidates.contains_key(&id) {
                continue;
            }
            if let Some(record) = self.record(id.as_bytes())? {
                candidates.insert(
                    id,
                    record
                        .sources
                        .iter()
                        .map(|source| source.article_id)
                        .collect(),
                );
            }
        }
        let mut best: Option<(i64, String)> = None;
        for (id, articles) in candidates {
            for other in articles.into_iter().filter(|other| *other != article_id) {
                let theirs = shingles(&self.cleaned_text(other, fresh)?);
                let shared = mine.intersection(&theirs).count();
                let union = mine.union(&theirs).count().max(1);
                let similarity = shared as f64 / union as f64;
                if similarity >= NEAR_DUPLICATE {
                    let rank = 2000 + (100.0 * (1.0 - similarity)) as i64;
                    if best.as_ref().is_none_or(|(known, _)| rank < *known) {
                        best = Some((rank, id.clone()));
                    }
                }
            }
        }
        Ok(best)
    }

    fn index(
        &self,
        record: &DialogueRecord,
        writes: &mut Writes,
        stats: &mut BTreeMap<Vec<u8>, i64>,
    ) {
        for (tree, key) in index_entries(record) {
            let value = index_entry_value(tree, record);
            writes.insert(tree, key, value);
        }
        *stats.entry(stats_key(record)).or_default() += 1;
    }

    fn unindex(
        &self,
        record: &DialogueRecord,
        writes: &mut Writes,
        stats: &mut BTreeMap<Vec<u8>, i64>,
    ) {
        for (tree, key) in index_entries(record) {
            writes.remove(tree, key);
        }
        *stats.entry(stats_key(record)).or_default() -= 1;
    }

    /// [`Inner::unindex`] of `old` then [`Inner::index`] of `new` (the same
    /// record), writing only the entries that differ: an update keeps most
    /// of a record's 20-odd entries (those of the date order, when its date
    /// and the value stay), and each entry written costs a sled insert.
    fn reindex(
        &self,
        old: &DialogueRecord,
        new: &DialogueRecord,
        writes: &mut Writes,
        stats: &mut BTreeMap<Vec<u8>, i64>,
    ) {
        let old_entries: BTreeSet<(TreeId, Vec<u8>)> = index_entries(old).into_iter().collect();
        let new_entries: BTreeSet<(TreeId, Vec<u8>)> = index_entries(new).into_iter().collect();
        for (tree, key) in old_entries.difference(&new_entries) {
            writes.remove(*tree, key.clone());
        }
        for (tree, key) in new_entries.difference(&old_entries) {
            writes.insert(*tree, key.clone(), index_entry_value(*tree, new));
        }
        *stats.entry(stats_key(old)).or_default() -= 1;
        *stats.entry(stats_key(new)).or_default() += 1;
    }

    /// The cleaned text of an article (from `fresh` when it is being written now).
    fn cleaned_text(&self, article_id: ArticleId, fresh: &Fresh) -> Result<String, StoreError> {
        if let Some(text) = fresh.get(&article_id) {
            return Ok(text.clone());
        }
        self.stored_cleaned_text(article_id)
    }

    /// The text sections of a record's search document.
    pub(super) fn sections(
        &self,
        record: &DialogueRecord,
        fresh: &Fresh,
    ) -> Result<Vec<String>, StoreError> {
        let mut sections = vec![search::fields_text(record)];
        for source in &record.sources {
            sections.push(self.cleaned_text(source.article_id, fresh)?);
        }
        Ok(sections)
    }

    /// Marks a record for the search indexer (see [`super::search_index`]).
    fn mark_for_search(&self, record_id: &str, writes: &mut Writes) -> Result<(), StoreError> {
        writes.insert(
            TreeId::SearchPending,
            record_id.as_bytes().to_vec(),
            self.next_search_stamp()?.to_vec(),
        );
        Ok(())
    }

    pub(super) fn record(&self, id: &[u8]) -> Result<Option<DialogueRecord>, StoreError> {
        self.trees
            .dialogues
            .get(id)?
            .map(|bytes| decode(&self.wal.resolve(bytes)?))
            .transpose()
    }

    /// One page of ListDialogues: the records after `cursor` (a sort key),
    /// and the sort key of the last one when more follow.
    pub(super) fn query(
        &self,
        filter: &DialogueFilter,
        order: ListOrder,
        page_size: usize,
        cursor: Option<&[u8]>,
    ) -> Result<(Vec<DialogueRecord>, Option<Vec<u8>>), StoreError> {
        self.query_gathering_below(filter, order, page_size, cursor, index::GATHER_CAP)
    }

    /// [`Inner::query`], gathering the entries of the most selective filter
    /// only when it has fewer than `gather_cap` (see [`index`]).
    pub(super) fn query_gathering_below(
        &self,
        filter: &DialogueFilter,
        order: ListOrder,
        page_size: usize,
        cursor: Option<&[u8]>,
        gather_cap: usize,
    ) -> Result<(Vec<DialogueRecord>, Option<Vec<u8>>), StoreError> {
        let all_prefix = index::value_prefix(index::order_byte(order), index::ALL, "");
        let mut scan: ScanRange = {
            let mut end = all_prefix.clone();
            if let Some(last) = end.last_mut() {
                *last = 1;
            }
            let length = all_prefix.len();
            (all_prefix.clone(), end, length)
        };
        let mut scan_estimate = usize::MAX;
        if order == ListOrder::DateDesc && (filter.date_from.is_some() || filter.date_to.is_some())
        {
            let (start, end) = index::date_range_bounds(filter);
            let mut from = all_prefix.clone();
            from.extend_from_slice(&start);
            let mut to = all_prefix.clone();
            to.extend_from_slice(&end);
            scan_estimate = self
                .trees
                .dialogue_index
                .range(from.as_slice()..to.as_slice())
                .take(index::ESTIMATE_CAP)
                .count();
            scan = (from, to, all_prefix.len());
        }
        // The filter with the fewest entries, by the stored size of its
        // tokens' segment values (stale entries included: an estimate).
        let mut best: Option<(usize, Vec<String>)> = None;
        for (field, values) in index::filter_fields(filter) {
            let tokens: Vec<String> = values
                .iter()
                .map(|value| index::filter_token(field, value))
                .collect();
            let mut bytes = 0usize;
            for token in &tokens {
                for entry in self
                    .trees
                    .search_segments
                    .scan_prefix(search::segment_prefix(token))
                {
                    let (_, value) = entry?;
                    bytes = bytes.saturating_add(WriteAheadLog::stored_length(&value));
                }
            }
            let estimate = bytes / index::FILTER_ENTRY_BYTES;
            if best.as_ref().is_none_or(|(known, _)| estimate < *known) {
                best = Some((estimate, tokens));
            }
        }
        if let Some((estimate, tokens)) = best {
            if estimate < gather_cap && estimate <= scan_estimate {
                if let Some(waiting) = self.records_waiting_for_indexer(index::PENDING_READ_CAP)? {
                    return self
                        .query_gathered(filter, order, &tokens, &waiting, page_size, cursor);
                }
            }
        }
        self.query_scanning(filter, order, &scan, page_size, cursor)
    }

    /// The ids of the records marked for the search indexer (their filter
    /// tokens may be missing or of an older version), or `None` when there
    /// are more than `limit`.
    fn records_waiting_for_indexer(
        &self,
        limit: usize,
    ) -> Result<Option<Vec<sled::IVec>>, StoreError> {
        let waiting: Vec<sled::IVec> = self
            .trees
            .search_pending
            .iter()
            .keys()
            .take(limit.saturating_add(1))
            .collect::<Result<_, _>>()?;
        Ok((waiting.len() <= limit).then_some(waiting))
    }

    /// A page from a scan of one range of `dialogue_index` (a `*` range of
    /// `order`), every record verified against `filter`.
    fn query_scanning(
        &self,
        filter: &DialogueFilter,
        order: ListOrder,
        (start, end, length): &ScanRange,
        page_size: usize,
        cursor: Option<&[u8]>,
    ) -> Result<(Vec<DialogueRecord>, Option<Vec<u8>>), StoreError> {
        let lower = match cursor {
            Some(cursor) => {
                let mut after = start[..*length].to_vec();
                after.extend_from_slice(cursor);
                if after.as_slice() >= start.as_slice() {
                    std::ops::Bound::Excluded(after)
                } else {
                    std::ops::Bound::Included(start.clone())
                }
            }
            None => std::ops::Bound::Included(start.clone()),
        };
        let mut items = Vec::with_capacity(page_size.min(1024));
        let mut last: Option<Vec<u8>> = None;
        for key in self
            .trees
            .dialogue_index
            .range::<Vec<u8>, _>((lower, std::ops::Bound::Excluded(end.clone())))
            .keys()
        {
            let key = key?;
            let sort = key.get(*length..).unwrap_or_default();
            let Some(id) = index::record_id_in_sort_key(order, sort) else {
                continue;
            };
            let Some(record) = self.record(id)? else {
                continue;
            };
            if !filter.matches(&record) {
                continue;
            }
            if items.len() == page_size {
                return Ok((items, last));
            }
            last = Some(sort.to_vec());
            items.push(record);
        }
        Ok((items, None))
    }

    /// A page from the filter-token entries of `tokens` (one filter's
    /// values) and the records in `waiting` (not indexed yet), sorted by
    /// `order`'s sort key, after `cursor`. Each record of the page is read
    /// and kept only when it passes `filter` and its current sort key is the
    /// entry's: an entry of an older version of a record is skipped.
    fn query_gathered(
        &self,
        filter: &DialogueFilter,
        order: ListOrder,
        tokens: &[String],
        waiting: &[sled::IVec],
        page_size: usize,
        cursor: Option<&[u8]>,
    ) -> Result<(Vec<DialogueRecord>, Option<Vec<u8>>), StoreError> {
        let after_cursor = |sort: &[u8]| cursor.is_none_or(|cursor| sort > cursor);
        let mut candidates: Vec<Vec<u8>> = Vec::new();
        for token in tokens {
            self.for_each_segment_entry(token, |record_id, _, payload| {
                let sort = index::filter_entry_sort_key(order, record_id, payload)
                    .ok_or_else(|| StoreError::Corrupt("filter token entry".to_string()))?;
                if after_cursor(&sort) {
                    candidates.push(sort);
                }
                Ok(())
            })?;
        }
        for record_id in waiting {
            if let Some(record) = self.record(record_id)? {
                let sort = index::sort_key(&record, order);
                if after_cursor(&sort) && filter.matches(&record) {
                    candidates.push(sort);
                }
            }
        }
        // The same record version under several values, in several
        // segments (before a compaction), or also waiting: once.
        candidates.sort_unstable();
        candidates.dedup();
        let mut items = Vec::with_capacity(page_size.min(candidates.len()));
        let mut last: Option<Vec<u8>> = None;
        for sort in candidates {
            let Some(id) = index::record_id_in_sort_key(order, &sort) else {
                continue;
            };
            let Some(record) = self.record(id)? else {
                continue;
            };
            if index::sort_key(&record, order) != sort || !filter.matches(&record) {
                continue;
            }
            if items.len() == page_size {
                return Ok((items, last));
            }
            last = Some(sort);
            items.push(record);
        }
        Ok((items, None))
    }

    /// Removes up to `limit` of the per-value `dialogue_index` entries (of a
    /// field other than `*`, in either order), which stores written before
    /// hold and nothing reads or writes since (see [`index`]); returns how
    /// many it removed (0: none left). No verb writes those keys, so it
    /// needs no lock, and no reader reads them, so they go without excluding
    /// readers.
    pub(super) fn retire_field_entries(&self, limit: usize) -> Result<usize, StoreError> {
        let mut writes = Writes::default();
        let mut removed = 0;
        for order in [ListOrder::DateDesc, ListOrder::SequenceAsc] {
            // Field bytes are letters, after `*`: `D+` starts past the `*` entries.
            let order_byte = index::order_byte(order);
            let from = [order_byte, index::ALL + 1];
            let to = [order_byte + 1];
            for key in self
                .trees
                .dialogue_index
                .range(&from[..]..&to[..])
                .keys()
                .take(limit.saturating_sub(removed))
            {
                writes.remove(TreeId::Index, key?.to_vec());
                removed += 1;
            }
        }
        self.commit_unseen(&writes)?;
        Ok(removed)
    }

    /// SearchDialogues: the hits of `clauses` passing `filter`, best first,
    /// `offset..offset+limit`, and whether more follow.
    pub(super) fn search(
        &self,
        clauses: &[Clause],
        filter: &DialogueFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<SearchHit>, bool), StoreError> {
        let documents = self.meta_counter(search_index::META_SEARCH_DOCS)?;
        if documents == 0 {
            return Ok((Vec::new(), false));
        }
        let total_tokens = self.meta_counter(search_index::META_SEARCH_TOKENS)?;
        let average = total_tokens as f64 / documents as f64;
        let tokens: BTreeSet<&str> = clauses.iter().flat_map(Clause::tokens).collect();
        let mut docs: HashMap<Vec<u8>, Option<SearchDoc>> = HashMap::new();
        let mut entries: BTreeMap<&str, HashMap<Vec<u8>, Vec<u8>>> = BTreeMap::new();
        for token in &tokens {
            entries.insert(token, self.token_entries(token, &mut docs)?);
        }
        // Records holding every token, rarest token first.
        let mut by_rarity: Vec<&HashMap<Vec<u8>, Vec<u8>>> = entries.values().collect();
        by_rarity.sort_by_key(|by_record| by_record.len());
        let mut candidates: Vec<&Vec<u8>> = by_rarity
            .first()
            .map(|rarest| rarest.keys().collect())
            .unwrap_or_default();
        candidates.retain(|id| {
            by_rarity
                .iter()
                .all(|by_record| by_record.contains_key(*id))
        });
        let mut scored: Vec<(f64, Vec<u8>, ClauseHits)> = Vec::new();
        for id in candidates {
            let mut record_postings: BTreeMap<&str, search::Postings> = BTreeMap::new();
            for (token, by_record) in &entries {
                if let Some(encoded) = by_record.get(id) {
                    let decoded = search::decode_postings(encoded)
                        .ok_or_else(|| StoreError::Corrupt("postings".to_string()))?;
                    record_postings.insert(token, decoded);
                }
            }
            let length = docs
                .get(id)
                .and_then(Option::as_ref)
                .map_or(1, |doc| doc.length);
            let mut score = 0.0;
            let mut all_hits = Vec::with_capacity(clauses.len());
            for clause in clauses {
                let hits = search::clause_hits(clause, &record_postings);
                let frequency: usize = hits.values().map(Vec::len).sum();
                if frequency == 0 {
                    break;
                }
                let document_frequencies: Vec<u64> = clause
                    .tokens()
                    .iter()
                    .map(|token| entries.get(token).map_or(0, |by| by.len() as u64))
                    .collect();
                score += search::bm25(frequency, length, average, documents, &document_frequencies);
                all_hits.push(hits);
            }
            if all_hits.len() == clauses.len() {
                scored.push((score, id.clone(), all_hits));
            }
        }
        scored.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
        let mut hits = Vec::new();
        let mut seen = 0usize;
        let mut more = false;
        for (score, id, clause_hits) in scored {
            let Some(record) = self.record(&id)? else {
                continue;
            };
            if !filter.matches(&record) {
                continue;
            }
            if seen < offset {
                seen += 1;
                continue;
            }
            if hits.len() == limit {
                more = true;
                break;
            }
            seen += 1;
            let snippets = self.snippets(&record, clauses, &clause_hits)?;
            hits.push(SearchHit {
                record,
                score,
                snippets,
            });
        }
        Ok((hits, more))
    }

    /// Up to two passages, from the sections with the most matches.
    fn snippets(
        &self,
        record: &DialogueRecord,
        clauses: &[Clause],
        clause_hits: &[BTreeMap<u32, Vec<u32>>],
    ) -> Result<Vec<Snippet>, StoreError> {
        let mut per_section: BTreeMap<u32, BTreeMap<u32, usize>> = BTreeMap::new();
        for (clause, hits) in clauses.iter().zip(clause_hits) {
            let length = clause.tokens().len();
            for (section, positions) in hits {
                let marked = per_section.entry(*section).or_default();
                for position in positions {
                    marked.insert(*position, length);
                }
            }
        }
        let mut sections: Vec<(u32, BTreeMap<u32, usize>)> = per_section.into_iter().collect();
        sections.sort_by(|left, right| right.1.len().cmp(&left.1.len()).then(left.0.cmp(&right.0)));
        let mut snippets = Vec::new();
        for (section, marked) in sections.into_iter().take(2) {
            let (article_id, text) = if section == 0 {
                (None, search::fields_text(record))
            } else {
                let Some(source) = record.sources.get(section as usize - 1) else {
                    continue;
                };
                let text = self.stored_cleaned_text(source.article_id)?;
                (Some(source.article_id), text)
            };
            if let Some(text) = search::snippet(&text, &marked) {
                snippets.push(Snippet { article_id, text });
            }
        }
        Ok(snippets)
    }

    /// The stats tree as rows.
    pub(super) fn stats_rows(&self, partners: &[String]) -> Result<Vec<StatsRow>, StoreError> {
        let mut rows = Vec::new();
        for entry in self.trees.stats.iter() {
            let (key, value) = entry?;
            let text = String::from_utf8_lossy(&key).into_owned();
            let mut parts = text.split('\0');
            let (Some(partner), Some(year), Some(kind)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(StoreError::Corrupt(format!("stats key {text:?}")));
            };
            if !partners.is_empty() && !partners.iter().any(|wanted| wanted == partner) {
                continue;
            }
            let kind: DialogueKind =
                kind.parse()
                    .map_err(|error: dialogwatch_worker::record::UnknownCode| {
                        StoreError::Corrupt(error.to_string())
                    })?;
            rows.push(StatsRow {
                partner: partner.to_string(),
                year: year.parse().ok(),
                kind,
                count: read_u64(&value)?,
            });
        }
        Ok(rows)
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
