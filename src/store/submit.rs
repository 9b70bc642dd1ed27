//! The submission path: deduplication keys computed outside the writer lock,
//! concurrent unary submissions coalesced into one write batch by the
//! submission writer thread, one log record per batch, and the
//! acknowledgement only after the group-commit flush that made the batch
//! durable.
//!
//! ```text
//! enqueue ─► prepare (fingerprint, keys) ─► pending list ─► writer thread: one
//!   log record for everything pending ─► group commit (flush_then) ─► answers
//! ```
//!
//! The writer thread asks the group commit for a batch's flush as soon as
//! its record is in the log file (the fsync runs while sled takes the
//! changes), and goes straight on to the next batch once sled has them, so
//! the disk's fsync rate bounds the number of flushes, not the number of
//! articles. Each submission is answered once the flush is done and its own
//! article is in sled, the first of a batch while sled still takes the
//! rest. The writer is a thread of its own, not a
//! task that takes a blocking thread per batch: under load the hand-offs
//! (spawning the blocking work, then waking the task again) took about a
//! third of each batch's turn, during which nothing was written. A small
//! batch with nothing else waiting (a lone submitter) is flushed by the
//! writer itself, without the trip through the group commit. Article texts
//! go to the text log ([`super::texts`]), except those of small writes.

use super::records::{TreeId, Writes};
use super::wal::{Unwatched, WriteWatcher};
use super::{be, pair_key, read_u64, Inner, Store, StoreError, META_NEXT_ARTICLE};
use crate::domain::{
    now_millis, ArticleId, ArticleState, ArticleStatus, NewArticle, SubmitOutcome,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, Weak};
use tokio::sync::oneshot;

/// The largest text a unary submission normalises on the async thread that
/// received it (larger ones are prepared on the blocking pool).
const INLINE_PREPARE_BYTES: usize = 16 * 1024;

/// A small write: fewer articles than this. Its new articles keep their
/// bodies in sled instead of the text log, so the flush that acknowledges
/// them is sled's alone: a second fsync (the text log's) would add about
/// 0.15 ms to a submission that waits alone, more than the sled insert costs a
/// few bodies. And a small write of unary submissions with nothing else
/// waiting is flushed by the writer thread itself (see [`write_batch`]).
/// Busier writes coalesce into larger batches, whose bodies go to the log
/// and whose flush overlaps the next batch's write.
const SMALL_WRITE_BELOW: usize = 4;

/// The most articles written in one log record by the writer thread.
const MAX_COALESCED_BATCH: usize = 512;

/// An article with its deduplication keys, in lookup order: request id, URL,
/// normalised-text fingerprint.
pub(super) struct PreparedArticle {
    /// The article, its `content` moved into `body`.
    article: NewArticle,
    keys: Vec<Vec<u8>>,
    /// The text as it is stored (see [`super::articles::encode_body`]), or
    /// its reference once it is in the text log (`body_logged`).
    body: Vec<u8>,
    /// `body` is the reference of the text, already in the text log.
    body_logged: bool,
}

impl PreparedArticle {
    /// Computes the keys (the fingerprint normalises the whole text) and
    /// encodes the text: CPU work proportional to its size that runs before,
    /// and in parallel with, the serialised write.
    pub(super) fn new(mut article: NewArticle) -> PreparedArticle {
        let mut keys = Vec::with_capacity(3);
        if let Some(request_id) = &article.request_id {
            keys.push(format!("r:{request_id}").into_bytes());
        }
        if let Some(url) = &article.url {
            keys.push(format!("u:{url}").into_bytes());
        }
        keys.push(text_key(&article.content));
        let body = super::articles::encode_body(&article.content, article.is_html);
        article.content = String::new();
        PreparedArticle {
            article,
            keys,
            body,
            body_logged: false,
        }
    }
}

/// The prefix of a text fingerprint key in `article_keys`: `t:` then
/// [`text_fingerprint`] in 16 hex digits. Stores written before it keyed
/// texts by an FNV-1a hash under `h:` ([`LEGACY_TEXT_KEY_PREFIX`]);
/// [`Inner::rekey_text_fingerprints`] replaces those on open.
pub(super) const TEXT_KEY_PREFIX: &str = "t:";

/// The prefix of the text keys of before [`TEXT_KEY_PREFIX`].
pub(super) const LEGACY_TEXT_KEY_PREFIX: &[u8] = b"h:";

/// The `article_keys` key of a text: [`TEXT_KEY_PREFIX`] and its fingerprint.
pub(super) fn text_key(content: &str) -> Vec<u8> {
    format!("{TEXT_KEY_PREFIX}{:016x}", text_fingerprint(content)).into_bytes()
}

/// Hash of the article text in its normalised form, whitespace collapsed:
/// XXH3 (64 bits) of the normalised text's words (`str::split_whitespace`)
/// joined by single spaces. The words are gathered in one pass over the
/// text (`feed_normalized_words`), without building the normal form; a text
/// holding what only the full normaliser handles (combining marks,
/// zero-width characters, …) is normalised, then its words gathered.
pub fn text_fingerprint(content: &str) -> u64 {
    let mut joined = Vec::with_capacity(content.len());
    let fed = dialogwatch_worker::normalize::feed_normalized_words(content, |piece| {
        joined.extend_from_slice(piece);
    });
    if !fed {
        joined.clear();
        let normalized = dialogwatch_worker::normalize::normalize_cow(content);
        join_words(&normalized, &mut joined);
    }
    xxhash_rust::xxh3::xxh3_64(&joined)
}

/// Appends to `joined` the words of `text` (`str::split_whitespace`)
/// joined by single spaces.
fn join_words(text: &str, joined: &mut Vec<u8>) {
    for (position, word) in text.split_whitespace().enumerate() {
        if position > 0 {
            joined.push(b' ');
        }
        joined.extend_from_slice(word.as_bytes());
    }
}

/// Legacy text keys replaced per log record by
/// [`Inner::rekey_text_fingerprints`].
const REKEY_BATCH: usize = 512;

impl Inner {
    /// Replaces the text keys of a store written before [`TEXT_KEY_PREFIX`]
    /// (`h:`, an FNV-1a hash of the text) by [`text_key`]s computed anew from
    /// each article's text, [`REKEY_BATCH`] per log record. Each record
    /// removes the keys it replaces, so an interrupted run resumes where it
    /// stopped, and a store without legacy keys costs one lookup. Where two
    /// articles' texts share a key the lower id keeps it (the first stored).
    /// The key of a text the text log lost is dropped: that submission was
    /// never acknowledged, and the same text submitted again is stored anew,
    /// as [`Inner::existing_intact_id`] already treats it; so is the key of a
    /// body that does not decode (logged), so that one damaged article does
    /// not keep the store from opening. Returns the number of legacy keys
    /// replaced.
    pub(super) fn rekey_text_fingerprints(&self) -> Result<u64, StoreError> {
        let keys = &self.trees.article_keys;
        let mut replaced = 0u64;
        loop {
            let legacy = keys
                .scan_prefix(LEGACY_TEXT_KEY_PREFIX)
                .take(REKEY_BATCH)
                .collect::<Result<Vec<_>, _>>()?;
            if legacy.is_empty() {
                return Ok(replaced);
            }
            if replaced == 0 {
                tracing::info!(
                    "articles: rekeying the text fingerprints (XXH3), once: about 30 s per 1,000,000 articles on 2 cores"
                );
            }
            let mut writes = Writes::default();
            let mut new_keys: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
            for (legacy_key, value) in &legacy {
                writes.remove(TreeId::ArticleKeys, legacy_key.as_ref());
                let article_id = read_u64(value)?;
                let content = match self.article_body(ArticleId(article_id)) {
                    Ok(body) => body.content,
                    Err(StoreError::TextLost { .. } | StoreError::NotFound { .. }) => continue,
                    Err(StoreError::Corrupt(reason)) => {
                        // One damaged body must not keep the store from
                        // opening: the article stays, its text is not found
                        // by a resubmission.
                        tracing::warn!(
                            article_id,
                            %reason,
                            "articles: a text that does not read loses its duplicate key"
                        );
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                let key = text_key(&content);
                let holder = match new_keys.get(&key) {
                    Some(&earlier) => earlier,
                    None => match keys.get(&key)? {
                        Some(stored) => read_u64(&stored)?,
                        None => article_id,
                    },
                };
                new_keys.insert(key, holder.min(article_id));
            }
            for (key, article_id) in new_keys {
                writes.insert(TreeId::ArticleKeys, key, be(article_id));
            }
            self.commit(&writes)?;
            replaced += legacy.len() as u64;
        }
    }
}

type Answer = oneshot::Sender<Result<SubmitOutcome, StoreError>>;

/// Unary submissions waiting for the submission writer thread, and that
/// thread (see the module doc).
pub(super) struct PendingSubmissions {
    shared: Arc<PendingShared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Default)]
struct PendingShared {
    state: Mutex<PendingState>,
    /// Signalled when a submission arrives for an idle writer, and on stop.
    arrived: Condvar,
}

#[derive(Default)]
struct PendingState {
    waiting: Vec<(PreparedArticle, Answer)>,
    /// The writer thread sleeps on `arrived`.
    writer_idle: bool,
    /// No submission is taken any more; the writer ends once none waits.
    stopping: bool,
}

impl PendingSubmissions {
    pub(super) fn new() -> Self {
        PendingSubmissions {
            shared: Arc::default(),
            thread: Mutex::new(None),
        }
    }

    /// Starts the writer thread over `inner` (held weakly: it ends when the
    /// store is dropped).
    pub(super) fn start(&self, inner: Weak<Inner>) -> Result<(), StoreError> {
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("dialogwatch-submit".into())
            .spawn(move || {
                while let Some(batch) = shared.next_batch() {
                    let (articles, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                    match inner.upgrade() {
                        Some(store) => write_batch(store, articles, answers),
                        None => send_answers(answers, Err(StoreError::Closed)),
                    }
                }
                // Whatever ended the loop, no submission waits for a writer
                // that is gone: the rest are refused as closed.
                shared.refuse_the_rest();
            })
            .map_err(|error| StoreError::Io(format!("submission writer thread: {error}")))?;
        *self.thread.lock().map_err(|_| poisoned())? = Some(thread);
        Ok(())
    }

    /// Hands a submission to the writer thread.
    fn push(&self, article: PreparedArticle, answer: Answer) -> Result<(), StoreError> {
        let mut state = self.shared.state.lock().map_err(|_| poisoned())?;
        if state.stopping {
            return Err(StoreError::Closed);
        }
        state.waiting.push((article, answer));
        if std::mem::take(&mut state.writer_idle) {
            self.shared.arrived.notify_one();
        }
        Ok(())
    }

    /// No submission waits for the writer.
    fn nothing_waiting(&self) -> bool {
        self.shared
            .state
            .lock()
            .is_ok_and(|state| state.waiting.is_empty())
    }

    /// Tells the writer thread to end once what waits is written; does not
    /// wait for it (the store's drop, which may run on that thread).
    pub(super) fn cancel(&self) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.stopping = true;
        }
        self.shared.arrived.notify_all();
    }

    /// Ends the writer thread once what waits is written, and waits for it
    /// (blocking: call it off the async threads, holding the store, so the
    /// last batches are written and handed to the group commit).
    pub(super) fn stop(&self) {
        self.cancel();
        let thread = self.thread.lock().ok().and_then(|mut thread| thread.take());
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::error!("the submission writer thread panicked");
            }
        }
    }
}

impl PendingShared {
    /// The next batch, waiting for one; `None` once stopping and none waits.
    fn next_batch(&self) -> Option<Vec<(PreparedArticle, Answer)>> {
        let mut state = self.state.lock().ok()?;
        while state.waiting.is_empty() {
            if state.stopping {
                return None;
            }
            state.writer_idle = true;
            state = self.arrived.wait(state).ok()?;
        }
        state.writer_idle = false;
        let taken = state.waiting.len().min(MAX_COALESCED_BATCH);
        Some(state.waiting.drain(..taken).collect())
    }

    /// Takes no more submissions and answers those waiting as closed.
    fn refuse_the_rest(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.stopping = true;
        let waiting = std::mem::take(&mut state.waiting);
        drop(state);
        let answers = waiting.into_iter().map(|(_, answer)| answer).collect();
        send_answers(answers, Err(StoreError::Closed));
    }
}

fn poisoned() -> StoreError {
    StoreError::Task("submission list poisoned".into())
}

/// One log record for the unary submissions `articles`, on the writer
/// thread.
///
/// A small write with no other submission waiting by then is also made
/// durable by the writer (the text log's sync and the log's), which answers
/// at once: a submission that arrives alone is not handed to the group
/// commit and back, which costs more than its fsync on this kind of
/// machine. Any other write asks the group commit for its flush as soon as
/// its record is in the log file, so the fsync runs while sled takes the
/// changes, and goes on with the next batch. Each submission is answered
/// once the flush is done and its own article is in sled
/// ([`Acknowledgement`]): the first of a batch go while sled takes the
/// rest, so their clients' next requests are on their way while the writer
/// works, instead of every client of the batch waiting for its last insert.
fn write_batch(store: Arc<Inner>, articles: Vec<PreparedArticle>, answers: Vec<Answer>) {
    if articles.len() < SMALL_WRITE_BELOW {
        write_small_batch(store, articles, answers);
        return;
    }
    let acknowledgement = Arc::new(Acknowledgement::new(
        answers,
        Arc::clone(&store.work_available),
    ));
    let mut progress = AcknowledgingProgress {
        store: &store,
        acknowledgement: &acknowledgement,
        flush_requested: false,
        next_readable_after: 0,
    };
    let written = insert_under_the_writer_lock(&store, articles, &mut progress);
    if !progress.flush_requested {
        // Every article a duplicate: the answer waits for a flush all the
        // same (the article they name may be in a record not synced yet).
        progress.request_flush();
    }
    drop(store);
    acknowledgement.written(written);
}

/// [`write_batch`] of fewer than [`SMALL_WRITE_BELOW`] articles: written,
/// then flushed by the writer itself when nothing else waits, else by the
/// group commit.
fn write_small_batch(store: Arc<Inner>, articles: Vec<PreparedArticle>, answers: Vec<Answer>) {
    let outcomes = match insert_under_the_writer_lock(&store, articles, &mut Unwatched) {
        Ok(outcomes) => outcomes,
        Err(error) => {
            drop(store);
            send_answers(answers, Err(error));
            return;
        }
    };
    let created = outcomes.iter().any(|outcome| outcome.created);
    if store.pending.nothing_waiting() {
        let flushed = store.flush_now();
        if flushed.is_ok() && created {
            store.work_available.notify_waiters();
        }
        drop(store);
        send_answers(answers, flushed.map(|()| outcomes));
        return;
    }
    let work_available = Arc::clone(&store.work_available);
    store.committer.flush_then(move |flushed| {
        if flushed.is_ok() && created {
            work_available.notify_waiters();
        }
        send_answers(answers, flushed.map(|()| outcomes));
    });
}

/// [`Inner::insert_articles`] under the writer lock, on the writer thread. A
/// panic in the write (a bug, or sled's on a corrupt page) fails this batch,
/// not the thread: later submissions are still taken (and fail too, on the
/// writer lock it poisoned).
fn insert_under_the_writer_lock(
    store: &Inner,
    articles: Vec<PreparedArticle>,
    progress: &mut dyn BatchProgress,
) -> Result<Vec<SubmitOutcome>, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store
            .lock_writer()
            .and_then(|_writer| store.insert_articles(articles, progress))
    }))
    .unwrap_or_else(|_| Err(StoreError::Task("writing submissions panicked".into())))
}

/// Told how the write of a batch goes on, on the writer thread: the
/// record's progress ([`WriteWatcher`]), and first what each article of the
/// batch needs of it.
pub(super) trait BatchProgress: WriteWatcher {
    /// Each article's outcome, in batch order, and the number of the
    /// record's changes that must be in sled before its article can be read
    /// (0 for a duplicate of an article stored before). Told before the
    /// record is written.
    fn decided(&mut self, outcomes: &[SubmitOutcome], readable_after: &[usize]);
}

impl BatchProgress for Unwatched {
    fn decided(&mut self, _outcomes: &[SubmitOutcome], _readable_after: &[usize]) {}
}

/// [`write_batch`]'s watcher: asks for the flush once the record is in the
/// log file, and hands the acknowledgement each change count that makes
/// another article readable.
struct AcknowledgingProgress<'batch> {
    store: &'batch Inner,
    acknowledgement: &'batch Arc<Acknowledgement>,
    flush_requested: bool,
    /// The next change count that makes an unanswered article readable
    /// (`usize::MAX` when none).
    next_readable_after: usize,
}

impl AcknowledgingProgress<'_> {
    fn request_flush(&mut self) {
        self.flush_requested = true;
        let acknowledging = Arc::clone(self.acknowledgement);
        self.store
            .committer
            .flush_then(move |flushed| acknowledging.flushed(flushed));
    }
}

impl WriteWatcher for AcknowledgingProgress<'_> {
    fn appended(&mut self) {
        self.request_flush();
    }

    fn applied(&mut self, count: usize) {
        if count >= self.next_readable_after {
            self.next_readable_after = self.acknowledgement.applied(count);
        }
    }
}

impl BatchProgress for AcknowledgingProgress<'_> {
    fn decided(&mut self, outcomes: &[SubmitOutcome], readable_after: &[usize]) {
        self.next_readable_after = self.acknowledgement.decided(outcomes, readable_after);
    }
}

/// The answers of a batch whose flush was asked for before sled took its
/// changes. A submission is answered once the flush is done and its
/// article is in sled (so an acknowledged article is both durable and
/// readable), by whichever of the flusher and the writer gets there second;
/// every one not answered yet fails when the flush or the write does.
struct Acknowledgement {
    state: Mutex<AcknowledgementState>,
}

struct AcknowledgementState {
    /// One per submission, in batch order; `None` once answered.
    answers: Vec<Option<Answer>>,
    /// Each submission's outcome (empty until decided).
    outcomes: Vec<SubmitOutcome>,
    /// (changes needed in sled, submission), in the order they become
    /// readable; the first `answered_up_to` are answered.
    readable_order: Vec<(usize, usize)>,
    answered_up_to: usize,
    /// The record's changes in sled so far (`usize::MAX` once all are).
    applied: usize,
    /// The flush's outcome, once known: whether it succeeded.
    flushed: Option<bool>,
    written: bool,
    work_available: Arc<tokio::sync::Notify>,
    /// The workers were told of the batch's new articles.
    workers_told: bool,
}

impl Acknowledgement {
    fn new(answers: Vec<Answer>, work_available: Arc<tokio::sync::Notify>) -> Self {
        Acknowledgement {
            state: Mutex::new(AcknowledgementState {
                answers: answers.into_iter().map(Some).collect(),
                outcomes: Vec::new(),
                readable_order: Vec::new(),
                answered_up_to: 0,
                applied: 0,
                flushed: None,
                written: false,
                work_available,
                workers_told: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AcknowledgementState> {
        // Nothing panics while holding it; a poisoned state is still whole.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The batch's outcomes and what each needs in sled (see
    /// [`BatchProgress::decided`]); returns the first change count that
    /// makes one readable.
    fn decided(&self, outcomes: &[SubmitOutcome], readable_after: &[usize]) -> usize {
        let mut state = self.lock();
        state.outcomes = outcomes.to_vec();
        let mut order: Vec<(usize, usize)> = readable_after
            .iter()
            .copied()
            .zip(0..outcomes.len())
            .collect();
        order.sort_unstable();
        state.readable_order = order;
        state.next_readable_after()
    }

    /// The record's first `count` changes are in sled; returns the next
    /// change count that makes one more readable.
    fn applied(&self, count: usize) -> usize {
        let mut state = self.lock();
        state.applied = state.applied.max(count);
        let ready = state.take_ready();
        let next = state.next_readable_after();
        drop(state);
        send_each(ready);
        next
    }

    /// The flush's outcome (from the group commit's task: never blocks).
    fn flushed(&self, outcome: Result<(), StoreError>) {
        let mut state = self.lock();
        state.flushed = Some(outcome.is_ok());
        if let Err(error) = outcome {
            let failed = state.take_unanswered();
            drop(state);
            send_answers(failed, Err(error));
            return;
        }
        Self::send_ready(state);
    }

    /// The write's outcome: every change in sled, or the error that ends it.
    fn written(&self, outcome: Result<Vec<SubmitOutcome>, StoreError>) {
        let mut state = self.lock();
        match outcome {
            Ok(outcomes) => {
                if state.readable_order.is_empty() {
                    // Not told before (nothing to wait for but the flush).
                    state.readable_order = (0..outcomes.len()).map(|index| (0, index)).collect();
                    state.outcomes = outcomes;
                }
                state.applied = usize::MAX;
                state.written = true;
                Self::send_ready(state);
            }
            Err(error) => {
                let failed = state.take_unanswered();
                drop(state);
                send_answers(failed, Err(error));
            }
        }
    }

    /// Sends the answers now due, and tells the workers once the batch is
    /// done, outside the lock.
    fn send_ready(mut state: std::sync::MutexGuard<'_, AcknowledgementState>) {
        let ready = state.take_ready();
        let notify = state.finished_with_new_articles();
        drop(state);
        send_each(ready);
        if let Some(work_available) = notify {
            work_available.notify_waiters();
        }
    }
}

impl AcknowledgementState {
    fn next_readable_after(&self) -> usize {
        self.readable_order
            .get(self.answered_up_to)
            .map_or(usize::MAX, |(needed, _)| *needed)
    }

    /// The answers now due: the flush is done and their articles are in sled.
    fn take_ready(&mut self) -> Vec<(Answer, SubmitOutcome)> {
        let mut ready = Vec::new();
        if self.flushed != Some(true) {
            return ready;
        }
        while let Some(&(needed, index)) = self.readable_order.get(self.answered_up_to) {
            if needed > self.applied {
                break;
            }
            self.answered_up_to += 1;
            let answer = self.answers.get_mut(index).and_then(Option::take);
            let outcome = self.outcomes.get(index).copied();
            if let (Some(answer), Some(outcome)) = (answer, outcome) {
                ready.push((answer, outcome));
            }
        }
        ready
    }

    /// Every answer not sent yet (to fail them).
    fn take_unanswered(&mut self) -> Vec<Answer> {
        self.answers.iter_mut().filter_map(Option::take).collect()
    }

    /// The workers to tell, once: when the batch is both flushed and
    /// written and created an article.
    fn finished_with_new_articles(&mut self) -> Option<Arc<tokio::sync::Notify>> {
        let finished = self.written && self.flushed == Some(true);
        let created = self.outcomes.iter().any(|outcome| outcome.created);
        if !finished || !created || std::mem::replace(&mut self.workers_told, true) {
            return None;
        }
        Some(Arc::clone(&self.work_available))
    }
}

/// Sends each answer its outcome (the client may have left: nothing to do then).
fn send_each(ready: Vec<(Answer, SubmitOutcome)>) {
    for (answer, outcome) in ready {
        let _ = answer.send(Ok(outcome));
    }
}

impl Store {
    /// Stores and queues an article, durably (flushed, group commit) before returning.
    /// Same request id, URL or normalised text → the existing id, `created == false`.
    ///
    /// Concurrent calls share one write-ahead log record and one flush.
    pub async fn enqueue(&self, article: NewArticle) -> Result<SubmitOutcome, StoreError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        // Normalising the whole text is CPU work proportional to its size (up
        // to the article limit). A large text is prepared off the async
        // threads (a 2 MB article must not stall one); a text of ordinary
        // size takes tens of microseconds, less than handing it to a
        // blocking thread and waking the task again costs.
        let prepared = if article.content.len() <= INLINE_PREPARE_BYTES {
            PreparedArticle::new(article)
        } else {
            tokio::task::spawn_blocking(move || PreparedArticle::new(article))
                .await
                .map_err(|error| StoreError::Task(error.to_string()))?
        };
        let (answer, answered) = oneshot::channel();
        self.inner.pending.push(prepared, answer)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }

    /// Many articles in one log record and one flush; one result per article,
    /// in order. Their keys are computed in [`BULK_CHUNK`]-article parts, in
    /// parallel (see [`BulkSubmission`]).
    pub async fn enqueue_batch(
        &self,
        articles: Vec<NewArticle>,
    ) -> Result<Vec<SubmitOutcome>, StoreError> {
        let mut bulk = self.bulk();
        let mut articles = articles.into_iter().peekable();
        while articles.peek().is_some() {
            bulk.push(articles.by_ref().take(BULK_CHUNK).collect());
        }
        bulk.finish().await
    }

    /// Starts a bulk submission: parts are prepared (in parallel, on the
    /// blocking pool) while more of them arrive, and written together.
    pub fn bulk(&self) -> BulkSubmission {
        BulkSubmission {
            store: self.clone(),
            parts: Vec::new(),
        }
    }

    /// One log record for `articles` under the writer lock (not yet flushed).
    async fn write_prepared(
        &self,
        articles: Vec<PreparedArticle>,
    ) -> Result<Vec<SubmitOutcome>, StoreError> {
        super::blocking(&self.inner, move |inner| {
            let _writer = inner.lock_writer()?;
            inner.insert_articles(articles, &mut Unwatched)
        })
        .await
    }
}

/// Articles per part of a bulk submission: the duplicate keys of each part
/// are computed by one blocking task, parts in parallel.
pub const BULK_CHUNK: usize = 64;

/// A bulk submission in progress (see [`Store::bulk`]). Each part pushed is
/// prepared (normalised, its duplicate keys computed, the bodies of the
/// articles that look new appended to the text log) at once on the blocking
/// pool, while the caller receives the next; nothing the store refers to is
/// written before [`BulkSubmission::finish`], which stores every article in
/// one log record and one flush, so a submission given up on (a refused or
/// broken stream) stores nothing (its texts stay unreferenced in the log).
pub struct BulkSubmission {
    store: Store,
    parts: Vec<tokio::task::JoinHandle<Result<Vec<PreparedArticle>, StoreError>>>,
}

impl BulkSubmission {
    /// Adds a part (its articles follow those pushed before it).
    pub fn push(&mut self, articles: Vec<NewArticle>) {
        if articles.is_empty() {
            return;
        }
        let inner = Arc::clone(&self.store.inner);
        self.parts.push(tokio::task::spawn_blocking(move || {
            let mut prepared = articles
                .into_iter()
                .map(PreparedArticle::new)
                .collect::<Vec<_>>();
            inner.log_new_bodies(&mut prepared)?;
            Ok(prepared)
        }));
    }

    /// Writes every article pushed in one log record, in order (of two
    /// duplicates the first is created), flushes, and returns one outcome per
    /// article.
    pub async fn finish(self) -> Result<Vec<SubmitOutcome>, StoreError> {
        let mut prepared = Vec::new();
        for part in self.parts {
            prepared.extend(
                part.await
                    .map_err(|error| StoreError::Task(error.to_string()))??,
            );
        }
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = self.store.write_prepared(prepared).await?;
        self.store.inner.committer.flush().await?;
        if outcomes.iter().any(|outcome| outcome.created) {
            self.store.inner.work_available.notify_waiters();
        }
        Ok(outcomes)
    }
}

/// Answers each waiting submission with its outcome, or all with the batch's error.
fn send_answers(answers: Vec<Answer>, outcomes: Result<Vec<SubmitOutcome>, StoreError>) {
    match outcomes {
        Ok(outcomes) => {
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                let _ = answer.send(Ok(outcome));
            }
        }
        Err(error) => {
            let message = error.to_string();
            for answer in answers {
                let failure = match &error {
                    StoreError::Closed => StoreError::Closed,
                    _ => StoreError::Task(message.clone()),
                };
                let _ = answer.send(Err(failure));
            }
        }
    }
}

/// A new article row, ready for the log record.
struct NewRow {
    article_id: ArticleId,
    status: Vec<u8>,
    body: Vec<u8>,
    body_logged: bool,
    keys: Vec<Vec<u8>>,
    queue_key: Vec<u8>,
}

impl Inner {
    /// Appends to the text log, before the writer lock is taken, the bodies
    /// of `articles` that look new: none of their keys is stored, nor taken
    /// by an article before them in `articles`. Copying the texts into the
    /// page cache was a third of the time a bulk write held the writer lock;
    /// done here, it runs in parallel with another part's preparation and
    /// with the write in progress. The lock's own duplicate check still
    /// decides: a body logged for an article that turns out a duplicate
    /// (one submitted meanwhile by someone else) is left unreferenced in
    /// the log, like any text of an article that was never acknowledged.
    fn log_new_bodies(&self, articles: &mut [PreparedArticle]) -> Result<(), StoreError> {
        let mut keys_taken: HashSet<&[u8]> = HashSet::new();
        let mut new_articles = Vec::with_capacity(articles.len());
        for (position, article) in articles.iter().enumerate() {
            let mut new = true;
            for key in &article.keys {
                new &= keys_taken.insert(key.as_slice()) && self.existing_intact_id(key)?.is_none();
            }
            if new {
                new_articles.push(position);
            }
        }
        if new_articles.is_empty() {
            return Ok(());
        }
        let bodies: Vec<&[u8]> = new_articles
            .iter()
            .map(|&position| articles[position].body.as_slice())
            .collect();
        let text_refs = self
            .texts
            .append(&bodies)
            .map_err(|error| StoreError::Io(error.to_string()))?;
        for (position, text_ref) in new_articles.into_iter().zip(text_refs) {
            let article = &mut articles[position];
            article.body = super::articles::logged_body_value(text_ref);
            article.body_logged = true;
        }
        Ok(())
    }

    /// Inserts the articles that are not duplicates (of stored articles or of
    /// one another) in one log record, their bodies appended to the text log
    /// first; calls `appended` once the record is in the log file, before
    /// sled takes it (not at all when every article is a duplicate). Caller
    /// holds the writer lock.
    fn insert_articles(
        &self,
        articles: Vec<PreparedArticle>,
        progress: &mut dyn BatchProgress,
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
        'articles: for PreparedArticle {
            article,
            keys,
            body,
            body_logged,
        } in articles
        {
            for key in &keys {
                let known = match keys_in_batch.get(key) {
                    Some(article_id) => Some(*article_id),
                    None => self.existing_intact_id(key)?,
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
            let status = ArticleStatus {
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
            };
            for key in &keys {
                keys_in_batch.insert(key.clone(), article_id);
            }
            rows.push(NewRow {
                article_id,
                status: super::encode(&status)?,
                body,
                body_logged,
                keys,
                queue_key: pair_key(now, article_id.0).to_vec(),
            });
            outcomes.push(SubmitOutcome {
                article_id,
                created: true,
            });
        }
        if rows.is_empty() {
            progress.decided(&outcomes, &vec![0; outcomes.len()]);
            return Ok(outcomes);
        }
        // The bodies go to the text log, in one write, and sled gets where
        // they are; those of a small batch stay in sled (see SMALL_WRITE_BELOW).
        // Those logged before the lock was taken are in it already.
        if rows.len() >= SMALL_WRITE_BELOW {
            let mut unlogged: Vec<&mut NewRow> =
                rows.iter_mut().filter(|row| !row.body_logged).collect();
            let bodies: Vec<&[u8]> = unlogged.iter().map(|row| row.body.as_slice()).collect();
            let text_refs = self
                .texts
                .append(&bodies)
                .map_err(|error| StoreError::Io(error.to_string()))?;
            for (row, text_ref) in unlogged.iter_mut().zip(text_refs) {
                row.body = super::articles::logged_body_value(text_ref);
            }
        }
        let mut writes = Writes::default();
        // Per new article (ids from `first_id` on, in order): the number of
        // the record's changes up to its last one.
        let mut written_after = Vec::with_capacity(rows.len());
        for row in rows {
            writes.insert(TreeId::Articles, be(row.article_id.0), row.status);
            writes.insert(TreeId::ArticleBodies, be(row.article_id.0), row.body);
            for key in row.keys {
                writes.insert(TreeId::ArticleKeys, key, be(row.article_id.0));
            }
            writes.insert(TreeId::Queue, row.queue_key, []);
            written_after.push(writes.len());
        }
        writes.insert(TreeId::Meta, META_NEXT_ARTICLE, be(next_id));
        let readable_after: Vec<usize> = outcomes
            .iter()
            .map(|outcome| {
                outcome
                    .article_id
                    .0
                    .checked_sub(first_id)
                    .and_then(|row| usize::try_from(row).ok())
                    .and_then(|row| written_after.get(row).copied())
                    .unwrap_or(0)
            })
            .collect();
        progress.decided(&outcomes, &readable_after);
        self.commit_watched(&writes, progress)?;
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{article, config};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    /// The words of `text` joined by single spaces: the definition
    /// [`join_words`] follows.
    fn joined_words(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// What [`join_words`] gathers from `text`, as a string.
    fn gathered_words(text: &str) -> String {
        let mut joined = b"kept ".to_vec();
        join_words(text, &mut joined);
        let gathered = String::from_utf8(joined).expect("words of UTF-8 are UTF-8");
        gathered
            .strip_prefix("kept ")
            .expect("what was there is kept")
            .to_string()
    }

    #[test]
    fn the_words_split_on_every_unicode_space_as_split_whitespace_does() {
        for code in 0..0x3100u32 {
            let Some(character) = char::from_u32(code) else {
                continue;
            };
            for text in [
                format!("a{character}b"),
                format!("{character}a  {character}{character}b{character}"),
                format!("{character}"),
                format!("ạ{character}\u{a0}ế"),
            ] {
                assert_eq!(
                    gathered_words(&text),
                    joined_words(&text),
                    "U+{code:04X} in {text:?}"
                );
            }
        }
        assert_eq!(gathered_words(""), "");
        assert_eq!(gathered_words(" \t\n "), "");
    }

    proptest::proptest! {
        #[test]
        fn the_fingerprint_is_the_hash_of_the_joined_normalised_words(
            text in "([a-zđạếờ,.()/0-9ouàỳ\u{301}]|[ \t\n\r\u{85}\u{a0}\u{1680}\u{2000}-\u{200b}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}\u{feff}]){0,40}"
        ) {
            proptest::prop_assert_eq!(gathered_words(&text), joined_words(&text));
            let normalized = dialogwatch_worker::normalize::normalize(&text);
            proptest::prop_assert_eq!(
                text_fingerprint(&text),
                xxhash_rust::xxh3::xxh3_64(joined_words(&normalized).as_bytes())
            );
        }
    }

    /// A bulk submission over several parts: in order, duplicates across
    /// parts (and of stored articles) get the first one's id, ids are dense,
    /// and a submission dropped before `finish` stores nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bulk_parts_are_written_in_order_and_only_when_finished() {
        let directory = tempfile::tempdir().expect("temp dir");
        let store = Store::open(config(directory.path())).await.expect("open");
        let stored = store
            .enqueue(article("Bài đã có từ trước.", None))
            .await
            .expect("enqueue");
        assert_eq!(stored.article_id, ArticleId(1));

        let mut abandoned = store.bulk();
        abandoned.push(vec![article("Bài của một luồng bị bỏ dở.", None)]);
        drop(abandoned);

        let total = 3 * BULK_CHUNK + 5;
        let texts: Vec<String> = (0..total)
            .map(|index| match index {
                // A duplicate (extra spaces) of an article two parts earlier.
                _ if index == 2 * BULK_CHUNK + 1 => "Bài  số 3 trong   lô.".to_string(),
                _ if index == BULK_CHUNK + 2 => "Bài đã có từ trước.".to_string(),
                _ => format!("Bài số {index} trong lô."),
            })
            .collect();
        let mut bulk = store.bulk();
        for part in texts.chunks(BULK_CHUNK) {
            bulk.push(part.iter().map(|text| article(text, None)).collect());
        }
        bulk.push(Vec::new());
        let outcomes = bulk.finish().await.expect("finish");
        assert_eq!(outcomes.len(), total);
        assert!(!outcomes[BULK_CHUNK + 2].created);
        assert_eq!(outcomes[BULK_CHUNK + 2].article_id, ArticleId(1));
        assert!(!outcomes[2 * BULK_CHUNK + 1].created);
        assert_eq!(
            outcomes[2 * BULK_CHUNK + 1].article_id,
            outcomes[3].article_id
        );
        let created: Vec<u64> = outcomes
            .iter()
            .filter(|outcome| outcome.created)
            .map(|outcome| outcome.article_id.0)
            .collect();
        assert_eq!(created, (2..=total as u64 - 1).collect::<Vec<_>>());
        assert!(store.bulk().finish().await.expect("empty").is_empty());
        let leased = store
            .lease(1000, Duration::from_secs(30), Duration::ZERO)
            .await
            .expect("lease");
        assert_eq!(
            leased.len(),
            total - 1,
            "the abandoned article is not stored"
        );
        store.close().await.expect("close");
    }

    #[test]
    fn the_fingerprint_is_the_hash_of_the_words_joined_by_one_space() {
        let text = "Đối  thoại\tChính sách\n\nlần thứ 14";
        let normalized = dialogwatch_worker::normalize::normalize(text);
        let joined = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            text_fingerprint(text),
            xxhash_rust::xxh3::xxh3_64(joined.as_bytes())
        );
        // XXH3's own test vector: the stored keys of a store depend on it.
        assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2d06_8005_38d3_94c2);
        assert_eq!(
            text_fingerprint(text),
            text_fingerprint("Đối thoại Chính sách lần thứ 14")
        );
        assert_ne!(
            text_fingerprint(text),
            text_fingerprint("Đối thoại lần thứ 15")
        );
    }

    /// The text key a store of before [`TEXT_KEY_PREFIX`] kept: FNV-1a of
    /// the normalised text's words joined by single spaces, under `h:`.
    fn legacy_text_key(text: &str) -> Vec<u8> {
        let normalized = dialogwatch_worker::normalize::normalize(text);
        let hash = crate::store::merge::stable_hash(joined_words(&normalized).as_bytes());
        format!("h:{hash:016x}").into_bytes()
    }

    /// The `article_keys` entries under `prefix`.
    fn keys_under(store: &Store, prefix: &[u8]) -> Vec<(Vec<u8>, u64)> {
        store
            .inner
            .trees
            .article_keys
            .scan_prefix(prefix)
            .map(|entry| {
                let (key, value) = entry.expect("read");
                (key.to_vec(), read_u64(&value).expect("an id"))
            })
            .collect()
    }

    /// Submits `texts` in one bulk submission.
    async fn submit_all(store: &Store, texts: &[String]) -> Vec<SubmitOutcome> {
        let mut bulk = store.bulk();
        for part in texts.chunks(BULK_CHUNK) {
            bulk.push(part.iter().map(|text| article(text, None)).collect());
        }
        bulk.finish().await.expect("submitted")
    }

    /// A store whose text keys are the legacy ones (written through the
    /// log, as an older version wrote them) has them replaced on open, in
    /// more than one log record: resubmitted texts are found again, nothing
    /// legacy is left, a key of an article not stored is dropped, and a run
    /// that meets legacy keys again replaces them, the lower id keeping a
    /// key two texts share.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn legacy_text_keys_are_rekeyed_on_open_and_still_find_their_articles() {
        let directory = tempfile::tempdir().expect("temp dir");
        let texts: Vec<String> = (0..REKEY_BATCH + 3)
            .map(|index| format!("Đối thoại  quốc phòng\tlần thứ {index}."))
            .collect();
        let stored_ids: Vec<ArticleId> = {
            let store = Store::open(config(directory.path())).await.expect("open");
            let outcomes = submit_all(&store, &texts).await;
            assert!(outcomes.iter().all(|outcome| outcome.created));
            let mut writes = Writes::default();
            for (key, _) in keys_under(&store, TEXT_KEY_PREFIX.as_bytes()) {
                writes.remove(TreeId::ArticleKeys, key);
            }
            for (text, outcome) in texts.iter().zip(&outcomes) {
                writes.insert(
                    TreeId::ArticleKeys,
                    legacy_text_key(text),
                    be(outcome.article_id.0),
                );
            }
            writes.insert(
                TreeId::ArticleKeys,
                b"h:00000000000000ff".to_vec(),
                be(999_999),
            );
            store.inner.commit(&writes).expect("legacy keys");
            assert_eq!(
                keys_under(&store, LEGACY_TEXT_KEY_PREFIX).len(),
                texts.len() + 1
            );
            store.close().await.expect("close");
            outcomes.iter().map(|outcome| outcome.article_id).collect()
        };

        let store = Store::open(config(directory.path())).await.expect("reopen");
        assert!(keys_under(&store, LEGACY_TEXT_KEY_PREFIX).is_empty());
        let new_keys = keys_under(&store, TEXT_KEY_PREFIX.as_bytes());
        assert_eq!(
            new_keys.len(),
            texts.len(),
            "the unstored article's key is dropped"
        );
        let respaced: Vec<String> = texts.iter().map(|text| text.replace("  ", " ")).collect();
        let outcomes = submit_all(&store, &respaced).await;
        assert!(outcomes.iter().all(|outcome| !outcome.created));
        assert_eq!(
            outcomes
                .iter()
                .map(|outcome| outcome.article_id)
                .collect::<Vec<_>>(),
            stored_ids,
            "every text finds its article"
        );

        // Legacy keys met again (an older version wrote them), one pointing
        // at a text whose key a later article holds: the lower id keeps it.
        let (first, second, third) = (stored_ids[0].0, stored_ids[1].0, stored_ids[2].0);
        let mut writes = Writes::default();
        writes.insert(TreeId::ArticleKeys, text_key(&texts[1]), be(second + 100));
        writes.insert(TreeId::ArticleKeys, legacy_text_key(&texts[1]), be(second));
        writes.insert(TreeId::ArticleKeys, text_key(&texts[2]), be(first));
        writes.insert(TreeId::ArticleKeys, legacy_text_key(&texts[2]), be(third));
        writes.insert(TreeId::ArticleKeys, legacy_text_key(&texts[0]), be(first));
        store.inner.commit(&writes).expect("legacy again");
        assert_eq!(store.inner.rekey_text_fingerprints().expect("rekey"), 3);
        assert_eq!(
            store.inner.rekey_text_fingerprints().expect("nothing left"),
            0
        );
        let holder = |text: &str| {
            let value = store
                .inner
                .trees
                .article_keys
                .get(text_key(text))
                .expect("read")
                .expect("a key");
            read_u64(&value).expect("an id")
        };
        assert_eq!(holder(&texts[0]), first);
        assert_eq!(holder(&texts[1]), second);
        assert_eq!(holder(&texts[2]), first);

        // A body that does not decode loses its key; the rest goes on.
        let damaged = stored_ids[3].0;
        let mut writes = Writes::default();
        writes.remove(TreeId::ArticleKeys, text_key(&texts[3]));
        writes.insert(TreeId::ArticleKeys, legacy_text_key(&texts[3]), be(damaged));
        writes.insert(
            TreeId::ArticleKeys,
            legacy_text_key(&texts[4]),
            be(stored_ids[4].0),
        );
        writes.insert(TreeId::ArticleBodies, be(damaged), b"Xnot a body".to_vec());
        store.inner.commit(&writes).expect("damage");
        assert_eq!(store.inner.rekey_text_fingerprints().expect("rekey"), 2);
        let read = |key: Vec<u8>| store.inner.trees.article_keys.get(key).expect("read");
        assert!(read(text_key(&texts[3])).is_none());
        assert!(keys_under(&store, LEGACY_TEXT_KEY_PREFIX).is_empty());
        assert_eq!(holder(&texts[4]), stored_ids[4].0);
        store.close().await.expect("close");
    }

    /// A bulk submission's new bodies are in the text log before the write
    /// and read back whole; a repeat within a part, and a submission of
    /// articles already stored (the same texts spaced differently), add
    /// nothing to the log.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bulk_bodies_are_logged_ahead_only_for_new_articles() {
        let directory = tempfile::tempdir().expect("temp dir");
        let store = Store::open(config(directory.path())).await.expect("open");
        let texts: Vec<String> = (0..BULK_CHUNK + 10)
            .map(|index| format!("Bài số {index} về đối thoại chính sách quốc phòng."))
            .collect();
        let logged_before = store.inner.texts.total_bytes();
        let mut submitted: Vec<NewArticle> = texts.iter().map(|text| article(text, None)).collect();
        // A repeat in the same part: its body is not logged.
        submitted.insert(5, article(&texts[3], None));
        let outcomes = store.enqueue_batch(submitted).await.expect("bulk");
        assert_eq!(
            outcomes.iter().filter(|outcome| outcome.created).count(),
            texts.len()
        );
        let encoded: u64 = texts.iter().map(|text| 1 + text.len() as u64).sum();
        assert_eq!(store.inner.texts.total_bytes() - logged_before, encoded);

        let logged_before = store.inner.texts.total_bytes();
        let again: Vec<NewArticle> = texts
            .iter()
            .map(|text| article(&text.replace(' ', "  "), None))
            .collect();
        let outcomes = store.enqueue_batch(again).await.expect("bulk again");
        assert!(outcomes.iter().all(|outcome| !outcome.created));
        assert_eq!(store.inner.texts.total_bytes(), logged_before);

        let leased = store
            .lease(1000, Duration::from_secs(30), Duration::ZERO)
            .await
            .expect("lease");
        let mut read_back: Vec<String> = leased.into_iter().map(|leased| leased.job.text).collect();
        let mut expected = texts.clone();
        read_back.sort();
        expected.sort();
        assert_eq!(read_back, expected);
        store.close().await.expect("close");
    }

    /// A writer that ends with submissions still waiting (its list
    /// poisoned) answers them as closed and takes no more, so no submitter
    /// waits for it forever.
    #[test]
    fn a_writer_that_ends_refuses_what_waits_and_what_comes() {
        let pending = PendingSubmissions::new();
        let (answer, mut answered) = oneshot::channel();
        pending
            .push(PreparedArticle::new(article("Bài chờ ghi.", None)), answer)
            .expect("taken");
        pending.shared.refuse_the_rest();
        assert!(matches!(answered.try_recv(), Ok(Err(StoreError::Closed))));
        let (answer, _answered) = oneshot::channel();
        assert!(matches!(
            pending.push(PreparedArticle::new(article("Bài sau.", None)), answer),
            Err(StoreError::Closed)
        ));
    }

    /// Unary submissions racing a close: each is either acknowledged, and
    /// then stored (it is there after a reopen), or refused as closed, and
    /// then not stored; the writer thread has ended when close returns, so
    /// the store reopens at once; a submission after close is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn submissions_racing_a_close_are_stored_exactly_when_acknowledged() {
        let directory = tempfile::tempdir().expect("temp dir");
        let store = Store::open(config(directory.path())).await.expect("open");
        let submit = |tasks: &mut tokio::task::JoinSet<_>, range: std::ops::Range<u32>| {
            for index in range {
                let store = store.clone();
                tasks.spawn(async move {
                    let text = format!("Bài số {index} về hội đàm quốc phòng.");
                    (text.clone(), store.enqueue(article(&text, None)).await)
                });
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        let mut results = Vec::new();
        submit(&mut tasks, 0..200);
        // Some submissions through, then a close while more arrive.
        while results.len() < 20 {
            results.push(tasks.join_next().await.expect("a task").expect("task"));
        }
        let closing = tokio::spawn({
            let store = store.clone();
            async move { store.close().await }
        });
        submit(&mut tasks, 200..400);
        closing.await.expect("task").expect("close");
        assert!(matches!(
            store.enqueue(article("Bài sau khi đóng.", None)).await,
            Err(StoreError::Closed)
        ));
        while let Some(joined) = tasks.join_next().await {
            results.push(joined.expect("task"));
        }
        let mut acknowledged = BTreeMap::new();
        let mut refused = Vec::new();
        for (text, outcome) in results {
            match outcome {
                Ok(outcome) => {
                    assert!(outcome.created);
                    acknowledged.insert(text, outcome.article_id);
                }
                Err(StoreError::Closed) => refused.push(text),
                Err(error) => panic!("neither stored nor closed: {error}"),
            }
        }
        assert_eq!(acknowledged.len() + refused.len(), 400);
        drop(store);
        let reopened = tokio::time::timeout(
            Duration::from_secs(10),
            Store::open(config(directory.path())),
        )
        .await
        .expect("the closed store's lock was released")
        .expect("reopen");
        for article_id in acknowledged.values() {
            reopened
                .article(*article_id)
                .await
                .expect("acknowledged, so stored");
        }
        for text in &refused {
            let again = reopened
                .enqueue(article(text, None))
                .await
                .expect("enqueue");
            assert!(again.created, "refused, so not stored: {text}");
        }
        reopened.close().await.expect("close");
    }

    /// Many concurrent unary submissions, duplicates among them (by text and by
    /// URL), coalesced into shared batches: every distinct article gets exactly
    /// one id, every duplicate that id, ids are dense, and all of it survives a
    /// reopen.
    /// What a submitter waits on for its answer.
    type Answered = oneshot::Receiver<Result<SubmitOutcome, StoreError>>;

    /// An acknowledgement of `count` answers, their receivers and the
    /// workers' wake-up it tells.
    fn acknowledged(count: usize) -> (Acknowledgement, Vec<Answered>, Arc<tokio::sync::Notify>) {
        let (answers, receivers): (Vec<_>, Vec<_>) = (0..count).map(|_| oneshot::channel()).unzip();
        let work_available = Arc::new(tokio::sync::Notify::new());
        (
            Acknowledgement::new(answers, Arc::clone(&work_available)),
            receivers,
            work_available,
        )
    }

    fn outcomes(count: u64) -> Vec<SubmitOutcome> {
        (1..=count)
            .map(|id| SubmitOutcome {
                article_id: ArticleId(id),
                created: id % 2 == 1,
            })
            .collect()
    }

    #[test]
    fn a_batch_is_answered_once_both_its_flush_and_its_write_are_done() {
        // Flush first, then the write; and the other way round.
        for flush_first in [true, false] {
            let (acknowledgement, mut receivers, work_available) = acknowledged(3);
            let notified = work_available.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if flush_first {
                acknowledgement.flushed(Ok(()));
            } else {
                acknowledgement.written(Ok(outcomes(3)));
            }
            for receiver in &mut receivers {
                assert!(receiver.try_recv().is_err(), "not before both");
            }
            if flush_first {
                acknowledgement.written(Ok(outcomes(3)));
            } else {
                acknowledgement.flushed(Ok(()));
            }
            for (index, mut receiver) in receivers.into_iter().enumerate() {
                let outcome = receiver.try_recv().expect("answered").expect("stored");
                assert_eq!(outcome.article_id, ArticleId(index as u64 + 1));
            }
            let waker = futures_util::task::noop_waker();
            let mut context = std::task::Context::from_waker(&waker);
            assert!(
                std::future::Future::poll(notified.as_mut(), &mut context).is_ready(),
                "workers told of the new articles"
            );
        }
        // A failed flush fails every answer, and tells no worker.
        let (acknowledgement, receivers, _) = acknowledged(2);
        acknowledgement.written(Ok(outcomes(2)));
        acknowledgement.flushed(Err(StoreError::Io("disk full".into())));
        for mut receiver in receivers {
            assert!(receiver.try_recv().expect("answered").is_err());
        }
        // A failed write is answered at once, before its flush.
        let (acknowledgement, receivers, _) = acknowledged(2);
        acknowledgement.written(Err(StoreError::Io("sled".into())));
        for mut receiver in receivers {
            assert!(receiver.try_recv().expect("answered at once").is_err());
        }
        acknowledgement.flushed(Ok(()));
    }

    /// Which of `receivers` have an answer now (taking it), as their indexes.
    fn answered_now(receivers: &mut [Answered]) -> Vec<usize> {
        receivers
            .iter_mut()
            .enumerate()
            .filter_map(|(index, receiver)| receiver.try_recv().ok().map(|_| index))
            .collect()
    }

    #[test]
    fn each_submission_is_answered_once_flushed_and_its_own_article_is_in_sled() {
        // Five submissions: three new articles (ids 1-3, readable after 4, 8
        // and 12 changes), a duplicate of one stored before (readable at
        // once) and a duplicate of the batch's second article.
        let outcomes = vec![
            SubmitOutcome {
                article_id: ArticleId(1),
                created: true,
            },
            SubmitOutcome {
                article_id: ArticleId(9),
                created: false,
            },
            SubmitOutcome {
                article_id: ArticleId(2),
                created: true,
            },
            SubmitOutcome {
                article_id: ArticleId(2),
                created: false,
            },
            SubmitOutcome {
                article_id: ArticleId(3),
                created: true,
            },
        ];
        let readable_after = [4, 0, 8, 8, 12];
        for flush_after in [0, 5, 9, 13] {
            let (acknowledgement, mut receivers, work_available) = acknowledged(5);
            let notified = work_available.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let mut next = acknowledgement.decided(&outcomes, &readable_after);
            assert_eq!(
                next, 0,
                "the duplicate of a stored article needs nothing in sled"
            );
            let mut answered = Vec::new();
            for count in 1..=13 {
                if count == flush_after {
                    acknowledgement.flushed(Ok(()));
                }
                if count >= next {
                    next = acknowledgement.applied(count);
                }
                let now = answered_now(&mut receivers);
                let due: Vec<usize> = (0..5)
                    .filter(|&index| {
                        flush_after > 0
                            && count >= flush_after
                            && readable_after[index] <= count
                            && !answered.contains(&index)
                    })
                    .collect();
                assert_eq!(
                    now, due,
                    "answered after {count} changes, flushed at {flush_after}"
                );
                answered.extend(now);
            }
            if flush_after == 0 {
                assert!(answered.is_empty(), "nothing before the flush");
                acknowledgement.written(Ok(outcomes.clone()));
                assert!(
                    answered_now(&mut receivers).is_empty(),
                    "nor after the write alone"
                );
                acknowledgement.flushed(Ok(()));
                answered.extend(answered_now(&mut receivers));
            } else {
                acknowledgement.written(Ok(outcomes.clone()));
            }
            answered.sort_unstable();
            assert_eq!(answered, vec![0, 1, 2, 3, 4], "each answered once");
            let waker = futures_util::task::noop_waker();
            let mut context = std::task::Context::from_waker(&waker);
            assert!(
                std::future::Future::poll(notified.as_mut(), &mut context).is_ready(),
                "workers told of the new articles once all is done"
            );
        }
        // A write that fails part-way fails only the submissions not answered.
        let (acknowledgement, mut receivers, _) = acknowledged(5);
        acknowledgement.decided(&outcomes, &readable_after);
        acknowledgement.flushed(Ok(()));
        acknowledgement.applied(9);
        assert_eq!(answered_now(&mut receivers), vec![0, 1, 2, 3]);
        acknowledgement.written(Err(StoreError::Io("sled".into())));
        let mut last = receivers.pop().expect("five");
        assert!(last.try_recv().expect("answered").is_err());
        // A failed flush fails every one, however much is in sled.
        let (acknowledgement, receivers, _) = acknowledged(5);
        acknowledgement.decided(&outcomes, &readable_after);
        acknowledgement.applied(13);
        acknowledgement.flushed(Err(StoreError::Io("disk full".into())));
        acknowledgement.written(Ok(outcomes.clone()));
        for mut receiver in receivers {
            assert!(receiver.try_recv().expect("answered").is_err());
        }
    }

    /// What happens to a batch's acknowledgement after it is decided, in
    /// the order the writer and the flusher may tell it.
    #[derive(Debug, Clone)]
    enum AcknowledgementStep {
        /// The writer: this many more of the record's changes are in sled.
        Applied(usize),
        /// The flusher: the flush succeeded (true) or failed.
        Flushed(bool),
        /// The writer: the whole write succeeded (true) or failed.
        Written(bool),
    }

    /// A batch (each submission's changes needed in sled, as a share of
    /// the record) and its steps: applies in any amounts, one flush and one
    /// end of the write at any points among them.
    fn acknowledgement_case() -> impl Strategy<Value = (Vec<usize>, Vec<AcknowledgementStep>)> {
        let needs = proptest::collection::vec(0usize..=40, 1..12);
        let applies = proptest::collection::vec(1usize..=12, 0..8);
        (
            needs,
            applies,
            any::<bool>(),
            any::<bool>(),
            any::<usize>(),
            any::<usize>(),
        )
            .prop_map(|(needs, applies, flush_ok, write_ok, flush_at, write_at)| {
                let mut steps: Vec<AcknowledgementStep> = applies
                    .into_iter()
                    .map(AcknowledgementStep::Applied)
                    .collect();
                // The write ends after its last apply, or part-way when it fails.
                let write_position = if write_ok {
                    steps.len()
                } else {
                    write_at % (steps.len() + 1)
                };
                steps.insert(write_position, AcknowledgementStep::Written(write_ok));
                steps.truncate(write_position + 1);
                steps.insert(
                    flush_at % (steps.len() + 1),
                    AcknowledgementStep::Flushed(flush_ok),
                );
                (needs, steps)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Against a model: a submission is answered at most once, never
        /// before a successful flush nor before its changes are in sled,
        /// with its own outcome; once both the flush and the write
        /// succeeded all are answered; a failure fails exactly those not
        /// answered yet.
        #[test]
        fn the_acknowledgement_answers_as_the_model_says(case in acknowledgement_case()) {
            let (needs, steps) = case;
            let outcomes: Vec<SubmitOutcome> = (0..needs.len())
                .map(|index| SubmitOutcome {
                    article_id: ArticleId(index as u64 + 1),
                    created: index % 3 != 1,
                })
                .collect();
            let (acknowledgement, mut receivers, _) = acknowledged(needs.len());
            let mut next = acknowledgement.decided(&outcomes, &needs);
            let mut applied = 0usize;
            let mut flushed: Option<bool> = None;
            let mut written: Option<bool> = None;
            let mut answered: Vec<Option<bool>> = vec![None; needs.len()];
            for step in &steps {
                match *step {
                    AcknowledgementStep::Applied(more) => {
                        applied += more;
                        if applied >= next {
                            next = acknowledgement.applied(applied);
                        }
                    }
                    AcknowledgementStep::Flushed(ok) => {
                        flushed = Some(ok);
                        let outcome = if ok { Ok(()) } else { Err(StoreError::Io("disk".into())) };
                        acknowledgement.flushed(outcome);
                    }
                    AcknowledgementStep::Written(ok) => {
                        written = Some(ok);
                        let outcome = if ok {
                            Ok(outcomes.clone())
                        } else {
                            Err(StoreError::Io("sled".into()))
                        };
                        acknowledgement.written(outcome);
                    }
                }
                let in_sled = |index: usize| written == Some(true) || needs[index] <= applied;
                for (index, receiver) in receivers.iter_mut().enumerate() {
                    let Ok(answer) = receiver.try_recv() else {
                        continue;
                    };
                    prop_assert!(answered[index].is_none(), "answered twice");
                    match answer {
                        Ok(outcome) => {
                            prop_assert_eq!(flushed, Some(true), "answered before its flush");
                            prop_assert!(in_sled(index), "answered before its article is in sled");
                            prop_assert_eq!(outcome, outcomes[index]);
                            answered[index] = Some(true);
                        }
                        Err(_) => {
                            prop_assert!(
                                flushed == Some(false) || written == Some(false),
                                "failed without a failure"
                            );
                            answered[index] = Some(false);
                        }
                    }
                }
                // Everything due is answered at once, not later.
                for (index, answer) in answered.iter().enumerate() {
                    let due = flushed == Some(true) && in_sled(index);
                    let failed = flushed == Some(false) || written == Some(false);
                    prop_assert!(
                        answer.is_some() || !(due || failed),
                        "submission {} not answered after {:?}",
                        index,
                        step
                    );
                }
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_submissions_share_batches_and_stay_exactly_once() {
        let directory = tempfile::tempdir().expect("temp dir");
        let store = Store::open(config(directory.path())).await.expect("open");
        let mut tasks = tokio::task::JoinSet::new();
        for index in 0..600u32 {
            let store = store.clone();
            // 200 distinct articles, each submitted three times in any order:
            // text and URL, the text alone with extra spaces, text and URL again.
            let distinct = index % 200;
            let text = match index / 200 {
                0 => format!("Bài số {distinct} về đối thoại quốc phòng."),
                1 => format!("Bài  số {distinct}   về đối thoại quốc phòng ."),
                _ => format!("Bài số {distinct} về đối thoại quốc phòng."),
            };
            let url = (index / 200 != 1).then(|| format!("https://example.vn/{distinct}"));
            tasks.spawn(async move {
                let outcome = store
                    .enqueue(article(&text, url.as_deref()))
                    .await
                    .expect("enqueue");
                // Acknowledged: readable at once (a batch's flush runs while
                // sled takes its changes; the answer waits for both).
                let stored = store.article(outcome.article_id).await.expect("readable");
                assert_eq!(stored.id, outcome.article_id);
                (distinct, outcome)
            });
        }
        let mut ids: BTreeMap<u32, BTreeSet<ArticleId>> = BTreeMap::new();
        let mut created = 0;
        while let Some(joined) = tasks.join_next().await {
            let (distinct, outcome) = joined.expect("task");
            created += usize::from(outcome.created);
            ids.entry(distinct).or_default().insert(outcome.article_id);
        }
        assert_eq!(created, 200, "one creation per distinct article");
        assert!(ids.values().all(|set| set.len() == 1), "one id per article");
        let all: BTreeSet<u64> = ids.values().flatten().map(|id| id.0).collect();
        assert_eq!(all, (1..=200).collect::<BTreeSet<u64>>(), "dense ids");
        store.close().await.expect("close");
        drop(store);

        let reopened = Store::open(config(directory.path())).await.expect("reopen");
        let again = reopened
            .enqueue(article(
                "Bài số 7 về đối thoại quốc phòng.",
                Some("https://example.vn/new"),
            ))
            .await
            .expect("enqueue");
        assert!(!again.created);
        assert_eq!(Some(&again.article_id), ids[&7].iter().next());
        let fresh = reopened
            .enqueue(article("Một bài mới.", None))
            .await
            .expect("enqueue");
        assert_eq!(fresh.article_id, ArticleId(201));
        let leased = reopened
            .lease(1000, Duration::from_secs(30), Duration::ZERO)
            .await
            .expect("lease");
        assert_eq!(leased.len(), 201, "every created article is queued once");
        reopened.close().await.expect("close");
    }
}
