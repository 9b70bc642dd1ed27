//! The durable store: sled trees behind domain verbs. Handlers and workers
//! never see a `sled::Tree`; blocking sled work runs on the blocking pool.
//!
//! Trees:
//! - `articles`: article id → its status; `article_bodies`: article id → where
//!   its text is in the text log, `<data>/texts/` (see [`articles`], [`texts`])
//! - `article_keys`: `u:<url>` / `t:<text fingerprint>` / `r:<request id>` → article id (dedup)
//! - `queue`: (ready-at ms, article id) → () — what is waiting, in due order
//! - `leases`: article id → [`Lease`]; `lease_deadlines`: (deadline ms, article id) → ()
//! - `dead_letters`: article id → ()
//! - `dialogues`: record id → record; `dialogue_keys`: identity key → record id
//!   (and `stem|@day|id` → id: records by partner, kind and day, for identity)
//! - `reports`: (record id, article id, event index) → [`merge::Report`]: every
//!   report a record is recomputed from
//! - `cleaned`: article id → where its cleaned text (what evidence spans and
//!   snippets point into) is in the text log
//! - `dialogue_index`: ListDialogues' two orders, a key per record in each
//!   (see [`index`])
//! - `search_segments`, `search_docs`, `search_pending`: the inverted index of
//!   SearchDialogues, and ListDialogues' filter tokens, written in segments by
//!   a background indexer (see [`search_index`])
//! - `stats`: (partner, year, kind) → record count
//! - `feed`: sequence → feed event; `feed_wire`: sequence → the event in the
//!   API's wire form, when the server gave the store an encoder
//!   ([`Store::encode_feed_with`]): a replay sends it as it is; `meta`: counters
//!
//! The large values of `dialogues`, `reports`, `feed`, `feed_wire` and
//! `search_segments` are in the value log, `<data>/values/`; those trees hold
//! references to them, which reads resolve ([`wal::WriteAheadLog::resolve`]).
//!
//! Writes are serialised by one writer lock; each verb's writes are one
//! record of the write-ahead log (`<data>/wal/`, see [`wal`]), appended before
//! they are applied to the trees, so a crash leaves each verb done or not
//! done. Durability: submissions, completions and failures wait for a flush
//! (the write-ahead log's and the text log's fsyncs); flushes are shared
//! between concurrent callers (group commit, see [`commit`]). Unary
//! submissions are written in batches by a thread of their own, which hands
//! each batch to the group commit and goes on (see [`submit`]). The feed head
//! is published only after the flush that made it durable.

mod articles;
mod background;
mod commit;
pub mod index;
pub mod merge;
mod recent;
pub use recent::SharedFeedEvent;
mod records;
mod release;
pub mod search;
mod search_index;
mod submit;
mod texts;
mod wal;
pub use submit::{text_fingerprint, BulkSubmission, BULK_CHUNK};
#[cfg(test)]
mod tests;

use crate::domain::{
    now_millis, ArticleId, ArticleState, ArticleStatus, DialogueFilter, DialogueRecord,
    FailOutcome, FeedEvent, LeasedArticle, ListOrder, Page, ReindexOutcome, SearchHit, StatsRow,
};
use crate::metrics::StoreGauges;
use dialogwatch_worker::record::Extraction;
use dialogwatch_worker::runner::{extract_catching_panics, Extract, Job};
use records::{TreeId, Writes};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such article / record.
    #[error("{what} {id} not found")]
    NotFound {
        /// "article" or "dialogue".
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The lease is not (or no longer) held: expired and handed out again, or completed.
    #[error("lease {lease_id} on article {article_id} is not held")]
    LeaseNotHeld {
        /// The article.
        article_id: String,
        /// The lease id given.
        lease_id: String,
    },
    /// The article is not in the state the verb needs (e.g. retrying a live article).
    #[error("article {article_id} is {state:?}, not dead-lettered")]
    NotDeadLettered {
        /// The article.
        article_id: String,
        /// Its state.
        state: ArticleState,
    },
    /// A snapshot destination that cannot be used.
    #[error("snapshot destination {path}: {reason}")]
    SnapshotDestination {
        /// The path given.
        path: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A page token this store did not issue.
    #[error("invalid page token")]
    InvalidPageToken,
    /// The store is closing.
    #[error("store is shutting down")]
    Closed,
    /// sled failed.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// Stored bytes could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// An article's text is not in the text log as it was referenced: a
    /// power loss before its submission was acknowledged.
    #[error("article {article_id}: {reason}")]
    TextLost {
        /// The article.
        article_id: String,
        /// What was found instead.
        reason: String,
    },
    /// Reading or writing the text log failed.
    #[error("text log: {0}")]
    Io(String),
    /// A blocking task panicked or was cancelled.
    #[error("storage task failed: {0}")]
    Task(String),
}

/// Queue tuning.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Data directory.
    pub path: PathBuf,
    /// Default lease length.
    pub lease_duration: Duration,
    /// Attempts before an article is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt.
    pub retry_backoff: Duration,
    /// Upper bound of the retry delay.
    pub max_retry_backoff: Duration,
    /// sled's page cache, in bytes ([`StoreConfig::DEFAULT_CACHE_BYTES`]).
    /// A replay from an old sequence reads the feed through it: once the
    /// feed outgrows it, pages are read and decoded from the file again.
    pub cache_bytes: u64,
}

impl StoreConfig {
    /// The default page cache: 512 MiB. A replay from sequence 0 of a
    /// 1,000,000-event feed ran at 131k records/s with 64 MiB and 285k/s
    /// with 512 MiB, at the same peak RSS under load (about 1.1 GB; see
    /// `BENCHMARKS.md`, catch-up). sled fills the cache only with pages it
    /// reads, so a small store does not pay for it.
    pub const DEFAULT_CACHE_BYTES: u64 = 512 * 1024 * 1024;

    /// [`StoreConfig::DEFAULT_CACHE_BYTES`] in MiB (the command line's unit).
    pub const DEFAULT_CACHE_MIB: u64 = Self::DEFAULT_CACHE_BYTES / (1024 * 1024);
}

/// A held lease.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lease {
    lease_id: String,
    deadline_ms: u64,
    attempt: u32,
}

struct Trees {
    articles: sled::Tree,
    article_bodies: sled::Tree,
    article_keys: sled::Tree,
    queue: sled::Tree,
    leases: sled::Tree,
    lease_deadlines: sled::Tree,
    dead_letters: sled::Tree,
    dialogues: sled::Tree,
    dialogue_keys: sled::Tree,
    feed: sled::Tree,
    feed_wire: sled::Tree,
    meta: sled::Tree,
    reports: sled::Tree,
    cleaned: sled::Tree,
    dialogue_index: sled::Tree,
    search_segments: sled::Tree,
    search_docs: sled::Tree,
    search_pending: sled::Tree,
    stats: sled::Tree,
}

impl Trees {
    /// Opens (or creates) every tree of the store in `db`.
    fn open(db: &sled::Db) -> Result<Trees, sled::Error> {
        let tree = |name: &str| db.open_tree(name);
        Ok(Trees {
            articles: tree("articles")?,
            article_bodies: tree("article_bodies")?,
            article_keys: tree("article_keys")?,
            queue: tree("queue")?,
            leases: tree("leases")?,
            lease_deadlines: tree("lease_deadlines")?,
            dead_letters: tree("dead_letters")?,
            dialogues: tree("dialogues")?,
            dialogue_keys: tree("dialogue_keys")?,
            feed: tree("feed")?,
            feed_wire: tree("feed_wire")?,
            meta: tree("meta")?,
            reports: tree("reports")?,
            cleaned: tree("cleaned")?,
            dialogue_index: tree("dialogue_index")?,
            search_segments: tree("search_segments")?,
            search_docs: tree("search_docs")?,
            search_pending: tree("search_pending")?,
            stats: tree("stats")?,
        })
    }

    /// The tree `id` names.
    fn tree(&self, id: TreeId) -> &sled::Tree {
        match id {
            TreeId::Articles => &self.articles,
            TreeId::ArticleBodies => &self.article_bodies,
            TreeId::ArticleKeys => &self.article_keys,
            TreeId::Queue => &self.queue,
            TreeId::Leases => &self.leases,
            TreeId::LeaseDeadlines => &self.lease_deadlines,
            TreeId::DeadLetters => &self.dead_letters,
            TreeId::Dialogues => &self.dialogues,
            TreeId::DialogueKeys => &self.dialogue_keys,
            TreeId::Feed => &self.feed,
            TreeId::FeedWire => &self.feed_wire,
            TreeId::Meta => &self.meta,
            TreeId::Reports => &self.reports,
            TreeId::Cleaned => &self.cleaned,
            TreeId::Index => &self.dialogue_index,
            TreeId::SearchSegments => &self.search_segments,
            TreeId::SearchDocs => &self.search_docs,
            TreeId::SearchPending => &self.search_pending,
            TreeId::Stats => &self.stats,
        }
    }
}

struct Inner {
    db: sled::Db,
    trees: Trees,
    /// Every write goes through it (see [`wal`]).
    wal: Arc<wal::WriteAheadLog>,
    config: StoreConfig,
    writer: Mutex<()>,
    work_available: Arc<Notify>,
    head: watch::Sender<u64>,
    closed: AtomicBool,
    committer: commit::GroupCommit,
    /// The article texts (see [`texts`]).
    texts: Arc<texts::TextLog>,
    pending: submit::PendingSubmissions,
    /// Held by whoever is indexing (the background indexer or a search).
    indexing: Mutex<()>,
    indexer: search_index::Indexer,
    /// The newest feed events, decoded, for live subscribers.
    recent_feed: recent::RecentFeed,
    /// Encodes a feed event in the API's wire form, when set.
    feed_wire: std::sync::OnceLock<FeedWireEncoder>,
}

/// Encodes a feed event as the API sends it (set by the server, so the
/// store needs no knowledge of the API's types).
pub type FeedWireEncoder = Arc<dyn Fn(&FeedEvent) -> Vec<u8> + Send + Sync>;

impl Drop for Inner {
    fn drop(&mut self) {
        self.indexer.cancel();
        self.pending.cancel();
    }
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

const META_NEXT_ARTICLE: &[u8] = b"next_article_id";
/// The text log's directory, inside the data directory.
const TEXTS_DIRECTORY: &str = "texts";
const META_FEED_HEAD: &[u8] = b"feed_head";

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn be(number: u64) -> [u8; 8] {
    number.to_be_bytes()
}

fn read_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("expected 8 bytes".to_string()))?;
    Ok(u64::from_be_bytes(array))
}

/// `(first, second)` as a 16-byte big-endian key.
fn pair_key(first: u64, second: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&first.to_be_bytes());
    key[8..].copy_from_slice(&second.to_be_bytes());
    key
}

fn second_of_pair(key: &[u8]) -> Result<u64, StoreError> {
    key.get(8..16)
        .ok_or_else(|| StoreError::Corrupt("short pair key".to_string()))
        .and_then(read_u64)
}

/// How long [`Store::open`] waits for a data directory that is still locked.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// The sled settings of a store's database at `path`: its page cache and
/// sled's own background flush (the write-ahead log makes writes durable;
/// checkpoints flush sled too). Public for the benchmarks, which measure sled
/// as the store configures it.
pub fn sled_config(path: &std::path::Path, cache_bytes: u64) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(cache_bytes)
        .flush_every_ms(Some(1000))
}

/// Opens the sled database, waiting a bounded time while the directory is
/// locked by a handle that is going away: sled's background flusher thread
/// lets go of the file lock shortly after the last `Db` handle is dropped,
/// so a close followed by an open in the same process can meet it.
fn open_waiting_for_lock(
    path: &std::path::Path,
    cache_bytes: u64,
) -> Result<sled::Db, sled::Error> {
    let give_up_at = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        let opened = sled_config(path, cache_bytes).open();
        match opened {
            Err(sled::Error::Io(error))
                if error.kind() == std::io::ErrorKind::Other
                    && error.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < give_up_at =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Retries a blocking closure's sled work on the blocking pool.
async fn blocking<T, F>(inner: &Arc<Inner>, work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
{
    if inner.closed.load(Ordering::Acquire) {
        return Err(StoreError::Closed);
    }
    let inner = Arc::clone(inner);
    tokio::task::spawn_blocking(move || work(&inner))
        .await
        .map_err(|error| StoreError::Task(error.to_string()))?
}

impl Store {
    /// Opens (or creates) the store at `config.path`.
    pub async fn open(config: StoreConfig) -> Result<Store, StoreError> {
        let path = config.path.clone();
        let cache_bytes = config.cache_bytes;
        let db = tokio::task::spawn_blocking(move || open_waiting_for_lock(&path, cache_bytes))
            .await
            .map_err(|error| StoreError::Task(error.to_string()))??;
        let trees = Trees::open(&db)?;
        let wal_directory = config.path.join(wal::WAL_DIRECTORY);
        let values_directory = config.path.join(wal::VALUES_DIRECTORY);
        let (db, trees, wal) = tokio::task::spawn_blocking(move || {
            let values = texts::TextLog::open(&values_directory, texts::SEGMENT_BYTES)
                .map_err(|error| StoreError::Io(format!("value log: {error}")))?;
            wal::WriteAheadLog::open(
                &wal_directory,
                wal::CHECKPOINT_BYTES,
                Arc::new(values),
                wal::SEPARATE_FROM_BYTES,
                &db,
                &trees,
            )
            .map(|(wal, recovery)| (db, trees, wal, recovery))
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))?
        .map(|(db, trees, wal, recovery)| {
            if recovery.records > 0 || recovery.torn {
                tracing::info!(
                    records = recovery.records,
                    torn_tail = recovery.torn,
                    "write-ahead log: recovered"
                );
            }
            (db, trees, wal)
        })?;
        let head = match trees.meta.get(META_FEED_HEAD)? {
            Some(bytes) => read_u64(&bytes)?,
            None => 0,
        };
        let (head_sender, _) = watch::channel(head);
        let text_directory = config.path.join(TEXTS_DIRECTORY);
        let texts = tokio::task::spawn_blocking(move || {
            texts::TextLog::open(&text_directory, texts::SEGMENT_BYTES)
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))?
        .map_err(|error| StoreError::Io(error.to_string()))?;
        let texts = Arc::new(texts);
        let wal = Arc::new(wal);
        let committer =
            commit::GroupCommit::start(db.clone(), Arc::clone(&texts), Arc::clone(&wal));
        let inner = Arc::new(Inner {
            committer,
            db,
            trees,
            wal,
            config,
            writer: Mutex::new(()),
            work_available: Arc::new(Notify::new()),
            head: head_sender,
            closed: AtomicBool::new(false),
            texts,
            pending: submit::PendingSubmissions::new(),
            indexing: Mutex::new(()),
            indexer: search_index::Indexer::new(),
            recent_feed: recent::RecentFeed::default(),
            feed_wire: std::sync::OnceLock::new(),
        });
        let split = blocking(&inner, Inner::split_article_bodies).await?;
        if split > 0 {
            tracing::info!(
                articles = split,
                "articles: statuses and bodies stored apart"
            );
        }
        let rekeyed = blocking(&inner, Inner::rekey_text_fingerprints).await?;
        if rekeyed > 0 {
            tracing::info!(keys = rekeyed, "articles: text fingerprints rekeyed (XXH3)");
        }
        let marked = blocking(&inner, Inner::migrate_search_index).await?;
        if marked > 0 {
            tracing::info!(records = marked, "search index: rebuilding in segments");
        }
        inner.indexer.start(Arc::downgrade(&inner))?;
        inner.pending.start(Arc::downgrade(&inner))?;
        if !inner.trees.search_pending.is_empty() {
            inner.indexer.wake();
        }
        Ok(Store { inner })
    }

    /// Waits until everything written so far is on disk.
    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.committer.flush().await
    }

    /// An article's status.
    pub async fn article(&self, id: ArticleId) -> Result<ArticleStatus, StoreError> {
        blocking(&self.inner, move |inner| inner.article_status(id)).await
    }

    /// Leases up to `max_articles` ready articles for `lease_duration`, waiting up to
    /// `wait` for one to become ready (woken by enqueue, not by polling).
    /// Expired leases are handed out again.
    pub async fn lease(
        &self,
        max_articles: usize,
        lease_duration: Duration,
        wait: Duration,
    ) -> Result<Vec<LeasedArticle>, StoreError> {
        let give_up_at = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.inner.work_available.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (leased, next_due_ms) = blocking(&self.inner, move |inner| {
                inner.lease_now(max_articles, lease_duration)
            })
            .await?;
            if !leased.is_empty() {
                return Ok(leased);
            }
            let now = tokio::time::Instant::now();
            if now >= give_up_at {
                return Ok(Vec::new());
            }
            let until_due = next_due_ms
                .map(|due| Duration::from_millis(due.saturating_sub(now_millis()).max(1)))
                .unwrap_or(Duration::MAX);
            let sleep_for = (give_up_at - now).min(until_due);
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(sleep_for) => {}
            }
        }
    }

    /// Pushes a held lease's deadline to now + `lease_duration`; returns the deadline (ms).
    pub async fn extend_lease(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        lease_duration: Duration,
    ) -> Result<u64, StoreError> {
        let lease_id = lease_id.to_string();
        blocking(&self.inner, move |inner| {
            let _writer = inner
                .writer
                .lock()
                .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
            let lease = inner.held_lease(article_id, &lease_id)?;
            let deadline_ms = now_millis() + duration_millis(lease_duration);
            let renewed = Lease {
                deadline_ms,
                ..lease.clone()
            };
            let mut writes = Writes::default();
            writes.remove(
                TreeId::LeaseDeadlines,
                pair_key(lease.deadline_ms, article_id.0),
            );
            writes.insert(
                TreeId::LeaseDeadlines,
                pair_key(deadline_ms, article_id.0),
                [],
            );
            writes.insert(TreeId::Leases, be(article_id.0), encode(&renewed)?);
            inner.commit(&writes)?;
            Ok(deadline_ms)
        })
        .await
    }

    /// Stores the extraction of a leased article: merges its events into the
    /// dialogue records, appends CREATED/UPDATED feed events, marks it done, all
    /// in one log record, flushed before returning. Returns the record ids.
    pub async fn complete(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        extraction: Extraction,
    ) -> Result<Vec<String>, StoreError> {
        let (record_ids, new_head) = self
            .write_completion(article_id, lease_id, extraction)
            .await?;
        self.flush().await?;
        self.publish_head(new_head);
        Ok(record_ids)
    }

    /// [`Store::complete`] for the server's own workers: returns once the
    /// completion is written, without waiting for the disk, so a worker goes
    /// on to its next article while the flush runs. Its feed events are
    /// still published only after a flush that made them durable (a
    /// background wait on the shared group commit, spawned on `runtime`). A
    /// crash before that flush loses the completion and nothing else: no
    /// one was told of it, and the article's lease, still on disk, expires
    /// so it is processed again.
    ///
    /// It blocks: call it from a blocking thread (a worker's), never from
    /// an async task. The completion is written on the calling thread, not
    /// handed to the blocking pool and back (two thread switches per
    /// article on the drain's critical path).
    ///
    /// `cleaned_text` is the article's cleaned text as the worker's
    /// extractor made it from the leased job ([`dialogwatch_worker::Extractor::explain`]),
    /// which the store would otherwise make again (its search index holds
    /// it); `None` makes it here.
    pub fn complete_without_waiting_for_disk(
        &self,
        runtime: &tokio::runtime::Handle,
        article_id: ArticleId,
        lease_id: &str,
        extraction: Extraction,
        cleaned_text: Option<String>,
    ) -> Result<Vec<String>, StoreError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let read = self.inner.read_for_completion(article_id, cleaned_text)?;
        let (record_ids, new_head) =
            self.inner
                .complete_now(article_id, lease_id, &extraction, read)?;
        if new_head.is_some() {
            let store = self.clone();
            runtime.spawn(async move {
                if store.flush().await.is_ok() {
                    store.publish_head(new_head);
                }
            });
        }
        Ok(record_ids)
    }

    /// The completion's log record; returns the record ids and the new feed head, if any.
    async fn write_completion(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        extraction: Extraction,
    ) -> Result<(Vec<String>, Option<u64>), StoreError> {
        let lease_id = lease_id.to_string();
        blocking(&self.inner, move |inner| {
            let read = inner.read_for_completion(article_id, None)?;
            inner.complete_now(article_id, &lease_id, &extraction, read)
        })
        .await
    }

    /// Records a failed attempt: requeued with backoff, or dead-lettered at the bound.
    pub async fn fail(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        error: &str,
    ) -> Result<FailOutcome, StoreError> {
        let lease_id = lease_id.to_string();
        let error = error.to_string();
        let outcome = blocking(&self.inner, move |inner| {
            let _writer = inner
                .writer
                .lock()
                .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
            let lease = inner.held_lease(article_id, &lease_id)?;
            inner.release_failed(article_id, Some(&lease), &error, now_millis())
        })
        .await?;
        self.flush().await?;
        self.inner.work_available.notify_waiters();
        Ok(outcome)
    }

    /// Dead-lettered articles, oldest id first.
    pub async fn dead_letters(&self, limit: usize) -> Result<Vec<ArticleStatus>, StoreError> {
        blocking(&self.inner, move |inner| {
            inner
                .trees
                .dead_letters
                .iter()
                .keys()
                .take(limit)
                .map(|key| {
                    let id = ArticleId(read_u64(&key?)?);
                    inner.article_status(id)
                })
                .collect()
        })
        .await
    }

    /// Puts a dead-lettered article back in the queue with its attempts reset.
    pub async fn retry_dead_letter(&self, article_id: ArticleId) -> Result<(), StoreError> {
        blocking(&self.inner, move |inner| {
            let _writer = inner
                .writer
                .lock()
                .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
            let mut status = inner.article_status(article_id)?;
            if status.state != ArticleState::DeadLettered {
                return Err(StoreError::NotDeadLettered {
                    article_id: article_id.to_string(),
                    state: status.state,
                });
            }
            let now = now_millis();
            status.state = ArticleState::Queued;
            status.attempts = 0;
            status.updated_at_ms = now;
            let mut writes = Writes::default();
            writes.remove(TreeId::DeadLetters, be(article_id.0));
            writes.insert(TreeId::Queue, pair_key(now, article_id.0), []);
            writes.insert(TreeId::Articles, be(article_id.0), encode(&status)?);
            inner.commit(&writes)?;
            Ok(())
        })
        .await?;
        self.flush().await?;
        self.inner.work_available.notify_waiters();
        Ok(())
    }

    /// One record.
    pub async fn dialogue(&self, id: &str) -> Result<DialogueRecord, StoreError> {
        let id = id.to_string();
        blocking(&self.inner, move |inner| {
            match inner.trees.dialogues.get(id.as_bytes())? {
                Some(bytes) => decode(&inner.wal.resolve(bytes)?),
                None => Err(StoreError::NotFound {
                    what: "dialogue",
                    id,
                }),
            }
        })
        .await
    }

    /// Records passing `filter`, in `order`, paged. Answered from the
    /// secondary indexes: the most selective indexed filter is scanned, the
    /// others are verified on each record. A token from another query is
    /// refused ([`StoreError::InvalidPageToken`]).
    pub async fn list_dialogues(
        &self,
        filter: DialogueFilter,
        order: ListOrder,
        page_size: usize,
        page_token: Option<String>,
    ) -> Result<Page<DialogueRecord>, StoreError> {
        let fingerprint = index::fingerprint(&filter, order, "list");
        let cursor = match page_token {
            Some(token) => {
                Some(index::decode_token(&token, fingerprint).ok_or(StoreError::InvalidPageToken)?)
            }
            None => None,
        };
        blocking(&self.inner, move |inner| {
            let _whole_records = inner.wal.whole_records()?;
            inner.wal.wait_for_deferred()?;
            let (items, last) = inner.query(&filter, order, page_size, cursor.as_deref())?;
            Ok(Page {
                items,
                next_page_token: last.map(|key| index::encode_token(fingerprint, &key)),
            })
        })
        .await
    }

    /// Records matching every clause of `query` (and `filter`), best first
    /// (BM25 over the record's fields and its sources' cleaned text), with
    /// snippets; paged by offset.
    pub async fn search_dialogues(
        &self,
        query: Vec<search::Clause>,
        filter: DialogueFilter,
        page_size: usize,
        page_token: Option<String>,
    ) -> Result<Page<SearchHit>, StoreError> {
        let fingerprint =
            index::fingerprint(&filter, ListOrder::DateDesc, &format!("search|{query:?}"));
        let offset = match page_token {
            Some(token) => {
                let cursor =
                    index::decode_token(&token, fingerprint).ok_or(StoreError::InvalidPageToken)?;
                let bytes: [u8; 8] = cursor
                    .as_slice()
                    .try_into()
                    .map_err(|_| StoreError::InvalidPageToken)?;
                usize::try_from(u64::from_be_bytes(bytes))
                    .map_err(|_| StoreError::InvalidPageToken)?
            }
            None => 0,
        };
        blocking(&self.inner, move |inner| {
            inner.index_all_pending()?;
            let _whole_records = inner.wal.whole_records()?;
            let (items, more) = inner.search(&query, &filter, offset, page_size)?;
            let next = offset + items.len();
            Ok(Page {
                items,
                next_page_token: more
                    .then(|| index::encode_token(fingerprint, &(next as u64).to_be_bytes())),
            })
        })
        .await
    }

    /// Record counts per partner, year and kind (partners in `partners`, or all).
    pub async fn stats(&self, partners: Vec<String>) -> Result<Vec<StatsRow>, StoreError> {
        blocking(&self.inner, move |inner| {
            let _whole_records = inner.wal.whole_records()?;
            inner.stats_rows(&partners)
        })
        .await
    }

    /// Done articles after `after` (all when `None`), at most `limit`, as jobs
    /// to extract again.
    pub async fn articles_to_reextract(
        &self,
        after: Option<ArticleId>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        blocking(&self.inner, move |inner| {
            let start = after.map_or(0, |id| id.0.saturating_add(1));
            let mut jobs = Vec::new();
            for entry in inner.trees.articles.range(be(start)..) {
                let (_, value) = entry?;
                let status: ArticleStatus = decode(&value)?;
                if status.state != ArticleState::Done {
                    continue;
                }
                let body = inner.article_body(status.id)?;
                jobs.push(Job {
                    article_id: status.id.to_string(),
                    lease_id: String::new(),
                    attempt: 0,
                    text: body.content,
                    is_html: body.is_html,
                    url: status.url,
                    published_at: status.published_at,
                    title: status.title,
                });
                if jobs.len() >= limit {
                    break;
                }
            }
            Ok(jobs)
        })
        .await
    }

    /// Replaces a done article's reports by those of a new `extraction` and
    /// recomputes the records they touch: one UPDATED (or CREATED) event per
    /// record whose content changed, none for the others; flushed before returning.
    pub async fn reextract(
        &self,
        article_id: ArticleId,
        extraction: Extraction,
    ) -> Result<ReindexOutcome, StoreError> {
        let (outcome, new_head) = blocking(&self.inner, move |inner| {
            let cleaned = inner.cleaned_for(article_id)?;
            inner.reextract_batch(&[(article_id, extraction, cleaned)])
        })
        .await?;
        self.flush().await?;
        self.publish_head(new_head);
        Ok(outcome)
    }

    /// Extracts every done article again with `extractor` (on the blocking
    /// pool, `batch` articles at a time, so the service keeps serving) and
    /// rebuilds the records in place. The articles of a batch are applied as
    /// one change, so a record gets one UPDATED event per batch holding its
    /// sources (one in all when they fall in one batch, as reports submitted
    /// together do), and none when its content is unchanged. Articles the
    /// extractor panics on keep their previous reports.
    pub async fn reindex(
        &self,
        extractor: Arc<dyn Extract + Send + Sync>,
        batch: usize,
    ) -> Result<ReindexOutcome, StoreError> {
        let mut total = ReindexOutcome::default();
        let mut after = None;
        loop {
            let jobs = self.articles_to_reextract(after, batch.max(1)).await?;
            let Some(last) = jobs.last() else {
                return Ok(total);
            };
            after = Some(
                last.article_id
                    .parse::<ArticleId>()
                    .map_err(|error| StoreError::Corrupt(error.to_string()))?,
            );
            let engine = Arc::clone(&extractor);
            let extracted = tokio::task::spawn_blocking(move || {
                jobs.into_iter()
                    .filter_map(|job| {
                        let article_id = job.article_id.parse::<ArticleId>().ok()?;
                        match extract_catching_panics(engine.as_ref(), &job) {
                            Ok(extraction) => {
                                let cleaned = records::clean_text(
                                    &job.text,
                                    job.is_html,
                                    job.title.as_deref(),
                                );
                                Some((article_id, extraction, cleaned))
                            }
                            Err(error) => {
                                tracing::warn!(%article_id, error, "re-extraction failed; previous reports kept");
                                None
                            }
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|error| StoreError::Task(error.to_string()))?;
            let (outcome, new_head) =
                blocking(&self.inner, move |inner| inner.reextract_batch(&extracted)).await?;
            self.flush().await?;
            self.publish_head(new_head);
            total.articles += outcome.articles;
            total.created += outcome.created;
            total.updated += outcome.updated;
            total.unchanged += outcome.unchanged;
            total.removed += outcome.removed;
        }
    }

    /// Publishes a new durable feed head to subscribers.
    fn publish_head(&self, new_head: Option<u64>) {
        if let Some(head) = new_head {
            self.inner.head.send_if_modified(|current| {
                let advanced = head > *current;
                if advanced {
                    *current = head;
                }
                advanced
            });
        }
    }

    /// Feed events with sequence > `after`, at most `limit`, in order.
    pub async fn read_feed_from(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        blocking(&self.inner, move |inner| {
            inner
                .trees
                .feed
                .range(be(after.saturating_add(1))..)
                .values()
                .take(limit)
                .map(|value| decode(&inner.wal.resolve(value?)?))
                .collect()
        })
        .await
    }

    /// [`Store::read_feed_from`] for subscribers: the newest events come
    /// from memory, shared (see [`recent`]); older ones from sled.
    /// Older events are decoded only if asked for, and come with their
    /// stored wire form when they have one. With `with_records` (a
    /// subscriber that filters, so decodes every event), an older event's
    /// record is read from the value log here, on the blocking pool; without
    /// it, only an event that has no stored wire form is.
    pub async fn read_feed_shared(
        &self,
        after: u64,
        limit: usize,
        with_records: bool,
    ) -> Result<Vec<Arc<SharedFeedEvent>>, StoreError> {
        if let Some(events) = self.inner.recent_feed.after(after, limit) {
            return Ok(events);
        }
        blocking(&self.inner, move |inner| {
            let start = be(after.saturating_add(1));
            let mut wires = inner.trees.feed_wire.range(start..);
            let mut next_wire = wires.next().transpose()?;
            let mut events = Vec::with_capacity(limit.min(1024));
            for entry in inner.trees.feed.range(start..).take(limit) {
                let (key, stored) = entry?;
                // The wire tree holds the events written with an encoder: a subset, in order.
                while next_wire
                    .as_ref()
                    .is_some_and(|(wire_key, _)| wire_key < &key)
                {
                    next_wire = wires.next().transpose()?;
                }
                let wire = match &next_wire {
                    Some((wire_key, wire)) if wire_key == &key => {
                        Some(bytes::Bytes::from_owner(inner.wal.resolve(wire.clone())?))
                    }
                    _ => None,
                };
                // Read now what will be decoded, so that the async thread
                // sending it does not read the value log.
                let stored = if with_records || wire.is_none() {
                    inner.wal.resolve(stored)?
                } else {
                    stored
                };
                events.push(Arc::new(SharedFeedEvent::stored(
                    read_u64(&key)?,
                    stored,
                    Arc::clone(&inner.wal),
                    wire,
                )));
            }
            Ok(events)
        })
        .await
    }

    /// Gives the store the API's encoding of feed events: from now on each
    /// new event is also stored in that form, which a replay sends without
    /// decoding or encoding anything. The first encoder given stays.
    pub fn encode_feed_with(&self, encoder: FeedWireEncoder) {
        let _ = self.inner.feed_wire.set(encoder);
    }

    /// The newest durable feed sequence (0 when empty).
    pub fn feed_head(&self) -> u64 {
        *self.inner.head.borrow()
    }

    /// A watch of the newest durable feed sequence.
    pub fn watch_feed_head(&self) -> watch::Receiver<u64> {
        self.inner.head.subscribe()
    }

    /// Queue depth, leases, dead letters and the feed head, for metrics.
    pub async fn gauges(&self) -> Result<StoreGauges, StoreError> {
        let feed_head = self.feed_head();
        blocking(&self.inner, move |inner| {
            Ok(StoreGauges {
                queued: inner.trees.queue.len() as u64,
                leased: inner.trees.leases.len() as u64,
                dead_lettered: inner.trees.dead_letters.len() as u64,
                feed_head,
                search_backlog: inner.trees.search_pending.len() as u64,
                sled_disk_bytes: inner.db.size_on_disk()?,
                text_log_bytes: inner.texts.total_bytes(),
                write_ahead_log_bytes: inner.wal.total_bytes(),
                value_log_bytes: inner.wal.value_log_bytes(),
            })
        })
        .await
    }

    /// Copies every tree into a new sled database at `destination` while the
    /// writer lock is held, so the copy is one consistent state (writers wait
    /// for the copy). Texts in the text log are copied inline into
    /// `article_bodies` and `cleaned`, and values of the value log into their
    /// trees, so the copy is one sled database; it
    /// opens as a data directory. Returns the number of entries copied.
    pub async fn snapshot(&self, destination: PathBuf) -> Result<u64, StoreError> {
        let refuse = |reason: &str| StoreError::SnapshotDestination {
            path: destination.display().to_string(),
            reason: reason.to_string(),
        };
        if !destination.is_absolute() {
            return Err(refuse("must be an absolute path"));
        }
        let occupied =
            std::fs::read_dir(&destination).is_ok_and(|mut entries| entries.next().is_some());
        if occupied || destination.is_file() {
            return Err(refuse("already exists and is not empty"));
        }
        if destination.starts_with(&self.inner.config.path) {
            return Err(refuse("must be outside the data directory"));
        }
        blocking(&self.inner, move |inner| {
            let _writer = inner
                .writer
                .lock()
                .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
            // The last completion's index entries may still be going in.
            inner.wal.wait_for_deferred()?;
            let copy = sled::Config::new().path(&destination).open()?;
            let mut entries = 0u64;
            for name in inner.db.tree_names() {
                let source = inner.db.open_tree(&name)?;
                let target = copy.open_tree(&name)?;
                let tree_name: &[u8] = name.as_ref();
                for entry in source.iter() {
                    let (key, value) = entry?;
                    // The copy has no text log: its texts are inline.
                    let value = match tree_name {
                        b"article_bodies" => inner.inline_body_value(&key, value)?,
                        b"cleaned" => inner.inline_cleaned_value(&key, value)?,
                        // Nor a value log: its values are inline too.
                        _ if inner.separates_values(&name) => inner.wal.resolve(value)?,
                        _ => value,
                    };
                    target.insert(key, value)?;
                    entries += 1;
                }
            }
            copy.flush()?;
            Ok(entries)
        })
        .await
    }

    /// Flushes and stops accepting writes.
    pub async fn close(&self) -> Result<(), StoreError> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.inner.work_available.notify_waiters();
        // The submissions already handed to the writer are written, and
        // their flushes requested, before the group commit stops.
        let stopping = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || stopping.pending.stop())
            .await
            .map_err(|error| StoreError::Task(error.to_string()))?;
        self.inner.indexer.stop().await;
        self.inner.committer.stop().await;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            inner.flush_now()?;
            inner.wal.checkpoint(&inner.db)
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))??;
        Ok(())
    }
}

fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Inner {
    /// Makes everything written so far durable on this thread: the text
    /// log's sync, then the write-ahead log's (the group commit runs the two side by
    /// side for everyone waiting; this is for a caller that is alone).
    fn flush_now(&self) -> Result<(), StoreError> {
        self.texts
            .sync()
            .map_err(|error| StoreError::Io(error.to_string()))?;
        self.wal.sync()
    }

    /// True for the name of a tree whose large values are in the value log.
    fn separates_values(&self, name: &[u8]) -> bool {
        records::TreeId::ALL
            .into_iter()
            .any(|id| id.separates_values() && self.trees.tree(id).name() == name)
    }

    /// The article stored under a deduplication key, unless the text log
    /// lost its text: that submission was never acknowledged, so the same
    /// article submitted again is a new one (it takes over the keys).
    fn existing_intact_id(&self, key: &[u8]) -> Result<Option<ArticleId>, StoreError> {
        let Some(bytes) = self.trees.article_keys.get(key)? else {
            return Ok(None);
        };
        let article_id = ArticleId(read_u64(&bytes)?);
        if self.text_intact(article_id)? {
            Ok(Some(article_id))
        } else {
            Ok(None)
        }
    }

    fn held_lease(&self, article_id: ArticleId, lease_id: &str) -> Result<Lease, StoreError> {
        let not_held = || StoreError::LeaseNotHeld {
            article_id: article_id.to_string(),
            lease_id: lease_id.to_string(),
        };
        let bytes = self
            .trees
            .leases
            .get(be(article_id.0))?
            .ok_or_else(not_held)?;
        let lease: Lease = decode(&bytes)?;
        if lease.lease_id != lease_id {
            return Err(not_held());
        }
        Ok(lease)
    }

    /// Hands out expired leases again, then leases ready articles. Returns the
    /// leases and the time (ms) the next queued article or lease falls due.
    fn lease_now(
        &self,
        max_articles: usize,
        lease_duration: Duration,
    ) -> Result<(Vec<LeasedArticle>, Option<u64>), StoreError> {
        let _writer = self
            .writer
            .lock()
            .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
        self.reclaim_expired(now_millis())?;
        // After the reclaim: what it requeued (at its own, later, clock
        // reading) is ready now.
        let now = now_millis();
        let mut leased = Vec::new();
        let ready: Vec<sled::IVec> = self
            .trees
            .queue
            .range(..pair_key(now.saturating_add(1), 0))
            .keys()
            .take(max_articles)
            .collect::<Result<_, _>>()?;
        for queue_key in ready {
            let article_id = ArticleId(second_of_pair(&queue_key)?);
            let mut status = self.article_status(article_id)?;
            let body = match self.article_body(article_id) {
                Ok(body) => body,
                Err(StoreError::TextLost { reason, .. }) => {
                    self.dead_letter_lost_text(status, &queue_key, &reason, now)?;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let attempt = status.attempts + 1;
            let deadline_ms = now + duration_millis(lease_duration);
            let lease = Lease {
                lease_id: format!(
                    "{article_id}.{attempt}.{:x}",
                    merge::stable_hash(&pair_key(now, deadline_ms))
                ),
                deadline_ms,
                attempt,
            };
            status.state = ArticleState::Processing;
            status.attempts = attempt;
            status.updated_at_ms = now;
            let mut writes = Writes::default();
            writes.remove(TreeId::Queue, queue_key.as_ref());
            writes.insert(TreeId::Leases, be(article_id.0), encode(&lease)?);
            writes.insert(
                TreeId::LeaseDeadlines,
                pair_key(deadline_ms, article_id.0),
                [],
            );
            writes.insert(TreeId::Articles, be(article_id.0), encode(&status)?);
            self.commit(&writes)?;
            leased.push(LeasedArticle {
                job: Job {
                    article_id: article_id.to_string(),
                    lease_id: lease.lease_id,
                    attempt,
                    text: body.content,
                    is_html: body.is_html,
                    url: status.url,
                    published_at: status.published_at,
                    title: status.title,
                },
                deadline_ms,
            });
        }
        let next_queued = self
            .trees
            .queue
            .first()?
            .map(|(key, _)| read_u64(key.get(..8).unwrap_or_default()))
            .transpose()?;
        let next_expiry = self
            .trees
            .lease_deadlines
            .first()?
            .map(|(key, _)| read_u64(key.get(..8).unwrap_or_default()))
            .transpose()?;
        let next_due = match (next_queued, next_expiry) {
            (Some(queued), Some(expiry)) => Some(queued.min(expiry)),
            (queued, expiry) => queued.or(expiry),
        };
        Ok((leased, next_due))
    }

    /// Dead-letters a queued article whose text the text log lost (see
    /// [`texts`]): it cannot be extracted, and its submission was never
    /// acknowledged, so the submitter will send it again.
    fn dead_letter_lost_text(
        &self,
        mut status: ArticleStatus,
        queue_key: &[u8],
        reason: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        let article_id = status.id;
        tracing::warn!(%article_id, reason, "article text lost before its submission was acknowledged; dead-lettered");
        status.state = ArticleState::DeadLettered;
        status.last_error = Some(format!(
            "text lost before the submission was acknowledged ({reason}); submit the article again"
        ));
        status.updated_at_ms = now;
        let mut writes = Writes::default();
        writes.remove(TreeId::Queue, queue_key);
        writes.insert(TreeId::DeadLetters, be(article_id.0), []);
        writes.insert(TreeId::Articles, be(article_id.0), encode(&status)?);
        self.commit(&writes)
    }

    /// Requeues (or dead-letters) articles whose lease passed its deadline.
    fn reclaim_expired(&self, now: u64) -> Result<(), StoreError> {
        let expired: Vec<sled::IVec> = self
            .trees
            .lease_deadlines
            .range(..pair_key(now, u64::MAX))
            .keys()
            .collect::<Result<_, _>>()?;
        for deadline_key in expired {
            let article_id = ArticleId(second_of_pair(&deadline_key)?);
            let lease = match self.trees.leases.get(be(article_id.0))? {
                Some(bytes) => decode::<Lease>(&bytes)?,
                None => {
                    let mut writes = Writes::default();
                    writes.remove(TreeId::LeaseDeadlines, deadline_key.as_ref());
                    self.commit(&writes)?;
                    continue;
                }
            };
            // The same clock reading as the lease call: a requeued article is ready in it.
            self.release_failed(article_id, Some(&lease), "lease expired", now)?;
        }
        Ok(())
    }

    /// Ends a lease after a failure: requeue with backoff, or dead-letter at the bound.
    fn release_failed(
        &self,
        article_id: ArticleId,
        lease: Option<&Lease>,
        error: &str,
        now: u64,
    ) -> Result<FailOutcome, StoreError> {
        let mut status = self.article_status(article_id)?;
        let dead = status.attempts >= self.config.max_attempts;
        let retry_at = if dead {
            None
        } else {
            let exponent = status.attempts.saturating_sub(1).min(20);
            let backoff = self
                .config
                .retry_backoff
                .saturating_mul(1 << exponent)
                .min(self.config.max_retry_backoff);
            Some(now + duration_millis(backoff))
        };
        status.state = if dead {
            ArticleState::DeadLettered
        } else {
            ArticleState::Queued
        };
        status.last_error = Some(error.to_string());
        status.updated_at_ms = now;
        let mut writes = Writes::default();
        if let Some(lease) = lease {
            writes.remove(TreeId::Leases, be(article_id.0));
            writes.remove(
                TreeId::LeaseDeadlines,
                pair_key(lease.deadline_ms, article_id.0),
            );
        }
        match retry_at {
            Some(at) => writes.insert(TreeId::Queue, pair_key(at, article_id.0), []),
            None => writes.insert(TreeId::DeadLetters, be(article_id.0), []),
        }
        writes.insert(TreeId::Articles, be(article_id.0), encode(&status)?);
        self.commit(&writes)?;
        Ok(FailOutcome {
            dead_lettered: dead,
            retry_at_ms: retry_at,
        })
    }
}
