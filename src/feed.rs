//! Feed subscriptions. The feed log in sled is the source of truth: each
//! subscriber has a producer task that reads its backlog from storage by
//! sequence, then waits on a watch of the newest durable sequence and reads
//! again — so there is no gap and no duplicate at the backlog/live seam, and a
//! slow subscriber only slows itself (its bounded channel fills, its task
//! waits; nothing is dropped, nothing is buffered for it elsewhere).

use crate::domain::{DialogueFilter, FeedEvent};
use crate::error::ApiError;
use crate::metrics::{Metrics, SubscriberCursor};
use crate::proto;
use crate::store::Store;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Events sent to one subscriber's stream.
pub type SubscriptionStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<proto::FeedEvent, tonic::Status>> + Send>>;

/// Feed events read from storage per round trip.
const READ_BATCH: usize = 256;
/// Events buffered per subscriber before its producer waits.
const CHANNEL_CAPACITY: usize = 64;
/// How long a stream's final UNAVAILABLE waits for room in a full channel.
const SHUTDOWN_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts and tracks subscriber tasks; ends them all on shutdown.
#[derive(Clone)]
pub struct FeedSubscriptions {
    store: Store,
    slots: Arc<Semaphore>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    metrics: Arc<Metrics>,
}

impl FeedSubscriptions {
    /// At most `max_subscribers` concurrent subscriptions.
    pub fn new(
        store: Store,
        max_subscribers: usize,
        shutdown: CancellationToken,
        metrics: Arc<Metrics>,
    ) -> Self {
        FeedSubscriptions {
            store,
            slots: Arc::new(Semaphore::new(max_subscribers)),
            shutdown,
            tasks: TaskTracker::new(),
            metrics,
        }
    }

    /// Subscribers connected now.
    pub fn active(&self) -> usize {
        self.tasks.len()
    }

    /// Streams every event with a sequence after `after` that passes `filter`.
    pub fn subscribe(
        &self,
        after: u64,
        filter: DialogueFilter,
    ) -> Result<SubscriptionStream, ApiError> {
        let permit = Arc::clone(&self.slots).try_acquire_owned().map_err(|_| {
            ApiError::too_large("subscribers", "the server's subscriber limit is reached")
        })?;
        let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
        let store = self.store.clone();
        let shutdown = self.shutdown.clone();
        let cursor = self.metrics.register_subscriber(after);
        self.tasks.spawn(async move {
            let _permit = permit;
            produce(store, after, filter, sender, shutdown, cursor).await;
        });
        Ok(Box::pin(ReceiverStream::new(receiver)))
    }

    /// Waits for every subscriber task to end (after the shutdown token fired).
    pub async fn wait_closed(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// One subscriber's producer: backlog, then live, until the client leaves or shutdown.
async fn produce(
    store: Store,
    after: u64,
    filter: DialogueFilter,
    sender: mpsc::Sender<Result<proto::FeedEvent, tonic::Status>>,
    shutdown: CancellationToken,
    reported: SubscriberCursor,
) {
    let mut head_watch = store.watch_feed_head();
    let mut cursor = after;
    loop {
        let head = *head_watch.borrow_and_update();
        while cursor < head {
            let batch = tokio::select! {
                batch = store.read_feed_shared(cursor, READ_BATCH) => batch,
                () = shutdown.cancelled() => return end_for_shutdown(&sender, cursor).await,
            };
            let events = match batch {
                Ok(events) => events,
                Err(error) => {
                    let status: tonic::Status = ApiError::from(error).into();
                    let _ = sender.send(Err(status)).await;
                    return;
                }
            };
            // Only what is durable: the log may already hold events whose flush is pending.
            let durable: Vec<_> = events
                .into_iter()
                .take_while(|event| event.sequence <= head)
                .collect();
            let Some(last) = durable.last() else {
                break;
            };
            let last_sequence = last.sequence;
            for event in durable {
                if !filter.matches(&event.record) {
                    continue;
                }
                let sequence = event.sequence;
                let sent = tokio::select! {
                    sent = sender.send(Ok(proto::FeedEvent::from(FeedEvent::clone(&event)))) => sent,
                    () = shutdown.cancelled() => return end_for_shutdown(&sender, cursor).await,
                };
                if sent.is_err() {
                    return; // the client left
                }
                cursor = sequence;
                reported.set(cursor);
            }
            cursor = last_sequence;
            reported.set(cursor);
        }
        tokio::select! {
            changed = head_watch.changed() => {
                if changed.is_err() {
                    return end_for_shutdown(&sender, cursor).await;
                }
            }
            () = sender.closed() => return,
            () = shutdown.cancelled() => return end_for_shutdown(&sender, cursor).await,
        }
    }
}

/// Ends a stream with UNAVAILABLE so the client reconnects from its sequence.
async fn end_for_shutdown(
    sender: &mpsc::Sender<Result<proto::FeedEvent, tonic::Status>>,
    cursor: u64,
) {
    let status = tonic::Status::unavailable(format!(
        "server shutting down; resume with from_sequence={cursor}"
    ));
    let _ = tokio::time::timeout(SHUTDOWN_SEND_TIMEOUT, sender.send(Err(status))).await;
}
