//! The dialogue record of SPEC §2: what the extractor produces, what the
//! service stores, merges and streams. Serialises to exactly the JSON form of
//! the spec (`null` for unknown values, sets as sorted arrays).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a closed set of snake_case codes with `as_str`, `FromStr`, `ALL`.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code used in JSON and in the gRPC API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(code: &str) -> Result<Self, UnknownCode> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { kind: stringify!($name), code: code.to_string() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }
    };
}

/// A code string that is not one of the values of a closed set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code {code:?}")]
pub struct UnknownCode {
    /// Which set was asked (the enum's name).
    pub kind: &'static str,
    /// The code that was given.
    pub code: String,
}

code_enum! {
    /// What kind of bilateral defence event an article reports.
    DialogueKind {
        PolicyDialogue => "policy_dialogue",
        StrategicDialogue => "strategic_dialogue",
        DefenceTalks => "defence_talks",
        CourtesyCall => "courtesy_call",
        Consultation => "consultation",
        Other => "other",
    }
}

code_enum! {
    /// The level of the bilateral relationship stated in the article.
    Relationship {
        ComprehensiveStrategicPartnership => "comprehensive_strategic_partnership",
        StrategicPartnership => "strategic_partnership",
        ComprehensivePartnership => "comprehensive_partnership",
    }
}

code_enum! {
    /// Whether a participant heads one side or attends.
    Role {
        CoChair => "co_chair",
        Participant => "participant",
    }
}

code_enum! {
    /// The type of a document signed or referenced.
    DocumentType {
        Mou => "mou",
        Minutes => "minutes",
        Agreement => "agreement",
        Plan => "plan",
        JointStatement => "joint_statement",
        LetterOfIntent => "letter_of_intent",
        Other => "other",
    }
}

code_enum! {
    /// Cooperation areas (SPEC §2 "Area codes").
    Area {
        DelegationExchange => "delegation_exchange",
        Training => "training",
        Peacekeeping => "peacekeeping",
        DefenceIndustry => "defence_industry",
        CyberSecurity => "cyber_security",
        MaritimeSecurity => "maritime_security",
        Naval => "naval",
        AirForce => "air_force",
        SearchAndRescue => "search_and_rescue",
        Hadr => "hadr",
        MilitaryMedicine => "military_medicine",
        WarLegacy => "war_legacy",
        HydrographyGeospatial => "hydrography_geospatial",
        MilitaryScience => "military_science",
        AcademicExchange => "academic_exchange",
        CounterTrafficking => "counter_trafficking",
        DigitalTransformation => "digital_transformation",
        Legal => "legal",
        CapacityBuilding => "capacity_building",
        MultilateralCooperation => "multilateral_cooperation",
        ServicesCooperation => "services_cooperation",
        MilitarySports => "military_sports",
        InformationExchange => "information_exchange",
        CoastGuard => "coast_guard",
        BorderDefence => "border_defence",
    }
}

code_enum! {
    /// Policy positions stated (SPEC §2 "Topic codes").
    Topic {
        FourNos => "four_nos",
        SouthChinaSea => "south_china_sea",
        Unclos => "unclos",
        DocCoc => "doc_coc",
        AseanCentrality => "asean_centrality",
        InternationalLaw => "international_law",
        PeacefulResolution => "peaceful_resolution",
        IndependentForeignPolicy => "independent_foreign_policy",
        Covid19 => "covid19",
    }
}

/// A date as precise as the evidence allows: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartialDate {
    /// Calendar year.
    pub year: i32,
    /// Month 1–12, when known.
    pub month: Option<u8>,
    /// Day of month, when known (only with a month).
    pub day: Option<u8>,
}

/// Why a date string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {input:?}: expected YYYY, YYYY-MM, YYYY-MM-DD or an RFC 3339 timestamp")]
pub struct InvalidDate {
    /// The text that was given.
    pub input: String,
}

impl PartialDate {
    /// A full date, checked against the calendar.
    pub fn ymd(year: i32, month: u8, day: u8) -> Option<Self> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(
            PartialDate {
                year,
                month: Some(month),
                day: Some(day),
            },
        )
    }

    /// A year and month.
    pub fn ym(year: i32, month: u8) -> Option<Self> {
        (1..=12).contains(&month).then_some(PartialDate {
            year,
            month: Some(month),
            day: None,
        })
    }

    /// A year alone.
    pub fn year(year: i32) -> Self {
        PartialDate {
            year,
            month: None,
            day: None,
        }
    }

    /// Days since 1970-01-01 of the first day this date covers (for ±1 day comparisons).
    pub fn days_from_epoch(&self) -> i64 {
        let month = i64::from(self.month.unwrap_or(1));
        let day = i64::from(self.day.unwrap_or(1));
        // Howard Hinnant's days_from_civil.
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = if year >= 0 { year } else { year - 399 } / 400;
        let year_of_era = year - era * 400;
        let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }
}

/// Number of days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(formatter, "-{month:02}")?;
            if let Some(day) = self.day {
                write!(formatter, "-{day:02}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for PartialDate {
    type Err = InvalidDate;

    /// Reads `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or an RFC 3339 timestamp (whose date part is kept).
    fn from_str(input: &str) -> Result<Self, InvalidDate> {
        let invalid = || InvalidDate {
            input: input.to_string(),
        };
        let trimmed = input.trim();
        let (date_part, time_part) = match trimmed.find(['T', 't', ' ']) {
            Some(index) => (&trimmed[..index], Some(&trimmed[index + 1..])),
            None => (trimmed, None),
        };
        if let Some(time) = time_part {
            if !is_rfc3339_time(time) {
                return Err(invalid());
            }
        }
        let pieces: Vec<&str> = date_part.split('-').collect();
        let number = |piece: &str, width: usize| -> Option<u32> {
            (piece.len() == width && piece.bytes().all(|byte| byte.is_ascii_digit()))
                .then(|| piece.parse().ok())
                .flatten()
        };
        let year = pieces
            .first()
            .and_then(|piece| number(piece, 4))
            .ok_or_else(invalid)? as i32;
        let parsed = match (pieces.len(), time_part.is_some()) {
            (1, false) => Some(PartialDate::year(year)),
            (2, false) => number(pieces[1], 2).and_then(|month| PartialDate::ym(year, month as u8)),
            (3, _) => match (number(pieces[1], 2), number(pieces[2], 2)) {
                (Some(month), Some(day)) => PartialDate::ymd(year, month as u8, day as u8),
                _ => None,
            },
            _ => None,
        };
        parsed.ok_or_else(invalid)
    }
}

/// `HH:MM:SS[.frac](Z|±HH:MM)`.
fn is_rfc3339_time(time: &str) -> bool {
    let bytes = time.as_bytes();
    let two_digits = |at: usize, max: u32| -> bool {
        bytes.len() >= at + 2
            && bytes[at].is_ascii_digit()
            && bytes[at + 1].is_ascii_digit()
            && u32::from(bytes[at] - b'0') * 10 + u32::from(bytes[at + 1] - b'0') <= max
    };
    if !(two_digits(0, 23)
        && bytes.get(2) == Some(&b':')
        && two_digits(3, 59)
        && bytes.get(5) == Some(&b':')
        && two_digits(6, 60))
    {
        return false;
    }
    let mut index = 8;
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        let start = index;
        while bytes.get(index).is_some_and(u8::is_ascii_digit) {
            index += 1;
        }
        if index == start {
            return false;
        }
    }
    match bytes.get(index) {
        Some(b'Z' | b'z') => index + 1 == bytes.len(),
        Some(b'+' | b'-') => {
            two_digits(index + 1, 23)
                && bytes.get(index + 3) == Some(&b':')
                && two_digits(index + 4, 59)
                && index + 6 == bytes.len()
        }
        _ => false,
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The partner country of an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Partner {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English short name.
    pub name_en: String,
}

/// Where an event took place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// ISO 3166-1 alpha-2 of the host country; `null` for an online event.
    pub country: Option<String>,
    /// City, as written in Vietnamese.
    pub city: Option<String>,
    /// Venue, as written.
    pub venue: Option<String>,
}

/// A person present at the event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Participant {
    /// The name as written (without rank or honorific where separable).
    pub name: String,
    /// Military rank (Đại tướng, Thượng tướng…), or `null`.
    pub rank: Option<String>,
    /// Position without the rank (and without party titles), or `null`.
    pub position: Option<String>,
    /// `VN` or the partner's code.
    pub side: String,
    /// Co-chair (head of a side) or participant.
    pub role: Role,
}

/// A document signed or referenced.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Document {
    /// What kind of document.
    #[serde(rename = "type")]
    pub document_type: DocumentType,
    /// Its title as written, when the text gives one.
    pub title: Option<String>,
    /// True only for what was signed or witnessed at this event.
    pub signed_at_event: bool,
}

/// An earlier edition of the same mechanism cited by the article.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PreviousEdition {
    /// Its edition number, when given.
    pub edition: Option<u32>,
    /// Its date, when given.
    pub date: Option<PartialDate>,
}

/// The span of cleaned text that justifies a field's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Evidence {
    /// Field name: `kind`, `partner`, `edition`, `date`, `location`, `relationship`,
    /// `participants[i]`, `documents[i]`, `areas.<code>`, `topics.<code>`, `previous`.
    pub field: String,
    /// Start, in characters (Unicode scalar values) of the cleaned text.
    pub start: usize,
    /// End (exclusive), in characters of the cleaned text.
    pub end: usize,
    /// The evidence text itself.
    pub text: String,
}

/// One bilateral defence event reported by an article.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DialogueEvent {
    /// The event the headline/lede reports.
    pub primary: bool,
    /// Kind of event.
    pub kind: DialogueKind,
    /// The one country paired with Việt Nam.
    pub partner: Partner,
    /// N of "lần thứ N", when stated for this event.
    pub edition: Option<u32>,
    /// Date as precise as the evidence allows.
    pub date: Option<PartialDate>,
    /// Where it took place.
    pub location: Location,
    /// Relationship level stated.
    pub relationship: Option<Relationship>,
    /// People present.
    pub participants: Vec<Participant>,
    /// Documents signed at or referenced by the event.
    pub documents: Vec<Document>,
    /// Cooperation areas, sorted by code.
    pub areas: Vec<Area>,
    /// Policy positions, sorted by code.
    pub topics: Vec<Topic>,
    /// An earlier edition cited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousEdition>,
    /// Evidence spans, one or more per field that has a value.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// What the extractor makes of one article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// True when the article reports at least one bilateral defence event.
    pub is_dialogue: bool,
    /// Source URL found in the text ("Nguồn …: https://…"), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// Why the article is not a dialogue (or could not be read), when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The events, the primary one first.
    pub events: Vec<DialogueEvent>,
}

impl Extraction {
    /// An extraction that found no event, with its reason.
    pub fn not_dialogue(reason: impl Into<String>) -> Self {
        Extraction {
            is_dialogue: false,
            source_url: None,
            reason: Some(reason.into()),
            events: Vec::new(),
        }
    }

    /// The primary event, when any.
    pub fn primary(&self) -> Option<&DialogueEvent> {
        self.events
            .iter()
            .find(|event| event.primary)
            .or(self.events.first())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_parse_and_print_round_trip() {
        for text in ["2023", "2023-03", "2023-03-29", "2024-02-29"] {
            let date: PartialDate = text.parse().expect(text);
            assert_eq!(date.to_string(), text);
        }
        let from_timestamp: PartialDate = "2023-10-05T08:30:00+07:00".parse().expect("rfc3339");
        assert_eq!(from_timestamp.to_string(), "2023-10-05");
        let zulu: PartialDate = "2023-10-05T08:30:00.123Z".parse().expect("rfc3339 zulu");
        assert_eq!(zulu, PartialDate::ymd(2023, 10, 5).expect("valid"));
    }

    #[test]
    fn malformed_dates_are_refused() {
        for text in [
            "",
            "23",
            "2023-13",
            "2023-02-30",
            "2023-1-5",
            "2023-10-05T25:00:00Z",
            "2023-10-05T08:30:00",
            "2023-10T08:30:00Z",
            "yesterday",
        ] {
            assert!(text.parse::<PartialDate>().is_err(), "{text:?} should fail");
        }
    }

    #[test]
    fn days_from_epoch_counts_calendar_days() {
        let epoch = PartialDate::ymd(1970, 1, 1).expect("valid");
        assert_eq!(epoch.days_from_epoch(), 0);
        let leap_day = PartialDate::ymd(2024, 2, 29).expect("valid");
        let next = PartialDate::ymd(2024, 3, 1).expect("valid");
        assert_eq!(next.days_from_epoch() - leap_day.days_from_epoch(), 1);
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_fail() {
        for area in Area::ALL {
            assert_eq!(area.as_str().parse::<Area>(), Ok(*area));
        }
        assert!("cyber".parse::<Area>().is_err());
        let json = serde_json::to_string(&DialogueKind::CourtesyCall).expect("serialise");
        assert_eq!(json, "\"courtesy_call\"");
    }
}
