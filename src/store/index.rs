//! Secondary indexes of the dialogue records (pure key functions) and the
//! query planner of ListDialogues over them.
//!
//! Two structures answer ListDialogues:
//!
//! - Tree `dialogue_index`: `order | * | 0x00 | sort key` → nothing, one
//!   entry per record in each order, where `order` is `D` (newest event
//!   date first) or `S` (feed sequence) and the sort key ends with the
//!   record id. They are written and removed in the same log record as the
//!   record; a completion applies them to sled after it lets go of the
//!   writer lock, in log order, and a query first waits for them (see the
//!   write-ahead log's deferred changes), so it sees the records and their
//!   entries as one.
//! - **Filter tokens** in the search index's segments: for each (field,
//!   value) a record is filtered by ([`indexed_values`]: `p` partner, `k`
//!   kind, `e` edition, `n` folded participant name, `r` folded rank, `a`
//!   area, `t` topic, `d` document type, `l` relationship), an entry under
//!   the token [`filter_token`] whose payload holds the record's sequence
//!   and date sort key ([`filter_entry_payload`]). The background indexer
//!   writes them with the record's search postings, a batch of records per
//!   segment, so a completion writes two index keys, not one per value;
//!   entries of a record's older versions are skipped by the query and
//!   dropped by the search compaction.
//!
//! A query with a filter on an indexed field estimates each filter's entries
//! (from the stored size of its segments) and, when the smallest has fewer
//! than [`GATHER_CAP`], gathers that filter's entries plus the records still
//! waiting for the indexer, sorts them by the order's sort key, and reads
//! only the page's records, each verified against the whole filter and its
//! current sort key (so an entry of an older version never lists a record
//! twice or out of place). Otherwise (no such filter, or one that selects
//! many records) it scans the order's `*` entries, in the date order within
//! the date range's bounds, and verifies every record. A page token is the
//! last sort key returned plus a fingerprint of the query, so a token of
//! another query is refused.
//!
//! Why filter tokens and not per-value keys in `dialogue_index`: a new record
//! cost 22 sled inserts (42 before 2026-12-07, when the sequence order had
//! per-value keys too); at 1000 articles/s their inserts were 12.7 % of all
//! CPU samples of the end-to-end benchmark (BENCHMARKS.md). Stores written
//! before hold per-value keys of both orders, which nothing reads or writes
//! any more: the background indexer's task removes them after open, a batch
//! at a time ([`RETIRE_BATCH`]), and the search index is rebuilt once (its
//! layout changed) so that it holds the filter tokens.

use super::merge::stable_hash;
use crate::domain::{fold_key, DialogueFilter, DialogueRecord, ListOrder};
use dialogwatch_worker::record::PartialDate;

/// Index entries counted in a date range when choosing a plan.
pub const ESTIMATE_CAP: usize = 4096;

/// Old per-value entries removed per log record (see the module
/// documentation).
pub const RETIRE_BATCH: usize = 4096;

/// A query with a filter gathers and sorts the entries of its most selective
/// filter when that has fewer (estimated) than this; else it scans every
/// record in the order and verifies each. Gathering costs about 50 bytes
/// read and a sort key per entry, a scan a record read per record passed:
/// for a page of 50 out of a million records, gathering is the cheaper below
/// a few per cent of them.
pub const GATHER_CAP: usize = 16_384;

/// A query gathers only while at most this many records wait for the
/// indexer (it reads each; after an upgrade every record waits, and queries
/// scan until the indexer has caught up).
pub const PENDING_READ_CAP: usize = 1024;

/// The first character of every filter token: a control character, which
/// no search token holds (see [`super::search::tokenize`]).
const FILTER_TOKEN_MARK: char = '\u{1}';

/// The size of a filter token's segment entry with a record id of
/// `dlg-` and 16 hex digits (2 + 20 + 8 + 4 + 17 bytes), for the estimates.
pub const FILTER_ENTRY_BYTES: usize = 51;

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

/// Every key of `record` in the `dialogue_index` tree: the `*` one of each
/// order (its filter values are filter tokens, see the module documentation).
pub fn index_keys(record: &DialogueRecord) -> Vec<Vec<u8>> {
    [ListOrder::DateDesc, ListOrder::SequenceAsc]
        .into_iter()
        .map(|order| {
            let mut key = value_prefix(order_byte(order), ALL, "");
            key.extend_from_slice(&sort_key(record, order));
            key
        })
        .collect()
}

/// The search-segment token of a filter value: [`FILTER_TOKEN_MARK`], the
/// field byte, the value (without NUL bytes, which end a token in a
/// segment key).
pub fn filter_token(field: u8, value: &str) -> String {
    let mut token = String::with_capacity(2 + value.len());
    token.push(FILTER_TOKEN_MARK);
    token.push(char::from(field));
    token.extend(value.chars().filter(|character| *character != '\0'));
    token
}

/// The filter tokens of `record`: one per indexed value but `*`.
pub fn filter_tokens(record: &DialogueRecord) -> Vec<String> {
    indexed_values(record)
        .into_iter()
        .filter(|(field, _)| *field != ALL)
        .map(|(field, value)| filter_token(field, &value))
        .collect()
}

/// The payload of `record`'s filter-token entries: its sequence (u64 BE),
/// then its date sort key without the record id (1 or 9 bytes).
pub fn filter_entry_payload(record: &DialogueRecord) -> Vec<u8> {
    let date_sort = date_sort_key(record);
    let date_part = date_sort
        .get(..date_sort.len().saturating_sub(record.id.len()))
        .unwrap_or_default();
    let mut payload = Vec::with_capacity(8 + date_part.len());
    payload.extend_from_slice(&record.sequence.to_be_bytes());
    payload.extend_from_slice(date_part);
    payload
}

/// The sort key in `order` of the record version a filter-token entry
/// names (see [`filter_entry_payload`]); `None` when the payload is malformed.
pub fn filter_entry_sort_key(
    order: ListOrder,
    record_id: &[u8],
    payload: &[u8],
) -> Option<Vec<u8>> {
    let (sequence, date_part) = payload.split_first_chunk::<8>()?;
    if !matches!(
        (date_part.first(), date_part.len()),
        (Some(0), 9) | (Some(1), 1)
    ) {
        return None;
    }
    let order_part: &[u8] = match order {
        ListOrder::DateDesc => date_part,
        ListOrder::SequenceAsc => sequence,
    };
    let mut sort = Vec::with_capacity(order_part.len() + record_id.len());
    sort.extend_from_slice(order_part);
    sort.extend_from_slice(record_id);
    Some(sort)
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
            for order in [ListOrder::DateDesc, ListOrder::SequenceAsc] {
                assert_eq!(
                    filter_entry_sort_key(
                        order,
                        record.id.as_bytes(),
                        &filter_entry_payload(&record)
                    ),
                    Some(sort_key(&record, order)),
                    "a filter entry's sort key, {date:?} {order:?}"
                );
            }
            let keys = index_keys(&record);
            assert_eq!(keys.len(), 2);
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
    fn filter_tokens_are_no_search_token_and_malformed_payloads_are_refused() {
        let record = DialogueRecord {
            id: "dlg-00000000000000ab".into(),
            revision: 1,
            sequence: 9,
            event: dialogwatch_worker::record::DialogueEvent {
                edition: Some(3),
                ..sample_event()
            },
            sources: Vec::new(),
            created_at_ms: 0,
            updated_at_ms: 0,
        };
        let tokens = filter_tokens(&record);
        assert_eq!(tokens.len(), indexed_values(&record).len() - 1);
        assert!(tokens.contains(&filter_token(b'p', "JP")));
        assert!(tokens.contains(&filter_token(b'e', "3")));
        for token in &tokens {
            assert!(token.starts_with(FILTER_TOKEN_MARK));
            let searched: Vec<String> = super::super::search::tokenize(token)
                .into_iter()
                .map(|found| found.folded)
                .collect();
            assert!(!searched.contains(token), "{token:?}");
        }
        assert_eq!(filter_token(b'n', "a\0b"), filter_token(b'n', "ab"));
        let payload = filter_entry_payload(&record);
        for cut in 0..payload.len() {
            assert_eq!(
                filter_entry_sort_key(ListOrder::DateDesc, b"id", &payload[..cut]),
                None,
                "{cut}"
            );
        }
        let mut longer = payload.clone();
        longer.push(0);
        assert_eq!(
            filter_entry_sort_key(ListOrder::DateDesc, b"id", &longer),
            None
        );
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
