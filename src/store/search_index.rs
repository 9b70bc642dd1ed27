//! The inverted index of SearchDialogues, kept off the completion path.
//!
//! A verb that changes a record (completion, reindex) only marks it in
//! `search_pending` (record id → stamp, unique over the store's life), in its
//! own transaction. A background indexer (woken by those verbs, after a
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

use super::records::Fresh;
use super::search::{self, Postings, SearchDoc};
use super::{be, decode, encode, read_u64, Inner, StoreError};
use sled::Transactional;
use std::collections::{BTreeMap, HashMap};
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
const SEGMENT_LAYOUT: &[u8] = b"segments-2";

/// Most records indexed in one segment.
pub(super) const SEGMENT_RECORDS: usize = 1024;
/// How long the indexer waits after being woken, to gather a batch: the
/// longer, the fewer keys per record (the vocabulary of a batch saturates).
/// A search does not wait for it: it indexes what is marked first.
const LINGER: Duration = Duration::from_millis(250);

/// The background indexer's handle: its wake-up, its stop and its task.
pub(super) struct Indexer {
    wanted: Arc<Notify>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Indexer {
    pub(super) fn new() -> Self {
        Indexer {
            wanted: Arc::new(Notify::new()),
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }
    }

    /// Starts the task over `inner` (held weakly: it ends when the store is dropped).
    pub(super) fn start(&self, inner: Weak<Inner>) {
        let wanted = Arc::clone(&self.wanted);
        let stop = self.stop.clone();
        let task = tokio::spawn(async move {
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
                    let indexed =
                        tokio::task::spawn_blocking(move || store.index_pending(SEGMENT_RECORDS))
                            .await;
                    match indexed {
                        Ok(Ok(count)) if count == SEGMENT_RECORDS && !stop.is_cancelled() => {}
                        Ok(Ok(_)) => break,
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "search indexing failed; retried on the next change or search");
                            break;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "search indexing task failed");
                            break;
                        }
                    }
                }
            }
        });
        if let Ok(mut slot) = self.task.lock() {
            *slot = Some(task);
        }
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
    }

    /// Stops the task without waiting (the store is being dropped).
    pub(super) fn cancel(&self) {
        self.stop.cancel();
    }
}

/// One record as the indexer built it, before it is written.
struct Built {
    record_id: Vec<u8>,
    stamp: sled::IVec,
    /// Its length and postings; `None` when the record is gone.
    postings: Option<(u64, BTreeMap<String, Postings>)>,
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
            let postings = match self.record(record_id)? {
                Some(record) => Some(search::build_postings(
                    &self.sections(&record, &Fresh::new())?,
                )),
                None => None,
            };
            built.push(Built {
                record_id: record_id.to_vec(),
                stamp: stamp.clone(),
                postings,
            });
        }
        // The segment goes in first, outside the writer lock: nothing points
        // to its entries until the documents below name their stamps.
        let segment = self.db.generate_id()?;
        let mut values: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        for entry in &built {
            let Some((_, postings)) = &entry.postings else {
                continue;
            };
            let stamp = read_u64(&entry.stamp)?;
            for (token, positions) in postings {
                search::push_segment_entry(
                    values.entry(token.as_str()).or_default(),
                    &entry.record_id,
                    stamp,
                    positions,
                );
            }
        }
        let mut segment_batch = sled::Batch::default();
        for (token, value) in values {
            segment_batch.insert(search::segment_key(token, segment), value);
        }
        self.trees.search_segments.apply_batch(segment_batch)?;

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
                Some((length, _)) => {
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
        for (counter, delta) in [
            (META_SEARCH_TOKENS, token_delta),
            (META_SEARCH_DOCS, docs_delta),
        ] {
            if delta != 0 {
                let current = match self.trees.meta.get(counter)? {
                    Some(bytes) => read_u64(&bytes)?,
                    None => 0,
                };
                let next = (i64::try_from(current).unwrap_or(i64::MAX) + delta).max(0);
                counters.push((counter, u64::try_from(next).unwrap_or(0)));
            }
        }
        let trees = &self.trees;
        (&trees.search_docs, &trees.search_pending, &trees.meta).transaction(
            |(search_docs, pending, meta)| {
                for (record_id, doc) in &docs {
                    match doc {
                        Some(doc) => search_docs.insert(record_id.as_slice(), doc.as_slice())?,
                        None => search_docs.remove(record_id.as_slice())?,
                    };
                }
                for record_id in &done {
                    pending.remove(record_id.as_slice())?;
                }
                for (counter, value) in &counters {
                    meta.insert(*counter, &be(*value))?;
                }
                Ok::<(), sled::transaction::ConflictableTransactionError<StoreError>>(())
            },
        )?;
        Ok(marks.len())
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
        for entry in self
            .trees
            .search_segments
            .scan_prefix(search::segment_prefix(token))
        {
            let (_, value) = entry?;
            let entries = search::segment_entries(&value)
                .ok_or_else(|| StoreError::Corrupt("search segment".to_string()))?;
            for (record_id, stamp, postings) in entries {
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
            }
        }
        Ok(live)
    }

    /// Brings a data directory written before segments to the segment
    /// layout: the old per-(token, record) postings go and every record is
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
