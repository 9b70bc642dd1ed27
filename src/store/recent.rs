//! The newest feed events, kept decoded in memory and shared by every live
//! subscriber: a new event is read by each of them, so reading it from sled
//! and decoding it once per subscriber (1,000 subscribers: 1,000 reads and
//! JSON decodes of the same record) was the cost of fan-out.
//!
//! Filled by the writer, under the writer lock, right after the log record
//! that appended the events, so it is always a contiguous run of sequences
//! ending at the newest one written. Readers behind its start read sled.

use super::StoreError;
use crate::domain::FeedEvent;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

/// A feed event shared by the subscribers that read it. Its domain form is
/// decoded from the stored bytes only when asked for (a filter needs it; an
/// unfiltered replay of stored wire forms never does), and its wire form is
/// the stored one or is computed once, by the first subscriber that sends it.
#[derive(Debug)]
pub struct SharedFeedEvent {
    /// Its sequence.
    pub sequence: u64,
    /// The value sled holds, and the log that resolves it when it is a
    /// reference to the value log (read only if the event is decoded).
    stored: Option<(sled::IVec, Arc<super::wal::WriteAheadLog>)>,
    event: OnceLock<FeedEvent>,
    wire: OnceLock<Bytes>,
}

impl SharedFeedEvent {
    /// An event already decoded, whose wire form is `wire` when known.
    pub fn new(event: FeedEvent, wire: Option<Bytes>) -> SharedFeedEvent {
        SharedFeedEvent {
            sequence: event.sequence,
            stored: None,
            event: OnceLock::from(event),
            wire: wire.map_or_else(OnceLock::new, OnceLock::from),
        }
    }

    /// An event as stored (read from the value log and decoded on demand),
    /// with its stored wire form if any.
    pub(super) fn stored(
        sequence: u64,
        stored: sled::IVec,
        values: Arc<super::wal::WriteAheadLog>,
        wire: Option<Bytes>,
    ) -> Self {
        SharedFeedEvent {
            sequence,
            stored: Some((stored, values)),
            event: OnceLock::new(),
            wire: wire.map_or_else(OnceLock::new, OnceLock::from),
        }
    }

    /// The event (decoded from storage the first time).
    pub fn event(&self) -> Result<&FeedEvent, StoreError> {
        if let Some(event) = self.event.get() {
            return Ok(event);
        }
        let (stored, values) = self
            .stored
            .as_ref()
            .ok_or_else(|| StoreError::Corrupt("feed event without content".to_string()))?;
        let decoded: FeedEvent = super::decode(&values.resolve(stored.clone())?)?;
        Ok(self.event.get_or_init(|| decoded))
    }

    /// Its wire form: the stored one, or computed by `encode` the first time
    /// and shared after.
    pub fn wire_or_init(
        &self,
        encode: impl FnOnce(&FeedEvent) -> Bytes,
    ) -> Result<Bytes, StoreError> {
        if let Some(wire) = self.wire.get() {
            return Ok(wire.clone());
        }
        let encoded = encode(self.event()?);
        Ok(self.wire.get_or_init(|| encoded).clone())
    }
}

/// Events kept: at about 5 KB a record, ≈ 10 MB.
const CAPACITY: usize = 2048;

/// A bounded run of the newest feed events.
#[derive(Default)]
pub(super) struct RecentFeed {
    events: Mutex<VecDeque<Arc<SharedFeedEvent>>>,
}

impl RecentFeed {
    /// Adds events just written (in sequence order), with their wire forms
    /// when known; a gap empties the run first.
    pub(super) fn remember(&self, written: Vec<(FeedEvent, Option<Bytes>)>) {
        if written.is_empty() {
            return;
        }
        let shared: Vec<Arc<SharedFeedEvent>> = written
            .into_iter()
            .map(|(event, wire)| Arc::new(SharedFeedEvent::new(event, wire)))
            .collect();
        let Ok(mut events) = self.events.lock() else {
            return;
        };
        for event in shared {
            if events
                .back()
                .is_some_and(|last| last.sequence + 1 != event.sequence)
            {
                events.clear();
            }
            events.push_back(event);
            if events.len() > CAPACITY {
                events.pop_front();
            }
        }
    }

    /// Events with sequence > `after`, at most `limit`, when the run reaches
    /// back that far (`None`: read sled).
    pub(super) fn after(&self, after: u64, limit: usize) -> Option<Vec<Arc<SharedFeedEvent>>> {
        let events = self.events.lock().ok()?;
        let first = events.front()?.sequence;
        if after.saturating_add(1) < first {
            return None;
        }
        let skip = usize::try_from(after.saturating_add(1) - first).ok()?;
        Some(events.iter().skip(skip).take(limit).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DialogueRecord, FeedEventType};

    fn event(sequence: u64) -> FeedEvent {
        FeedEvent {
            sequence,
            event_type: FeedEventType::Created,
            record: DialogueRecord {
                id: format!("dlg-{sequence}"),
                revision: 1,
                sequence,
                event: crate::store::tests::dialogue("SG", Some(1), None)
                    .events
                    .remove(0),
                sources: Vec::new(),
                created_at_ms: 0,
                updated_at_ms: 0,
            },
            at_ms: 0,
        }
    }

    fn sequences(events: &[Arc<SharedFeedEvent>]) -> Vec<u64> {
        events.iter().map(|shared| shared.sequence).collect()
    }

    fn written(sequences: impl IntoIterator<Item = u64>) -> Vec<(FeedEvent, Option<Bytes>)> {
        sequences
            .into_iter()
            .map(|sequence| (event(sequence), None))
            .collect()
    }

    #[test]
    fn serves_a_contiguous_run_and_sends_older_readers_to_storage() {
        let recent = RecentFeed::default();
        assert!(recent.after(0, 10).is_none(), "empty: read storage");
        recent.remember(written([5, 6]));
        recent.remember(written([7]));
        assert_eq!(sequences(&recent.after(4, 10).expect("covered")), [5, 6, 7]);
        // The wire form is computed once and shared.
        let first_read = recent.after(4, 1).expect("covered");
        let second_read = recent.after(4, 1).expect("covered");
        let mut encodings = 0;
        for shared in first_read.iter().chain(&second_read) {
            let wire = shared
                .wire_or_init(|event| {
                    encodings += 1;
                    Bytes::from(event.record.id.clone())
                })
                .expect("decoded");
            assert_eq!(wire, Bytes::from("dlg-5"));
        }
        assert_eq!(encodings, 1);
        assert_eq!(sequences(&recent.after(5, 1).expect("covered")), [6]);
        assert!(recent.after(7, 10).expect("covered").is_empty());
        assert!(
            recent.after(3, 10).is_none(),
            "before the run: read storage"
        );
        // A gap starts a new run.
        recent.remember(written([9]));
        assert!(recent.after(7, 10).is_none());
        assert_eq!(sequences(&recent.after(8, 10).expect("covered")), [9]);
        // Bounded: the oldest go.
        recent.remember(written(10..10 + CAPACITY as u64));
        assert!(recent.after(8, 1).is_none());
        assert_eq!(
            sequences(&recent.after(9, 1).expect("covered")),
            [10],
            "{CAPACITY} newest kept"
        );
    }
}
