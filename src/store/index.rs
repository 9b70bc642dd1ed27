//! Secondary indexes of the dialogue records (pure key functions) and the
//! query planner of ListDialogues over them.
//!
//! Tree `dialogue_index`: `order | field | value | 0x00 | sort key` → nothing
//! (stores written before 2026-12-03 hold the record id as the value; it is
//! never read: the id is the sort key's tail), where `order` is `D` (newest
//! event date first) or `S` (feed sequence), `field` one byte (`*` every
//! record, `p` partner, `k` kind, `e` edition, `n` folded participant name,
//! `r` folded rank, `a` area, `t` topic, `d` document type, `l`
//! relationship) and the sort key ends with the record id. The date order
//! has an entry per (field, value) of a record; the sequence order only
//! the `*` one. Entries are
//! written and removed in the same log record as the record; a completion
//! applies them to sled after it lets go of the writer lock, in log order,
//! and a query first waits for them (see the write-ahead log's deferred
//! changes), so it sees the records and their entries as one.
//!
//! A query in the date order scans the most selective indexed filter (fewest
//! entries, counted up to a cap) in sort order, merging the ranges of its
//! values, and verifies the other filters on each record. A query in the
//! sequence order with a filter gathers the records of its most selective
//! filter from the date order's entries when they are fewer than
//! [`GATHER_CAP`], and sorts the matches by sequence; otherwise (a filter
//! that selects many records) it scans the sequence order's `*` entries and
//! verifies every record. A page token is the last sort key returned plus a
//! fingerprint of the query, so a token of another query is refused.
//!
//! Why the sequence order has no per-field entries: a record's sequence
//! changes with every update, so each update rewrote all of them, and a new
//! record cost 42 sled inserts, not 22 (in the end-to-end benchmark, the
//! entries' inserts were 19 % of all CPU samples, and at 1000 articles/s
//! the p99 went from about 400 ms to 150 ms without them; BENCHMARKS.md).
//! Stores written before hold sequence-order field entries, which nothing
//! reads or writes any more: the background indexer's task removes them
//! after open, a batch at a time ([`RETIRE_BATCH`]).

use super::merge::stable_hash;
use crate::domain::{fold_key, DialogueFilter, DialogueRecord, ListOrder};
use dialogwatch_worker::record::PartialDate;

/// Index entries counted per filter value when choosing a plan.
pub const ESTIMATE_CAP: usize = 4096;

/// Old sequence-order field entries removed per log record (see the module
/// documentation).
pub const RETIRE_BATCH: usize = 4096;

/// A sequence-order query with a filter gathers and sorts the records of its
/// most selective filter when that has fewer entries than this (each is a
/// record read); else it scans every record in sequence order.
pub const GATHER_CAP: usize = 4096;

/// Field byte of "every record".
pub const ALL: u8 = b'*';

/// The order byte of an order.
pub fn order_byte(order: ListOrder) -> u8 {
    match order {
        ListOrder::DateDesc => b'D',
        ListOrder::SequenceAsc => b'S',
    }
}

/// Sort key of a record for the date order: dated records newest first
/// (the less precise of two equal prefixes last), then undated; then by id.
pub fn date_sort_key(record: &DialogueRecord) -> Vec<u8> {
    let mut key = Vec::with_capacity(9 + record.id.len());
    match record.event.date {
        Some(date) => {
            key.push(0);
            key.extend_from_slice(&(u64::MAX - date_rank(date, false)).to_be_bytes());
        }
        None => key.push(1),
    }
    key.extend_from_slice(record.id.as_bytes());
    key
}

/// `days << 2 | precision` of a date (of its last covered day when `last`),
/// the quantity the date order sorts by, descending.
fn date_rank(date: PartialDate, last: bool) -> u64 {
    let days = if last {
        last_day(date)
    } else {
        date.days_from_epoch()
    };
    let days = days.clamp(-(1 << 40), 1 << 40) + (1 << 41);
    let precision = if last {
        3
    } else {
        u64::from(date.month.is_some()) + u64::from(date.day.is_some())
    };
    (u64::try_from(days).unwrap_or(0) << 2) | precision
}

/// The last day (since the epoch) a partial date covers.
fn last_day(date: PartialDate) -> i64 {
    match (date.month, date.day) {
        (Some(_), Some(_)) => date.days_from_epoch(),
        (Some(month), None) => {
            date.days_from_epoch()
                + i64::from(dialogwatch_worker::record::days_in_month(date.year, month))
                - 1
        }
        _ => PartialDate::ymd(date.year, 12, 31).map_or(0, |end| end.days_from_epoch()),
    }
}

/// Sort key of a record for the sequence order.
pub fn sequence_sort_key(record: &DialogueRecord) -> Vec<u8> {
    let mut key = record.sequence.to_be_bytes().to_vec();
    key.extend_from_slice(record.id.as_bytes());
    key
}

/// The sort key of `record` in `order`.
pub fn sort_key(record: &DialogueRecord, order: ListOrder) -> Vec<u8> {
    match order {
        ListOrder::DateDesc => date_sort_key(record),
        ListOrder::SequenceAsc => sequence_sort_key(record),
    }
}

/// The record id at the end of a sort key of `order` (see [`date_sort_key`]
/// and [`sequence_sort_key`]); `None` when `sort` is too short to hold one.
pub fn record_id_in_sort_key(order: ListOrder, sort: &[u8]) -> Option<&[u8]> {
    let id_from = match order {
        ListOrder::DateDesc => match sort.first()? {
            0 => 9,
            _ => 1,
        },
        ListOrder::SequenceAsc => 8,
    };
    sort.get(id_from..).filter(|id| !id.is_empty())
}

/// `order | field | value | 0x00`: the prefix of one filter value's entries.
pub fn value_prefix(order: u8, field: u8, value: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(3 + value.len());
    key.push(order);
    key.push(field);
    key.extend(value.bytes().filter(|byte| *byte != 0));
    key.push(0);
    key
}

/// Every (field, value) a record is indexed under.
pub fn indexed_values(record: &DialogueRecord) -> Vec<(u8, String)> {
    let event = &record.event;
    let mut values = vec![
        (ALL, String::new()),
        (b'p', event.partner.code.clone()),
        (b'k', event.kind.as_str().to_string()),
    ];
    if let Some(edition) = event.edition {
        values.push((b'e', edition.to_string()));
    }
    for person in &event.participants {
        values.push((b'n', fold_key(&person.name)));
        if let Some(rank) = &person.rank {
            values.push((b'r', fold_key(rank)));
        }
    }
    values.extend(
        event
            .areas
            .iter()
            .map(|area| (b'a', area.as_str().to_string())),
    );
    values.extend(
        event
            .topics
            .iter()
            .map(|topic| (b't', topic.as_str().to_string())),
    );
    values.extend(
        event
            .documents
            .iter()
            .map(|document| (b'd', document.document_type.as_str().to_string())),
    );
    if let Some(relationship) = event.relationship {
        values.push((b'l', relationship.as_str().to_string()));
    }
    values.sort();
    values.dedup();
    values
}

/// Every key of `record` in the `dialogue_index` tree: one per indexed
/// value in the date order, and the `*` one in the sequence order.
pub fn index_keys(record: &DialogueRecord) -> Vec<Vec<u8>> {
    let values = indexed_values(record);
    let mut keys = Vec::with_capacity(values.len() + 1);
    let date_sort = sort_key(record, ListOrder::DateDesc);
    for (field, value) in &values {
        let mut key = value_prefix(order_byte(ListOrder::DateDesc), *field, value);
        key.extend_from_slice(&date_sort);
        keys.push(key);
    }
    let mut every_record = value_prefix(order_byte(ListOrder::SequenceAsc), ALL, "");
    every_record.extend_from_slice(&sort_key(record, ListOrder::SequenceAsc));
    keys.push(every_record);
    keys
}

/// The (field, values) a filter can be answered from, one per set filter.
pub fn filter_fields(filter: &DialogueFilter) -> Vec<(u8, Vec<String>)> {
    let mut fields = Vec::new();
    let mut push = |field: u8, values: Vec<String>| {
        if !values.is_empty() {
            fields.push((field, values));
        }
    };
    push(b'p', filter.partners.clone());
    push(
        b'k',
        filter
            .kinds
            .iter()
            .map(|kind| kind.as_str().to_string())
            .collect(),
    );
    push(
        b'e',
        filter.edition.iter().map(ToString::to_string).collect(),
    );
    push(b'n', filter.participants.clone());
    push(b'r', filter.ranks.clone());
    push(
        b'a',
        filter
            .areas
            .iter()
            .map(|area| area.as_str().to_string())
            .collect(),
    );
    push(
        b't',
        filter
            .topics
            .iter()
            .map(|topic| topic.as_str().to_string())
            .collect(),
    );
    push(
        b'd',
        filter
            .document_types
            .iter()
            .map(|document| document.as_str().to_string())
            .collect(),
    );
    push(
        b'l',
        filter
            .relationships
            .iter()
            .map(|relationship| relationship.as_str().to_string())
            .collect(),
    );
    fields
}

/// The sort-key bounds, in the date order, of the records a date range can
/// match: a superset (every match is inside; the filter is verified after).
pub fn date_range_bounds(filter: &DialogueFilter) -> (Vec<u8>, Vec<u8>) {
    // Later dates have smaller keys. Upper event-date bound → smallest key.
    let start = match filter.date_to {
        Some(to) => {
            let mut key = vec![0];
            key.extend_from_slice(&(u64::MAX - date_rank(to, true)).to_be_bytes());
            key
        }
        None => vec![0],
    };
    let end = match filter.date_from {
        Some(from) => {
            // A year-precise record of from's year still matches: bound at 1 January.
            let first = PartialDate::year(from.year);
            let rank = date_rank(first, false) & !3;
            let mut key = vec![0];
            key.extend_from_slice(&(u64::MAX - rank).to_be_bytes());
            key.push(0xff);
            key
        }
        None => vec![1],
    };
    (start, end)
}

/// A fingerprint of a query (filter and order), carried in its page tokens.
pub fn fingerprint(filter: &DialogueFilter, order: ListOrder, what: &str) -> u64 {
    let text = format!("{what}|{order:?}|{filter:?}");
    stable_hash(text.as_bytes())
}

/// Encodes a page token: fingerprint, then the cursor bytes, as hex.
pub fn encode_token(fingerprint: u64, cursor: &[u8]) -> String {
    fingerprint
        .to_be_bytes()
        .iter()
        .chain(cursor)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Decodes a page token issued for the query with `fingerprint`.
pub fn decode_token(token: &str, fingerprint: u64) -> Option<Vec<u8>> {
    if token.len() < 18 || token.len() % 2 != 0 || token.len() > 2048 {
        return None;
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|index| {
            token
                .get(index..index + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    let (issued, cursor) = bytes.split_at(8);
    (issued == fingerprint.to_be_bytes()).then(|| cursor.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_another_query_are_refused() {
        let token = encode_token(42, b"cursor");
        assert_eq!(decode_token(&token, 42).as_deref(), Some(&b"cursor"[..]));
        assert_eq!(decode_token(&token, 43), None);
        for bad in ["", "zz", "00", "not-a-token!"] {
            assert_eq!(decode_token(bad, 42), None, "{bad}");
        }
    }

    #[test]
    fn every_index_key_ends_with_a_sort_key_that_names_its_record() {
        for (date, sequence) in [(None, 1), (Some("2023"), 7), (Some("2023-06-10"), u64::MAX)] {
            let record = DialogueRecord {
                id: "dlg-00000000000000ab".into(),
                revision: 1,
                sequence,
                event: dialogwatch_worker::record::DialogueEvent {
                    date: date.map(|text| text.parse().expect("date")),
                    ..sample_event()
                },
                sources: Vec::new(),
                created_at_ms: 0,
                updated_at_ms: 0,
            };
            for order in [ListOrder::DateDesc, ListOrder::SequenceAsc] {
                let sort = sort_key(&record, order);
                assert_eq!(
                    record_id_in_sort_key(order, &sort),
                    Some(record.id.as_bytes()),
                    "{date:?} {order:?}"
                );
                assert_eq!(record_id_in_sort_key(order, &sort[..sort.len() - 20]), None);
            }
            let keys = index_keys(&record);
            assert_eq!(keys.len(), indexed_values(&record).len() + 1);
            for key in keys {
                let order = if key[0] == b'D' {
                    ListOrder::DateDesc
                } else {
                    ListOrder::SequenceAsc
                };
                let after_value = key
                    .iter()
                    .skip(2)
                    .position(|byte| *byte == 0)
                    .expect("0x00")
                    + 3;
                let id = record_id_in_sort_key(order, &key[after_value..]);
                assert_eq!(id, Some(record.id.as_bytes()), "{key:?}");
            }
        }
    }

    #[test]
    fn the_date_range_bounds_contain_what_the_filter_matches() {
        let filter = DialogueFilter {
            date_from: Some("2023-05".parse().expect("date")),
            date_to: Some("2023-06-10".parse().expect("date")),
            ..DialogueFilter::default()
        };
        let (start, end) = date_range_bounds(&filter);
        for (date, inside) in [
            ("2023", true),
            ("2023-05", true),
            ("2023-06-10", true),
            ("2023-05-01", true),
            ("2023-06-11", false),
            ("2022-12-31", false),
        ] {
            let record = DialogueRecord {
                id: "dlg-0".into(),
                revision: 1,
                sequence: 1,
                event: dialogwatch_worker::record::DialogueEvent {
                    date: Some(date.parse().expect("date")),
                    ..sample_event()
                },
                sources: Vec::new(),
                created_at_ms: 0,
                updated_at_ms: 0,
            };
            let key = date_sort_key(&record);
            let within = key.as_slice() >= start.as_slice() && key.as_slice() < end.as_slice();
            if inside {
                assert!(within, "{date} must be scanned");
            }
            assert_eq!(filter.matches(&record), inside, "{date}");
        }
    }

    fn sample_event() -> dialogwatch_worker::record::DialogueEvent {
        dialogwatch_worker::record::DialogueEvent {
            primary: true,
            kind: dialogwatch_worker::record::DialogueKind::DefenceTalks,
            partner: dialogwatch_worker::record::Partner {
                code: "JP".into(),
                name_vi: "Nhật Bản".into(),
                name_en: "Japan".into(),
            },
            edition: None,
            date: None,
            location: dialogwatch_worker::record::Location::default(),
            relationship: None,
            participants: Vec::new(),
            documents: Vec::new(),
            areas: Vec::new(),
            topics: Vec::new(),
            previous: None,
            evidence: Vec::new(),
        }
    }
}
