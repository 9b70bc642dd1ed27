//! Conversion at the edge: `TryFrom<proto::X>` into domain types (validating
//! every field, naming the offending one), `From<domain>` into proto messages.

use crate::domain::{
    fold_key, ArticleState, ArticleStatus, DialogueFilter, DialogueRecord, FeedEvent,
    FeedEventType, LeasedArticle, ListOrder, NewArticle, ReindexOutcome, SearchHit, Source,
    StatsRow,
};
use crate::error::ApiError;
use crate::proto;
use dialogwatch_worker::record::{
    Area, DialogueEvent, DialogueKind, Document, DocumentType, Evidence, Extraction, Location,
    PartialDate, Participant, Partner, PreviousEdition, Relationship, Role, Topic,
};

/// Longest request id, URL, outlet or title accepted (bytes).
pub const MAX_SHORT_FIELD_BYTES: usize = 2048;

/// Milliseconds since the epoch as a protobuf timestamp.
pub fn timestamp(millis: u64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: i64::try_from(millis / 1000).unwrap_or(i64::MAX),
        nanos: i32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
    }
}

/// Validates an optional short text field: trimmed, `None` when blank.
fn short_field(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(text) = value else {
        return Ok(None);
    };
    if text.len() > MAX_SHORT_FIELD_BYTES {
        return Err(ApiError::too_large(
            field,
            format!("{} bytes, limit {MAX_SHORT_FIELD_BYTES}", text.len()),
        ));
    }
    let trimmed = text.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_string()))
}

/// Parses an absolute http(s) URL.
pub fn parse_url(field: &str, text: &str) -> Result<String, ApiError> {
    let parsed = url::Url::parse(text.trim())
        .map_err(|error| ApiError::invalid(field, format!("not an absolute URL: {error}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::invalid(
            field,
            "must be an http or https URL with a host",
        ));
    }
    Ok(parsed.to_string())
}

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or RFC 3339.
pub fn parse_date(field: &str, text: &str) -> Result<PartialDate, ApiError> {
    text.parse::<PartialDate>()
        .map_err(|error| ApiError::invalid(field, error.to_string()))
}

fn optional_date(field: &str, value: Option<String>) -> Result<Option<PartialDate>, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_date(field, text).map(Some),
    }
}

/// A request as the client types build it, in the form the server decodes
/// (the same message; the body's UTF-8 is checked on conversion): for
/// in-process callers of the handlers' conversion.
impl From<proto::SubmitArticleRequest> for proto::unvalidated::SubmitArticleRequest {
    fn from(request: proto::SubmitArticleRequest) -> Self {
        use proto::article_content::Body;
        use proto::unvalidated::article_content::Body as BodyBytes;
        proto::unvalidated::SubmitArticleRequest {
            request_id: request.request_id,
            article: request
                .article
                .map(|article| proto::unvalidated::ArticleContent {
                    body: article.body.map(|body| match body {
                        Body::Text(text) => BodyBytes::Text(text.into_bytes()),
                        Body::Html(html) => BodyBytes::Html(html.into_bytes()),
                        Body::TextBytes(bytes) => BodyBytes::TextBytes(bytes),
                        Body::HtmlBytes(bytes) => BodyBytes::HtmlBytes(bytes),
                    }),
                    url: article.url,
                    outlet: article.outlet,
                    published_at: article.published_at,
                    title: article.title,
                }),
        }
    }
}

impl TryFrom<proto::unvalidated::SubmitArticleRequest> for NewArticle {
    type Error = ApiError;

    fn try_from(request: proto::unvalidated::SubmitArticleRequest) -> Result<Self, ApiError> {
        use proto::unvalidated::article_content::Body;
        let request_id = short_field("request_id", Some(request.request_id))?;
        let article = request
            .article
            .ok_or_else(|| ApiError::invalid("article", "required"))?;
        let (body_field, bytes, is_html) = match article.body {
            None => {
                return Err(ApiError::invalid(
                    "article.body",
                    "one of text, html, text_bytes, html_bytes is required",
                ))
            }
            Some(Body::Text(bytes)) => ("article.text", bytes, false),
            Some(Body::Html(bytes)) => ("article.html", bytes, true),
            Some(Body::TextBytes(bytes)) => ("article.text_bytes", bytes, false),
            Some(Body::HtmlBytes(bytes)) => ("article.html_bytes", bytes, true),
        };
        let content = utf8(body_field, bytes)?;
        if content.trim().is_empty() {
            return Err(ApiError::invalid(body_field, "empty or whitespace-only"));
        }
        let url = match short_field("article.url", article.url)? {
            Some(text) => Some(parse_url("article.url", &text)?),
            None => None,
        };
        Ok(NewArticle {
            request_id,
            content,
            is_html,
            url,
            outlet: short_field("article.outlet", article.outlet)?,
            published_at: optional_date("article.published_at", article.published_at)?,
            title: short_field("article.title", article.title)?,
        })
    }
}

/// `bytes` as a `String`, or `INVALID_ARGUMENT` on `field` naming the first
/// byte that is not UTF-8. The check is simdutf8's (SIMD): an article body is
/// most of a submission's bytes, and `str::from_utf8` took a fifth of a bulk
/// submission's CPU on Vietnamese text (most of its letters are 2 or 3 bytes).
fn utf8(field: &str, bytes: Vec<u8>) -> Result<String, ApiError> {
    match simdutf8::compat::from_utf8(&bytes) {
        // SAFETY: `bytes` was just checked to be valid UTF-8.
        Ok(_) => Ok(unsafe { String::from_utf8_unchecked(bytes) }),
        Err(error) => Err(ApiError::invalid(
            field,
            format!("invalid UTF-8 at byte {}", error.valid_up_to()),
        )),
    }
}

impl TryFrom<proto::DialogueFilter> for DialogueFilter {
    type Error = ApiError;

    fn try_from(filter: proto::DialogueFilter) -> Result<Self, ApiError> {
        let mut partners = Vec::with_capacity(filter.partners.len());
        for code in filter.partners {
            let upper = code.trim().to_ascii_uppercase();
            if upper.len() != 2 || !upper.bytes().all(|byte| byte.is_ascii_uppercase()) {
                return Err(ApiError::invalid(
                    "filter.partners",
                    format!("{code:?} is not an ISO 3166-1 alpha-2 code"),
                ));
            }
            partners.push(upper);
        }
        let mut kinds = Vec::with_capacity(filter.kinds.len());
        for raw_kind in filter.kinds {
            let kind = proto::DialogueKind::try_from(raw_kind)
                .ok()
                .and_then(kind_from_proto)
                .ok_or_else(|| {
                    ApiError::invalid("filter.kinds", format!("unknown dialogue kind {raw_kind}"))
                })?;
            kinds.push(kind);
        }
        let date_from = optional_date("filter.date_from", filter.date_from)?;
        let date_to = optional_date("filter.date_to", filter.date_to)?;
        if let (Some(from), Some(to)) = (date_from, date_to) {
            if from.days_from_epoch() > to.days_from_epoch() {
                return Err(ApiError::invalid(
                    "filter.date_to",
                    "before filter.date_from",
                ));
            }
        }
        let names = |field: &str, values: Vec<String>| -> Result<Vec<String>, ApiError> {
            values
                .into_iter()
                .map(|value| {
                    if value.len() > MAX_SHORT_FIELD_BYTES {
                        return Err(ApiError::too_large(field, "value too long"));
                    }
                    let folded = fold_key(&value);
                    if folded.is_empty() {
                        return Err(ApiError::invalid(field, "empty value"));
                    }
                    Ok(folded)
                })
                .collect()
        };
        let mut document_types = Vec::with_capacity(filter.document_types.len());
        for raw in filter.document_types {
            let document_type = proto::DocumentType::try_from(raw)
                .ok()
                .and_then(document_type_from_proto)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "filter.document_types",
                        format!("unknown document type {raw}"),
                    )
                })?;
            document_types.push(document_type);
        }
        Ok(DialogueFilter {
            partners,
            kinds,
            date_from,
            date_to,
            edition: filter.edition,
            participants: names("filter.participants", filter.participants)?,
            ranks: names("filter.ranks", filter.ranks)?,
            areas: codes("filter.areas", filter.areas)?,
            topics: codes("filter.topics", filter.topics)?,
            document_types,
            relationships: codes("filter.relationships", filter.relationships)?,
        })
    }
}

/// Parses SPEC §2 codes of one closed set, naming `field` on an unknown one.
fn codes<T>(field: &str, values: Vec<String>) -> Result<Vec<T>, ApiError>
where
    T: std::str::FromStr<Err = dialogwatch_worker::record::UnknownCode>,
{
    values
        .into_iter()
        .map(|value| {
            value
                .trim()
                .to_ascii_lowercase()
                .parse::<T>()
                .map_err(|error| ApiError::invalid(field, error.to_string()))
        })
        .collect()
}

/// Parses ListDialogues' `order_by`: "" / "date desc" or "sequence" / "sequence asc".
pub fn parse_order(order_by: &str) -> Result<ListOrder, ApiError> {
    let words: Vec<String> = order_by
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["date", "desc"] | ["date"] => Ok(ListOrder::DateDesc),
        ["sequence"] | ["sequence", "asc"] => Ok(ListOrder::SequenceAsc),
        _ => Err(ApiError::invalid(
            "order_by",
            format!("{order_by:?}: expected \"date desc\" or \"sequence\""),
        )),
    }
}

impl From<SearchHit> for proto::SearchHit {
    fn from(hit: SearchHit) -> Self {
        proto::SearchHit {
            dialogue: Some(hit.record.into()),
            score: hit.score,
            snippets: hit
                .snippets
                .into_iter()
                .map(|snippet| proto::Snippet {
                    article_id: snippet.article_id.map(|id| id.to_string()),
                    text: snippet.text,
                })
                .collect(),
        }
    }
}

impl From<StatsRow> for proto::StatsRow {
    fn from(row: StatsRow) -> Self {
        proto::StatsRow {
            partner: row.partner,
            year: row.year,
            kind: kind_to_proto(row.kind) as i32,
            count: row.count,
        }
    }
}

impl From<ReindexOutcome> for proto::ReindexResponse {
    fn from(outcome: ReindexOutcome) -> Self {
        proto::ReindexResponse {
            articles: outcome.articles,
            created: outcome.created,
            updated: outcome.updated,
            unchanged: outcome.unchanged,
            removed: outcome.removed,
            feed_head: 0,
        }
    }
}

fn evidence_to_proto(evidence: Evidence) -> proto::Evidence {
    proto::Evidence {
        field: evidence.field,
        start: evidence.start as u64,
        end: evidence.end as u64,
        text: evidence.text,
    }
}

fn evidence_from_proto(evidence: proto::Evidence) -> Evidence {
    Evidence {
        field: evidence.field,
        start: usize::try_from(evidence.start).unwrap_or(usize::MAX),
        end: usize::try_from(evidence.end).unwrap_or(usize::MAX),
        text: evidence.text,
    }
}

/// The domain kind of a proto kind (`None` for UNSPECIFIED).
pub fn kind_from_proto(kind: proto::DialogueKind) -> Option<DialogueKind> {
    match kind {
        proto::DialogueKind::Unspecified => None,
        proto::DialogueKind::PolicyDialogue => Some(DialogueKind::PolicyDialogue),
        proto::DialogueKind::StrategicDialogue => Some(DialogueKind::StrategicDialogue),
        proto::DialogueKind::DefenceTalks => Some(DialogueKind::DefenceTalks),
        proto::DialogueKind::CourtesyCall => Some(DialogueKind::CourtesyCall),
        proto::DialogueKind::Consultation => Some(DialogueKind::Consultation),
        proto::DialogueKind::Other => Some(DialogueKind::Other),
    }
}

/// The proto kind of a domain kind.
pub fn kind_to_proto(kind: DialogueKind) -> proto::DialogueKind {
    match kind {
        DialogueKind::PolicyDialogue => proto::DialogueKind::PolicyDialogue,
        DialogueKind::StrategicDialogue => proto::DialogueKind::StrategicDialogue,
        DialogueKind::DefenceTalks => proto::DialogueKind::DefenceTalks,
        DialogueKind::CourtesyCall => proto::DialogueKind::CourtesyCall,
        DialogueKind::Consultation => proto::DialogueKind::Consultation,
        DialogueKind::Other => proto::DialogueKind::Other,
    }
}

fn document_type_to_proto(document_type: DocumentType) -> proto::DocumentType {
    match document_type {
        DocumentType::Mou => proto::DocumentType::Mou,
        DocumentType::Minutes => proto::DocumentType::Minutes,
        DocumentType::Agreement => proto::DocumentType::Agreement,
        DocumentType::Plan => proto::DocumentType::Plan,
        DocumentType::JointStatement => proto::DocumentType::JointStatement,
        DocumentType::LetterOfIntent => proto::DocumentType::LetterOfIntent,
        DocumentType::Other => proto::DocumentType::Other,
    }
}

fn document_type_from_proto(document_type: proto::DocumentType) -> Option<DocumentType> {
    match document_type {
        proto::DocumentType::Unspecified => None,
        proto::DocumentType::Mou => Some(DocumentType::Mou),
        proto::DocumentType::Minutes => Some(DocumentType::Minutes),
        proto::DocumentType::Agreement => Some(DocumentType::Agreement),
        proto::DocumentType::Plan => Some(DocumentType::Plan),
        proto::DocumentType::JointStatement => Some(DocumentType::JointStatement),
        proto::DocumentType::LetterOfIntent => Some(DocumentType::LetterOfIntent),
        proto::DocumentType::Other => Some(DocumentType::Other),
    }
}

impl From<DialogueEvent> for proto::DialogueEvent {
    fn from(event: DialogueEvent) -> Self {
        proto::DialogueEvent {
            primary: event.primary,
            kind: kind_to_proto(event.kind) as i32,
            partner: Some(proto::Partner {
                code: event.partner.code,
                name_vi: event.partner.name_vi,
                name_en: event.partner.name_en,
            }),
            edition: event.edition,
            date: event.date.map(|date| date.to_string()),
            location: Some(proto::Location {
                country: event.location.country,
                city: event.location.city,
                venue: event.location.venue,
            }),
            relationship: event.relationship.map(|level| level.as_str().to_string()),
            participants: event
                .participants
                .into_iter()
                .map(|person| proto::Participant {
                    name: person.name,
                    rank: person.rank,
                    position: person.position,
                    side: person.side,
                    role: match person.role {
                        Role::CoChair => proto::ParticipantRole::CoChair,
                        Role::Participant => proto::ParticipantRole::Participant,
                    } as i32,
                })
                .collect(),
            documents: event
                .documents
                .into_iter()
                .map(|document| proto::Document {
                    r#type: document_type_to_proto(document.document_type) as i32,
                    title: document.title,
                    signed_at_event: document.signed_at_event,
                })
                .collect(),
            areas: event
                .areas
                .iter()
                .map(|area| area.as_str().to_string())
                .collect(),
            topics: event
                .topics
                .iter()
                .map(|topic| topic.as_str().to_string())
                .collect(),
            previous: event.previous.map(|previous| proto::PreviousEdition {
                edition: previous.edition,
                date: previous.date.map(|date| date.to_string()),
            }),
            evidence: event
                .evidence
                .into_iter()
                .map(|evidence| proto::Evidence {
                    field: evidence.field,
                    start: evidence.start as u64,
                    end: evidence.end as u64,
                    text: evidence.text,
                })
                .collect(),
        }
    }
}

impl From<Extraction> for proto::Extraction {
    fn from(extraction: Extraction) -> Self {
        proto::Extraction {
            is_dialogue: extraction.is_dialogue,
            source_url: extraction.source_url,
            reason: extraction.reason,
            events: extraction.events.into_iter().map(Into::into).collect(),
        }
    }
}

/// Converts a worker-sent event, naming the field path of any bad value.
fn event_from_proto(index: usize, event: proto::DialogueEvent) -> Result<DialogueEvent, ApiError> {
    let path = format!("extraction.events[{index}]");
    let kind = proto::DialogueKind::try_from(event.kind)
        .ok()
        .and_then(kind_from_proto)
        .ok_or_else(|| ApiError::invalid(format!("{path}.kind"), "unknown or unspecified kind"))?;
    let partner = event
        .partner
        .filter(|partner| !partner.code.trim().is_empty())
        .ok_or_else(|| ApiError::invalid(format!("{path}.partner"), "required"))?;
    let date = match event.date {
        Some(text) => Some(parse_date(&format!("{path}.date"), &text)?),
        None => None,
    };
    let relationship = match event.relationship {
        Some(code) => Some(code.parse::<Relationship>().map_err(|error| {
            ApiError::invalid(format!("{path}.relationship"), error.to_string())
        })?),
        None => None,
    };
    let mut participants = Vec::with_capacity(event.participants.len());
    for (person_index, person) in event.participants.into_iter().enumerate() {
        let role = match proto::ParticipantRole::try_from(person.role) {
            Ok(proto::ParticipantRole::CoChair) => Role::CoChair,
            Ok(proto::ParticipantRole::Participant) => Role::Participant,
            _ => {
                return Err(ApiError::invalid(
                    format!("{path}.participants[{person_index}].role"),
                    "unknown or unspecified role",
                ))
            }
        };
        participants.push(Participant {
            name: person.name,
            rank: person.rank,
            position: person.position,
            side: person.side,
            role,
        });
    }
    let mut documents = Vec::with_capacity(event.documents.len());
    for (document_index, document) in event.documents.into_iter().enumerate() {
        let document_type = proto::DocumentType::try_from(document.r#type)
            .ok()
            .and_then(document_type_from_proto)
            .ok_or_else(|| {
                ApiError::invalid(
                    format!("{path}.documents[{document_index}].type"),
                    "unknown or unspecified document type",
                )
            })?;
        documents.push(Document {
            document_type,
            title: document.title,
            signed_at_event: document.signed_at_event,
        });
    }
    let mut areas = Vec::with_capacity(event.areas.len());
    for code in &event.areas {
        areas.push(
            code.parse::<Area>()
                .map_err(|error| ApiError::invalid(format!("{path}.areas"), error.to_string()))?,
        );
    }
    let mut topics = Vec::with_capacity(event.topics.len());
    for code in &event.topics {
        topics.push(
            code.parse::<Topic>()
                .map_err(|error| ApiError::invalid(format!("{path}.topics"), error.to_string()))?,
        );
    }
    let previous = match event.previous {
        Some(previous) => Some(PreviousEdition {
            edition: previous.edition,
            date: match previous.date {
                Some(text) => Some(parse_date(&format!("{path}.previous.date"), &text)?),
                None => None,
            },
        }),
        None => None,
    };
    let location = event.location.unwrap_or_default();
    Ok(DialogueEvent {
        primary: event.primary,
        kind,
        partner: Partner {
            code: partner.code.trim().to_ascii_uppercase(),
            name_vi: partner.name_vi,
            name_en: partner.name_en,
        },
        edition: event.edition,
        date,
        location: Location {
            country: location.country,
            city: location.city,
            venue: location.venue,
        },
        relationship,
        participants,
        documents,
        areas,
        topics,
        previous,
        evidence: event
            .evidence
            .into_iter()
            .map(|evidence| Evidence {
                field: evidence.field,
                start: usize::try_from(evidence.start).unwrap_or(usize::MAX),
                end: usize::try_from(evidence.end).unwrap_or(usize::MAX),
                text: evidence.text,
            })
            .collect(),
    })
}

impl TryFrom<proto::Extraction> for Extraction {
    type Error = ApiError;

    fn try_from(extraction: proto::Extraction) -> Result<Self, ApiError> {
        let mut events = Vec::with_capacity(extraction.events.len());
        for (index, event) in extraction.events.into_iter().enumerate() {
            events.push(event_from_proto(index, event)?);
        }
        if extraction.is_dialogue && events.is_empty() {
            return Err(ApiError::invalid(
                "extraction.events",
                "a dialogue extraction needs at least one event",
            ));
        }
        Ok(Extraction {
            is_dialogue: extraction.is_dialogue,
            source_url: extraction.source_url,
            reason: extraction.reason,
            events,
        })
    }
}

impl From<Source> for proto::Source {
    fn from(source: Source) -> Self {
        proto::Source {
            article_id: source.article_id.to_string(),
            url: source.url,
            outlet: source.outlet,
            published_at: source.published_at.map(|date| date.to_string()),
            evidence: source.evidence.into_iter().map(evidence_to_proto).collect(),
        }
    }
}

impl From<DialogueRecord> for proto::DialogueRecord {
    fn from(record: DialogueRecord) -> Self {
        proto::DialogueRecord {
            id: record.id,
            revision: record.revision,
            sequence: record.sequence,
            event: Some(record.event.into()),
            sources: record.sources.into_iter().map(Into::into).collect(),
            create_time: Some(timestamp(record.created_at_ms)),
            update_time: Some(timestamp(record.updated_at_ms)),
        }
    }
}

impl From<FeedEvent> for proto::FeedEvent {
    fn from(event: FeedEvent) -> Self {
        proto::FeedEvent {
            sequence: event.sequence,
            r#type: match event.event_type {
                FeedEventType::Created => proto::FeedEventType::Created,
                FeedEventType::Updated => proto::FeedEventType::Updated,
            } as i32,
            dialogue: Some(event.record.into()),
            time: Some(timestamp(event.at_ms)),
        }
    }
}

impl From<ArticleState> for proto::ArticleState {
    fn from(state: ArticleState) -> Self {
        match state {
            ArticleState::Queued => proto::ArticleState::Queued,
            ArticleState::Processing => proto::ArticleState::Processing,
            ArticleState::Done => proto::ArticleState::Done,
            ArticleState::DeadLettered => proto::ArticleState::DeadLettered,
        }
    }
}

impl From<ArticleStatus> for proto::Article {
    fn from(status: ArticleStatus) -> Self {
        proto::Article {
            article_id: status.id.to_string(),
            state: proto::ArticleState::from(status.state) as i32,
            url: status.url,
            outlet: status.outlet,
            published_at: status.published_at.map(|date| date.to_string()),
            title: status.title,
            attempts: status.attempts,
            last_error: status.last_error,
            dialogue_ids: status.dialogue_ids,
            is_dialogue: status.is_dialogue,
            reason: status.reason,
            submit_time: Some(timestamp(status.submitted_at_ms)),
            update_time: Some(timestamp(status.updated_at_ms)),
        }
    }
}

impl From<LeasedArticle> for proto::LeasedArticle {
    fn from(leased: LeasedArticle) -> Self {
        let job = leased.job;
        proto::LeasedArticle {
            article_id: job.article_id,
            lease_id: job.lease_id,
            attempt: job.attempt,
            lease_deadline: Some(timestamp(leased.deadline_ms)),
            content: job.text,
            is_html: job.is_html,
            url: job.url,
            published_at: job.published_at.map(|date| date.to_string()),
            title: job.title,
        }
    }
}

impl TryFrom<proto::LeasedArticle> for dialogwatch_worker::runner::Job {
    type Error = ApiError;

    fn try_from(leased: proto::LeasedArticle) -> Result<Self, ApiError> {
        Ok(dialogwatch_worker::runner::Job {
            article_id: leased.article_id,
            lease_id: leased.lease_id,
            attempt: leased.attempt,
            text: leased.content,
            is_html: leased.is_html,
            url: leased.url,
            published_at: optional_date("published_at", leased.published_at)?,
            title: leased.title,
        })
    }
}

/// A record received from a server, back in domain form (the CLI prints it as JSON).
pub fn record_from_proto(record: proto::DialogueRecord) -> Result<DialogueRecord, ApiError> {
    let event = record
        .event
        .ok_or_else(|| ApiError::invalid("dialogue.event", "required"))?;
    let mut sources = Vec::with_capacity(record.sources.len());
    for source in record.sources {
        sources.push(Source {
            article_id: source.article_id.parse().map_err(
                |error: crate::domain::MalformedArticleId| {
                    ApiError::invalid("dialogue.sources.article_id", error.to_string())
                },
            )?,
            url: source.url,
            outlet: source.outlet,
            published_at: optional_date("dialogue.sources.published_at", source.published_at)?,
            evidence: source
                .evidence
                .into_iter()
                .map(evidence_from_proto)
                .collect(),
        });
    }
    let millis = |time: Option<prost_types::Timestamp>| {
        time.map_or(0, |time| {
            u64::try_from(time.seconds).unwrap_or(0) * 1000
                + u64::try_from(time.nanos / 1_000_000).unwrap_or(0)
        })
    };
    Ok(DialogueRecord {
        id: record.id,
        revision: record.revision,
        sequence: record.sequence,
        event: event_from_proto(0, event)?,
        sources,
        created_at_ms: millis(record.create_time),
        updated_at_ms: millis(record.update_time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn client_request(body: proto::article_content::Body) -> proto::SubmitArticleRequest {
        proto::SubmitArticleRequest {
            request_id: String::new(),
            article: Some(proto::ArticleContent {
                body: Some(body),
                url: Some("https://example.vn/a.html".into()),
                outlet: None,
                published_at: Some("2023-10-05".into()),
                title: None,
            }),
        }
    }

    /// The request as the server decodes it from what a client encoded.
    fn request(body: proto::article_content::Body) -> proto::unvalidated::SubmitArticleRequest {
        decoded(&client_request(body).encode_to_vec())
    }

    fn decoded(bytes: &[u8]) -> proto::unvalidated::SubmitArticleRequest {
        proto::unvalidated::SubmitArticleRequest::decode(bytes).expect("decodes")
    }

    /// Every field a client sets reaches the server's form unchanged: encoded
    /// again, the server's message is byte for byte the client's, and its
    /// conversion of the client's form gives the same message.
    #[test]
    fn the_servers_request_is_the_clients_message() {
        use proto::article_content::Body;
        for body in [
            Body::Text("Đối thoại Chính sách Quốc phòng".into()),
            Body::Html("<p>Hội đàm</p>".into()),
            Body::TextBytes("Tiếp xã giao".as_bytes().to_vec()),
            Body::HtmlBytes(b"<b>x</b>".to_vec()),
        ] {
            let client = proto::SubmitArticleRequest {
                request_id: "req-7".into(),
                article: Some(proto::ArticleContent {
                    body: Some(body),
                    url: Some("https://example.vn/a.html".into()),
                    outlet: Some("QĐND".into()),
                    published_at: Some("2023-10-05".into()),
                    title: Some("Tiêu đề".into()),
                }),
            };
            let encoded = client.encode_to_vec();
            let server = decoded(&encoded);
            assert_eq!(server.encode_to_vec(), encoded);
            assert_eq!(
                proto::unvalidated::SubmitArticleRequest::from(client),
                server
            );
        }
    }

    /// A `string` body that is not UTF-8 (a client that skipped its own
    /// check) is refused on its field, at the first bad byte, as a
    /// `bytes` body is.
    #[test]
    fn a_text_that_is_not_utf8_is_refused_on_its_field() {
        use proto::unvalidated::article_content::Body;
        for (body, field) in [
            (Body::Text(b"ab\xc3\x28cd".to_vec()), "article.text"),
            (Body::Html(vec![b'<', 0xff]), "article.html"),
            (
                Body::TextBytes(b"abc\xe1\xba".to_vec()),
                "article.text_bytes",
            ),
        ] {
            let mut server = request(proto::article_content::Body::Text("x".into()));
            if let Some(article) = server.article.as_mut() {
                article.body = Some(body);
            }
            let error = NewArticle::try_from(server).expect_err("not UTF-8");
            assert_eq!(error.field(), field);
            assert_eq!(error.code(), tonic::Code::InvalidArgument);
        }
        let mut server = request(proto::article_content::Body::Text("x".into()));
        if let Some(article) = server.article.as_mut() {
            article.body = Some(Body::Text("Việt Nam\u{a0}".bytes().chain([0x80]).collect()));
        }
        let error = NewArticle::try_from(server).expect_err("not UTF-8");
        assert!(
            error.to_string().contains("invalid UTF-8 at byte 12"),
            "{error}"
        );
    }

    proptest::proptest! {
        /// Any bytes: accepted exactly when they are UTF-8, as that text.
        #[test]
        fn a_body_is_accepted_exactly_when_it_is_utf8(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![proptest::num::u8::ANY, 0x20u8..0x7f], 1..64
            )
        ) {
            use proto::unvalidated::article_content::Body;
            let mut server = request(proto::article_content::Body::Text("x".into()));
            if let Some(article) = server.article.as_mut() {
                article.body = Some(Body::Text(bytes.clone()));
            }
            let converted = NewArticle::try_from(server);
            match std::str::from_utf8(&bytes) {
                Ok(text) if !text.trim().is_empty() => {
                    proptest::prop_assert_eq!(converted.expect("valid").content, text);
                }
                Ok(_) => proptest::prop_assert!(converted.is_err()),
                Err(error) => {
                    let refused = converted.expect_err("not UTF-8");
                    let expected = format!("invalid UTF-8 at byte {}", error.valid_up_to());
                    proptest::prop_assert!(refused.to_string().contains(&expected));
                }
            }
        }
    }

    #[test]
    fn a_valid_submission_converts() {
        let article = NewArticle::try_from(request(proto::article_content::Body::Text(
            "Đối thoại".into(),
        )))
        .expect("valid");
        assert_eq!(article.url.as_deref(), Some("https://example.vn/a.html"));
        assert_eq!(
            article.published_at.map(|date| date.to_string()).as_deref(),
            Some("2023-10-05")
        );
        assert!(!article.is_html);
    }

    #[test]
    fn bad_submissions_name_their_field() {
        let blank =
            NewArticle::try_from(request(proto::article_content::Body::Text(" \n\t ".into())));
        assert_eq!(
            blank.map_err(|error| error.field().to_string()),
            Err("article.text".into())
        );
        let bad_bytes =
            NewArticle::try_from(request(proto::article_content::Body::TextBytes(vec![
                0x66, 0xff, 0xfe,
            ])));
        assert_eq!(
            bad_bytes.map_err(|error| error.field().to_string()),
            Err("article.text_bytes".into())
        );
        let mut bad_url = request(proto::article_content::Body::Text("x".into()));
        if let Some(article) = bad_url.article.as_mut() {
            article.url = Some("not a url".into());
        }
        let error = NewArticle::try_from(bad_url).expect_err("bad url");
        assert_eq!(error.field(), "article.url");
        let mut bad_date = request(proto::article_content::Body::Text("x".into()));
        if let Some(article) = bad_date.article.as_mut() {
            article.published_at = Some("5/10/2023".into());
        }
        let error = NewArticle::try_from(bad_date).expect_err("bad date");
        assert_eq!(error.field(), "article.published_at");
    }

    #[test]
    fn unknown_filter_values_are_refused() {
        let filter = proto::DialogueFilter {
            partners: vec!["Singapore".into()],
            ..Default::default()
        };
        let error = DialogueFilter::try_from(filter).expect_err("bad partner");
        assert_eq!(error.field(), "filter.partners");
        let filter = proto::DialogueFilter {
            kinds: vec![99],
            ..Default::default()
        };
        assert_eq!(
            DialogueFilter::try_from(filter)
                .expect_err("bad kind")
                .field(),
            "filter.kinds"
        );
    }
}
