//! Identity and merging of dialogue events (SPEC §1): pure functions, no storage.
//!
//! Identity: partner + kind + edition when an edition is stated; otherwise
//! partner + kind + date (a day-precise date matches ±1 day); failing both,
//! the event stands alone (keyed by its article).

use crate::domain::{ArticleId, DialogueRecord, Source};
use dialogwatch_worker::record::{DialogueEvent, PartialDate};

/// Where an event could live: the key it is filed under, and the other keys
/// that identify the same event (the neighbouring days of a dated event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The key a new record is filed under (and its id is derived from).
    pub key: String,
    /// Keys to look up before creating a record, the exact key first.
    pub candidates: Vec<String>,
}

/// The identity of `event` reported by `article`.
pub fn identity(event: &DialogueEvent, article: ArticleId) -> Identity {
    let stem = format!("{}|{}", event.partner.code, event.kind.as_str());
    if let Some(edition) = event.edition {
        let key = format!("{stem}|edition:{edition}");
        return Identity {
            candidates: vec![key.clone()],
            key,
        };
    }
    if let Some(date) = event.date.filter(|date| date.day.is_some()) {
        let key = format!("{stem}|day:{date}");
        let mut candidates = vec![key.clone()];
        let day = date.days_from_epoch();
        for neighbour in [day - 1, day + 1] {
            if let Some(neighbour_date) = date_from_days(neighbour) {
                candidates.push(format!("{stem}|day:{neighbour_date}"));
            }
        }
        return Identity { key, candidates };
    }
    let key = format!("{stem}|article:{}", article.0);
    Identity {
        candidates: vec![key.clone()],
        key,
    }
}

/// The calendar date of a day count since 1970-01-01.
fn date_from_days(days: i64) -> Option<PartialDate> {
    // Howard Hinnant's civil_from_days.
    let shifted = days + 719_468;
    let era = if shifted >= 0 {
        shifted
    } else {
        shifted - 146_096
    } / 146_097;
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    PartialDate::ymd(
        i32::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
}

/// A stable 64-bit FNV-1a hash (the same in every process and version).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The record id for an identity key.
pub fn record_id(identity_key: &str) -> String {
    format!("dlg-{:016x}", stable_hash(identity_key.as_bytes()))
}

/// A new record for an event first reported by `source`.
pub fn new_record(
    id: String,
    event: &DialogueEvent,
    source: Source,
    sequence: u64,
    now_ms: u64,
) -> DialogueRecord {
    DialogueRecord {
        id,
        revision: 1,
        sequence,
        event: event.clone(),
        sources: vec![source],
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
    }
}

fn folded_name(name: &str) -> String {
    dialogwatch_worker::normalize::normalize(name).to_lowercase()
}

/// Merges another report of the same event into `record`: adds the source,
/// fills what the record lacks, unions sets. Returns true when anything changed
/// (the caller then bumps the revision and appends an UPDATED event).
pub fn merge_into(record: &mut DialogueRecord, event: &DialogueEvent, source: Source) -> bool {
    let before = record.clone();
    if !record
        .sources
        .iter()
        .any(|known| known.article_id == source.article_id)
    {
        record.sources.push(source);
        record.sources.sort_by_key(|known| known.article_id);
    }
    let merged = &mut record.event;
    if merged.edition.is_none() {
        merged.edition = event.edition;
    }
    merged.date = more_precise(merged.date, event.date);
    if merged.location.country.is_none() {
        merged.location.country.clone_from(&event.location.country);
    }
    if merged.location.city.is_none() {
        merged.location.city.clone_from(&event.location.city);
    }
    if merged.location.venue.is_none() {
        merged.location.venue.clone_from(&event.location.venue);
    }
    if merged.relationship.is_none() {
        merged.relationship = event.relationship;
    }
    if merged.previous.is_none() {
        merged.previous.clone_from(&event.previous);
    }
    for person in &event.participants {
        let name = folded_name(&person.name);
        match merged
            .participants
            .iter_mut()
            .find(|known| folded_name(&known.name) == name)
        {
            Some(known) => {
                if known.rank.is_none() {
                    known.rank.clone_from(&person.rank);
                }
                if known.position.is_none() {
                    known.position.clone_from(&person.position);
                }
            }
            None => merged.participants.push(person.clone()),
        }
    }
    for document in &event.documents {
        if !merged.documents.contains(document) {
            merged.documents.push(document.clone());
        }
    }
    for area in &event.areas {
        if !merged.areas.contains(area) {
            merged.areas.push(*area);
        }
    }
    merged.areas.sort_by_key(|area| area.as_str());
    for topic in &event.topics {
        if !merged.topics.contains(topic) {
            merged.topics.push(*topic);
        }
    }
    merged.topics.sort_by_key(|topic| topic.as_str());
    *record != before
}

/// The more precise of two dates when they agree on what both state; the
/// first otherwise (a conflict is not resolved by the later report).
fn more_precise(current: Option<PartialDate>, other: Option<PartialDate>) -> Option<PartialDate> {
    match (current, other) {
        (None, other) => other,
        (Some(current), None) => Some(current),
        (Some(current), Some(other)) => {
            let agrees = current.year == other.year
                && (current.month.is_none() || current.month == other.month)
                && (current.day.is_none() || current.day == other.day);
            let more = (other.month.is_some() && current.month.is_none())
                || (other.day.is_some() && current.day.is_none());
            Some(if agrees && more { other } else { current })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialogwatch_worker::record::{Area, DialogueKind, Location, Partner};

    fn event(edition: Option<u32>, date: Option<&str>) -> DialogueEvent {
        DialogueEvent {
            primary: true,
            kind: DialogueKind::PolicyDialogue,
            partner: Partner {
                code: "SG".into(),
                name_vi: "Singapore".into(),
                name_en: "Singapore".into(),
            },
            edition,
            date: date.map(|text| text.parse().expect("date")),
            location: Location::default(),
            relationship: None,
            participants: Vec::new(),
            documents: Vec::new(),
            areas: Vec::new(),
            topics: Vec::new(),
            previous: None,
            evidence: Vec::new(),
        }
    }

    fn source(article: u64) -> Source {
        Source {
            article_id: ArticleId(article),
            url: None,
            outlet: None,
            published_at: None,
        }
    }

    #[test]
    fn identity_prefers_edition_then_day_then_article() {
        assert_eq!(
            identity(&event(Some(14), Some("2023-10-05")), ArticleId(1)).key,
            "SG|policy_dialogue|edition:14"
        );
        let dated = identity(&event(None, Some("2023-03-01")), ArticleId(1));
        assert_eq!(dated.key, "SG|policy_dialogue|day:2023-03-01");
        assert!(dated
            .candidates
            .contains(&"SG|policy_dialogue|day:2023-02-28".to_string()));
        assert!(dated
            .candidates
            .contains(&"SG|policy_dialogue|day:2023-03-02".to_string()));
        assert_eq!(
            identity(&event(None, Some("2023")), ArticleId(7)).key,
            "SG|policy_dialogue|article:7"
        );
    }

    #[test]
    fn record_ids_are_stable() {
        assert_eq!(
            record_id("SG|policy_dialogue|edition:14"),
            record_id("SG|policy_dialogue|edition:14")
        );
        assert_ne!(
            record_id("SG|policy_dialogue|edition:14"),
            record_id("SG|policy_dialogue|edition:15")
        );
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn a_second_report_fills_gaps_and_a_repeat_changes_nothing() {
        let mut record = new_record("dlg-x".into(), &event(Some(14), None), source(1), 1, 0);
        let mut richer = event(Some(14), Some("2023-10-05"));
        richer.areas = vec![Area::Training];
        assert!(merge_into(&mut record, &richer, source(2)));
        assert_eq!(
            record.event.date.map(|date| date.to_string()).as_deref(),
            Some("2023-10-05")
        );
        assert_eq!(record.sources.len(), 2);
        assert_eq!(record.event.areas, vec![Area::Training]);
        assert!(
            !merge_into(&mut record, &richer, source(2)),
            "same report again"
        );
    }

    #[test]
    fn conflicting_dates_keep_the_first() {
        let first: PartialDate = "2023-10-05".parse().expect("date");
        let other: PartialDate = "2023-11".parse().expect("date");
        assert_eq!(more_precise(Some(first), Some(other)), Some(first));
        let year: PartialDate = "2023".parse().expect("date");
        assert_eq!(more_precise(Some(year), Some(first)), Some(first));
    }

    #[test]
    fn days_convert_back_to_dates() {
        for text in ["1970-01-01", "2024-02-29", "2023-12-31", "1999-03-01"] {
            let date: PartialDate = text.parse().expect("date");
            assert_eq!(date_from_days(date.days_from_epoch()), Some(date));
        }
    }
}
