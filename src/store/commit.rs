//! Group commit: callers that need their writes on disk ask for a flush; one
//! flusher task syncs the write-ahead log and the text log, at once, for
//! everyone who asked before it started, so concurrent submitters share
//! fsyncs instead of paying one each. After a sync, when the write-ahead log
//! has grown past its checkpoint size, the flusher starts a checkpoint
//! beside it (one at a time; awaited on stop). A second task, the zeroer,
//! keeps the write-ahead log's segment zeroed ahead of its last record when
//! a write asks for it ([`WriteAheadLog::preallocate`]), so that the syncs
//! write no file-system metadata; and syncs the value log when enough of it
//! is unsynced ([`WriteAheadLog::sync_values`]), so that a checkpoint's sync
//! of it does not write tens of megabytes at once.

use super::texts::TextLog;
use super::wal::WriteAheadLog;
use super::StoreError;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Someone waiting for the flush that covers their writes: told its
/// outcome on the flusher task, so it must only hand the outcome on, never
/// block (see [`GroupCommit::flush_then`]).
type Waiter = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// Handle to the flusher task.
pub(super) struct GroupCommit {
    requests: Mutex<Option<mpsc::UnboundedSender<Waiter>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// Dropped to stop the zeroer.
    stop_zeroing: Mutex<Option<watch::Sender<()>>>,
    zeroer: Mutex<Option<JoinHandle<()>>>,
}

/// The zeroer: preallocates the write-ahead log each time a write asks, and
/// syncs the value log each time one asks, until `stop` is dropped (a step
/// under way is finished first).
fn start_zeroer(wal: Arc<WriteAheadLog>, mut stop: watch::Receiver<()>) -> JoinHandle<()> {
    let preallocation_wanted = wal.preallocation_wanted();
    let values_sync_wanted = wal.values_sync_wanted();
    tokio::spawn(async move {
        loop {
            let zeroing = tokio::select! {
                biased;
                _ = stop.changed() => break,
                () = preallocation_wanted.notified() => true,
                () = values_sync_wanted.notified() => false,
            };
            let working = Arc::clone(&wal);
            let outcome = tokio::task::spawn_blocking(move || {
                if zeroing {
                    working.preallocate()
                } else {
                    working.sync_values()
                }
            })
            .await;
            match (zeroing, outcome) {
                (_, Ok(Ok(()))) => {}
                (true, Ok(Err(error))) => {
                    tracing::warn!(%error, "write-ahead log preallocation failed; appending instead until the next segment");
                }
                (false, Ok(Err(error))) => {
                    // The checkpoint syncs it again, and fails if it must.
                    tracing::warn!(%error, "value log sync failed; left to the next checkpoint");
                }
                (_, Err(error)) => tracing::warn!(%error, "write-ahead log background task failed"),
            }
        }
    })
}

impl GroupCommit {
    /// Starts the flusher for `wal` and `texts` (checkpoints flush `db`).
    pub(super) fn start(db: sled::Db, texts: Arc<TextLog>, wal: Arc<WriteAheadLog>) -> Self {
        let (requests, mut incoming) = mpsc::unbounded_channel::<Waiter>();
        let (stop_zeroing, stopped) = watch::channel(());
        let zeroer = start_zeroer(Arc::clone(&wal), stopped);
        let task = tokio::spawn(async move {
            let mut checkpoint: Option<JoinHandle<()>> = None;
            while let Some(first) = incoming.recv().await {
                let mut waiters = vec![first];
                while let Ok(more) = incoming.try_recv() {
                    waiters.push(more);
                }
                let logging = Arc::clone(&wal);
                let syncing = Arc::clone(&texts);
                // The two fsyncs run side by side: the wait is the longer one.
                let (logged, synced) = tokio::join!(
                    tokio::task::spawn_blocking(move || logging.sync()),
                    tokio::task::spawn_blocking(move || syncing.sync()),
                );
                let outcome = logged
                    .map_err(|error| error.to_string())
                    .and_then(|logged| logged.map_err(|error| error.to_string()))
                    .and_then(|()| {
                        synced
                            .map_err(|error| error.to_string())
                            .and_then(|synced| synced.map_err(|error| format!("text log: {error}")))
                    });
                for waiter in waiters {
                    waiter(outcome.clone().map_err(flush_failed));
                }
                let idle = checkpoint.as_ref().is_none_or(JoinHandle::is_finished);
                if idle && wal.checkpoint_due() {
                    let checkpointing = Arc::clone(&wal);
                    let flushing = db.clone();
                    checkpoint = Some(tokio::task::spawn_blocking(move || {
                        if let Err(error) = checkpointing.checkpoint(&flushing) {
                            tracing::error!(%error, "write-ahead log checkpoint failed");
                        }
                    }));
                }
            }
            if let Some(checkpoint) = checkpoint {
                let _ = checkpoint.await;
            }
        });
        GroupCommit {
            requests: Mutex::new(Some(requests)),
            task: Mutex::new(Some(task)),
            stop_zeroing: Mutex::new(Some(stop_zeroing)),
            zeroer: Mutex::new(Some(zeroer)),
        }
    }

    /// Returns once a flush that started after this call has finished.
    pub(super) async fn flush(&self) -> Result<(), StoreError> {
        let (done, finished) = oneshot::channel();
        self.flush_then(move |flushed| {
            let _ = done.send(flushed);
        });
        finished.await.map_err(|_| StoreError::Closed)?
    }

    /// Calls `then` with the outcome of a flush that starts after this call,
    /// from the flusher task (at once with [`StoreError::Closed`] when the
    /// flusher has stopped). For a thread that must not wait for the flush.
    pub(super) fn flush_then(&self, then: impl FnOnce(Result<(), StoreError>) + Send + 'static) {
        if let Err(then) = self.request(Box::new(then)) {
            then(Err(StoreError::Closed));
        }
    }

    /// Queues `waiter` for the next flush, or hands it back once stopped.
    fn request(&self, waiter: Waiter) -> Result<(), Waiter> {
        let Ok(requests) = self.requests.lock() else {
            return Err(waiter);
        };
        match requests.as_ref() {
            Some(sender) => sender.send(waiter).map_err(|refused| refused.0),
            None => Err(waiter),
        }
    }

    /// Stops the zeroer, answers the pending flushes, then stops the flusher
    /// (releasing its database handle).
    pub(super) async fn stop(&self) {
        drop_then_await(&self.stop_zeroing, &self.zeroer).await;
        drop_then_await(&self.requests, &self.task).await;
    }
}

fn flush_failed(message: String) -> StoreError {
    StoreError::Task(format!("flush failed: {message}"))
}

/// Drops the sender in `sender` (what tells `task` to stop), then waits for
/// `task`; once only, whoever calls it first.
async fn drop_then_await<Sender>(
    sender: &Mutex<Option<Sender>>,
    task: &Mutex<Option<JoinHandle<()>>>,
) {
    let sender = sender.lock().ok().and_then(|mut sender| sender.take());
    drop(sender);
    let task = task.lock().ok().and_then(|mut task| task.take());
    if let Some(task) = task {
        let _ = task.await;
    }
}
