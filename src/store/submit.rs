//! The submission path: deduplication keys computed outside the writer lock,
//! concurrent unary submissions coalesced into one write batch, one sled
//! transaction per batch, and the acknowledgement only after the group-commit
//! flush that made the batch durable.
//!
//! ```text
//! enqueue ─► prepare (fingerprint, keys) ─► pending list ─► drain task: one
//!   transaction for everything pending ─► flush (shared) ─► answers
//! ```
//!
//! While one batch waits for its flush, the drain task already writes the
//! next one, so the disk's fsync rate bounds the number of flushes, not the
//! number of articles.

use super::{
    be, encode, merge, pair_key, read_u64, Inner, Store, StoreError, StoredArticle,
    META_NEXT_ARTICLE,
};
use crate::domain::{now_millis, ArticleId, ArticleState, ArticleStatus, NewArticle, SubmitOutcome};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The most articles written in one transaction by the drain task.
const MAX_COALESCED_BATCH: usize = 512;

/// An article with its deduplication keys, in lookup order: request id, URL,
/// normalised-text fingerprint.
pub(super) struct PreparedArticle {
    article: NewArticle,
    keys: Vec<Vec<u8>>,
}

impl PreparedArticle {
    /// Computes the keys (the fingerprint normalises the whole text: CPU work
    /// that runs before, and in parallel with, the serialised write).
    pub(super) fn new(article: NewArticle) -> PreparedArticle {
        let mut keys = Vec::with_capacity(3);
        if let Some(request_id) = &article.request_id {
            keys.push(format!("r:{request_id}").into_bytes());
        }
        if let Some(url) = &article.url {
            keys.push(format!("u:{url}").into_bytes());
        }
        keys.push(format!("h:{:016x}", text_fingerprint(&article.content)).into_bytes());
        PreparedArticle { article, keys }
    }
}

/// Hash of the article text in its normalised form, whitespace collapsed.
fn text_fingerprint(content: &str) -> u64 {
    // FNV-1a, fed word by word: the same value as `merge::stable_hash` of the
    // words joined by single spaces, without building that string.
    fn feed(hash: u64, bytes: &[u8]) -> u64 {
        bytes.iter().fold(hash, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }
    let normalized = dialogwatch_worker::normalize::normalize(content);
    let mut hash = merge::stable_hash(&[]);
    for (index, word) in normalized.split_whitespace().enumerate() {
        if index > 0 {
            hash = feed(hash, b" ");
        }
        hash = feed(hash, word.as_bytes());
    }
    hash
}

type Answer = oneshot::Sender<Result<SubmitOutcome, StoreError>>;

/// Unary submissions waiting for the drain task.
#[derive(Default)]
pub(super) struct PendingSubmissions {
    state: Mutex<PendingState>,
}

#[derive(Default)]
struct PendingState {
    waiting: Vec<(PreparedArticle, Answer)>,
    draining: bool,
}

impl Store {
    /// Stores and queues an article, durably (flushed, group commit) before returning.
    /// Same request id, URL or normalised text → the existing id, `created == false`.
    ///
    /// Concurrent calls share one write transaction and one flush.
    pub async fn enqueue(&self, article: NewArticle) -> Result<SubmitOutcome, StoreError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let prepared = PreparedArticle::new(article);
        let (answer, answered) = oneshot::channel();
        let start_drain = {
            let mut state = self
                .inner
                .pending
                .state
                .lock()
                .map_err(|_| StoreError::Task("submission list poisoned".into()))?;
            state.waiting.push((prepared, answer));
            !std::mem::replace(&mut state.draining, true)
        };
        if start_drain {
            let store = self.clone();
            tokio::spawn(async move { store.drain_pending().await });
        }
        answered.await.map_err(|_| StoreError::Closed)?
    }

    /// Many articles in one transaction and one flush; one result per article, in order.
    pub async fn enqueue_batch(
        &self,
        articles: Vec<NewArticle>,
    ) -> Result<Vec<SubmitOutcome>, StoreError> {
        if articles.is_empty() {
            return Ok(Vec::new());
        }
        let prepared = tokio::task::spawn_blocking(move || {
            articles
                .into_iter()
                .map(PreparedArticle::new)
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))?;
        let outcomes = self.write_prepared(prepared).await?;
        self.inner.committer.flush().await?;
        if outcomes.iter().any(|outcome| outcome.created) {
            self.inner.work_available.notify_waiters();
        }
        Ok(outcomes)
    }

    /// Writes whatever unary submissions are pending, batch after batch, until
    /// none are left; each batch is answered once its flush is done.
    async fn drain_pending(&self) {
        loop {
            let batch = match self.inner.pending.state.lock() {
                Ok(mut state) if state.waiting.is_empty() => {
                    state.draining = false;
                    return;
                }
                Ok(mut state) => {
                    let taken = state.waiting.len().min(MAX_COALESCED_BATCH);
                    state.waiting.drain(..taken).collect::<Vec<_>>()
                }
                Err(_) => return,
            };
            let (articles, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let written = self.write_prepared(articles).await;
            let store = self.clone();
            tokio::spawn(async move {
                let outcomes = match written {
                    Ok(outcomes) => store.inner.committer.flush().await.map(|()| outcomes),
                    Err(error) => Err(error),
                };
                match outcomes {
                    Ok(outcomes) => {
                        if outcomes.iter().any(|outcome| outcome.created) {
                            store.inner.work_available.notify_waiters();
                        }
                        for (answer, outcome) in answers.into_iter().zip(outcomes) {
                            let _ = answer.send(Ok(outcome));
                        }
                    }
                    Err(error) => {
                        let message = error.to_string();
                        for answer in answers {
                            let _ = answer.send(Err(StoreError::Task(message.clone())));
                        }
                    }
                }
            });
        }
    }

    /// One transaction for `articles` under the writer lock (not yet flushed).
    async fn write_prepared(
        &self,
        articles: Vec<PreparedArticle>,
    ) -> Result<Vec<SubmitOutcome>, StoreError> {
        super::blocking(&self.inner, move |inner| {
            let _writer = inner
                .writer
                .lock()
                .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
            inner.insert_articles(articles)
        })
        .await
    }
}

/// A new article row, ready for the transaction.
struct NewRow {
    article_id: ArticleId,
    encoded: Vec<u8>,
    keys: Vec<Vec<u8>>,
    queue_key: Vec<u8>,
}

impl Inner {
    /// Inserts the articles that are not duplicates (of stored articles or of
    /// one another) in one transaction. Caller holds the writer lock.
    fn insert_articles(
        &self,
        articles: Vec<PreparedArticle>,
    ) -> Result<Vec<SubmitOutcome>, StoreError> {
        let first_id = match self.trees.meta.get(META_NEXT_ARTICLE)? {
            Some(bytes) => read_u64(&bytes)?,
            None => 1,
        };
        let mut next_id = first_id;
        let mut keys_in_batch: HashMap<Vec<u8>, ArticleId> = HashMap::new();
        let mut rows = Vec::with_capacity(articles.len());
        let mut outcomes = Vec::with_capacity(articles.len());
        let now = now_millis();
        'articles: for PreparedArticle { article, keys } in articles {
            for key in &keys {
                let known = match keys_in_batch.get(key) {
                    Some(article_id) => Some(*article_id),
                    None => self.existing_id(key)?,
                };
                if let Some(article_id) = known {
                    outcomes.push(SubmitOutcome {
                        article_id,
                        created: false,
                    });
                    continue 'articles;
                }
            }
            let article_id = ArticleId(next_id);
            next_id += 1;
            let stored = StoredArticle {
                status: ArticleStatus {
                    id: article_id,
                    state: ArticleState::Queued,
                    url: article.url,
                    outlet: article.outlet,
                    published_at: article.published_at,
                    title: article.title,
                    attempts: 0,
                    last_error: None,
                    dialogue_ids: Vec::new(),
                    is_dialogue: None,
                    reason: None,
                    submitted_at_ms: now,
                    updated_at_ms: now,
                },
                content: article.content,
                is_html: article.is_html,
            };
            for key in &keys {
                keys_in_batch.insert(key.clone(), article_id);
            }
            rows.push(NewRow {
                article_id,
                encoded: encode(&stored)?,
                keys,
                queue_key: pair_key(now, article_id.0).to_vec(),
            });
            outcomes.push(SubmitOutcome {
                article_id,
                created: true,
            });
        }
        if rows.is_empty() {
            return Ok(outcomes);
        }
        let rows = Arc::new(rows);
        let trees = &self.trees;
        (
            &trees.articles,
            &trees.article_keys,
            &trees.queue,
            &trees.meta,
        )
            .transaction(|(articles, article_keys, queue, meta)| {
                for row in rows.iter() {
                    articles.insert(&be(row.article_id.0), row.encoded.as_slice())?;
                    for key in &row.keys {
                        article_keys.insert(key.as_slice(), &be(row.article_id.0))?;
                    }
                    queue.insert(row.queue_key.as_slice(), &[])?;
                }
                meta.insert(META_NEXT_ARTICLE, &be(next_id))?;
                Ok::<(), ConflictableTransactionError<StoreError>>(())
            })?;
        Ok(outcomes)
    }
}
