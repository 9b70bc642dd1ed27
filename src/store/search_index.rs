//! The inverted index of SearchDialogues, kept off the completion path.
//!
//! A verb that changes a record (completion, reindex) only marks it in
//! `search_pending` (record id → stamp, unique over the store's life), in its
//! own log record. A background indexer (woken by those verbs, after a
//! linger that gathers a batch) turns the marked records into postings and
//! writes them as one **segment**: one key per distinct token of the batch,
//! `token | 0x00 | segment` → an entry (record id, stamp, postings) for every
//! record of the batch that has the token. A batch of a few hundred records
//! writes a few thousand keys instead of one key per (token, record), which
//! is what made completions slow and the disk large.
//!
//! `search_docs` (record id → [`SearchDoc`]) holds the stamp of a record's
//! current postings; entries with another stamp are stale and skipped by
//! queries. So a segment is written outside the writer lock, before anything
//! points to it, and only the documents and marks are switched under it.
//! A search first indexes whatever is still marked, so it sees every
//! completed record (read your writes).
//!
//! The marks are written with the record, so a crash loses none: what was
//! not indexed before it is indexed after the next open.
//!
//! The segments also hold ListDialogues' **filter tokens** (a control
//! character, a field byte and a value: no search token looks like one),
//! written with the postings of the same records; see [`super::index`].
//!
//! **Compaction**: segments accumulate (a trickle of completions writes small
//! ones, and a changed record leaves stale entries behind). Once the bytes
//! written since the last compaction reach the size the index had after it
//! (at least [`MIN_COMPACTION_BYTES`]), the indexer merges every token's keys
//! into one and drops stale entries — so the index is rewritten at most about
//! twice over its lifetime's writes, and a token costs one key to read.

use super::background::{BackgroundThread, BACKGROUND_NICE};
use super::records::Fresh;
use super::records::{TreeId, Writes};
use super::search::{self, EncodedPostings, SearchDoc};
use super::{be, decode, encode, read_u64, Inner, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Total tokens over every search document (for the BM25 average length).
pub(super) const META_SEARCH_TOKENS: &[u8] = b"search_tokens";
/// Records in the search index (sled's `len` is a scan).
pub(super) const META_SEARCH_DOCS: &[u8] = b"search_docs";
/// The layout of the search trees (absent: the per-(token, record) layout
/// of before segments, which [`Inner::migrate_search_index`] replaces).
const META_SEARCH_LAYOUT: &[u8] = b"search_layout";
/// `segments-4`: postings as varint gaps ([`search::encode_postings`]) and
/// the ListDialogues filter tokens ([`super::index`]; `segments-3` had
/// none); an index of an earlier layout is rebuilt at open.
const SEGMENT_LAYOUT: &[u8] = b"segments-4";

/// Most records whose documents are switched per hold of the writer lock.
const SWITCH_CHUNK_RECORDS: usize = 64;
/// Most records indexed in one segment.
pub(super) const SEGMENT_RECORDS: usize = 1024;
/// How long the indexer waits after being woken, to gather a batch: the
/// longer, the fewer keys per record (the vocabulary of a batch saturates).
/// A search does not wait for it: it indexes what is marked first.
const LINGER: Duration = Duration::from_millis(250);
/// Segment bytes written since the last compaction.
const META_BYTES_SINCE_COMPACTION: &[u8] = b"search_bytes_since_compaction";
/// Size of the segments after the last compaction.
const META_BYTES_AFTER_COMPACTION: &[u8] = b"search_bytes_after_compaction";
/// No compaction before this many bytes were written since the last one.
pub(super) const MIN_COMPACTION_BYTES: u64 = 16 * 1024 * 1024;
/// How much one step of a compaction merges per hold of the indexing lock
/// (searches wait at most that long), and so how much it holds in memory.
#[derive(Debug, Clone, Copy)]
pub(super) struct CompactionStep {
    /// Tokens per step.
    pub(super) tokens: usize,
    /// Bytes of merged entries per step: a frequent token of a large index
    /// weighs megabytes, so a step ends early rather than holding thousands
    /// of them. One token is merged whole, whatever its size.
    pub(super) bytes: u64,
}

/// The steps of the background compaction: small, because a step is one
/// record of the write-ahead log holding its merged entries, and the group
/// commit's next sync writes all of it (steps of 8 MB made the flushes of
/// every verb meanwhile take 17–43 ms; see BENCHMARKS.md).
const COMPACTION_STEP: CompactionStep = CompactionStep {
    tokens: 128,
    bytes: 256 * 1024,
};

/// What a compaction did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Compaction {
    /// Segment keys before and after.
    pub(super) keys_before: u64,
    pub(super) keys_after: u64,
    /// Stale entries dropped.
    pub(super) entries_dropped: u64,
    /// Bytes of segment values after.
    pub(super) bytes_after: u64,
}

/// The background indexer's handle: its wake-up, its stop, its task (which
/// gathers batches) and the low-priority thread that indexes and compacts.
pub(super) struct Indexer {
    wanted: Arc<Notify>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
    thread: Mutex<Option<Arc<BackgroundThread>>>,
}

impl Indexer {
    pub(super) fn new() -> Self {
        Indexer {
            wanted: Arc::new(Notify::new()),
            stop: CancellationToken::new(),
            task: Mutex::new(None),
            thread: Mutex::new(None),
        }
    }

    /// Starts the task over `inner` (held weakly: it ends when the store is
    /// dropped). Beside the indexing, it removes the ListDialogues index's
    /// old per-value entries, if the store has any (see [`super::index`]):
    /// side by side, so that indexing does not wait for a large store's
    /// removal (about 20 to 40 entries per record).
    pub(super) fn start(&self, inner: Weak<Inner>) -> Result<(), StoreError> {
        let thread = Arc::new(BackgroundThread::start(
            "dialogwatch-index",
            BACKGROUND_NICE,
        )?);
        if let Ok(mut slot) = self.thread.lock() {
            *slot = Some(Arc::clone(&thread));
        }
        let wanted = Arc::clone(&self.wanted);
        let stop = self.stop.clone();
        let task = tokio::spawn(async move {
            tokio::join!(
                retire_field_entries(&inner, &stop),
                index_when_woken(&inner, &stop, &wanted, &thread),
            );
        });
        if let Ok(mut slot) = self.task.lock() {
            *slot = Some(task);
        }
        Ok(())
    }

    /// Asks for the marked records to be indexed soon.
    pub(super) fn wake(&self) {
        self.wanted.notify_one();
    }

    /// Stops the task and waits for the step it is in.
    pub(super) async fn stop(&self) {
        self.stop.cancel();
        let task = self.task.lock().ok().and_then(|mut slot| slot.take());
        if let Some(task) = task {
            let _ = task.await;
        }
        let thread = self.thread.lock().ok().and_then(|mut slot| slot.take());
        if let Some(thread) = thread {
            thread.stop().await;
        }
    }

    /// Stops the task without waiting (the store is being dropped).
    pub(super) fn cancel(&self) {
        self.stop.cancel();
    }
}

/// The indexer's loop: woken by verbs that mark records, it lingers to
/// gather a batch, compacts when due, then indexes until nothing is marked;
/// until the store is dropped or `stop` is cancelled.
async fn index_when_woken(
    inner: &Weak<Inner>,
    stop: &CancellationToken,
    wanted: &Notify,
    thread: &BackgroundThread,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = wanted.notified() => {}
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(LINGER) => {}
        }
        loop {
            let Some(store) = inner.upgrade() else {
                return;
            };
            if store.search_compaction_due().unwrap_or(false) {
                let compacting = Arc::clone(&store);
                match thread.run(move || compacting.compact_search_index()).await {
                    Ok(Ok(done)) => tracing::info!(?done, "search index compacted"),
                    Ok(Err(error)) | Err(error) => {
                        tracing::warn!(%error, "search compaction failed; retried later")
                    }
                }
            }
            let indexed = thread
                .run(move || store.index_pending(SEGMENT_RECORDS))
                .await
                .and_then(|indexed| indexed);
            match indexed {
                Ok(count) if count == SEGMENT_RECORDS && !stop.is_cancelled() => {}
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "search indexing failed; retried on the next change or search");
                    break;
                }
            }
        }
    }
}

/// [`Inner::retire_field_entries`] in batches until none is left,
/// the store is dropped or `stop` is cancelled (the rest goes after the next
/// open).
async fn retire_field_entries(inner: &Weak<Inner>, stop: &CancellationToken) {
    let mut retired = 0usize;
    while !stop.is_cancelled() {
        let Some(store) = inner.upgrade() else {
            return;
        };
        let batch = tokio::task::spawn_blocking(move || {
            store.retire_field_entries(super::index::RETIRE_BATCH)
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))
        .and_then(|removed| removed);
        match batch {
            Ok(0) => break,
            Ok(removed) => {
                if retired == 0 {
                    tracing::info!("dialogue index: removing the per-value entries, which this version no longer uses");
                }
                retired += removed;
            }
            Err(error) => {
                tracing::warn!(%error, "dialogue index: removing old entries failed; retried after the next open");
                return;
            }
        }
    }
    if retired > 0 {
        tracing::info!(
            entries = retired,
            "dialogue index: old per-value entries removed"
        );
    }
}

/// One record as the indexer built it, before it is written.
struct Built {
    record_id: Vec<u8>,
    stamp: sled::IVec,
    /// Its length and postings; `None` when the record is gone.
    postings: Option<EncodedPostings>,
    /// Its ListDialogues filter tokens and their entries' payload (see
    /// [`super::index`]); none when the record is gone.
    filters: Vec<String>,
    filter_payload: Vec<u8>,
}

impl Inner {
    /// A fresh stamp for a search mark, unique over the store's life (sled's
    /// persistent id generator, which never hands out a number twice, even
    /// across a crash).
    pub(super) fn next_search_stamp(&self) -> Result<[u8; 8], StoreError> {
        Ok(be(self.db.generate_id()?))
    }

    /// Indexes up to `limit` marked records as one segment; returns how many
    /// marks it took (so a caller can go on while it equals `limit`).
    ///
    /// Postings are built without the writer lock; under it, a record whose
    /// mark changed meanwhile (changed again) is left for the next step.
    pub(super) fn index_pending(&self, limit: usize) -> Result<usize, StoreError> {
        let _indexing = self
            .indexing
            .lock()
            .map_err(|_| StoreError::Task("indexing lock poisoned".into()))?;
        let marks: Vec<(sled::IVec, sled::IVec)> = self
            .trees
            .search_pending
            .iter()
            .take(limit)
            .collect::<Result<_, _>>()?;
        if marks.is_empty() {
            return Ok(0);
        }
        let mut built = Vec::with_capacity(marks.len());
        for (record_id, stamp) in &marks {
            let mut entry = Built {
                record_id: record_id.to_vec(),
                stamp: stamp.clone(),
                postings: None,
                filters: Vec::new(),
                filter_payload: Vec::new(),
            };
            if let Some(record) = self.record(record_id)? {
                entry.postings = Some(search::build_encoded_postings(
                    &self.sections(&record, &Fresh::new())?,
                ));
                entry.filters = super::index::filter_tokens(&record);
                entry.filter_payload = super::index::filter_entry_payload(&record);
            }
            built.push(entry);
        }
        // The segment goes in first, outside the writer lock: nothing points
        // to its entries until the documents below name their stamps.
        let segment = self.db.generate_id()?;
        let mut values: HashMap<&str, Vec<u8>> = HashMap::new();
        for entry in &built {
            let Some(postings) = &entry.postings else {
                continue;
            };
            let stamp = read_u64(&entry.stamp)?;
            for (token, encoded) in postings.iter() {
                search::push_raw_segment_entry(
                    values.entry(token).or_default(),
                    &entry.record_id,
                    stamp,
                    encoded,
                );
            }
            for token in &entry.filters {
                search::push_raw_segment_entry(
                    values.entry(token.as_str()).or_default(),
                    &entry.record_id,
                    stamp,
                    &entry.filter_payload,
                );
            }
        }
        // In key order, as sled takes them best.
        let mut values: Vec<(&str, Vec<u8>)> = values.into_iter().collect();
        values.sort_unstable_by(|first, second| first.0.cmp(second.0));
        let mut segment_writes = Writes::default();
        let mut written_bytes = 0u64;
        for (token, value) in values {
            written_bytes += value.len() as u64;
            segment_writes.insert(
                TreeId::SearchSegments,
                search::segment_key(token, segment),
                value,
            );
        }
        // Nothing points to the new segment's keys yet: written without
        // holding up readers (and the verbs that wait for them).
        self.commit_unseen(&segment_writes)?;

        // The documents are switched a chunk at a time, each chunk its own
        // log record under the writer lock, so completions wait for one
        // chunk, not for the whole batch (a batch of 400 records held the
        // lock for about 30 ms). A search waits for the indexing lock, held
        // throughout, so none sees a batch half switched.
        let mut written_since = written_bytes;
        let mut rest = built.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: Vec<Built> = rest.by_ref().take(SWITCH_CHUNK_RECORDS).collect();
            self.switch_documents(chunk, std::mem::take(&mut written_since))?;
        }
        Ok(marks.len())
    }

    /// Points the documents of `built` (those whose mark did not change
    /// meanwhile) at their new postings and takes their marks off, in one
    /// log record under the writer lock; adds `written_bytes` to the bytes
    /// written since the last compaction.
    fn switch_documents(&self, built: Vec<Built>, written_bytes: u64) -> Result<(), StoreError> {
        let _writer = self.lock_writer()?;
        let mut docs: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        let mut done: Vec<Vec<u8>> = Vec::new();
        let mut token_delta: i64 = 0;
        let mut docs_delta: i64 = 0;
        for entry in built {
            if self.trees.search_pending.get(&entry.record_id)?.as_ref() != Some(&entry.stamp) {
                continue; // changed again meanwhile: the next step indexes it
            }
            let old = self.search_doc_by_key(&entry.record_id)?;
            let old_length = old
                .as_ref()
                .map_or(0, |doc| i64::try_from(doc.length).unwrap_or(0));
            match entry.postings {
                Some(EncodedPostings { length, .. }) => {
                    let stamp = read_u64(&entry.stamp)?;
                    docs.push((
                        entry.record_id.clone(),
                        Some(encode(&SearchDoc { length, stamp })?),
                    ));
                    token_delta += i64::try_from(length).unwrap_or(0) - old_length;
                    docs_delta += i64::from(old.is_none());
                }
                None => {
                    if old.is_some() {
                        docs.push((entry.record_id.clone(), None));
                        token_delta -= old_length;
                        docs_delta -= 1;
                    }
                }
            }
            done.push(entry.record_id);
        }
        let mut counters = Vec::new();
        let since = i64::try_from(written_bytes).unwrap_or(i64::MAX);
        for (counter, delta) in [
            (META_SEARCH_TOKENS, token_delta),
            (META_SEARCH_DOCS, docs_delta),
            (META_BYTES_SINCE_COMPACTION, since),
        ] {
            if delta != 0 {
                let current = self.meta_counter(counter)?;
                let next = (i64::try_from(current).unwrap_or(i64::MAX) + delta).max(0);
                counters.push((counter, u64::try_from(next).unwrap_or(0)));
            }
        }
        let mut writes = Writes::default();
        for (record_id, doc) in docs {
            match doc {
                Some(doc) => writes.insert(TreeId::SearchDocs, record_id, doc),
                None => writes.remove(TreeId::SearchDocs, record_id),
            }
        }
        for record_id in done {
            writes.remove(TreeId::SearchPending, record_id);
        }
        for (counter, value) in counters {
            writes.insert(TreeId::Meta, counter, be(value));
        }
        self.commit(&writes)
    }

    /// A counter of the `meta` tree (0 when absent).
    pub(super) fn meta_counter(&self, counter: &[u8]) -> Result<u64, StoreError> {
        match self.trees.meta.get(counter)? {
            Some(bytes) => read_u64(&bytes),
            None => Ok(0),
        }
    }

    /// True once the segments written since the last compaction weigh as
    /// much as the index did after it (and at least [`MIN_COMPACTION_BYTES`]).
    pub(super) fn search_compaction_due(&self) -> Result<bool, StoreError> {
        let since = self.meta_counter(META_BYTES_SINCE_COMPACTION)?;
        let after = self.meta_counter(META_BYTES_AFTER_COMPACTION)?;
        Ok(since >= after.max(MIN_COMPACTION_BYTES))
    }

    /// Merges each token's segment keys into one (under its newest segment
    /// key) and drops stale entries, in steps of [`COMPACTION_STEP`] per hold
    /// of the indexing lock; stops early when the store closes (and is due
    /// again).
    pub(super) fn compact_search_index(&self) -> Result<Compaction, StoreError> {
        self.compact_search_index_in_steps(COMPACTION_STEP)
    }

    /// [`Inner::compact_search_index`] in steps of at most `step`.
    pub(super) fn compact_search_index_in_steps(
        &self,
        step: CompactionStep,
    ) -> Result<Compaction, StoreError> {
        let since_at_start = self.meta_counter(META_BYTES_SINCE_COMPACTION)?;
        // Stamps of the current documents, as a cache: an entry whose stamp
        // differs is checked against the tree before it is dropped (the
        // document may have changed since this was read).
        let mut stamps: HashMap<Vec<u8>, u64> = HashMap::new();
        for item in self.trees.search_docs.iter() {
            let (record_id, doc) = item?;
            let doc: SearchDoc = decode(&doc)?;
            stamps.insert(record_id.to_vec(), doc.stamp);
        }
        let mut outcome = Compaction::default();
        let mut from: Vec<u8> = Vec::new();
        loop {
            if self.closed.load(std::sync::atomic::Ordering::Acquire) {
                return Ok(outcome);
            }
            let _indexing = self
                .indexing
                .lock()
                .map_err(|_| StoreError::Task("indexing lock poisoned".into()))?;
            let mut batch = Writes::default();
            let mut group: Vec<(sled::IVec, sled::IVec)> = Vec::new();
            let mut groups = 0usize;
            let bytes_at_step_start = outcome.bytes_after;
            let mut resume_at = None;
            for item in self.trees.search_segments.range(from.as_slice()..) {
                let (key, reference) = item?;
                let value = self.wal.resolve(reference)?;
                let same_token = group
                    .first()
                    .is_some_and(|(first, _)| token_part(first) == token_part(&key));
                if !same_token && !group.is_empty() {
                    self.compact_token(&group, &mut stamps, &mut batch, &mut outcome)?;
                    group.clear();
                    groups += 1;
                    if groups >= step.tokens
                        || outcome.bytes_after - bytes_at_step_start >= step.bytes
                    {
                        resume_at = Some(key.to_vec());
                        break;
                    }
                }
                group.push((key, value));
            }
            if resume_at.is_none() && !group.is_empty() {
                self.compact_token(&group, &mut stamps, &mut batch, &mut outcome)?;
            }
            // Unseen: a step of thousands of keys does not hold up every
            // other verb's apply (see the removal order in `compact_token`).
            self.commit_unseen(&batch)?;
            match resume_at {
                Some(key) => from = key,
                None => break,
            }
        }
        let _writer = self.lock_writer()?;
        let since_now = self.meta_counter(META_BYTES_SINCE_COMPACTION)?;
        let mut writes = Writes::default();
        writes.insert(
            TreeId::Meta,
            META_BYTES_SINCE_COMPACTION,
            be(since_now.saturating_sub(since_at_start)),
        );
        writes.insert(
            TreeId::Meta,
            META_BYTES_AFTER_COMPACTION,
            be(outcome.bytes_after),
        );
        self.commit(&writes)?;
        Ok(outcome)
    }

    /// One token's keys (in segment order) merged into its last key, stale
    /// entries dropped.
    pub(super) fn compact_token(
        &self,
        keys: &[(sled::IVec, sled::IVec)],
        stamps: &mut HashMap<Vec<u8>, u64>,
        batch: &mut Writes,
        outcome: &mut Compaction,
    ) -> Result<(), StoreError> {
        outcome.keys_before += keys.len() as u64;
        let mut merged = Vec::new();
        let mut seen: HashMap<&[u8], u64> = HashMap::new();
        let mut dropped = 0u64;
        for (_, value) in keys {
            let entries = search::segment_entries(value)
                .ok_or_else(|| StoreError::Corrupt("search segment".to_string()))?;
            for (record_id, stamp, postings) in entries {
                let live = match stamps.get(record_id) {
                    Some(known) if *known == stamp => true,
                    _ => match self.search_doc_by_key(record_id)? {
                        Some(doc) => {
                            stamps.insert(record_id.to_vec(), doc.stamp);
                            doc.stamp == stamp
                        }
                        None => false,
                    },
                };
                if !live || seen.insert(record_id, stamp) == Some(stamp) {
                    dropped += 1;
                    continue;
                }
                search::push_raw_segment_entry(&mut merged, record_id, stamp, postings);
            }
        }
        outcome.entries_dropped += dropped;
        let Some(((last_key, _), older)) = keys.split_last() else {
            return Ok(());
        };
        if older.is_empty() && dropped == 0 {
            outcome.keys_after += 1;
            outcome.bytes_after += merged.len() as u64;
            return Ok(());
        }
        // The merged key first, then the removals: a search reading the
        // token while the step is applied (it is written unseen) finds
        // every live entry at least once, whatever it reads before or after.
        if merged.is_empty() {
            batch.remove(TreeId::SearchSegments, last_key.as_ref());
        } else {
            outcome.keys_after += 1;
            outcome.bytes_after += merged.len() as u64;
            batch.insert(TreeId::SearchSegments, last_key.as_ref(), merged);
        }
        for (key, _) in older {
            batch.remove(TreeId::SearchSegments, key.as_ref());
        }
        Ok(())
    }

    /// Indexes every marked record (what a search does first).
    pub(super) fn index_all_pending(&self) -> Result<(), StoreError> {
        while self.index_pending(SEGMENT_RECORDS)? == SEGMENT_RECORDS {}
        Ok(())
    }

    /// The search document of a record.
    pub(super) fn search_doc_by_key(
        &self,
        record_id: &[u8],
    ) -> Result<Option<SearchDoc>, StoreError> {
        self.trees
            .search_docs
            .get(record_id)?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// Every live entry of `token`: record id → encoded postings, only those
    /// whose stamp the record's search document names.
    pub(super) fn token_entries(
        &self,
        token: &str,
        docs: &mut HashMap<Vec<u8>, Option<SearchDoc>>,
    ) -> Result<HashMap<Vec<u8>, Vec<u8>>, StoreError> {
        let mut live = HashMap::new();
        self.for_each_segment_entry(token, |record_id, stamp, postings| {
            let doc = match docs.get(record_id) {
                Some(doc) => doc.clone(),
                None => {
                    let doc = self.search_doc_by_key(record_id)?;
                    docs.insert(record_id.to_vec(), doc.clone());
                    doc
                }
            };
            if doc.is_some_and(|doc| doc.stamp == stamp) {
                live.insert(record_id.to_vec(), postings.to_vec());
            }
            Ok(())
        })?;
        Ok(live)
    }

    /// Calls `visit` with every entry (record id, stamp, postings or
    /// payload) of every segment key of `token`, live or stale, in segment
    /// order.
    pub(super) fn for_each_segment_entry(
        &self,
        token: &str,
        mut visit: impl FnMut(&[u8], u64, &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for entry in self
            .trees
            .search_segments
            .scan_prefix(search::segment_prefix(token))
        {
            let (_, reference) = entry?;
            let value = self.wal.resolve(reference)?;
            let entries = search::segment_entries(&value)
                .ok_or_else(|| StoreError::Corrupt("search segment".to_string()))?;
            for (record_id, stamp, postings) in entries {
                visit(record_id, stamp, postings)?;
            }
        }
        Ok(())
    }

    /// Brings a data directory of an earlier layout (before segments, or
    /// with fixed-width postings) to this one: the old postings go and every record is
    /// marked, so the indexer rebuilds the index in the background (a search
    /// meanwhile indexes what is left first). Returns how many records were marked.
    pub(super) fn migrate_search_index(&self) -> Result<u64, StoreError> {
        if self.trees.meta.get(META_SEARCH_LAYOUT)?.as_deref() == Some(SEGMENT_LAYOUT) {
            return Ok(0);
        }
        let _writer = self.lock_writer()?;
        self.db.drop_tree("search_postings")?;
        self.trees.search_docs.clear()?;
        self.trees.search_segments.clear()?;
        let mut marked = 0u64;
        for record_id in self.trees.dialogues.iter().keys() {
            self.trees
                .search_pending
                .insert(record_id?, &self.next_search_stamp()?)?;
            marked += 1;
        }
        for counter in [META_SEARCH_TOKENS, META_SEARCH_DOCS] {
            self.trees.meta.remove(counter)?;
        }
        self.trees.meta.insert(META_SEARCH_LAYOUT, SEGMENT_LAYOUT)?;
        self.db.flush()?;
        Ok(marked)
    }
}

/// The token part of a segment key (with its 0x00 separator).
fn token_part(key: &[u8]) -> &[u8] {
    key.get(..key.len().saturating_sub(8)).unwrap_or(key)
}
