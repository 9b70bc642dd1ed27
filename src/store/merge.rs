//! Identity and merging of dialogue events (SPEC §1): pure functions, no storage.
//!
//! Identity: partner + kind + edition when an edition is stated (two sessions
//! of one edition far apart in time and place stay apart, see [`fit`]);
//! otherwise partner + kind + date (a day-precise date matches ±1 day);
//! failing both, the event stands alone (keyed by its article). A record's id
//! is derived from the identity key it was first filed under ([`identity`],
//! [`record_id`]) and never changes.
//!
//! Merging: a record is recomputed from *all* its reports by [`combine`], so
//! its content is a function of the set of reports, not of their order.

use crate::domain::{ArticleId, Source};
use dialogwatch_worker::record::{
    Area, DialogueEvent, Document, DocumentType, Location, PartialDate, Participant, Topic,
};
use serde::{Deserialize, Serialize};

/// Where an event could live: the key it is filed under, and the other keys
/// that identify the same event (the neighbouring days of a dated event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The key a new record is filed under (and its id is derived from).
    pub key: String,
    /// Keys to look up before creating a record, the exact key first.
    pub candidates: Vec<String>,
}

/// The identity of `event` reported by `article`: the key a new record is
/// filed under and named after. A day-precise date comes first (outlets agree
/// on the day far more often than they all state the edition, so the id does
/// not depend on which report came first), then the edition, then the article.
pub fn identity(event: &DialogueEvent, article: ArticleId) -> Identity {
    let stem = stem(event);
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
    if let Some(edition) = event.edition {
        let key = format!("{stem}|edition:{edition}");
        return Identity {
            candidates: vec![key.clone()],
            key,
        };
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

/// One article's report of one event: the unit records are recomputed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The article (its URL, outlet and publication date as stored).
    pub source: Source,
    /// Which event of the article's extraction (0 for the first).
    pub index: u32,
    /// The event as extracted.
    pub event: DialogueEvent,
}

/// The identity stem of an event: partner and kind (events of different
/// partners or kinds never merge).
pub fn stem(event: &DialogueEvent) -> String {
    format!("{}|{}", event.partner.code, event.kind.as_str())
}

/// The day number of a day-precise date.
pub fn day_of(date: Option<PartialDate>) -> Option<i64> {
    date.filter(|date| date.day.is_some())
        .map(|date| date.days_from_epoch())
}

/// Sessions of one edition further apart than this (in days), held in
/// different countries, are different events.
pub const SESSION_SPLIT_DAYS: i64 = 30;

/// How well `event` fits a record whose merged event is `record`: `None`
/// when they are different events, otherwise a rank (lower fits better).
///
/// Same partner and kind are required. Two stated editions must be equal; an
/// equal edition is the same event unless the two dates are more than
/// [`SESSION_SPLIT_DAYS`] apart and the two host countries differ (two
/// sessions of one edition). Without an edition on both sides, the dates must
/// be day-precise and at most one day apart.
pub fn fit(record: &DialogueEvent, event: &DialogueEvent) -> Option<i64> {
    if record.partner.code != event.partner.code || record.kind != event.kind {
        return None;
    }
    let distance = match (day_of(record.date), day_of(event.date)) {
        (Some(left), Some(right)) => Some((left - right).abs()),
        _ => None,
    };
    match (record.edition, event.edition) {
        (Some(left), Some(right)) if left != right => None,
        (Some(_), Some(_)) => {
            let countries_differ = matches!(
                (&record.location.country, &event.location.country),
                (Some(left), Some(right)) if left != right
            );
            let far = distance.is_some_and(|days| days > SESSION_SPLIT_DAYS);
            if far && countries_differ {
                None
            } else {
                Some(distance.unwrap_or(2).min(SESSION_SPLIT_DAYS * 10))
            }
        }
        _ => match distance {
            Some(days) if days <= 1 => Some(1000 + days),
            _ => None,
        },
    }
}

/// How much a report states: used to settle ties ("the most specific source").
fn specificity(event: &DialogueEvent) -> usize {
    let date_precision = event.date.map_or(0, |date| {
        1 + usize::from(date.month.is_some()) + usize::from(date.day.is_some())
    });
    usize::from(event.edition.is_some()) * 2
        + date_precision
        + usize::from(event.location.country.is_some())
        + usize::from(event.location.city.is_some())
        + usize::from(event.location.venue.is_some())
        + usize::from(event.relationship.is_some())
        + usize::from(event.previous.is_some())
        + event
            .participants
            .iter()
            .map(|person| {
                1 + usize::from(person.rank.is_some()) + usize::from(person.position.is_some())
            })
            .sum::<usize>()
        + event.documents.len()
        + event.areas.len()
        + event.topics.len()
}

/// The value most reports give; a tie goes to the value of the best-ranked
/// report (`rank` 0 is the most specific source). `None` when no report gives one.
fn vote<T: PartialEq + Clone>(values: impl IntoIterator<Item = (usize, T)>) -> Option<T> {
    let mut tally: Vec<(T, usize, usize)> = Vec::new();
    for (rank, value) in values {
        match tally.iter_mut().find(|(known, _, _)| *known == value) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 = entry.2.min(rank);
            }
            None => tally.push((value, 1, rank)),
        }
    }
    tally
        .into_iter()
        .min_by(|left, right| right.1.cmp(&left.1).then(left.2.cmp(&right.2)))
        .map(|(value, _, _)| value)
}

/// True when two dates agree on the precision both have.
fn dates_agree(left: PartialDate, right: PartialDate) -> bool {
    left.year == right.year
        && (left.month.is_none() || right.month.is_none() || left.month == right.month)
        && (left.month.is_none()
            || right.month.is_none()
            || left.day.is_none()
            || right.day.is_none()
            || left.day == right.day)
}

/// The date most reports agree with (a less precise date agreeing with a
/// more precise one supports it); ties go to the more precise date, then to
/// the best-ranked report.
fn merged_date(ranked: &[&Report]) -> Option<PartialDate> {
    let dates: Vec<(usize, PartialDate)> = ranked
        .iter()
        .enumerate()
        .filter_map(|(rank, report)| report.event.date.map(|date| (rank, date)))
        .collect();
    dates
        .iter()
        .map(|(rank, candidate)| {
            let support = dates
                .iter()
                .filter(|(_, other)| dates_agree(*candidate, *other))
                .count();
            let precision =
                usize::from(candidate.month.is_some()) + usize::from(candidate.day.is_some());
            (support, precision, *rank, *candidate)
        })
        .min_by(|left, right| {
            right
                .0
                .cmp(&left.0)
                .then(right.1.cmp(&left.1))
                .then(left.2.cmp(&right.2))
        })
        .map(|(_, _, _, date)| date)
}

fn folded_name(name: &str) -> String {
    crate::domain::fold_key(name)
}

/// The merged event and the sorted sources of every report of one event: a
/// pure function of the *set* of reports (their order does not matter).
///
/// Each field is settled by majority over the reports that state it, a tie
/// by the most specific report (the one stating most), then by the lowest
/// article id; what one report lacks another fills. People are matched by
/// their folded name; sets (areas, topics, documents) are unions. The
/// event's evidence is that of the most specific report; every source keeps
/// its own evidence. `None` for no reports.
pub fn combine(reports: &[Report]) -> Option<(DialogueEvent, Vec<Source>)> {
    let mut ranked: Vec<&Report> = reports.iter().collect();
    ranked.sort_by(|left, right| {
        specificity(&right.event)
            .cmp(&specificity(&left.event))
            .then(left.source.article_id.cmp(&right.source.article_id))
            .then(left.index.cmp(&right.index))
    });
    ranked.dedup_by(|right, left| {
        left.source.article_id == right.source.article_id && left.index == right.index
    });
    let best = *ranked.first()?;
    let each = |pick: &dyn Fn(&DialogueEvent) -> Option<_>| {
        ranked
            .iter()
            .enumerate()
            .filter_map(|(rank, report)| pick(&report.event).map(|value| (rank, value)))
            .collect::<Vec<_>>()
    };
    let kind = vote(each(&|event| Some(event.kind))).unwrap_or(best.event.kind);
    let partner = vote(
        ranked
            .iter()
            .enumerate()
            .map(|(rank, report)| (rank, report.event.partner.clone())),
    )
    .unwrap_or_else(|| best.event.partner.clone());
    let edition = vote(
        ranked
            .iter()
            .enumerate()
            .filter_map(|(rank, report)| report.event.edition.map(|edition| (rank, edition))),
    );
    let country = vote(ranked.iter().enumerate().filter_map(|(rank, report)| {
        report
            .event
            .location
            .country
            .clone()
            .map(|value| (rank, value))
    }));
    let city = vote(ranked.iter().enumerate().filter_map(|(rank, report)| {
        report
            .event
            .location
            .city
            .clone()
            .map(|value| (rank, value))
    }));
    let venue = vote(ranked.iter().enumerate().filter_map(|(rank, report)| {
        report
            .event
            .location
            .venue
            .clone()
            .map(|value| (rank, value))
    }));
    let relationship = vote(
        ranked
            .iter()
            .enumerate()
            .filter_map(|(rank, report)| report.event.relationship.map(|value| (rank, value))),
    );
    let previous = vote(
        ranked
            .iter()
            .enumerate()
            .filter_map(|(rank, report)| report.event.previous.clone().map(|value| (rank, value))),
    );

    // People, in the order the best-ranked reports name them. Each name is
    // folded once (folding is a normalisation: most of a merge's CPU).
    let folded_names: Vec<Vec<String>> = ranked
        .iter()
        .map(|report| {
            report
                .event
                .participants
                .iter()
                .map(|person| folded_name(&person.name))
                .collect()
        })
        .collect();
    let mut names: Vec<&str> = Vec::new();
    for key in folded_names.iter().flatten() {
        if !names.contains(&key.as_str()) {
            names.push(key);
        }
    }
    let participants =
        names
            .iter()
            .filter_map(|key| {
                let mentions: Vec<(usize, &Participant)> = ranked
                    .iter()
                    .zip(&folded_names)
                    .enumerate()
                    .flat_map(|(rank, (report, folded))| {
                        report
                            .event
                            .participants
                            .iter()
                            .zip(folded)
                            .filter(|(_, folded)| folded.as_str() == *key)
                            .map(move |(person, _)| (rank, person))
                    })
                    .collect();
                let name = vote(
                    mentions
                        .iter()
                        .map(|(rank, person)| (*rank, person.name.clone())),
                )?;
                Some(Participant {
                    name,
                    rank: vote(mentions.iter().filter_map(|(rank, person)| {
                        person.rank.clone().map(|value| (*rank, value))
                    })),
                    position: vote(mentions.iter().filter_map(|(rank, person)| {
                        person.position.clone().map(|value| (*rank, value))
                    })),
                    side: vote(
                        mentions
                            .iter()
                            .map(|(rank, person)| (*rank, person.side.clone())),
                    )?,
                    role: vote(mentions.iter().map(|(rank, person)| (*rank, person.role)))?,
                })
            })
            .collect();

    // Documents: one per (type, folded title), each title folded once.
    let folded_titles: Vec<Vec<String>> = ranked
        .iter()
        .map(|report| {
            report
                .event
                .documents
                .iter()
                .map(|document| folded_name(document.title.as_deref().unwrap_or_default()))
                .collect()
        })
        .collect();
    let mut document_keys: Vec<(DocumentType, String)> = Vec::new();
    for (report, folded) in ranked.iter().zip(&folded_titles) {
        for (document, title) in report.event.documents.iter().zip(folded) {
            let key = (document.document_type, title.clone());
            if !document_keys.contains(&key) {
                document_keys.push(key);
            }
        }
    }
    document_keys.sort();
    let documents = document_keys
        .iter()
        .filter_map(|(document_type, title_key)| {
            let mentions: Vec<(usize, &Document)> = ranked
                .iter()
                .zip(&folded_titles)
                .enumerate()
                .flat_map(|(rank, (report, folded))| {
                    report
                        .event
                        .documents
                        .iter()
                        .zip(folded)
                        .filter(|(document, title)| {
                            document.document_type == *document_type && *title == title_key
                        })
                        .map(move |(document, _)| (rank, document))
                })
                .collect();
            Some(Document {
                document_type: *document_type,
                title: vote(
                    mentions
                        .iter()
                        .map(|(rank, document)| (*rank, document.title.clone())),
                )?,
                signed_at_event: vote(
                    mentions
                        .iter()
                        .map(|(rank, document)| (*rank, document.signed_at_event)),
                )?,
            })
        })
        .collect();

    let mut areas: Vec<Area> = ranked
        .iter()
        .flat_map(|report| report.event.areas.iter().copied())
        .collect();
    areas.sort_by_key(|area| area.as_str());
    areas.dedup();
    let mut topics: Vec<Topic> = ranked
        .iter()
        .flat_map(|report| report.event.topics.iter().copied())
        .collect();
    topics.sort_by_key(|topic| topic.as_str());
    topics.dedup();

    let event = DialogueEvent {
        primary: ranked.iter().any(|report| report.event.primary),
        kind,
        partner,
        edition,
        date: merged_date(&ranked),
        location: Location {
            country,
            city,
            venue,
        },
        relationship,
        participants,
        documents,
        areas,
        topics,
        previous,
        evidence: best.event.evidence.clone(),
    };

    let mut by_article: Vec<&Report> = ranked.clone();
    by_article.sort_by_key(|report| (report.source.article_id, report.index));
    let mut sources: Vec<Source> = Vec::new();
    for report in by_article {
        match sources.last_mut() {
            Some(last) if last.article_id == report.source.article_id => {
                last.evidence.extend(report.event.evidence.iter().cloned());
            }
            _ => sources.push(Source {
                evidence: report.event.evidence.clone(),
                ..report.source.clone()
            }),
        }
    }
    Some((event, sources))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialogwatch_worker::record::{DialogueKind, Partner, Role};
    use proptest::prelude::*;

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

    fn report(article: u64, event: DialogueEvent) -> Report {
        Report {
            source: Source {
                article_id: ArticleId(article),
                url: Some(format!("https://outlet{article}.vn/a")),
                outlet: Some(format!("outlet {article}")),
                published_at: None,
                evidence: Vec::new(),
            },
            index: 0,
            event,
        }
    }

    fn person(name: &str, rank: Option<&str>) -> Participant {
        Participant {
            name: name.into(),
            rank: rank.map(str::to_string),
            position: None,
            side: "VN".into(),
            role: Role::CoChair,
        }
    }

    #[test]
    fn identity_prefers_day_then_edition_then_article() {
        assert_eq!(
            identity(&event(Some(14), Some("2023-10-05")), ArticleId(1)).key,
            "SG|policy_dialogue|day:2023-10-05"
        );
        assert_eq!(
            identity(&event(Some(14), Some("2023-10")), ArticleId(1)).key,
            "SG|policy_dialogue|edition:14"
        );
        let dated = identity(&event(None, Some("2023-03-01")), ArticleId(1));
        assert_eq!(dated.key, "SG|policy_dialogue|day:2023-03-01");
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
    fn different_events_do_not_fit() {
        // The 4th and the 5th dialogue.
        assert!(fit(
            &event(Some(4), Some("2023-10-05")),
            &event(Some(5), Some("2023-10-05"))
        )
        .is_none());
        // Talks and a courtesy call on the same day.
        let mut call = event(None, Some("2023-10-05"));
        call.kind = DialogueKind::CourtesyCall;
        assert!(fit(&event(None, Some("2023-10-05")), &call).is_none());
        // Two sessions of one edition, months apart, in two countries.
        let mut hanoi = event(Some(3), Some("2023-03-10"));
        hanoi.location.country = Some("VN".into());
        let mut singapore = event(Some(3), Some("2023-09-20"));
        singapore.location.country = Some("SG".into());
        assert!(fit(&hanoi, &singapore).is_none());
        // The same edition reported a day apart, or without a place, is one event.
        assert!(fit(&hanoi, &event(Some(3), Some("2023-03-11"))).is_some());
        assert!(fit(&hanoi, &event(None, Some("2023-03-11"))).is_some());
        assert!(fit(&hanoi, &event(None, Some("2023-03-13"))).is_none());
    }

    #[test]
    fn a_merge_fills_gaps_and_settles_conflicts_by_majority() {
        let mut first = event(Some(14), Some("2023-10"));
        first.participants = vec![person("Hoàng Xuân Chiến", None)];
        let mut second = event(None, Some("2023-10-05"));
        second.location.city = Some("Hà Nội".into());
        second.participants = vec![person("Hoàng Xuân  Chiến", Some("Thượng tướng"))];
        second.areas = vec![Area::Training];
        let mut third = event(Some(14), Some("2023-10-05"));
        third.location.city = Some("Singapore".into());
        let mut fourth = event(Some(14), Some("2023-10-05"));
        fourth.location.city = Some("Hà Nội".into());
        let (merged, sources) = combine(&[
            report(1, first),
            report(2, second),
            report(3, third),
            report(4, fourth),
        ])
        .expect("merged");
        assert_eq!(
            merged.edition,
            Some(14),
            "filled from the reports that give it"
        );
        assert_eq!(
            merged.date.map(|date| date.to_string()).as_deref(),
            Some("2023-10-05")
        );
        assert_eq!(
            merged.location.city.as_deref(),
            Some("Hà Nội"),
            "two against one"
        );
        assert_eq!(merged.participants.len(), 1, "one person, two spellings");
        assert_eq!(merged.participants[0].rank.as_deref(), Some("Thượng tướng"));
        assert_eq!(merged.areas, vec![Area::Training]);
        let ids: Vec<u64> = sources.iter().map(|source| source.article_id.0).collect();
        assert_eq!(ids, [1, 2, 3, 4]);
    }

    #[test]
    fn a_tie_goes_to_the_most_specific_source() {
        let mut vague = event(None, Some("2023"));
        vague.location.city = Some("Singapore".into());
        let mut specific = event(Some(2), Some("2023-10-05"));
        specific.location.city = Some("Hà Nội".into());
        specific.location.country = Some("VN".into());
        let (merged, _) =
            combine(&[report(1, vague.clone()), report(2, specific.clone())]).expect("merged");
        assert_eq!(merged.location.city.as_deref(), Some("Hà Nội"));
        let (swapped, _) = combine(&[report(2, specific), report(1, vague)]).expect("merged");
        assert_eq!(swapped, merged);
    }

    fn arbitrary_event() -> impl Strategy<Value = DialogueEvent> {
        (
            proptest::option::of(13u32..16),
            proptest::option::of(prop_oneof![
                Just("2023-10-05"),
                Just("2023-10-06"),
                Just("2023-10"),
                Just("2023")
            ]),
            proptest::option::of(prop_oneof![Just("Hà Nội"), Just("Singapore")]),
            proptest::option::of(prop_oneof![Just("Thượng tướng"), Just("Trung tướng")]),
            proptest::collection::vec(prop_oneof![Just(Area::Training), Just(Area::Naval)], 0..2),
            any::<bool>(),
        )
            .prop_map(|(edition, date, city, rank, areas, with_person)| {
                let mut event = event(edition, date);
                event.location.city = city.map(str::to_string);
                if with_person {
                    event.participants = vec![person("Hoàng Xuân Chiến", rank)];
                }
                event.areas = areas;
                event.areas.sort_by_key(|area| area.as_str());
                event.areas.dedup();
                event
            })
    }

    proptest! {
        #[test]
        fn the_merged_record_does_not_depend_on_report_order(
            events in proptest::collection::vec(arbitrary_event(), 1..6),
            shuffle_seed in any::<u64>(),
        ) {
            let reports: Vec<Report> = events
                .into_iter()
                .enumerate()
                .map(|(index, event)| report(index as u64 + 1, event))
                .collect();
            let expected = combine(&reports);
            // Every rotation and the reversal, plus a seeded shuffle.
            let mut orders: Vec<Vec<Report>> = (0..reports.len())
                .map(|shift| {
                    let mut rotated = reports.clone();
                    rotated.rotate_left(shift);
                    rotated
                })
                .collect();
            let mut reversed = reports.clone();
            reversed.reverse();
            orders.push(reversed);
            let mut shuffled = reports.clone();
            let mut state = shuffle_seed | 1;
            for index in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(index, (state % (index as u64 + 1)) as usize);
            }
            orders.push(shuffled);
            for order in orders {
                prop_assert_eq!(&combine(&order), &expected);
            }
        }
    }

    #[test]
    fn days_convert_back_to_dates() {
        for text in ["1970-01-01", "2024-02-29", "2023-12-31", "1999-03-01"] {
            let date: PartialDate = text.parse().expect("date");
            assert_eq!(date_from_days(date.days_from_epoch()), Some(date));
        }
    }
}
