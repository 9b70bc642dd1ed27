//! The durable store: sled trees behind domain verbs. Handlers and workers
//! never see a `sled::Tree`; blocking sled work runs on the blocking pool.
//!
//! Trees: `articles`, `article_keys` (URL / text hash / request id → id),
//! `queue`, `leases`, `dialogues`, `dialogue_keys` (identity → record id),
//! `feed` (sequence → event), `meta` (counters).

use crate::domain::{
    ArticleId, ArticleStatus, DialogueFilter, DialogueRecord, FailOutcome, FeedEvent,
    LeasedArticle, NewArticle, Page, SubmitOutcome,
};
use dialogwatch_worker::record::Extraction;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

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
    /// A page token this store did not issue (or for another filter).
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
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {}

impl Store {
    /// Opens (or creates) the store at `config.path`.
    pub async fn open(config: StoreConfig) -> Result<Store, StoreError> {
        let _ = config;
        todo!()
    }

    /// Stores and queues an article, durably (flushed, group commit) before returning.
    /// Same request id, URL or normalised text → the existing id, `created == false`.
    pub async fn enqueue(&self, article: NewArticle) -> Result<SubmitOutcome, StoreError> {
        let _ = article;
        todo!()
    }

    /// Many articles with one flush; one result per article, in order.
    pub async fn enqueue_batch(
        &self,
        articles: Vec<NewArticle>,
    ) -> Result<Vec<SubmitOutcome>, StoreError> {
        let _ = articles;
        todo!()
    }

    /// An article's status.
    pub async fn article(&self, id: ArticleId) -> Result<ArticleStatus, StoreError> {
        let _ = id;
        todo!()
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
        let _ = (max_articles, lease_duration, wait);
        todo!()
    }

    /// Pushes a held lease's deadline to now + `lease_duration`; returns the deadline (ms).
    pub async fn extend_lease(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        lease_duration: Duration,
    ) -> Result<u64, StoreError> {
        let _ = (article_id, lease_id, lease_duration);
        todo!()
    }

    /// Stores the extraction of a leased article: merges its events into the
    /// dialogue records, appends CREATED/UPDATED feed events, marks it done, all
    /// in one transaction, flushed before returning. Returns the record ids.
    pub async fn complete(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        extraction: Extraction,
    ) -> Result<Vec<String>, StoreError> {
        let _ = (article_id, lease_id, extraction);
        todo!()
    }

    /// Records a failed attempt: requeued with backoff, or dead-lettered at the bound.
    pub async fn fail(
        &self,
        article_id: ArticleId,
        lease_id: &str,
        error: &str,
    ) -> Result<FailOutcome, StoreError> {
        let _ = (article_id, lease_id, error);
        todo!()
    }

    /// One record.
    pub async fn dialogue(&self, id: &str) -> Result<DialogueRecord, StoreError> {
        let _ = id;
        todo!()
    }

    /// Records passing `filter`, newest event date first, paged.
    pub async fn list_dialogues(
        &self,
        filter: DialogueFilter,
        page_size: usize,
        page_token: Option<String>,
    ) -> Result<Page<DialogueRecord>, StoreError> {
        let _ = (filter, page_size, page_token);
        todo!()
    }

    /// Feed events with sequence > `after`, at most `limit`, in order.
    pub async fn read_feed_from(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let _ = (after, limit);
        todo!()
    }

    /// The newest durable feed sequence (0 when empty).
    pub fn feed_head(&self) -> u64 {
        todo!()
    }

    /// A watch of the newest durable feed sequence.
    pub fn watch_feed_head(&self) -> watch::Receiver<u64> {
        todo!()
    }

    /// Flushes and stops accepting writes.
    pub async fn close(&self) -> Result<(), StoreError> {
        todo!()
    }
}
