//! The newest feed events, kept decoded in memory and shared by every live
//! subscriber: a new event is read by each of them, so reading it from sled
//! and decoding it once per subscriber (1,000 subscribers: 1,000 reads and
//! JSON decodes of the same record) was the cost of fan-out.
//!
//! Filled by the writer, under the writer lock, right after the transaction
//! that appended the events, so it is always a contiguous run of sequences
//! ending at the newest one written. Readers behind its start read sled.

use crate::domain::FeedEvent;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

/// A feed event shared by the subscribers that read it, with a slot for its
/// wire form, filled by the first of them that sends it.
#[derive(Debug)]
pub struct SharedFeedEvent {
    /// The event.
    pub event: FeedEvent,
    wire: OnceLock<Bytes>,
}

impl SharedFeedEvent {
    /// An event whose wire form is not computed yet.
    pub fn new(event: FeedEvent) -> SharedFeedEvent {
        SharedFeedEvent {
            event,
            wire: OnceLock::new(),
        }
    }

    /// Its wire form: computed by `encode` the first time, shared after.
    pub fn wire_or_init(&self, encode: impl FnOnce(&FeedEvent) -> Bytes) -> Bytes {
        self.wire.get_or_init(|| encode(&self.event)).clone()
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
    /// Adds events just written (in sequence order); a gap empties the run first.
    pub(super) fn remember(&self, written: &[FeedEvent]) {
        if written.is_empty() {
            return;
        }
        let Ok(mut events) = self.events.lock() else {
            return;
        };
        for event in written {
            if events
                .back()
                .is_some_and(|last| last.event.sequence + 1 != event.sequence)
            {
                events.clear();
            }
            events.push_back(Arc::new(SharedFeedEvent::new(event.clone())));
            if events.len() > CAPACITY {
                events.pop_front();
            }
        }
    }

    /// Events with sequence > `after`, at most `limit`, when the run reaches
    /// back that far (`None`: read sled).
    pub(super) fn after(&self, after: u64, limit: usize) -> Option<Vec<Arc<SharedFeedEvent>>> {
        let events = self.events.lock().ok()?;
        let first = events.front()?.event.sequence;
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
        events.iter().map(|shared| shared.event.sequence).collect()
    }

    #[test]
    fn serves_a_contiguous_run_and_sends_older_readers_to_storage() {
        let recent = RecentFeed::default();
        assert!(recent.after(0, 10).is_none(), "empty: read storage");
        recent.remember(&[event(5), event(6)]);
        recent.remember(&[event(7)]);
        assert_eq!(sequences(&recent.after(4, 10).expect("covered")), [5, 6, 7]);
        // The wire form is computed once and shared.
        let first_read = recent.after(4, 1).expect("covered");
        let second_read = recent.after(4, 1).expect("covered");
        let mut encodings = 0;
        for shared in first_read.iter().chain(&second_read) {
            let wire = shared.wire_or_init(|event| {
                encodings += 1;
                Bytes::from(event.record.id.clone())
            });
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
        recent.remember(&[event(9)]);
        assert!(recent.after(7, 10).is_none());
        assert_eq!(sequences(&recent.after(8, 10).expect("covered")), [9]);
        // Bounded: the oldest go.
        let many: Vec<FeedEvent> = (10..10 + CAPACITY as u64).map(event).collect();
        recent.remember(&many);
        assert!(recent.after(8, 1).is_none());
        assert_eq!(
            sequences(&recent.after(9, 1).expect("covered")),
            [10],
            "{CAPACITY} newest kept"
        );
    }
}
