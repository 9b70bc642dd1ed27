//! Records through the real store: merging in every order, distinct events,
//! paging and every filter over generated records, search, stats, reindex.

use crate::domain::{
    fold_key, ArticleId, DialogueFilter, DialogueRecord, FeedEventType, ListOrder, NewArticle,
};
use crate::store::tests::config;
use crate::store::{search, Store, StoreConfig};
use dialogwatch_worker::record::{
    Area, DialogueEvent, DialogueKind, Document, DocumentType, Extraction, Location, Participant,
    Partner, Relationship, Role, Topic,
};
use dialogwatch_worker::runner::Extract;
use dialogwatch_worker::ArticleInput;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn article(text: &str, outlet: &str) -> NewArticle {
    NewArticle {
        request_id: None,
        content: text.to_string(),
        is_html: false,
        url: None,
        outlet: Some(outlet.to_string()),
        published_at: None,
        title: None,
    }
}

fn event(partner: &str, kind: DialogueKind, edition: Option<u32>, date: &str) -> DialogueEvent {
    DialogueEvent {
        primary: true,
        kind,
        partner: Partner {
            code: partner.to_string(),
            name_vi: partner.to_string(),
            name_en: partner.to_string(),
        },
        edition,
        date: Some(date.parse().expect("date")),
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

fn extraction(events: Vec<DialogueEvent>) -> Extraction {
    Extraction {
        is_dialogue: !events.is_empty(),
        source_url: None,
        reason: None,
        events,
    }
}

fn person(name: &str, rank: Option<&str>, side: &str) -> Participant {
    Participant {
        name: name.to_string(),
        rank: rank.map(str::to_string),
        position: None,
        side: side.to_string(),
        role: Role::CoChair,
    }
}

/// Submits `text` and completes it with `extraction` (leasing exactly that article).
async fn report(store: &Store, text: &str, outlet: &str, extraction: Extraction) -> Vec<String> {
    let outcome = store.enqueue(article(text, outlet)).await.expect("enqueue");
    let leased = store
        .lease(1, Duration::from_secs(30), Duration::ZERO)
        .await
        .expect("lease")
        .pop()
        .expect("one ready article");
    assert_eq!(leased.job.article_id, outcome.article_id.to_string());
    store
        .complete(outcome.article_id, &leased.job.lease_id, extraction)
        .await
        .expect("complete")
}

/// The `dialogue_index` tree holds exactly the entries of the stored
/// records, with empty values: none left behind by an update.
fn assert_index_holds_exactly(store: &Store, records: &[DialogueRecord]) {
    let expected: BTreeMap<Vec<u8>, Vec<u8>> = records
        .iter()
        .flat_map(|record| {
            crate::store::index::index_keys(record)
                .into_iter()
                .map(|key| (key, Vec::new()))
        })
        .collect();
    let found: BTreeMap<Vec<u8>, Vec<u8>> = store
        .inner
        .trees
        .dialogue_index
        .iter()
        .map(|entry| {
            let (key, value) = entry.expect("index entry");
            (key.to_vec(), value.to_vec())
        })
        .collect();
    assert_eq!(found, expected);
}

async fn all_records(
    store: &Store,
    filter: &DialogueFilter,
    order: ListOrder,
    page: usize,
) -> Vec<DialogueRecord> {
    let mut records = Vec::new();
    let mut token = None;
    loop {
        let listed = store
            .list_dialogues(filter.clone(), order, page, token)
            .await
            .expect("list");
        assert!(listed.items.len() <= page);
        records.extend(listed.items);
        match listed.next_page_token {
            Some(next) => token = Some(next),
            None => return records,
        }
    }
}

/// Four outlets report one event; each omits something another gives.
fn four_reports() -> Vec<(&'static str, &'static str, Extraction)> {
    let mut first = event("SG", DialogueKind::PolicyDialogue, Some(14), "2023-10-05");
    first.location.city = Some("Hà Nội".into());
    first.participants = vec![person("Hoàng Xuân Chiến", None, "VN")];
    let mut second = event("SG", DialogueKind::PolicyDialogue, None, "2023-10-05");
    second.participants = vec![
        person("Hoàng Xuân Chiến", Some("Thượng tướng"), "VN"),
        person("Chan Heng Kee", None, "SG"),
    ];
    second.areas = vec![Area::CyberSecurity];
    let mut third = event("SG", DialogueKind::PolicyDialogue, Some(14), "2023-10-05");
    third.location.city = Some("Singapore".into());
    third.relationship = Some(Relationship::StrategicPartnership);
    third.topics = vec![Topic::SouthChinaSea];
    let mut fourth = event("SG", DialogueKind::PolicyDialogue, Some(14), "2023-10-05");
    fourth.location.city = Some("Hà Nội".into());
    fourth.documents = vec![Document {
        document_type: DocumentType::Mou,
        title: None,
        signed_at_event: true,
    }];
    vec![
        (
            "Báo A đưa tin đối thoại lần thứ 14",
            "Báo A",
            extraction(vec![first]),
        ),
        (
            "Báo B: đối thoại chính sách quốc phòng",
            "Báo B",
            extraction(vec![second]),
        ),
        (
            "Báo C: Đối thoại lần thứ 14 tại Singapore",
            "Báo C",
            extraction(vec![third]),
        ),
        ("Báo D: ký bản ghi nhớ", "Báo D", extraction(vec![fourth])),
    ]
}

fn permutations(count: usize) -> Vec<Vec<usize>> {
    if count == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for rest in permutations(count - 1) {
        for position in 0..=rest.len() {
            let mut order = rest.clone();
            order.insert(position, count - 1);
            all.push(order);
        }
    }
    all
}

/// Outlets and their evidence, by outlet.
type SourceContent = Vec<(Option<String>, Vec<dialogwatch_worker::record::Evidence>)>;

/// The content of a record: what must not depend on arrival order.
fn content(record: &DialogueRecord) -> (String, DialogueEvent, SourceContent) {
    // Article ids follow submission order; the outlets and their evidence must not.
    let mut sources: Vec<_> = record
        .sources
        .iter()
        .map(|source| (source.outlet.clone(), source.evidence.clone()))
        .collect();
    sources.sort_by(|left, right| left.0.cmp(&right.0));
    (record.id.clone(), record.event.clone(), sources)
}

#[tokio::test]
async fn reports_of_one_event_give_one_record_whatever_their_order() {
    let reports = four_reports();
    let mut expected = None;
    for order in permutations(reports.len()) {
        let directory = tempfile::tempdir().expect("tempdir");
        let store = Store::open(config(directory.path())).await.expect("open");
        let mut ids = Vec::new();
        for &index in &order {
            let (text, outlet, extraction) = &reports[index];
            ids.extend(report(&store, text, outlet, extraction.clone()).await);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1, "one record for {order:?}");
        let records =
            all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 10).await;
        assert_eq!(records.len(), 1);
        let record = &records[0];
        assert_eq!(record.sources.len(), 4);
        assert_eq!(
            record.event.edition,
            Some(14),
            "the edition one outlet omits"
        );
        assert_eq!(
            record.event.location.city.as_deref(),
            Some("Hà Nội"),
            "majority"
        );
        assert_eq!(record.event.participants.len(), 2);
        assert_eq!(
            record.event.participants[0].rank.as_deref(),
            Some("Thượng tướng")
        );
        assert_eq!(record.event.documents.len(), 1);
        // One CREATED, then one UPDATED per report that added something.
        let feed = store.read_feed_from(0, 100).await.expect("feed");
        assert_eq!(feed[0].event_type, FeedEventType::Created);
        assert!(feed[1..]
            .iter()
            .all(|event| event.event_type == FeedEventType::Updated));
        assert_eq!(record.revision, feed.len() as u64);
        assert_index_holds_exactly(&store, &records);
        let this = content(record);
        match &expected {
            None => expected = Some(this),
            Some(known) => assert_eq!(&this, known, "order {order:?}"),
        }
        store.close().await.expect("close");
    }
}

#[tokio::test]
async fn different_events_stay_distinct() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    // The 4th and the 5th dialogue with the same partner.
    report(
        &store,
        "lần thứ 4",
        "A",
        extraction(vec![event(
            "IN",
            DialogueKind::PolicyDialogue,
            Some(4),
            "2010-11-10",
        )]),
    )
    .await;
    report(
        &store,
        "lần thứ 5",
        "A",
        extraction(vec![event(
            "IN",
            DialogueKind::PolicyDialogue,
            Some(5),
            "2011-11-10",
        )]),
    )
    .await;
    // An outlet reporting the 5th without its edition, a day later.
    report(
        &store,
        "đối thoại Ấn Độ",
        "B",
        extraction(vec![event(
            "IN",
            DialogueKind::PolicyDialogue,
            None,
            "2011-11-11",
        )]),
    )
    .await;
    // Talks and a courtesy call on the same day, in one article.
    let talks = event("JP", DialogueKind::DefenceTalks, None, "2023-05-04");
    let call = event("JP", DialogueKind::CourtesyCall, None, "2023-05-04");
    let ids = report(
        &store,
        "hội đàm và tiếp xã giao",
        "C",
        extraction(vec![talks, call]),
    )
    .await;
    assert_eq!(ids.len(), 2);
    // Two sessions of one edition, months apart, in two countries.
    let mut hanoi = event("AU", DialogueKind::StrategicDialogue, Some(3), "2023-03-10");
    hanoi.location.country = Some("VN".into());
    let mut canberra = event("AU", DialogueKind::StrategicDialogue, Some(3), "2023-09-20");
    canberra.location.country = Some("AU".into());
    report(&store, "phiên Hà Nội", "D", extraction(vec![hanoi])).await;
    report(&store, "phiên Canberra", "D", extraction(vec![canberra])).await;

    let records = all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 3).await;
    assert_eq!(
        records.len(),
        6,
        "{:#?}",
        records
            .iter()
            .map(|record| (
                &record.event.partner.code,
                record.event.kind,
                record.event.edition,
                record.event.date
            ))
            .collect::<Vec<_>>()
    );
    let fifth = records
        .iter()
        .find(|record| record.event.edition == Some(5))
        .expect("5th");
    assert_eq!(
        fifth.sources.len(),
        2,
        "the unnumbered report of the 5th joins it"
    );
}

/// A generated record's event: varied partner, kind, date, people, codes.
fn generated(index: u32) -> DialogueEvent {
    let partners = ["SG", "JP", "US", "IN", "AU", "KR", "FR"];
    let kinds = [
        DialogueKind::PolicyDialogue,
        DialogueKind::DefenceTalks,
        DialogueKind::CourtesyCall,
        DialogueKind::StrategicDialogue,
    ];
    let year = 2000 + (index % 24);
    let month = 1 + (index / 24) % 12;
    let day = 1 + (index / 7) % 28;
    let mut generated = event(
        partners[index as usize % partners.len()],
        kinds[(index / 7) as usize % kinds.len()],
        (index % 3 == 0).then_some(index),
        &format!("{year:04}-{month:02}-{day:02}"),
    );
    if index % 10 == 9 {
        generated.date = Some(dialogwatch_worker::record::PartialDate::year(year as i32));
    }
    let names = [
        "Hoàng Xuân Chiến",
        "Phan Văn Giang",
        "Nguyễn Chí Vịnh",
        "Lloyd Austin",
    ];
    let ranks = [Some("Thượng tướng"), Some("Đại tướng"), None, None];
    let who = index as usize % names.len();
    generated.participants = vec![person(names[who], ranks[who], "VN")];
    generated.areas = match index % 4 {
        0 => vec![Area::Training],
        1 => vec![Area::CyberSecurity, Area::Training],
        2 => vec![Area::Naval],
        _ => Vec::new(),
    };
    generated.areas.sort_by_key(|area| area.as_str());
    generated.topics = if index % 5 == 0 {
        vec![Topic::SouthChinaSea]
    } else {
        Vec::new()
    };
    if index % 6 == 0 {
        generated.documents = vec![Document {
            document_type: DocumentType::Mou,
            title: None,
            signed_at_event: true,
        }];
    }
    generated.relationship = [
        Some(Relationship::StrategicPartnership),
        Some(Relationship::ComprehensiveStrategicPartnership),
        None,
    ][index as usize % 3];
    generated
}

/// Every record passing `filter` in `order`, page by page, straight from the
/// store's query with `gather_cap` (see [`crate::store::index::GATHER_CAP`]).
fn all_records_gathering_below(
    store: &Store,
    filter: &DialogueFilter,
    order: ListOrder,
    page_size: usize,
    gather_cap: usize,
) -> Vec<DialogueRecord> {
    let mut records = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let (page, last) = store
            .inner
            .query_gathering_below(filter, order, page_size, cursor.as_deref(), gather_cap)
            .expect("query");
        assert!(page.len() <= page_size);
        records.extend(page);
        match last {
            Some(last) => cursor = Some(last),
            None => return records,
        }
    }
}

/// Fills a store with `count` generated records (one article each, distinct events).
async fn generated_store(store: &Store, count: u32) {
    for index in 0..count {
        let ids = report(
            store,
            &format!("Bài số {index}: hội đàm quốc phòng"),
            "Báo",
            extraction(vec![generated(index)]),
        )
        .await;
        assert_eq!(ids.len(), 1);
    }
}

#[tokio::test]
async fn paging_and_every_filter_over_a_thousand_generated_records() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let count = 1_050;
    generated_store(&store, count).await;

    let everything = all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 97).await;
    assert_eq!(
        everything.len(),
        count as usize,
        "every record exactly once"
    );
    let mut ids: Vec<&str> = everything.iter().map(|record| record.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count as usize);
    let keys: Vec<Vec<u8>> = everything
        .iter()
        .map(crate::store::index::date_sort_key)
        .collect();
    assert!(
        keys.windows(2).all(|pair| pair[0] < pair[1]),
        "newest first"
    );
    let by_sequence = all_records(
        &store,
        &DialogueFilter::default(),
        ListOrder::SequenceAsc,
        250,
    )
    .await;
    assert_eq!(by_sequence.len(), count as usize);
    assert!(by_sequence
        .windows(2)
        .all(|pair| pair[0].sequence < pair[1].sequence));

    // Every filter, alone and combined, agrees with a scan of all records.
    let date = |text: &str| Some(text.parse().expect("date"));
    let filters = vec![
        DialogueFilter {
            partners: vec!["SG".into(), "JP".into()],
            ..Default::default()
        },
        DialogueFilter {
            kinds: vec![DialogueKind::CourtesyCall],
            ..Default::default()
        },
        DialogueFilter {
            date_from: date("2010-03"),
            date_to: date("2012"),
            ..Default::default()
        },
        DialogueFilter {
            date_from: date("2023-06-15"),
            ..Default::default()
        },
        DialogueFilter {
            date_to: date("2001-02-03"),
            ..Default::default()
        },
        DialogueFilter {
            edition: Some(42),
            ..Default::default()
        },
        DialogueFilter {
            participants: vec![fold_key("hoang xuan chien")],
            ..Default::default()
        },
        DialogueFilter {
            ranks: vec![fold_key("dai tuong")],
            ..Default::default()
        },
        DialogueFilter {
            areas: vec![Area::CyberSecurity],
            ..Default::default()
        },
        DialogueFilter {
            topics: vec![Topic::SouthChinaSea],
            ..Default::default()
        },
        DialogueFilter {
            document_types: vec![DocumentType::Mou],
            ..Default::default()
        },
        DialogueFilter {
            relationships: vec![Relationship::ComprehensiveStrategicPartnership],
            ..Default::default()
        },
        DialogueFilter {
            partners: vec!["US".into()],
            kinds: vec![DialogueKind::PolicyDialogue, DialogueKind::DefenceTalks],
            areas: vec![Area::Training],
            date_from: date("2005"),
            ..Default::default()
        },
        DialogueFilter {
            participants: vec![fold_key("Phan Văn Giang")],
            relationships: vec![Relationship::StrategicPartnership],
            topics: vec![Topic::SouthChinaSea],
            ..Default::default()
        },
    ];
    // Gathered from the filter tokens once the indexer has caught up (the
    // default cap), and with a cap of one entry by a scan of every record.
    assert!(search_backlog_drained(&store).await, "indexed");
    for filter in filters {
        for order in [ListOrder::DateDesc, ListOrder::SequenceAsc] {
            let mut expected: Vec<DialogueRecord> = match order {
                ListOrder::DateDesc => everything.clone(),
                ListOrder::SequenceAsc => by_sequence.clone(),
            };
            expected.retain(|record| filter.matches(record));
            assert!(!expected.is_empty(), "{filter:?} selects something");
            let expected_ids: Vec<&String> = expected.iter().map(|record| &record.id).collect();
            let scanned = all_records_gathering_below(&store, &filter, order, 13, 1);
            assert_eq!(
                scanned.iter().map(|record| &record.id).collect::<Vec<_>>(),
                expected_ids,
                "{filter:?} {order:?}, scanned"
            );
            let listed = all_records(&store, &filter, order, 13).await;
            assert_eq!(
                listed.iter().map(|record| &record.id).collect::<Vec<_>>(),
                expected_ids,
                "{filter:?} {order:?}"
            );
        }
    }

    // Figures (printed, not asserted): one page of 50 and a search over every record.
    let started = std::time::Instant::now();
    let first_page = store
        .list_dialogues(DialogueFilter::default(), ListOrder::DateDesc, 50, None)
        .await
        .expect("page");
    let list_time = started.elapsed();
    let started = std::time::Instant::now();
    let second_page = store
        .list_dialogues(
            DialogueFilter::default(),
            ListOrder::DateDesc,
            50,
            first_page.next_page_token.clone(),
        )
        .await
        .expect("page");
    let next_page_time = started.elapsed();
    assert_eq!(second_page.items.len(), 50);
    // A selective filter in both orders (gathered from its filter tokens).
    let selective_page = |order: ListOrder| {
        let store = store.clone();
        async move {
            let started = std::time::Instant::now();
            let page = store
                .list_dialogues(
                    DialogueFilter {
                        partners: vec!["SG".into()],
                        participants: vec![fold_key("hoang xuan chien")],
                        ..Default::default()
                    },
                    order,
                    50,
                    None,
                )
                .await
                .expect("page");
            (page, started.elapsed())
        }
    };
    let (selective, filtered_time) = selective_page(ListOrder::DateDesc).await;
    let (selective_by_sequence, filtered_by_sequence_time) =
        selective_page(ListOrder::SequenceAsc).await;
    let started = std::time::Instant::now();
    let hits = store
        .search_dialogues(
            search::parse_query("hoi dam quoc phong").expect("query"),
            DialogueFilter::default(),
            20,
            None,
        )
        .await
        .expect("search");
    let search_time = started.elapsed();
    assert_eq!(first_page.items.len(), 50);
    assert!(!selective.items.is_empty());
    assert_eq!(selective_by_sequence.items.len(), selective.items.len());
    assert_eq!(hits.items.len(), 20);
    eprintln!(
        "{count} records: list page of 50 {list_time:?}, the next page {next_page_time:?}, filtered page {filtered_time:?} (in sequence order {filtered_by_sequence_time:?}), search of a word in every record (top 20) {search_time:?}"
    );

    // A token of one query is refused by another.
    let page = store
        .list_dialogues(DialogueFilter::default(), ListOrder::DateDesc, 10, None)
        .await
        .expect("page");
    let refused = store
        .list_dialogues(
            DialogueFilter {
                partners: vec!["SG".into()],
                ..Default::default()
            },
            ListOrder::DateDesc,
            10,
            page.next_page_token,
        )
        .await;
    assert!(matches!(
        refused,
        Err(crate::store::StoreError::InvalidPageToken)
    ));

    // Stats count every record once, per partner, year and kind.
    let rows = store.stats(Vec::new()).await.expect("stats");
    assert_eq!(
        rows.iter().map(|row| row.count).sum::<u64>(),
        u64::from(count)
    );
    let singapore_2003: u64 = everything
        .iter()
        .filter(|record| {
            record.event.partner.code == "SG"
                && record.event.date.is_some_and(|date| date.year == 2003)
        })
        .count() as u64;
    assert_eq!(
        rows.iter()
            .filter(|row| row.partner == "SG" && row.year == Some(2003))
            .map(|row| row.count)
            .sum::<u64>(),
        singapore_2003
    );
    store.close().await.expect("close");
}

const ARTICLE_SG: &str =
    "Chiều 5/10, tại Hà Nội, Thượng tướng Hoàng Xuân Chiến, Thứ trưởng Bộ Quốc phòng \
chủ trì Đối thoại Chính sách Quốc phòng Việt Nam - Singapore lần thứ 14. Hai bên trao đổi về \
tình hình Biển Đông và hợp tác hoà bình, an ninh mạng.";
const ARTICLE_JP: &str =
    "Sáng 4/5, Đại tướng Phan Văn Giang hội đàm với Bộ trưởng Quốc phòng Nhật Bản. \
Hai bên nhất trí thúc đẩy hợp tác gìn giữ hòa bình và khắc phục hậu quả chiến tranh.";

#[tokio::test]
async fn unaccented_queries_find_accented_records() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let mut sg = event("SG", DialogueKind::PolicyDialogue, Some(14), "2023-10-05");
    sg.participants = vec![person("Hoàng Xuân Chiến", Some("Thượng tướng"), "VN")];
    report(&store, ARTICLE_SG, "Báo A", extraction(vec![sg])).await;
    let mut jp = event("JP", DialogueKind::DefenceTalks, None, "2023-05-04");
    jp.participants = vec![person("Phan Văn Giang", Some("Đại tướng"), "VN")];
    report(&store, ARTICLE_JP, "Báo B", extraction(vec![jp])).await;

    let search = |query: &str| {
        let store = store.clone();
        let clauses = search::parse_query(query).expect("query");
        async move {
            store
                .search_dialogues(clauses, DialogueFilter::default(), 10, None)
                .await
                .expect("search")
                .items
        }
    };
    let hits = search("hoang xuan chien").await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].record.event.partner.code, "SG");
    let marked = hits.iter().flat_map(|hit| &hit.snippets).any(|snippet| {
        snippet.text.contains("«Hoàng»") || snippet.text.contains("«Hoàng Xuân Chiến»")
    });
    assert!(marked, "{:?}", hits[0].snippets);
    // đ → d, and an unaccented phrase.
    assert_eq!(search("\"doi thoai chinh sach\"").await.len(), 1);
    assert_eq!(search("dai tuong").await[0].record.event.partner.code, "JP");
    // Old and new tone placement: the SG text says "hoà", the JP text "hòa".
    assert_eq!(search("hòa bình").await.len(), 2);
    assert_eq!(search("hoà bình").await.len(), 2);
    // A phrase must be adjacent: "chien hoang" is not in either text.
    assert!(search("\"chien hoang\"").await.is_empty());
    // Ranked: the record naming "Biển Đông" twice (text and topic) first.
    let both = search("hop tac").await;
    assert_eq!(both.len(), 2);
    assert!(both[0].score >= both[1].score);
    // Filters apply to search too.
    let only_japan = store
        .search_dialogues(
            search::parse_query("hoa binh").expect("query"),
            DialogueFilter {
                partners: vec!["JP".into()],
                ..Default::default()
            },
            10,
            None,
        )
        .await
        .expect("search");
    assert_eq!(only_japan.items.len(), 1);
    store.close().await.expect("close");
}

/// A test engine: each article's events are a function of its text.
struct Scripted {
    /// When true, the SG dialogue is reported with one more area.
    changed: bool,
    /// When false, the JP talks are not reported (their article is no dialogue).
    japan: bool,
}

impl Extract for Scripted {
    fn extract(&self, input: &ArticleInput<'_>) -> Extraction {
        let mut events = Vec::new();
        if input.text.contains("Singapore") {
            let mut sg = event("SG", DialogueKind::PolicyDialogue, Some(14), "2023-10-05");
            if self.changed {
                sg.areas = vec![Area::CyberSecurity];
            }
            events.push(sg);
        }
        if self.japan && input.text.contains("Nhật Bản") {
            events.push(event("JP", DialogueKind::DefenceTalks, None, "2023-05-04"));
        }
        if input.text.contains("Ấn Độ") {
            // Neither an edition nor a date: filed under its article.
            let mut undated = event("IN", DialogueKind::CourtesyCall, None, "2022-01-09");
            undated.date = None;
            events.push(undated);
        }
        extraction(events)
    }
}

#[tokio::test]
async fn reindex_emits_updated_only_for_the_records_that_changed() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let before = Scripted {
        changed: false,
        japan: true,
    };
    let texts = [
        ("Đối thoại Việt Nam - Singapore", "A"),
        ("Singapore: đối thoại lần thứ 14", "B"),
        ("Hội đàm với Nhật Bản", "C"),
        ("Tiếp xã giao Ấn Độ", "D"),
    ];
    for (text, outlet) in texts {
        let extracted = before.extract(&ArticleInput {
            text,
            ..ArticleInput::default()
        });
        report(&store, text, outlet, extracted).await;
    }
    let records_before =
        all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 10).await;
    assert_eq!(records_before.len(), 3);
    let head = store.feed_head();

    // The same extractor again: nothing changes, no event.
    let same = store
        .reindex(
            Arc::new(Scripted {
                changed: false,
                japan: true,
            }),
            2,
        )
        .await
        .expect("reindex");
    assert_eq!(
        (same.articles, same.updated, same.created, same.removed),
        (4, 0, 0, 0)
    );
    assert_eq!(store.feed_head(), head);

    // A changed extractor: only the SG record changes, with one UPDATED event.
    let changed = store
        .reindex(
            Arc::new(Scripted {
                changed: true,
                japan: true,
            }),
            3,
        )
        .await
        .expect("reindex");
    assert_eq!(
        (
            changed.articles,
            changed.updated,
            changed.created,
            changed.removed
        ),
        (4, 1, 0, 0)
    );
    let feed = store.read_feed_from(head, 100).await.expect("feed");
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].event_type, FeedEventType::Updated);
    assert_eq!(feed[0].record.event.partner.code, "SG");
    assert_eq!(feed[0].record.event.areas, vec![Area::CyberSecurity]);
    let records_after =
        all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 10).await;
    let ids = |records: &[DialogueRecord]| {
        records
            .iter()
            .map(|record| record.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&records_after),
        ids(&records_before),
        "ids are stable across re-extraction"
    );
    // The index follows: the new area is searchable by filter.
    let cyber = all_records(
        &store,
        &DialogueFilter {
            areas: vec![Area::CyberSecurity],
            ..Default::default()
        },
        ListOrder::DateDesc,
        10,
    )
    .await;
    assert_eq!(cyber.len(), 1);
    // Reopened, the same again.
    store.close().await.expect("close");
    drop(store);
    let store = Store::open(config(directory.path())).await.expect("reopen");
    let again = store
        .reindex(
            Arc::new(Scripted {
                changed: true,
                japan: true,
            }),
            10,
        )
        .await
        .expect("reindex");
    assert_eq!(again.updated, 0);
    assert_eq!(
        store
            .article(ArticleId(1))
            .await
            .expect("article")
            .dialogue_ids
            .len(),
        1
    );
    store.close().await.expect("close");
}

#[tokio::test]
async fn undated_reports_merge_only_when_their_texts_are_near_duplicates() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let month = |partner: &str| {
        let mut undated = event(partner, DialogueKind::CourtesyCall, None, "2023-01-01");
        undated.date = Some("2023-05".parse().expect("date"));
        undated
    };
    let story = "Trong tháng 5, Đại tướng Phan Văn Giang đã tiếp xã giao Đại sứ Lào tại Việt Nam. \
Hai bên trao đổi về hợp tác quốc phòng, đào tạo và khắc phục hậu quả chiến tranh, \
nhất trí tiếp tục tăng cường quan hệ đặc biệt giữa quân đội hai nước";
    let first = report(&store, story, "Báo A", extraction(vec![month("LA")])).await;
    let copy = format!("{story}. Ảnh: TTXVN");
    let second = report(&store, &copy, "Báo B", extraction(vec![month("LA")])).await;
    assert_eq!(first, second, "a syndicated copy is the same report");
    let other = "Trong tháng 5, Thượng tướng Hoàng Xuân Chiến tiếp Tùy viên quốc phòng Lào, \
bàn về kế hoạch diễn tập cứu hộ cứu nạn năm sau";
    let third = report(&store, other, "Báo C", extraction(vec![month("LA")])).await;
    assert_ne!(first, third, "a different text is a different event");
    let records = all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 10).await;
    assert_eq!(records.len(), 2);
    store.close().await.expect("close");
}

async fn search_partners(store: &Store, query: &str) -> Vec<String> {
    store
        .search_dialogues(
            search::parse_query(query).expect("query"),
            DialogueFilter::default(),
            10,
            None,
        )
        .await
        .expect("search")
        .items
        .into_iter()
        .map(|hit| hit.record.event.partner.code)
        .collect()
}

/// The partners of the records ListDialogues lists for `filter` (pages of
/// one), sorted; asserts that both orders list the same records.
async fn listed_partners(store: &Store, filter: DialogueFilter) -> Vec<String> {
    let mut by_order = Vec::new();
    for order in [ListOrder::DateDesc, ListOrder::SequenceAsc] {
        let mut partners: Vec<String> = all_records(store, &filter, order, 1)
            .await
            .into_iter()
            .map(|record| record.event.partner.code)
            .collect();
        partners.sort();
        by_order.push(partners);
    }
    assert_eq!(by_order[0], by_order[1], "{filter:?}: both orders");
    by_order.swap_remove(0)
}

/// The filters of the tests of records that change, with [`listed_partners`].
fn changing_filters() -> [DialogueFilter; 4] {
    [
        DialogueFilter {
            areas: vec![Area::CyberSecurity],
            ..Default::default()
        },
        DialogueFilter {
            partners: vec!["JP".into(), "SG".into()],
            ..Default::default()
        },
        DialogueFilter {
            kinds: vec![DialogueKind::DefenceTalks],
            ..Default::default()
        },
        DialogueFilter {
            kinds: vec![DialogueKind::PolicyDialogue],
            edition: Some(14),
            ..Default::default()
        },
    ]
}

/// [`listed_partners`] of every [`changing_filters`].
async fn listed_for_changing_filters(store: &Store) -> Vec<Vec<String>> {
    let mut listed = Vec::new();
    for filter in changing_filters() {
        listed.push(listed_partners(store, filter).await);
    }
    listed
}

/// Waits (bounded) until the background indexer has indexed every marked record.
async fn search_backlog_drained(store: &Store) -> bool {
    let give_up_at = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < give_up_at {
        if store.gauges().await.expect("gauges").search_backlog == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test]
async fn search_follows_records_that_change_or_go_away_and_survives_a_reopen() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let initial = Scripted {
        changed: false,
        japan: true,
    };
    for (text, outlet) in [(ARTICLE_SG, "Báo A"), (ARTICLE_JP, "Báo B")] {
        let input = ArticleInput {
            text,
            is_html: false,
            url: None,
            published_at: None,
            title: None,
        };
        report(&store, text, outlet, initial.extract(&input)).await;
    }
    // The background indexer gets there without a search asking.
    assert!(
        search_backlog_drained(&store).await,
        "indexed in the background"
    );
    assert!(search_partners(&store, "cyber").await.is_empty());
    assert_eq!(search_partners(&store, "phan van giang").await, ["JP"]);
    let initially: [&[&str]; 4] = [&[], &["JP", "SG"], &["JP"], &["SG"]];
    assert_eq!(listed_for_changing_filters(&store).await, initially);

    // The SG record gains an area: its new postings are found.
    store
        .reindex(
            Arc::new(Scripted {
                changed: true,
                japan: true,
            }),
            10,
        )
        .await
        .expect("reindex");
    assert_eq!(search_partners(&store, "cyber security").await, ["SG"]);
    let with_the_area: [&[&str]; 4] = [&["SG"], &["JP", "SG"], &["JP"], &["SG"]];
    assert_eq!(listed_for_changing_filters(&store).await, with_the_area);
    assert!(search_backlog_drained(&store).await, "indexed");
    assert_eq!(listed_for_changing_filters(&store).await, with_the_area);

    // It loses the area again and the JP record goes: their older entries
    // (still in older segments) are not found.
    store
        .reindex(
            Arc::new(Scripted {
                changed: false,
                japan: false,
            }),
            10,
        )
        .await
        .expect("reindex");
    assert!(search_partners(&store, "cyber").await.is_empty());
    assert!(search_partners(&store, "phan van giang").await.is_empty());
    assert_eq!(search_partners(&store, "hoang xuan chien").await, ["SG"]);
    assert_eq!(search_partners(&store, "\"bien dong\"").await, ["SG"]);
    let without_japan: [&[&str]; 4] = [&[], &["SG"], &[], &["SG"]];
    assert_eq!(listed_for_changing_filters(&store).await, without_japan);
    assert!(search_backlog_drained(&store).await, "indexed");
    assert_eq!(listed_for_changing_filters(&store).await, without_japan);

    // Reopened, the index is the same.
    store.close().await.expect("close");
    drop(store);
    let store = Store::open(config(directory.path())).await.expect("reopen");
    assert!(search_partners(&store, "cyber").await.is_empty());
    assert_eq!(search_partners(&store, "hoang xuan chien").await, ["SG"]);
    assert_eq!(store.gauges().await.expect("gauges").search_backlog, 0);
    assert_eq!(listed_for_changing_filters(&store).await, without_japan);
    store.close().await.expect("close");
    drop(store);

    // A data directory of the layout before segments: old postings, no
    // segments, no layout mark. Opening it rebuilds the index.
    {
        let db =
            crate::store::open_waiting_for_lock(directory.path(), StoreConfig::DEFAULT_CACHE_BYTES)
                .expect("raw open");
        let meta = db.open_tree("meta").expect("meta");
        meta.remove("search_layout").expect("remove layout");
        let old = db.open_tree("search_postings").expect("old tree");
        old.insert(b"hoang\0dlg-old", b"\x00\x00\x00\x01".as_slice())
            .expect("old posting");
        db.open_tree("search_segments")
            .expect("segments")
            .clear()
            .expect("clear");
        db.open_tree("search_docs")
            .expect("docs")
            .clear()
            .expect("clear");
        db.flush().expect("flush");
    }
    let store = Store::open(config(directory.path()))
        .await
        .expect("migrate");
    assert_eq!(search_partners(&store, "hoang xuan chien").await, ["SG"]);
    assert!(search_partners(&store, "phan van giang").await.is_empty());
    assert_eq!(listed_for_changing_filters(&store).await, without_japan);
    store.close().await.expect("close");
    drop(store);
    let db =
        crate::store::open_waiting_for_lock(directory.path(), StoreConfig::DEFAULT_CACHE_BYTES)
            .expect("raw open");
    assert!(
        !db.tree_names()
            .iter()
            .any(|name| name.as_ref() == b"search_postings"),
        "the old postings are gone"
    );

    // A data directory of the fixed-width postings layout (`segments-2`):
    // its segments would not decode as varint gaps, so it is rebuilt too.
    {
        let meta = db.open_tree("meta").expect("meta");
        meta.insert("search_layout", b"segments-2".as_slice())
            .expect("old layout");
        db.flush().expect("flush");
    }
    drop(db);
    let store = Store::open(config(directory.path()))
        .await
        .expect("migrate fixed-width");
    assert_eq!(search_partners(&store, "hoang xuan chien").await, ["SG"]);
    store.close().await.expect("close");
    drop(store);
    let db =
        crate::store::open_waiting_for_lock(directory.path(), StoreConfig::DEFAULT_CACHE_BYTES)
            .expect("raw open");
    let layout = db
        .open_tree("meta")
        .expect("meta")
        .get("search_layout")
        .expect("read layout");
    assert_eq!(layout.as_deref(), Some(b"segments-4".as_slice()));
}

/// Every segment key's token part, with how many keys it has.
fn keys_per_token(store: &Store) -> BTreeMap<Vec<u8>, usize> {
    let mut counts = BTreeMap::new();
    for key in store.inner.trees.search_segments.iter().keys() {
        let key = key.expect("key");
        *counts
            .entry(key[..key.len() - 8].to_vec())
            .or_insert(0usize) += 1;
    }
    counts
}

/// The queries of the compaction tests.
const COMPACTION_QUERIES: [&str; 5] = [
    "hoang xuan chien",
    "phan van giang",
    "cyber",
    "\"hop tac\"",
    "bien dong",
];

/// A store under `directory` whose search index holds several segments per
/// token, and the answers to [`COMPACTION_QUERIES`]: a segment per record,
/// then (when `reindexed`) segments of every record again, which leave
/// stale entries behind.
async fn store_with_segments_to_merge(
    directory: &std::path::Path,
    reindexed: bool,
) -> (Store, Vec<Vec<String>>) {
    let store = Store::open(config(directory)).await.expect("open");
    let queries = COMPACTION_QUERIES;
    let switched = |cyber, japan| {
        Arc::new(Scripted {
            changed: cyber,
            japan,
        })
    };
    // One segment per record (a search indexes what is marked), then two
    // re-extractions that change the SG record and drop then restore JP.
    for (text, outlet) in [(ARTICLE_SG, "Báo A"), (ARTICLE_JP, "Báo B")] {
        let input = ArticleInput {
            text,
            is_html: false,
            url: None,
            published_at: None,
            title: None,
        };
        let extraction = Scripted {
            changed: false,
            japan: true,
        }
        .extract(&input);
        report(&store, text, outlet, extraction).await;
        search_partners(&store, "hop tac").await;
    }
    let reindexes: &[(bool, bool)] = if reindexed {
        &[(true, false), (false, true), (true, true)]
    } else {
        &[]
    };
    for &(cyber, japan) in reindexes {
        store
            .reindex(switched(cyber, japan), 10)
            .await
            .expect("reindex");
        search_partners(&store, "hop tac").await;
    }
    let mut before = Vec::new();
    for query in queries {
        before.push(search_partners(&store, query).await);
    }
    (store, before)
}

#[tokio::test]
async fn compaction_merges_each_tokens_segments_and_drops_stale_entries() {
    let directory = tempfile::tempdir().expect("tempdir");
    let (store, before) = store_with_segments_to_merge(directory.path(), true).await;
    let queries = COMPACTION_QUERIES;
    assert!(
        keys_per_token(&store).values().any(|keys| *keys > 1),
        "several segments to merge"
    );
    // In steps of one token (the byte bound is reached by every token), so
    // every token is resumed from.
    let inner = Arc::clone(&store.inner);
    let one_token_steps = crate::store::search_index::CompactionStep {
        tokens: usize::MAX,
        bytes: 1,
    };
    let compaction =
        tokio::task::spawn_blocking(move || inner.compact_search_index_in_steps(one_token_steps));
    let listed_before = listed_for_changing_filters(&store).await;
    // Searches and lists meanwhile (the steps are written unseen) answer the same.
    while !compaction.is_finished() {
        for (query, answer) in queries.iter().zip(&before) {
            assert_eq!(&search_partners(&store, query).await, answer, "{query}");
        }
        assert_eq!(listed_for_changing_filters(&store).await, listed_before);
    }
    let done = compaction.await.expect("task").expect("compaction");
    assert!(done.entries_dropped > 0, "{done:?}");
    assert!(done.keys_after < done.keys_before, "{done:?}");
    assert!(
        keys_per_token(&store).values().all(|keys| *keys == 1),
        "one key per token"
    );
    let mut after = Vec::new();
    for query in queries {
        after.push(search_partners(&store, query).await);
    }
    assert_eq!(after, before, "the same answers");
    assert_eq!(listed_for_changing_filters(&store).await, listed_before);
    let current: [&[&str]; 4] = [&["SG"], &["JP", "SG"], &["JP"], &["SG"]];
    assert_eq!(listed_before, current);
    assert_eq!(before[2], ["SG"], "the current SG record has the area");
    assert_eq!(before[1], ["JP"]);
    // Compacting again finds nothing to do.
    let inner = Arc::clone(&store.inner);
    let again = tokio::task::spawn_blocking(move || inner.compact_search_index())
        .await
        .expect("task")
        .expect("compaction");
    assert_eq!(
        (again.entries_dropped, again.keys_after),
        (0, done.keys_after)
    );
    store.close().await.expect("close");
}

#[tokio::test]
async fn every_state_part_way_through_a_compaction_step_reads_the_same() {
    let directory = tempfile::tempdir().expect("tempdir");
    // Live entries in every segment (no reindex): a merge must keep them all.
    let (store, _) = store_with_segments_to_merge(directory.path(), false).await;
    let inner = &store.inner;
    // Each token's keys, in order, as the compaction groups them.
    let mut groups: BTreeMap<Vec<u8>, Vec<(sled::IVec, sled::IVec)>> = BTreeMap::new();
    for item in inner.trees.search_segments.iter() {
        let (key, reference) = item.expect("segment");
        let value = inner.wal.resolve(reference).expect("value");
        groups
            .entry(key[..key.len() - 8].to_vec())
            .or_default()
            .push((key, value));
    }
    let mut stamps = std::collections::HashMap::new();
    let mut outcome = crate::store::search_index::Compaction::default();
    let mut changes_checked = 0;
    for (prefix, keys) in groups.iter().filter(|(_, keys)| keys.len() > 1) {
        let token = std::str::from_utf8(&prefix[..prefix.len() - 1]).expect("token");
        let live = |inner: &crate::store::Inner| {
            inner
                .token_entries(token, &mut std::collections::HashMap::new())
                .expect("entries")
        };
        let expected = live(inner);
        let mut batch = super::Writes::default();
        inner
            .compact_token(keys, &mut stamps, &mut batch, &mut outcome)
            .expect("merge");
        // Applied one change at a time, as a search may see them.
        for (tree, key, value) in &batch.ops {
            assert_eq!(*tree, super::TreeId::SearchSegments);
            match value {
                Some(value) => inner.trees.search_segments.insert(key, value.as_slice()),
                None => inner.trees.search_segments.remove(key),
            }
            .expect("apply");
            assert_eq!(live(inner), expected, "{token} after {key:?}");
            changes_checked += 1;
        }
        assert_eq!(keys_per_token(&store).get(prefix), Some(&1), "{token}");
    }
    assert!(changes_checked > 10, "{changes_checked}");
    store.close().await.expect("close");
}

#[tokio::test]
async fn compaction_is_due_once_the_index_has_doubled_and_not_before_its_minimum() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let meta = &store.inner.trees.meta;
    let set = |since: u64, after: u64| {
        meta.insert("search_bytes_since_compaction", &since.to_be_bytes())
            .expect("since");
        meta.insert("search_bytes_after_compaction", &after.to_be_bytes())
            .expect("after");
    };
    let minimum = crate::store::search_index::MIN_COMPACTION_BYTES;
    set(minimum - 1, 0);
    assert!(
        !store.inner.search_compaction_due().expect("due"),
        "below the minimum"
    );
    set(minimum, 0);
    assert!(
        store.inner.search_compaction_due().expect("due"),
        "the minimum reached"
    );
    set(3 * minimum - 1, 3 * minimum);
    assert!(
        !store.inner.search_compaction_due().expect("due"),
        "index not yet doubled"
    );
    set(3 * minimum, 3 * minimum);
    assert!(
        store.inner.search_compaction_due().expect("due"),
        "index doubled"
    );
    // Writing a segment counts its bytes.
    set(0, 0);
    report(
        &store,
        ARTICLE_SG,
        "Báo A",
        extraction(vec![event(
            "SG",
            DialogueKind::PolicyDialogue,
            Some(14),
            "2023-10-05",
        )]),
    )
    .await;
    search_partners(&store, "singapore").await;
    let since = meta
        .get("search_bytes_since_compaction")
        .expect("read")
        .expect("counted");
    assert!(u64::from_be_bytes(since.as_ref().try_into().expect("8 bytes")) > 0);
    store.close().await.expect("close");
}

#[tokio::test]
async fn large_search_segments_live_in_the_value_log_and_search_the_same_after_a_snapshot_and_a_reopen(
) {
    let directory = tempfile::tempdir().expect("tempdir");
    let backups = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    // Every text has "hội đàm quốc phòng": those tokens' merged segments
    // hold 120 entries, more than the value log's threshold.
    generated_store(&store, 120).await;
    let queries = ["\"quoc phong\"", "hoang xuan chien", "bai so 7"];
    let mut before = Vec::new();
    for query in queries {
        before.push(search_partners(&store, query).await);
    }
    assert_eq!(before[0].len(), 10, "a page of hits: {before:?}");
    let inner = Arc::clone(&store.inner);
    tokio::task::spawn_blocking(move || inner.compact_search_index())
        .await
        .expect("task")
        .expect("compaction");
    let separated = |tree: &sled::Tree| {
        tree.iter()
            .values()
            .filter(|value| {
                value
                    .as_ref()
                    .is_ok_and(|value| value.first() == Some(&crate::store::wal::SEPARATED_MARK))
            })
            .count()
    };
    assert!(
        separated(&store.inner.trees.search_segments) > 0,
        "the merged segments of frequent tokens are references into the value log"
    );
    let mut after = Vec::new();
    for query in queries {
        after.push(search_partners(&store, query).await);
    }
    assert_eq!(after, before, "compaction keeps the answers");
    let destination = backups.path().join("copy");
    store.snapshot(destination.clone()).await.expect("snapshot");
    store.close().await.expect("close");
    drop(store);

    let copy = Store::open(config(&destination)).await.expect("open copy");
    assert_eq!(
        separated(&copy.inner.trees.search_segments),
        0,
        "a snapshot holds its segments inline"
    );
    let mut from_copy = Vec::new();
    for query in queries {
        from_copy.push(search_partners(&copy, query).await);
    }
    assert_eq!(from_copy, before, "the snapshot searches the same");
    copy.close().await.expect("close copy");
    drop(copy);

    let reopened = Store::open(config(directory.path())).await.expect("reopen");
    let mut after_reopen = Vec::new();
    for query in queries {
        after_reopen.push(search_partners(&reopened, query).await);
    }
    assert_eq!(after_reopen, before, "a reopened store searches the same");
    reopened.close().await.expect("close");
}

#[tokio::test]
async fn a_batch_of_many_records_is_switched_in_chunks_and_indexed_whole() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    // The background indexer stopped: the batch below is indexed in one call.
    store.inner.indexer.stop().await;
    let count = 150u32; // more than two chunks of documents
    generated_store(&store, count).await;
    let inner = Arc::clone(&store.inner);
    let indexed = tokio::task::spawn_blocking(move || {
        inner.index_pending(crate::store::search_index::SEGMENT_RECORDS)
    })
    .await
    .expect("task")
    .expect("index");
    assert_eq!(indexed, count as usize);
    assert!(
        store.inner.trees.search_pending.is_empty(),
        "every mark taken off"
    );
    assert_eq!(store.inner.trees.search_docs.len(), count as usize);
    let documents = store
        .inner
        .meta_counter(crate::store::search_index::META_SEARCH_DOCS)
        .expect("counter");
    assert_eq!(
        documents,
        u64::from(count),
        "the document count of every chunk"
    );
    for index in [0, 63, 64, 127, 128, 149] {
        let hits = search_partners(&store, &format!("\"bai so {index}\"")).await;
        assert_eq!(hits.len(), 1, "record {index}: {hits:?}");
    }
    store.close().await.expect("close");
}

#[test]
fn the_store_cleans_an_article_as_the_extractor_does() {
    // An in-process worker hands the extractor's cleaned text over with its
    // completion (`Store::complete_without_waiting_for_disk`) instead of the
    // store cleaning the article again: the two must be the same text.
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dev");
    let extractor = dialogwatch_worker::Extractor::new();
    let mut compared = 0;
    for entry in std::fs::read_dir(&directory).expect("the dev corpus") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|extension| extension.to_str()) != Some("txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("article");
        let first_line = text.lines().next().unwrap_or_default().to_string();
        let as_html = format!(
            "<html><body><h1>{first_line}</h1><p>{}</p></body></html>",
            text.replace('\n', "</p><p>")
        );
        for (content, is_html) in [(text.as_str(), false), (as_html.as_str(), true)] {
            for title in [
                None,
                Some(first_line.as_str()),
                Some("Hội đàm quốc phòng Việt Nam"),
            ] {
                let input = ArticleInput {
                    text: content,
                    is_html,
                    url: None,
                    published_at: None,
                    title,
                };
                assert_eq!(
                    extractor.explain(&input).cleaned.text,
                    super::clean_text(content, is_html, title),
                    "{} (html: {is_html}, title: {title:?})",
                    path.display()
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 30, "{compared}");
}

/// The per-value entries a store written before held for `record` (every
/// indexed value but `*`, in both orders: the sequence order's until
/// 2026-12-07, the date order's until the filter tokens).
fn old_field_keys(record: &DialogueRecord) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    for order in [ListOrder::DateDesc, ListOrder::SequenceAsc] {
        for (field, value) in crate::store::index::indexed_values(record) {
            if field == crate::store::index::ALL {
                continue;
            }
            let order_byte = crate::store::index::order_byte(order);
            let mut key = crate::store::index::value_prefix(order_byte, field, &value);
            key.extend_from_slice(&crate::store::index::sort_key(record, order));
            keys.push(key);
        }
    }
    keys
}

#[tokio::test]
async fn the_old_per_value_entries_go_after_open_in_batches() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    generated_store(&store, 40).await;
    let records = all_records(
        &store,
        &DialogueFilter::default(),
        ListOrder::SequenceAsc,
        100,
    )
    .await;
    let old_keys: Vec<Vec<u8>> = records.iter().flat_map(old_field_keys).collect();
    assert!(old_keys.len() > 200, "{}", old_keys.len());
    let index = &store.inner.trees.dialogue_index;
    for key in &old_keys {
        index.insert(key.as_slice(), &[][..]).expect("insert");
    }
    // In batches of 7, until none is left; the current entries stay.
    let mut removed = Vec::new();
    loop {
        let batch = store.inner.retire_field_entries(7).expect("retire");
        assert!(batch <= 7);
        if batch == 0 {
            break;
        }
        removed.push(batch);
    }
    assert_eq!(removed.iter().sum::<usize>(), old_keys.len());
    assert_index_holds_exactly(&store, &records);
    // A store that holds them again (as one written before) loses them in
    // the background after it is opened.
    for key in &old_keys {
        index.insert(key.as_slice(), &[][..]).expect("insert");
    }
    let left = |store: &Store| {
        old_keys
            .iter()
            .filter(|key| {
                store
                    .inner
                    .trees
                    .dialogue_index
                    .contains_key(key)
                    .expect("read")
            })
            .count()
    };
    // Held when the store closes (its checkpoint flushes sled with them).
    store.close().await.expect("close");
    assert_eq!(left(&store), old_keys.len());
    drop(store);
    let store = Store::open(config(directory.path())).await.expect("reopen");
    let give_up_at = std::time::Instant::now() + Duration::from_secs(60);
    while left(&store) > 0 && std::time::Instant::now() < give_up_at {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(left(&store), 0, "removed after open");
    assert_index_holds_exactly(&store, &records);
    let listed = all_records(
        &store,
        &DialogueFilter::default(),
        ListOrder::SequenceAsc,
        100,
    )
    .await;
    assert_eq!(listed, records);
    store.close().await.expect("close");
}

#[tokio::test]
async fn records_waiting_for_the_indexer_are_listed_by_their_filters() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    // No background indexer: every completed record waits for it.
    store.inner.indexer.stop().await;
    let count = 120;
    generated_store(&store, count).await;
    let everything =
        all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 500).await;
    let by_sequence = all_records(
        &store,
        &DialogueFilter::default(),
        ListOrder::SequenceAsc,
        500,
    )
    .await;
    assert_eq!(everything.len(), count as usize);
    let filters = [
        DialogueFilter {
            partners: vec!["SG".into(), "US".into()],
            ..Default::default()
        },
        DialogueFilter {
            kinds: vec![DialogueKind::CourtesyCall],
            date_from: Some("2005".parse().expect("date")),
            ..Default::default()
        },
        DialogueFilter {
            areas: vec![Area::CyberSecurity],
            ..Default::default()
        },
    ];
    // `dated`: also the filter with a date range (whose plan counts the
    // date order's `*` entries in the range).
    let check = |store: Store, stage: &'static str, dated: bool| {
        let mut filters = filters.to_vec();
        filters.retain(|filter| dated || filter.date_from.is_none());
        let everything = everything.clone();
        let by_sequence = by_sequence.clone();
        async move {
            for filter in filters {
                for (order, all) in [
                    (ListOrder::DateDesc, &everything),
                    (ListOrder::SequenceAsc, &by_sequence),
                ] {
                    let expected: Vec<&String> = all
                        .iter()
                        .filter(|record| filter.matches(record))
                        .map(|record| &record.id)
                        .collect();
                    assert!(!expected.is_empty(), "{filter:?}");
                    let listed = all_records(&store, &filter, order, 7).await;
                    assert_eq!(
                        listed.iter().map(|record| &record.id).collect::<Vec<_>>(),
                        expected,
                        "{stage}: {filter:?} {order:?}"
                    );
                }
            }
        }
    };
    let waiting = store.inner.trees.search_pending.len();
    assert_eq!(waiting, count as usize);
    check(store.clone(), "all waiting", true).await;
    let inner = Arc::clone(&store.inner);
    let indexed = tokio::task::spawn_blocking(move || inner.index_pending(50))
        .await
        .expect("task")
        .expect("index");
    assert_eq!(indexed, 50);
    check(store.clone(), "some indexed, the rest waiting", true).await;
    let inner = Arc::clone(&store.inner);
    tokio::task::spawn_blocking(move || inner.index_all_pending())
        .await
        .expect("task")
        .expect("index");
    assert_eq!(store.inner.trees.search_pending.len(), 0);
    check(store.clone(), "all indexed", true).await;
    // A filtered query reads its filter's tokens, not the `*` entries: with
    // those gone, an unfiltered list is empty and the filtered ones are not.
    store
        .inner
        .trees
        .dialogue_index
        .clear()
        .expect("clear the index");
    assert!(
        all_records(&store, &DialogueFilter::default(), ListOrder::DateDesc, 10)
            .await
            .is_empty()
    );
    check(store.clone(), "without the `*` entries", false).await;
    store.close().await.expect("close");
}

/// A step of [`listing_matches_a_scan_of_every_record_whatever_the_indexer_did`].
#[derive(Debug, Clone)]
enum ListingStep {
    /// A report of the event `(partner, kind, day)` with the areas and
    /// participant names of the bits set: a new record, or a change to the
    /// record of an earlier report of the same event.
    Report {
        partner: usize,
        kind: usize,
        day: u32,
        areas: u8,
        names: u8,
    },
    /// The indexer takes up to this many marked records.
    Index(usize),
    /// A search compaction (drops the entries of older versions).
    Compact,
    /// The store is closed and opened again.
    Reopen,
}

fn listing_step() -> impl proptest::strategy::Strategy<Value = ListingStep> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0..3usize, 0..2usize, 1..4u32, 0..8u8, 0..4u8).prop_map(
            |(partner, kind, day, areas, names)| ListingStep::Report {
                partner,
                kind,
                day,
                areas,
                names,
            }
        ),
        2 => (1..4usize).prop_map(ListingStep::Index),
        1 => Just(ListingStep::Compact),
        1 => Just(ListingStep::Reopen),
    ]
}

/// Opens the store under `directory` with its background indexer stopped
/// (the steps say when records are indexed).
async fn open_without_indexer(directory: &std::path::Path) -> Store {
    let store = Store::open(config(directory)).await.expect("open");
    store.inner.indexer.stop().await;
    store
}

async fn run_listing_steps(steps: Vec<ListingStep>) {
    const PARTNERS: [&str; 3] = ["SG", "JP", "US"];
    const KINDS: [DialogueKind; 2] = [DialogueKind::DefenceTalks, DialogueKind::PolicyDialogue];
    const AREAS: [Area; 3] = [Area::Training, Area::CyberSecurity, Area::Naval];
    const NAMES: [&str; 2] = ["Phan Văn Giang", "Hoàng Xuân Chiến"];
    let filters = [
        DialogueFilter {
            partners: vec!["SG".into()],
            ..Default::default()
        },
        DialogueFilter {
            partners: vec!["JP".into(), "US".into()],
            areas: vec![Area::Training],
            ..Default::default()
        },
        DialogueFilter {
            areas: vec![Area::CyberSecurity],
            kinds: vec![DialogueKind::DefenceTalks],
            ..Default::default()
        },
        DialogueFilter {
            participants: vec![fold_key(NAMES[0])],
            ..Default::default()
        },
        DialogueFilter {
            areas: vec![Area::Naval],
            date_from: Some("2024-03-02".parse().expect("date")),
            ..Default::default()
        },
    ];
    let directory = tempfile::tempdir().expect("tempdir");
    let mut store = open_without_indexer(directory.path()).await;
    let mut events = std::collections::BTreeSet::new();
    for (number, step) in steps.into_iter().enumerate() {
        match step {
            ListingStep::Report {
                partner,
                kind,
                day,
                areas,
                names,
            } => {
                let mut reported = event(
                    PARTNERS[partner],
                    KINDS[kind],
                    None,
                    &format!("2024-03-0{day}"),
                );
                reported.areas = AREAS
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| areas & (1 << bit) != 0)
                    .map(|(_, area)| *area)
                    .collect();
                reported.participants = NAMES
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| names & (1 << bit) != 0)
                    .map(|(_, name)| person(name, None, "vn"))
                    .collect();
                let text = format!("Bản tin số {number}");
                report(&store, &text, "Báo", extraction(vec![reported])).await;
                events.insert((partner, kind, day));
            }
            ListingStep::Index(limit) => {
                let inner = Arc::clone(&store.inner);
                tokio::task::spawn_blocking(move || inner.index_pending(limit))
                    .await
                    .expect("task")
                    .expect("index");
            }
            ListingStep::Compact => {
                let inner = Arc::clone(&store.inner);
                tokio::task::spawn_blocking(move || inner.compact_search_index())
                    .await
                    .expect("task")
                    .expect("compact");
            }
            ListingStep::Reopen => {
                store.close().await.expect("close");
                drop(store);
                store = open_without_indexer(directory.path()).await;
            }
        }
        // Every filter, in both orders and pages of two, lists what a scan
        // of every record (the unfiltered listing) passes.
        for order in [ListOrder::DateDesc, ListOrder::SequenceAsc] {
            let everything = all_records(&store, &DialogueFilter::default(), order, 50).await;
            // Reports of one partner on one day may merge (the merge
            // rules decide): at least one record, at most one per event.
            assert_eq!(everything.is_empty(), events.is_empty());
            assert!(everything.len() <= events.len());
            let mut ids: Vec<&String> = everything.iter().map(|record| &record.id).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), everything.len(), "each record once");
            for filter in &filters {
                let expected: Vec<&String> = everything
                    .iter()
                    .filter(|record| filter.matches(record))
                    .map(|record| &record.id)
                    .collect();
                let listed = all_records(&store, filter, order, 2).await;
                assert_eq!(
                    listed.iter().map(|record| &record.id).collect::<Vec<_>>(),
                    expected,
                    "{filter:?} {order:?} after step {number}"
                );
            }
        }
    }
    store.close().await.expect("close");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, ..proptest::prelude::ProptestConfig::default() })]

    #[test]
    fn listing_matches_a_scan_of_every_record_whatever_the_indexer_did(
        steps in proptest::collection::vec(listing_step(), 1..24)
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run_listing_steps(steps));
    }
}
