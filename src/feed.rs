//! Feed subscriptions. The feed log in sled is the source of truth: each
//! subscriber has a producer task that reads its backlog from storage by
//! sequence, then waits on a watch of the newest durable sequence and reads
//! again — so there is no gap and no duplicate at the backlog/live seam, and a
//! slow subscriber only slows itself (its bounded channel fills, its task
//! waits; nothing is dropped, nothing is buffered for it elsewhere).
//!
//! Live subscribers share the newest events (decoded once, in the store) and
//! their wire form: each event is converted and encoded once, by the first
//! subscriber that sends it, and streamed to the others as the same bytes
//! ([`EncodedFeedEvent`]).

use crate::domain::{DialogueFilter, FeedEvent};
use crate::error::ApiError;
use crate::metrics::{Metrics, SubscriberCursor};
use crate::proto;
use crate::store::{SharedFeedEvent, Store};
use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Events sent to one subscriber's stream.
pub type SubscriptionStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<EncodedFeedEvent, tonic::Status>> + Send>>;

/// A `dialogwatch.v1.FeedEvent` message already encoded: what `WatchDialogues`
/// streams, so an event is encoded once however many subscribers get it
/// (cloning it clones a reference-counted buffer).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EncodedFeedEvent {
    encoded: Bytes,
}

impl EncodedFeedEvent {
    /// The wire form of `event`.
    pub fn encode(event: &FeedEvent) -> EncodedFeedEvent {
        EncodedFeedEvent {
            encoded: proto::FeedEvent::from(event.clone()).encode_to_vec().into(),
        }
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.encoded
    }
}

/// The encoder the store keeps feed events' wire forms with
/// ([`Store::encode_feed_with`]).
pub fn wire_encoder() -> crate::store::FeedWireEncoder {
    Arc::new(|event: &FeedEvent| proto::FeedEvent::from(event.clone()).encode_to_vec())
}

impl std::fmt::Debug for EncodedFeedEvent {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "EncodedFeedEvent({} bytes)", self.encoded.len())
    }
}

impl Message for EncodedFeedEvent {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.encoded);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        // Only ever sent by the server, never decoded by it.
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.encoded.len()
    }

    fn clear(&mut self) {
        self.encoded = Bytes::new();
    }
}

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
    sender: mpsc::Sender<Result<EncodedFeedEvent, tonic::Status>>,
    shutdown: CancellationToken,
    reported: SubscriberCursor,
) {
    // No filter: events are sent as stored, never decoded.
    let filter = (filter != DialogueFilter::default()).then_some(filter);
    let mut head_watch = store.watch_feed_head();
    let mut cursor = after;
    loop {
        let head = *head_watch.borrow_and_update();
        while cursor < head {
            let batch = tokio::select! {
                batch = store.read_feed_shared(cursor, READ_BATCH, filter.is_some()) => batch,
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
                .take_while(|shared| shared.sequence <= head)
                .collect();
            let Some(last) = durable.last() else {
                break;
            };
            let last_sequence = last.sequence;
            for shared in durable {
                let sequence = shared.sequence;
                let encoded = match wire_if_it_passes(&shared, filter.as_ref()) {
                    Ok(Some(encoded)) => encoded,
                    Ok(None) => continue,
                    Err(error) => {
                        let status: tonic::Status = ApiError::from(error).into();
                        let _ = sender.send(Err(status)).await;
                        return;
                    }
                };
                let sent = tokio::select! {
                    sent = sender.send(Ok(encoded)) => sent,
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

/// The wire form of `shared` when it passes `filter` (decoded only for a filter).
fn wire_if_it_passes(
    shared: &SharedFeedEvent,
    filter: Option<&DialogueFilter>,
) -> Result<Option<EncodedFeedEvent>, crate::store::StoreError> {
    if let Some(filter) = filter {
        if !filter.matches(&shared.event()?.record) {
            return Ok(None);
        }
    }
    let encoded = shared.wire_or_init(|event| EncodedFeedEvent::encode(event).encoded)?;
    Ok(Some(EncodedFeedEvent { encoded }))
}

/// Ends a stream with UNAVAILABLE so the client reconnects from its sequence.
async fn end_for_shutdown(
    sender: &mpsc::Sender<Result<EncodedFeedEvent, tonic::Status>>,
    cursor: u64,
) {
    let status = tonic::Status::unavailable(format!(
        "server shutting down; resume with from_sequence={cursor}"
    ));
    let _ = tokio::time::timeout(SHUTDOWN_SEND_TIMEOUT, sender.send(Err(status))).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DialogueRecord, FeedEventType};
    use dialogwatch_worker::record::{DialogueEvent, DialogueKind, Location, Partner};

    #[test]
    fn an_encoded_feed_event_is_the_message_a_client_decodes() {
        let event = FeedEvent {
            sequence: 42,
            event_type: FeedEventType::Updated,
            record: DialogueRecord {
                id: "dlg-7".into(),
                revision: 2,
                sequence: 42,
                event: DialogueEvent {
                    primary: true,
                    kind: DialogueKind::PolicyDialogue,
                    partner: Partner {
                        code: "SG".into(),
                        name_vi: "Singapore".into(),
                        name_en: "Singapore".into(),
                    },
                    edition: Some(14),
                    date: Some("2023-10-05".parse().expect("date")),
                    location: Location::default(),
                    relationship: None,
                    participants: Vec::new(),
                    documents: Vec::new(),
                    areas: Vec::new(),
                    topics: Vec::new(),
                    previous: None,
                    evidence: Vec::new(),
                },
                sources: Vec::new(),
                created_at_ms: 1,
                updated_at_ms: 2,
            },
            at_ms: 3,
        };
        let encoded = EncodedFeedEvent::encode(&event);
        // Framed by tonic the same way: its own encoding is the bytes verbatim.
        assert_eq!(encoded.encode_to_vec(), encoded.as_bytes());
        assert_eq!(encoded.encoded_len(), encoded.as_bytes().len());
        let decoded = proto::FeedEvent::decode(encoded.as_bytes()).expect("a FeedEvent");
        assert_eq!(decoded, proto::FeedEvent::from(event));
    }
}
